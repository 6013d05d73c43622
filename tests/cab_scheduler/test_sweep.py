"""Loading a sweep file and expanding it into cells: errors name the field as the file wrote it, and
every cell holds the sweep's one policy record."""

from __future__ import annotations

from pathlib import Path

import pytest

from cab_core.errors import SweepError
from cab_core.schema import LocalEndpointSpec, RemoteEndpointSpec, ScriptedEndpointSpec
from cab_scheduler.catalog import TaskCatalog
from cab_scheduler.sweep import expand, load_sweep
from cab_workers.adapters import ADAPTERS

pytestmark = pytest.mark.unit

REPO = Path(__file__).resolve().parents[2]
CATALOG = TaskCatalog(REPO / "tasks")
HEAD = "sweep_id: s\ntuis: [reference]\nmodels: [scripted/oracle]\n"
TASKS = "tasks: [polyglot/python-semver-sort, polyglot/js-query-string]\n"


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "sweep.yaml"
    path.write_text(text)
    return path


@pytest.mark.parametrize("example", sorted((REPO / "examples").glob("*.yaml")), ids=lambda p: p.name)
def test_the_shipped_examples_load_and_expand(example: Path) -> None:
    """Every example expands; those named real-model* use the local real model, the rest run offline
    on the scripted endpoint."""
    spec = load_sweep(example)
    want = (
        LocalEndpointSpec(model="gemma3-270m")
        if example.name.startswith("real-model")
        else ScriptedEndpointSpec()
    )
    assert spec.policy.endpoint == want
    assert expand(spec, CATALOG, sorted(ADAPTERS))


def test_a_url_sweep_expands_into_cells_sharing_one_policy(tmp_path: Path) -> None:
    text = (
        HEAD
        + TASKS
        + "endpoint: https://models.example/v1\napi_key_env: MY_KEY\nendpoint_concurrency: 4\n"
        + "model_concurrency: 2\nbudget: {max_tokens: 1000}\nrequires: {'polyglot/js-*': cpu.large}\n"
    )
    spec = load_sweep(write(tmp_path, text))
    cells = expand(spec, CATALOG, ["reference"])
    assert len(cells) == 2
    assert all(c.policy is spec.policy for c in cells)
    assert spec.policy.endpoint == RemoteEndpointSpec(
        url="https://models.example/v1", api_key_env="MY_KEY", concurrency=4
    )
    assert {c.task.task_id: c.queue_tag for c in cells} == {
        "polyglot/python-semver-sort": "cpu",
        "polyglot/js-query-string": "cpu.large",
    }


ERRORS = [
    # (lines added to a good sweep file, the one line the user reads after "sweep.yaml: ")
    (
        "endpoint: models.example/v1\n",
        "endpoint: Value error, endpoint must be 'scripted', 'local:<model>', a base URL",
    ),
    ("endpoint: {kind: remote, url: ftp://x}\n", "endpoint.remote.url: Value error, endpoint url must start"),
    ("budget: {}\n", "budget: Value error, a budget needs max_tokens or max_cost_usd"),
    ("requires: {'*': Big}\n", "requires: Value error, requires['*']: tag 'Big' must be lowercase"),
    (
        "endpoint: {kind: remote, url: 'https://x/v1'}\napi_key_env: K\n",
        "sweep: Value error, with an endpoint record, put its key variable and cap inside it",
    ),
    (
        "policy: {budget: {max_tokens: 3}}\nbudget: {max_tokens: 3}\n",
        "sweep: Value error, give budget at the",
    ),
    ("policy: {budget: {}}\n", "policy.budget: Value error, a budget needs"),
]


@pytest.mark.parametrize(("extra", "line"), ERRORS)
def test_a_bad_policy_is_one_line_naming_the_key_as_written(tmp_path: Path, extra: str, line: str) -> None:
    path = write(tmp_path, HEAD + TASKS + extra)
    with pytest.raises(SweepError) as caught:
        load_sweep(path)
    message = str(caught.value)
    assert "\n" not in message
    assert message.startswith(f"{path}: {line}"), message
