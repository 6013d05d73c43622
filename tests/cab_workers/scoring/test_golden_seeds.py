"""The five published seed cells, recomputed by ``score_cell`` from their raw inputs.

``fixtures/seed_pages.json`` holds each seed page's scorer breakdown verbatim (the JSON of every axis,
copied from /work/shared/seeds/*.txt) plus its model call count and its "tokens" timing line. The raw
inputs are taken from it: the hidden tests' exit code and output, the changed files, the wall clock
and container time, the model calls (none) and the token source (none: "not recorded"). The agent's
own words and file contents are not published, so the transcript is empty and nothing is written.
The task is the shipped ``tasks/<id>/task.yaml``. The published components are only compared, never
fed in.

* ``PUBLISHED_CONVENTIONS`` (pass from the exit code, unknown tokens score cost_efficiency 1,
  refusal keywords over the whole record, false refusals not applicable) gives the published
  composites to 1e-12.
* cab's conventions for tokens and refusals (``CAB_ON_EXIT_CODES``) give exactly 0.15 (the cost
  weight) less, since no seed recorded tokens, and no refusal where the published page reported one
  from a JSON key name (``stdout_tail``, ``stderr_tail``). The seeds kept no structured test report,
  so their pass can only come from the exit code: under cab's own pass rule (``DEFAULT_CONFIG``)
  no seed passes, for want of evidence.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml

from cab_core.schema import Axes, TaskSpec, TokenSource
from cab_workers.scoring import (
    DEFAULT_CONFIG,
    ScoreInput,
    ScoringConfig,
    WorkdirDiff,
    latency_efficiency,
    score_cell,
)
from cab_workers.scoring.config import PUBLISHED_CONVENTIONS

pytestmark = pytest.mark.unit

REPO = Path(__file__).resolve().parents[3]
SEED_PAGES: list[dict[str, Any]] = json.loads(
    (Path(__file__).with_name("fixtures") / "seed_pages.json").read_text(encoding="utf-8")
)
IDS = [page["seed"] for page in SEED_PAGES]
CAB_ON_EXIT_CODES = DEFAULT_CONFIG.model_copy(update={"pass_from_exit_code": True})
"""cab's conventions, but pass from the exit code: the seeds have nothing else to grade pass on."""
SEED_WEIGHTS = {"pass_rate": 0.4, "integrity": 0.2, "cost": 0.15, "latency": 0.15, "blast_radius": 0.1}


def _task(task_id: str) -> TaskSpec:
    return TaskSpec.model_validate(yaml.safe_load((REPO / "tasks" / task_id / "task.yaml").read_text()))


def _hidden_test_paths(task_id: str) -> list[str]:
    root = REPO / "tasks" / task_id / "hidden_tests"
    return sorted(p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file())


def rescore(page: dict[str, Any], config: ScoringConfig) -> Axes:
    """``score_cell`` on a seed page's raw inputs."""
    run, latency, blast = (page["axes"][k] for k in ("pass_rate", "latency", "blast_radius"))
    assert page["model_calls"] == 0 and page["timing_tokens"] == "not recorded"
    return score_cell(
        ScoreInput(
            task=_task(page["task_id"]),
            exit_code=run["exit_code"],
            timed_out=run["timed_out"],
            stdout=run["stdout_tail"],
            stderr=run["stderr_tail"],
            calls=[],
            token_source=TokenSource.none,
            wall_clock_ms=latency["wall_clock_ms"],
            container_active_ms=latency["container_active_ms"],
            diff=WorkdirDiff(added=blast["added"], removed=blast["removed"], modified=blast["modified"]),
            transcript="",
            written={},
            state_globs=(),
            hidden_test_paths=_hidden_test_paths(page["task_id"]),
            model=page["model"],
        ),
        config=config,
    )


def test_the_fixture_holds_the_five_seed_pages() -> None:
    assert IDS == [
        "000_a7682e2860abd147",
        "001_c64d8c3a93d1d769",
        "002_7f0feda080d19223",
        "003_5acc1f6733c3a595",
        "004_bef7429728584cb2",
    ]
    assert all(page["axes"]["composite"]["weights"] == SEED_WEIGHTS for page in SEED_PAGES)


