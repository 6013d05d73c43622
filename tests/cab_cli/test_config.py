"""One settings tree, read the same way by every command: `cab config` says what is in effect and
where it came from, never a secret; `cab doctor` and `cab worker` reach the same broker.

Regression: `cab doctor` checked the Redis of CAB_REDIS_URL while `cab worker` used CAB_BROKER_URL,
so a green doctor said nothing about the broker the worker would use.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from cab_core import keys
from tests.conftest import RedisServer, free_port, require, wait_for

REPO = Path(__file__).resolve().parents[2]
CAB = str(Path(sys.executable).parent / "cab")

SECRETS = {
    "CAB_FLOWER_BASIC_AUTH": ("admin:fl0wer-pw", "fl0wer-pw"),
    "CAB_STORE_URL": ("postgresql+psycopg://cab:st0re-pw@127.0.0.1:1/cab", "st0re-pw"),
    "CAB_BROKER_URL": ("redis://:br0ker-pw@127.0.0.1:1/0", "br0ker-pw"),
    "CAB_API_KEY": ("sk-ap1key-0123456789", "ap1key"),
}
"""Variable -> (value, the part of it that must never be printed)."""


def clean_env(home: Path, **extra: str) -> dict[str, str]:
    """The caller's environment without any CAB_* variable, plus ``extra``."""
    env = {k: v for k, v in os.environ.items() if not k.upper().startswith("CAB_")}
    return {**env, "CAB_HOME": str(home), "COLUMNS": "200", **extra}


def cab(*args: str, env: dict[str, str], timeout: float = 120) -> subprocess.CompletedProcess[str]:
    return subprocess.run([CAB, *args], cwd=REPO, env=env, capture_output=True, text=True, timeout=timeout)


def setting(stdout: str, group: str, name: str) -> str:
    """The ``name  value  source`` line of one setting under its group header."""
    current = None
    for line in stdout.splitlines():
        if line and not line.startswith(" "):
            current = line.strip()
        elif current == group and line.split() and line.split()[0] == name:
            return line
    raise AssertionError(f"{group}.{name} not in:\n{stdout}")


@pytest.mark.unit
def test_config_prints_every_component_with_its_source(tmp_path: Path) -> None:
    env = clean_env(tmp_path / "home", CAB_LEASE_TTL_S="4", CAB_EGRESS_LOCK="0")
    done = cab("config", "--broker", "redis://127.0.0.1:7777/3", env=env)
    assert done.returncode == 0, done.stderr
    out = done.stdout
    headers = [ln for ln in out.splitlines() if ln and not ln.startswith(" ")]
    assert headers[:8] == ["paths", "store", "broker", "worker", "dispatcher", "proxy", "sandbox", "flower"]
    assert setting(out, "worker", "lease_ttl_s").split()[1:] == ["4.0", "env", "CAB_LEASE_TTL_S"]
    assert setting(out, "sandbox", "egress_lock").split()[1:] == ["false", "env", "CAB_EGRESS_LOCK"]
    assert setting(out, "broker", "url").split()[1:] == ["redis://127.0.0.1:7777/3", "flag", "--broker"]
    assert setting(out, "dispatcher", "max_queued").split()[1:] == ["1000", "default", "(CAB_MAX_QUEUED)"]
    assert setting(out, "paths", "home").split()[1:] == [str(tmp_path / "home"), "env", "CAB_HOME"]


@pytest.mark.unit
def test_a_secret_never_appears_in_config_output(tmp_path: Path) -> None:
    env = clean_env(tmp_path / "home", **{k: v for k, (v, _) in SECRETS.items()})
    done = cab("config", env=env)
    assert done.returncode == 0, done.stderr
    for name, (_, secret) in SECRETS.items():
        assert secret not in done.stdout + done.stderr, f"{name}'s secret was printed"
    assert setting(done.stdout, "flower", "basic_auth").split()[1] == "admin:***"
    assert setting(done.stdout, "store", "url").split()[1] == "postgresql+psycopg://cab:***@127.0.0.1:1/cab"
    assert setting(done.stdout, "broker", "url").split()[1] == "redis://:***@127.0.0.1:1/0"
    assert "CAB_API_KEY" in done.stdout.splitlines()[-1], "an unknown CAB_ variable is named, not shown"


