"""Version-1 sweep and cell records (flat endpoint strings, six sweep fields copied into every cell)
load as today's layout, so a result store written before the change keeps working.

The fixtures are real version-1 records: ``SweepSpec`` / ``CellSpec.model_dump(mode="json")`` of the
last version-1 code, for a remote endpoint with every policy field set and for the scripted default.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError

from cab_core.schema import (
    SPEC_SCHEMA_VERSION,
    Budget,
    CellSpec,
    RemoteEndpointSpec,
    ReplayEndpointSpec,
    ScriptedEndpointSpec,
    SweepSpec,
)

pytestmark = pytest.mark.unit

FIXTURES = Path(__file__).parent / "fixtures"


def v1(name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((FIXTURES / f"spec_v1_{name}.json").read_text())
    return data


def test_a_version_1_sweep_loads_with_its_policy_gathered() -> None:
    spec = SweepSpec.model_validate(v1("remote")["sweep"])
    assert spec.schema_version == SPEC_SCHEMA_VERSION
    assert spec.policy.endpoint == RemoteEndpointSpec(
        url="https://models.example.test/v1", api_key_env="CAB_LEGACY_KEY", concurrency=8
    )
    assert spec.policy.model_concurrency == 3
    assert spec.policy.budget == Budget(max_tokens=500000)
    assert spec.policy.requires == {"polyglot/rust-*": "cpu.large"}


def test_version_1_cells_load_with_the_same_endpoint_caps_budget_and_queue() -> None:
    legacy = v1("remote")["cells"]
    cells = [CellSpec.model_validate(raw) for raw in legacy]
    assert [c.queue_tag for c in cells] == [raw["requires"] or "cpu" for raw in legacy]
    assert [c.queue_tag for c in cells] == ["cpu", "cpu.large", "cpu", "cpu.large"]
    for cell, raw in zip(cells, legacy, strict=True):
        endpoint = cell.policy.endpoint
        assert isinstance(endpoint, RemoteEndpointSpec)
        assert (endpoint.url, endpoint.api_key_env, endpoint.concurrency) == (
            raw["endpoint"],
            raw["api_key_env"],
            raw["endpoint_concurrency"],
        )
        assert cell.policy.model_concurrency == raw["model_concurrency"] == 3
        assert cell.policy.budget == Budget.model_validate(raw["budget"])
        assert cell.schema_version == SPEC_SCHEMA_VERSION
        assert cell.same_plan(raw), "a version-1 record plans the same run as itself upgraded"


def test_a_version_1_scripted_cell_loads_as_the_default_policy() -> None:
    (raw,) = v1("scripted")["cells"]
    cell = CellSpec.model_validate(raw)
    assert cell.policy.endpoint == ScriptedEndpointSpec()
    assert (cell.policy.model_concurrency, cell.policy.budget, cell.policy.requires) == (None, None, {})
    assert cell.queue_tag == "cpu"


def test_an_upgraded_cell_is_stored_in_the_new_layout_and_loads_back_equal() -> None:
    cell = CellSpec.model_validate(v1("remote")["cells"][1])
    stored = cell.model_dump(mode="json")
    assert not {"endpoint", "api_key_env", "budget", "requires"} & stored.keys()
    assert CellSpec.model_validate(stored) == cell
    assert cell.same_plan(stored)


def test_a_version_1_replay_cell_drops_its_originals_cap() -> None:
    """``cab replay`` used to keep the original's endpoint_concurrency on a replay cell: it capped nothing."""
    raw = {**v1("scripted")["cells"][0], "endpoint": "replay", "endpoint_concurrency": 4}
    assert CellSpec.model_validate(raw).policy.endpoint == ReplayEndpointSpec()


def test_same_plan_compares_the_tag_a_glob_gives_not_the_glob() -> None:
    cell = CellSpec.model_validate(v1("remote")["cells"][1])
    assert cell.queue_tag == "cpu.large"
    other_glob = cell.model_copy(
        update={"policy": cell.policy.model_copy(update={"requires": {"polyglot/*": "cpu.large"}})}
    )
    assert cell.same_plan(other_glob.model_dump(mode="json"))
    other_tag = cell.model_copy(
        update={"policy": cell.policy.model_copy(update={"requires": {"polyglot/*": "gpu"}})}
    )
    assert not cell.same_plan(other_tag.model_dump(mode="json"))
    other_budget = cell.model_copy(
        update={"policy": cell.policy.model_copy(update={"budget": Budget(max_tokens=1)})}
    )
    assert not cell.same_plan(other_budget.model_dump(mode="json"))


def test_a_record_with_both_layouts_is_refused() -> None:
    raw = v1("remote")["cells"][0]
    mixed = {**raw, "policy": {"endpoint": "scripted"}}
    with pytest.raises(ValidationError, match="at the top level or under policy:, not both"):
        CellSpec.model_validate(mixed)
