"""The submit-time endpoint check: judged answers (pure), then ``cab run`` and ``cab submit`` as a
user runs them, against the scripted endpoint behind a key and a port nobody listens on."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import inspect

from cab_cli.endpoint_check import check_endpoint, verdict
from cab_core.errors import ConfigError, InfraError
from cab_core.schema import RemoteEndpointSpec
from cab_core.store import ResultStore
from cab_endpoint import ScriptedEndpoint
from cab_workers.proxy.models_listing import ModelsListing
from tests.conftest import RedisServer, free_port

REPO = Path(__file__).resolve().parents[2]
CAB = str(Path(sys.executable).parent / "cab")
KEY = "sk-endpoint-check-0123456789abcdef"
KEY_VAR = "CAB_TEST_ENDPOINT_KEY"
URL = "http://gpu-box:8000/v1"

# --- the verdict on one answer (pure) ------------------------------------------------------------

LISTING = ModelsListing(URL + "/models", 200, {"data": [{"id": "a/one"}, {"id": "b/two"}]})


def remote(key_env: str | None = KEY_VAR) -> RemoteEndpointSpec:
    return RemoteEndpointSpec(url=URL, api_key_env=key_env)


WARNINGS = {
    "all_listed": (LISTING, ["a/one", "b/two"], ()),
    "one_missing": (
        LISTING,
        ["a/one", "c/three"],
        ("does not list c/three (it lists a/one, b/two); cells ask for them by these names anyway",),
    ),
    "not_a_list": (ModelsListing(URL, 200, {"models": []}), ["a/one"], ("not an OpenAI model list",)),
    "no_models_route": (ModelsListing(URL, 404, None), ["a/one"], ("does not list its models (HTTP 404)",)),
    "loading": (ModelsListing(URL, 503, None), ["a/one"], ("(HTTP 503); models not checked",)),
}


@pytest.mark.unit
@pytest.mark.parametrize("case", sorted(WARNINGS))
def test_an_answer_is_ok_or_a_warning(case: str) -> None:
    listing, models, needles = WARNINGS[case]
    found = verdict(listing, remote(), models, key_here=True)
    assert found.url == URL and len(found.warnings) == len(needles)
    for warning, needle in zip(found.warnings, needles, strict=True):
        assert needle in warning and URL in warning


@pytest.mark.unit
@pytest.mark.parametrize("status", [401, 403])
def test_a_key_refused(status: int) -> None:
    refused = ModelsListing(URL, status, None)
    with pytest.raises(ConfigError) as sent:
        verdict(refused, remote(), ["a/one"], key_here=True)
    assert str(sent.value) == f"the endpoint at {URL} rejected the key in ${KEY_VAR} (HTTP {status})"
    with pytest.raises(ConfigError, match=f"wants a key \\(HTTP {status}\\); name the variable"):
        verdict(refused, remote(key_env=None), ["a/one"], key_here=False)
    (warning,) = verdict(refused, remote(), ["a/one"], key_here=False).warnings
    assert f"${KEY_VAR} is not set here" in warning and "every worker host" in warning


@pytest.mark.unit
def test_a_server_cannot_put_control_characters_or_markup_in_a_warning() -> None:
    hostile = ModelsListing(URL, 200, {"data": [{"id": "\x1b[2J[red]x[/red]" + "y" * 200}]})
    (warning,) = verdict(hostile, remote(), ["a/one"], key_here=True).warnings
    assert "\x1b" not in warning and "y" * 81 not in warning


@pytest.mark.unit
def test_check_endpoint_against_the_scripted_endpoint() -> None:
    with ScriptedEndpoint(REPO / "tasks", api_key=KEY) as ep:
        spec = RemoteEndpointSpec(url=ep.url, api_key_env=KEY_VAR)
        assert check_endpoint(spec, ["scripted/oracle"], KEY).warnings == ()
        with pytest.raises(ConfigError, match="rejected the key"):
            check_endpoint(spec, ["scripted/oracle"], "sk-wrong")
    with pytest.raises(InfraError, match="connection refused; check the URL .* --no-endpoint-check"):
        check_endpoint(spec, ["scripted/oracle"], KEY)


# --- cab run / cab submit as a user runs them -------------------------------------------------------

SWEEP = """\
sweep_id: epcheck
tuis: [reference]
models: [scripted/oracle, vendor/unlisted]
tasks: [polyglot/python-semver-sort]
timeouts: {{agent_s: 60, test_s: 60, setup_s: 30}}
endpoint: {url}
api_key_env: CAB_TEST_ENDPOINT_KEY
"""


@pytest.fixture
def endpoint() -> Iterator[str]:
    """The scripted endpoint behind ``KEY``: its ``/v1`` base URL."""
    with ScriptedEndpoint(REPO / "tasks", api_key=KEY) as ep:
        yield ep.url


def cab(
    command: str, url: str, tmp_path: Path, *flags: str, key: str | None, **env: str
) -> subprocess.CompletedProcess:
    sweep = tmp_path / "sweep.yaml"
    sweep.write_text(SWEEP.format(url=url))
    full = {k: v for k, v in os.environ.items() if not k.startswith("CAB_")}
    full.update({"CAB_HOME": str(tmp_path / "home"), "COLUMNS": "250", **env})
    if key is not None:
        full[KEY_VAR] = key
    if "CAB_CA_BUNDLE" in os.environ:
        full["CAB_CA_BUNDLE"] = os.environ["CAB_CA_BUNDLE"]
    return subprocess.run(
        [CAB, command, str(sweep), *flags], cwd=REPO, env=full, capture_output=True, text=True, timeout=120
    )


def lines(text: str) -> list[str]:
    return [ln for ln in text.splitlines() if ln.strip()]


@pytest.mark.unit
def test_run_against_a_dead_endpoint_exits_2_and_stores_nothing(tmp_path: Path) -> None:
    url = f"http://127.0.0.1:{free_port()}/v1"
    done = cab("run", url, tmp_path, key=KEY)
    assert done.returncode == 2, done.stdout + done.stderr
    assert lines(done.stderr) == [
        f"error: endpoint check: no answer from {url}/models: connection refused; check the URL and that "
        "the server is up, or pass --no-endpoint-check when only the worker hosts can reach it"
    ]
    assert not (tmp_path / "home" / "cab.db").exists()


@pytest.mark.unit
def test_run_with_a_rejected_key_exits_2_and_stores_nothing(endpoint: str, tmp_path: Path) -> None:
    done = cab("run", endpoint, tmp_path, key="sk-not-the-key")
    assert done.returncode == 2
    assert lines(done.stderr) == [
        f"error: the endpoint at {endpoint} rejected the key in ${KEY_VAR} (HTTP 401)"
    ]
    assert "sk-not-the-key" not in done.stdout + done.stderr
    assert not (tmp_path / "home" / "cab.db").exists()


@pytest.mark.unit
def test_run_goes_on_after_a_warning(endpoint: str, tmp_path: Path) -> None:
    """The key lives on the workers: a warning, and the run goes on to its store (here one that is
    down, so it stops there, before any cell)."""
    dead_store = f"postgresql+psycopg://cab@127.0.0.1:{free_port()}/cab"
    done = cab("run", endpoint, tmp_path, key=None, CAB_STORE_URL=dead_store)
    warning, error = lines(done.stderr)
    assert warning.startswith(f"warning: the endpoint at {endpoint} answers but wants a key (HTTP 401)")
    assert f"${KEY_VAR} is not set here" in warning
    assert error.startswith("error: result store unreachable")


def planned_rows(pg_url: str) -> int:
    with ResultStore(pg_url) as store:
        if "planned" not in inspect(store.engine).get_table_names():
            return 0
        with store.engine.connect() as conn:
            return int(conn.exec_driver_sql("select count(*) from planned").scalar() or 0)


@pytest.mark.redis
@pytest.mark.postgres
def test_submit_warns_of_unlisted_models_and_submits(
    endpoint: str, tmp_path: Path, redis_server: RedisServer, pg_url: str
) -> None:
    env = {"CAB_BROKER_URL": redis_server.url, "CAB_STORE_URL": pg_url}
    done = cab("submit", endpoint, tmp_path, key=KEY, **env)
    assert done.returncode == 0, done.stderr
    (warning,) = lines(done.stderr)
    assert warning.startswith(f"warning: the endpoint at {endpoint} does not list vendor/unlisted (it lists ")
    assert "submitted epcheck: 2 cells" in done.stdout
    assert planned_rows(pg_url) == 2


@pytest.mark.redis
@pytest.mark.postgres
@pytest.mark.parametrize("case", ["dead", "rejected"])
def test_submit_refused_by_the_check_enqueues_and_stores_nothing(
    case: str, endpoint: str, tmp_path: Path, redis_server: RedisServer, pg_url: str
) -> None:
    url = f"http://127.0.0.1:{free_port()}/v1" if case == "dead" else endpoint
    env = {"CAB_BROKER_URL": redis_server.url, "CAB_STORE_URL": pg_url}
    done = cab("submit", url, tmp_path, key="sk-not-the-key", **env)
    assert done.returncode == 2, done.stdout + done.stderr
    (error,) = lines(done.stderr)
    assert error.startswith("error: ") and url in error
    assert ("connection refused" if case == "dead" else "rejected the key") in error
    assert redis_server.client().keys("*") == []
    assert planned_rows(pg_url) == 0


@pytest.mark.redis
@pytest.mark.postgres
def test_submit_without_the_check_records_a_sweep_for_an_endpoint_only_workers_reach(
    tmp_path: Path, redis_server: RedisServer, pg_url: str
) -> None:
    env = {"CAB_BROKER_URL": redis_server.url, "CAB_STORE_URL": pg_url}
    done = cab(
        "submit", f"http://127.0.0.1:{free_port()}/v1", tmp_path, "--no-endpoint-check", key=None, **env
    )
    assert done.returncode == 0, done.stderr
    assert lines(done.stderr) == [] and planned_rows(pg_url) == 2


LOCAL_SWEEP = """\
sweep_id: local-check
tuis: [reference]
models: [{model}]
tasks: [polyglot/python-semver-sort]
endpoint: local
"""


@pytest.mark.unit
@pytest.mark.parametrize("command", ["run", "submit"])
def test_a_local_model_without_an_image_folder_is_refused_before_anything_is_stored(
    command: str, tmp_path: Path
) -> None:
    sweep = tmp_path / "sweep.yaml"
    sweep.write_text(LOCAL_SWEEP.format(model="no-such-model"))
    env = {k: v for k, v in os.environ.items() if not k.startswith("CAB_")}
    home = tmp_path / "home"
    env.update({"CAB_HOME": str(home), "COLUMNS": "250"})
    if command == "submit":  # the broker answers; the check refuses before anything is sent or stored
        env["CAB_BROKER_URL"] = "redis://127.0.0.1:6379/14"
    done = subprocess.run(
        [CAB, command, str(sweep), "--no-endpoint-check"], cwd=REPO, env=env, capture_output=True, text=True
    )
    assert done.returncode == 2, done.stdout + done.stderr
    assert "no local model 'no-such-model'" in done.stderr and "gemma3-270m" in done.stderr, done.stderr
    assert not (home / "cab.db").exists()