@pytest.mark.unit
def test_a_secret_given_as_a_flag_is_masked_too(tmp_path: Path) -> None:
    done = cab("config", "--store", "postgresql://cab:fl4g-pw@db/cab", env=clean_env(tmp_path / "home"))
    assert done.returncode == 0, done.stderr
    assert "fl4g-pw" not in done.stdout
    assert setting(done.stdout, "store", "url").split()[1:] == [
        "postgresql://cab:***@db/cab",
        "flag",
        "--store",
    ]


@pytest.mark.unit
def test_doctor_never_prints_the_broker_password(tmp_path: Path) -> None:
    env = clean_env(tmp_path / "home", CAB_BROKER_URL=SECRETS["CAB_BROKER_URL"][0])
    done = cab("doctor", env=env)
    redis_line = next(ln for ln in done.stdout.splitlines() if " redis " in ln)
    assert "FAIL" in redis_line and "127.0.0.1:1" in redis_line and "CAB_BROKER_URL" in redis_line
    assert "br0ker-pw" not in done.stdout + done.stderr


@pytest.mark.unit
def test_a_bad_value_is_one_error_line_naming_the_variable(tmp_path: Path) -> None:
    done = cab("config", env=clean_env(tmp_path / "home", CAB_LEASE_TTL_S="soon"))
    assert done.returncode == 2
    lines = [ln for ln in done.stderr.splitlines() if ln.strip()]
    assert len(lines) == 1 and lines[0].startswith("error: ") and "CAB_LEASE_TTL_S" in lines[0]
    assert "soon" not in lines[0]


@pytest.fixture
def broker(tmp_path: Path) -> Iterator[RedisServer]:
    """A redis-server of this test's own: whatever lands in it came from the process under test."""
    require(shutil.which("redis-server") is not None, "redis-server binary")
    server = RedisServer(tmp_path, persist=False)
    server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.mark.redis
@pytest.mark.parametrize("variable", ["CAB_BROKER_URL", "CAB_REDIS_URL"])
def test_doctor_and_config_read_the_same_broker(variable: str, broker: RedisServer, tmp_path: Path) -> None:
    env = clean_env(tmp_path / "home", **{variable: broker.url})
    doctor = cab("doctor", env=env)
    redis_line = next(ln for ln in doctor.stdout.splitlines() if " redis " in ln)
    assert redis_line.startswith("ok") and broker.url in redis_line, doctor.stdout
    config = cab("config", env=env)
    source = "env CAB_BROKER_URL" if variable == "CAB_BROKER_URL" else "deprecated CAB_REDIS_URL"
    assert setting(config.stdout, "broker", "url").split(None, 2)[1:] == [broker.url, source]
    deprecated = [ln for ln in doctor.stderr.splitlines() if "CAB_REDIS_URL is deprecated" in ln]
    assert len(deprecated) == (1 if variable == "CAB_REDIS_URL" else 0), doctor.stderr
    assert deprecated == [] or deprecated[0].startswith("warning: ")


@pytest.mark.docker
@pytest.mark.redis
@pytest.mark.parametrize("variable", ["CAB_BROKER_URL", "CAB_REDIS_URL"])
def test_a_worker_uses_the_broker_doctor_checked(
    variable: str,
    broker: RedisServer,
    images,
    tmp_path: Path,  # noqa: ANN001
) -> None:
    """The worker announces itself on the Redis of the one broker variable given, old name or new."""
    name = f"cfg-{variable.lower()}-{free_port()}"
    env = clean_env(tmp_path / "home", **{variable: broker.url})
    log = (tmp_path / "worker.log").open("w")
    proc = subprocess.Popen(
        [CAB, "worker", "--tags", "cpu", "--slots", "1", "--name", name],
        cwd=REPO,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    try:
        client = broker.client()
        wait_for(lambda: proc.poll() is not None or client.exists(keys.worker(name)), 120, "the announcement")
        assert proc.poll() is None, (tmp_path / "worker.log").read_text()
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout=60)
        log.close()
    text = (tmp_path / "worker.log").read_text()
    assert ("CAB_REDIS_URL is deprecated" in text) == (variable == "CAB_REDIS_URL"), text