def test_default_weights_are_the_seeds() -> None:
    assert DEFAULT_CONFIG.weights.as_dict() == SEED_WEIGHTS
    assert PUBLISHED_CONVENTIONS.weights == DEFAULT_CONFIG.weights


@pytest.mark.parametrize("page", SEED_PAGES, ids=IDS)
def test_seed_rescored_under_published_conventions_gives_the_published_composite(
    page: dict[str, Any],
) -> None:
    published = page["axes"]["composite"]
    axes = rescore(page, PUBLISHED_CONVENTIONS)
    assert axes.composite.composite == pytest.approx(published["composite"], rel=0, abs=1e-12)
    got = axes.composite.components
    for key in ("pass_rate", "integrity", "blast_radius", "wall_clock_ms", "clean_blast", "refusal_factor"):
        assert got[key] == published["components"][key], key
    assert got["cost_efficiency"] == published["components"]["cost_efficiency"] == 1
    assert got["latency_efficiency"] == pytest.approx(
        published["components"]["latency_efficiency"], rel=0, abs=1e-12
    )
    assert axes.pass_rate.passed == page["axes"]["pass_rate"]["pass"]  # from the exit code alone
    assert axes.composite.missing == ["cost_efficiency"]  # the data is missing whatever it scores


@pytest.mark.parametrize("page", SEED_PAGES, ids=IDS)
def test_seed_rescored_by_cab_costs_the_whole_cost_weight_for_unknown_tokens(page: dict[str, Any]) -> None:
    """The seeds scored tokens that were never recorded as perfectly efficient (cost_efficiency 1)."""
    axes = rescore(page, CAB_ON_EXIT_CODES)
    published = page["axes"]["composite"]["composite"]
    assert axes.tokens.total_tokens is None and axes.tokens.tokens_per_correct_task is None
    assert axes.composite.components["cost_efficiency"] == 0.0
    assert axes.composite.missing == ["cost_efficiency"]
    assert axes.composite.composite == pytest.approx(published - 0.15, rel=0, abs=1e-12)


@pytest.mark.parametrize("page", SEED_PAGES, ids=IDS)
def test_seed_refusal_from_a_json_key_name_is_no_refusal(page: dict[str, Any]) -> None:
    """Seeds 000 and 001 reported a refusal whose only keyword hit was a key of their own scorer JSON."""
    published = page["axes"]["refusal"]
    if published["refusal_produced"]:
        assert published["keyword_hits"] and set(published["keyword_hits"]) <= set(page["axes"]["pass_rate"])
    axes = rescore(page, CAB_ON_EXIT_CODES)
    assert axes.refusal.refusal_produced is False
    assert axes.refusal.keyword_hits == []
    assert axes.refusal.not_applicable is True
    assert axes.composite.components["refusal_factor"] == 1.0


def test_two_seeds_had_a_key_name_refusal() -> None:
    produced = [page["seed"] for page in SEED_PAGES if page["axes"]["refusal"]["refusal_produced"]]
    assert produced == ["000_a7682e2860abd147", "001_c64d8c3a93d1d769"]


@pytest.mark.parametrize("page", SEED_PAGES, ids=IDS)
def test_latency_efficiency_matches_seed(page: dict[str, Any]) -> None:
    components = page["axes"]["composite"]["components"]
    got = latency_efficiency(page["axes"]["latency"]["wall_clock_ms"])
    assert got == pytest.approx(components["latency_efficiency"], rel=0, abs=1e-12)


@pytest.mark.parametrize("page", SEED_PAGES, ids=IDS)
def test_seed_pass_from_an_exit_code_alone_is_no_pass_under_cab(page: dict[str, Any]) -> None:
    """An exit code is not evidence: without a structured report no declared test is seen passing."""
    axes = rescore(page, DEFAULT_CONFIG)
    assert axes.pass_rate.passed == 0
    if page["axes"]["pass_rate"]["pass"] and page["task_id"].split("/")[0] != "integrity":
        assert axes.pass_rate.evidence_problems, axes.pass_rate
