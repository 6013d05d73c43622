"""`cab submit` on bad input: one clear line, nothing recorded, nothing enqueued."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import inspect

from cab_core.store import ResultStore
from tests.conftest import RedisServer, free_port

pytestmark = [pytest.mark.redis, pytest.mark.postgres]

REPO = Path(__file__).resolve().parents[2]
CAB = str(Path(sys.executable).parent / "cab")
GOOD = (
    "sweep_id: sub\ntuis: [reference]\nmodels: [scripted/oracle]\ntasks: [polyglot/python-semver-sort]\n"
    "timeouts: {agent_s: 60, test_s: 60, setup_s: 30}\n"
)
CASES = {
    "invalid_sweep": (GOOD.replace("tuis: [reference]\n", ""), "tuis"),
    "unknown_tui": (GOOD.replace("[reference]", "[nope]"), "unknown TUI 'nope'"),
    "unknown_task": (GOOD.replace("python-semver-sort", "nope"), "polyglot/nope"),
    "over_visibility_timeout": (GOOD.replace("agent_s: 60", "agent_s: 99999"), "visibility timeout"),
    "unreachable_broker": (GOOD, "broker unreachable"),
}


def submit(text: str, tmp_path: Path, broker: str, store: str, *flags: str) -> subprocess.CompletedProcess:
    sweep = tmp_path / "sweep.yaml"
    sweep.write_text(text)
    env = {k: v for k, v in os.environ.items() if not k.startswith("CAB_")}
    env.update({"CAB_HOME": str(tmp_path / "home"), "CAB_BROKER_URL": broker, "CAB_STORE_URL": store})
    return subprocess.run(
        [CAB, "submit", str(sweep), *flags], cwd=REPO, env=env, capture_output=True, text=True, timeout=60
    )


@pytest.mark.parametrize("case", sorted(CASES))
def test_bad_input_is_one_line_and_enqueues_nothing(
    case: str, tmp_path: Path, redis_server: RedisServer, pg_url: str
) -> None:
    text, needle = CASES[case]
    broker = f"redis://127.0.0.1:{free_port()}/0" if case == "unreachable_broker" else redis_server.url
    done = submit(text, tmp_path, broker, pg_url)
    assert done.returncode == 2, done.stdout + done.stderr
    lines = [ln for ln in done.stderr.splitlines() if ln.strip()]
    assert len(lines) == 1 and lines[0].startswith("error: ") and needle in lines[0], done.stderr
    client = redis_server.client()
    assert client.keys("*") == [], "nothing reached the broker"
    with ResultStore(pg_url) as store:
        tables = inspect(store.engine).get_table_names()
        if "planned" in tables:
            with store.engine.connect() as conn:
                assert conn.exec_driver_sql("select count(*) from planned").scalar() == 0
                assert conn.exec_driver_sql("select count(*) from sweeps").scalar() == 0


def test_good_submit_records_the_plan_and_returns_at_once(
    tmp_path: Path, redis_server: RedisServer, pg_url: str
) -> None:
    done = submit(GOOD, tmp_path, redis_server.url, pg_url)
    assert done.returncode == 0, done.stderr
    assert "submitted sub: 1 cells (1 cpu)" in done.stdout
    with ResultStore(pg_url) as store, store.engine.connect() as conn:
        assert conn.exec_driver_sql("select sweep_id from sweeps where active").scalars().all() == ["sub"]
        assert conn.exec_driver_sql("select count(*) from planned where enqueued_at is null").scalar() == 1


def test_finding_9_resubmitting_a_sweep_id_with_another_spec_is_refused_unless_replace(
    tmp_path: Path, redis_server: RedisServer, pg_url: str
) -> None:
    assert submit(GOOD, tmp_path, redis_server.url, pg_url).returncode == 0
    again = submit(GOOD, tmp_path, redis_server.url, pg_url)
    assert again.returncode == 0 and "nothing changed" in again.stdout, again.stderr
    bigger = GOOD + "reruns: 3\n"
    refused = submit(bigger, tmp_path, redis_server.url, pg_url)
    lines = [ln for ln in refused.stderr.splitlines() if ln.strip()]
    assert refused.returncode == 2 and len(lines) == 1, refused.stdout + refused.stderr
    assert "different spec (+2 cells)" in lines[0] and "--replace" in lines[0]
    with ResultStore(pg_url) as store, store.engine.connect() as conn:
        assert conn.exec_driver_sql("select count(*) from planned").scalar() == 1, "nothing changed"
    replaced = submit(bigger, tmp_path, redis_server.url, pg_url, "--replace")
    assert replaced.returncode == 0 and "replaced sub: +2 cells" in replaced.stdout, replaced.stderr
    with ResultStore(pg_url) as store, store.engine.connect() as conn:
        assert conn.exec_driver_sql("select count(*) from planned").scalar() == 3
