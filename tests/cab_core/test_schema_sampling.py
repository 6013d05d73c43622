"""The sweep's ``sampling`` override and the sampling a model call records: how a sweep file writes it,
what is refused, and that records stored before either existed load unchanged."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError

from cab_core.errors import CabError
from cab_core.schema import CellSpec, ModelCall, SamplingOverride, SweepPolicy, SweepSpec
from cab_scheduler.sweep import load_sweep
from tests.cab_core.store.factories import make_result

pytestmark = pytest.mark.unit

BASE: dict[str, Any] = {"sweep_id": "s", "tuis": ["reference"], "models": ["m"], "tasks": ["*"]}
FIXTURES = Path(__file__).parent / "fixtures"


@pytest.mark.parametrize(
    ("given", "params"),
    [
        ({"temperature": 0}, {"temperature": 0.0}),
        ({"temperature": 2, "top_p": 1}, {"temperature": 2.0, "top_p": 1.0}),
        ({"top_p": 0.95, "top_k": 1}, {"top_p": 0.95, "top_k": 1}),
        ({"seed": -(2**63)}, {"seed": -(2**63)}),
        ({"seed": 2**63 - 1, "max_tokens": 1}, {"seed": 2**63 - 1, "max_tokens": 1}),
        ({"temperature": None, "seed": 0}, {"seed": 0}),
    ],
)
def test_an_override_keeps_what_it_was_given(given: dict[str, Any], params: dict[str, Any]) -> None:
    override = SamplingOverride.model_validate(given)
    assert override.params() == params
    assert SamplingOverride.model_validate_json(override.model_dump_json()) == override


@pytest.mark.parametrize(
    ("given", "words"),
    [
        ({}, "at least one of temperature, top_p, top_k, seed, max_tokens"),
        ({"temperature": None}, "at least one of"),
        ({"temperature": 2.5}, "less than or equal to 2"),
        ({"temperature": -0.1}, "greater than or equal to 0"),
        ({"temperature": "0"}, "valid number"),  # no quietly read strings
        ({"temperature": True}, "valid number"),
        ({"temperature": float("nan")}, "finite number"),
        ({"top_p": 0}, "greater than 0"),
        ({"top_p": 1.01}, "less than or equal to 1"),
        ({"top_k": 0}, "greater than or equal to 1"),
        ({"seed": 1.5}, "valid integer"),
        ({"seed": 2**63}, "less than"),
        ({"max_tokens": 0}, "greater than or equal to 1"),
        ({"min_p": 0.1}, "Extra inputs are not permitted"),
    ],
)
def test_a_bad_override_is_refused(given: dict[str, Any], words: str) -> None:
    with pytest.raises(ValidationError, match=words):
        SamplingOverride.model_validate(given)


def test_a_sweep_file_writes_sampling_at_its_top_level_like_the_other_policy_keys() -> None:
    top = SweepSpec.model_validate({**BASE, "sampling": {"temperature": 0}, "model_concurrency": 2})
    nested = SweepSpec.model_validate(
        {**BASE, "policy": {"sampling": {"temperature": 0}, "model_concurrency": 2}}
    )
    assert (
        top.policy
        == nested.policy
        == SweepPolicy(sampling=SamplingOverride(temperature=0), model_concurrency=2)
    )
    assert SweepSpec.model_validate(top.model_dump(mode="json")) == top
    assert SweepSpec.model_validate(BASE).policy.sampling is None


def test_sampling_beside_a_policy_record_is_refused() -> None:
    with pytest.raises(ValidationError, match="give sampling at the top level or under policy:, not both"):
        SweepSpec.model_validate({**BASE, "sampling": {"seed": 1}, "policy": {}})


def test_a_bad_sampling_in_a_sweep_file_is_one_line_naming_the_key(tmp_path: Path) -> None:
    sweep = tmp_path / "sweep.yaml"
    sweep.write_text(
        "sweep_id: s\ntuis: [reference]\nmodels: [m]\ntasks: ['*']\nsampling: {temperature: 3}\n"
    )
    with pytest.raises(CabError) as err:
        load_sweep(sweep)
    assert "\n" not in str(err.value)
    assert "sampling.temperature: Input should be less than or equal to 2" in str(err.value)


def test_cells_stored_before_sampling_existed_load_and_plan_the_same() -> None:
    """A stored cell (any layout version) has no ``sampling`` key: it loads as no override, and a
    resubmitted sweep without one finds the same plan."""
    legacy = json.loads((FIXTURES / "spec_v1_remote.json").read_text())["cells"][0]
    cell = CellSpec.model_validate(legacy)
    assert cell.policy.sampling is None and cell.same_plan(legacy)
    stored = cell.model_dump(mode="json")
    del stored["policy"]["sampling"]
    assert CellSpec.model_validate(stored) == cell and cell.same_plan(stored)
    forced = cell.model_copy(
        update={"policy": cell.policy.model_copy(update={"sampling": SamplingOverride(seed=1)})}
    )
    assert not forced.same_plan(stored)  # an override is a change of plan


def test_model_calls_stored_before_sampling_existed_load_with_nothing_recorded() -> None:
    call = make_result(calls=1).model_calls[0]
    stored = call.model_dump(mode="json")
    del stored["sampling"], stored["sampling_forced"]
    old = ModelCall.model_validate(stored)
    assert (old.sampling, old.sampling_forced) == ({}, {})


def test_a_call_keeps_both_sides_through_the_store_json() -> None:
    call = (
        make_result(calls=1)
        .model_calls[0]
        .model_copy(
            update={
                "sampling": {
                    "temperature": 0.7,
                    "stop": ["\n"],
                    "seed": None,
                    "tool_choice": "function:edit",
                },
                "sampling_forced": {"temperature": 0.0},
            }
        )
    )
    assert ModelCall.model_validate_json(call.model_dump_json()) == call
