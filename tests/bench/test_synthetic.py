"""The synthetic sweep of ``bench/synthetic.py``: valid, realistic, deterministic records, stored the
same way by its bulk path as by ``ResultStore.upsert_result``."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import pytest

from bench._synthetic_cell import CellKey, synthetic_result
from bench._synthetic_text import HOSTILE
from bench.synthetic import SWEEP_ID, Grid, digest_of, grid_for, new_attempts, task_infos, write_store
from cab_core.schema import Artifact, ArtifactName, CellResult, FailureClass
from cab_core.store import ResultStore

pytestmark = pytest.mark.unit


def twenty() -> list[CellResult]:
    return [synthetic_result(k) for k in Grid().cells(SWEEP_ID, 20)]


def test_twenty_cells_validate_and_cover_every_tui_model_pair_once() -> None:
    results = twenty()
    for r in results:  # artifacts travel apart from the record JSON (exclude=True): validated alone
        assert CellResult.model_validate(r.model_dump(by_alias=True)) == r.model_copy(
            update={"artifacts": []}
        )
        assert [Artifact.model_validate(a.model_dump()) for a in r.artifacts] == r.artifacts
    pairs = {(r.identity.tui, r.identity.model) for r in results}
    assert len(pairs) == 20  # 5 TUIs x 4 models, all on the first task, run 1
    assert {r.identity.task_id for r in results} == {"polyglot/python-fix-00"}
    assert {r.identity.run for r in results} == {1}


def test_a_scored_cell_looks_like_a_real_one() -> None:
    scored = [r for r in twenty() if r.axes is not None]
    assert scored
    for r in scored:
        assert r.axes is not None
        assert len(r.spans) == 8
        assert 5 <= len(r.model_calls) <= 20
        assert r.axes.tokens.total_tokens == sum(
            (c.prompt_tokens or 0) + (c.completion_tokens or 0) for c in r.model_calls
        )
        assert 0 <= r.axes.composite.composite <= 1
        by_name = {a.name: a for a in r.artifacts}
        cast = by_name[ArtifactName.terminal].body
        assert 19_000 <= len(cast) <= 62_000
        header, *events = cast.decode().splitlines()
        assert json.loads(header)["version"] == 2
        times = [json.loads(e)[0] for e in events]
        assert times == sorted(times) and times[0] == 0
        assert by_name[ArtifactName.diff].text().startswith("diff --git a/src/")
        assert all(a.intact() for a in r.artifacts)


def test_generation_is_deterministic_and_attempts_differ() -> None:
    key = CellKey(SWEEP_ID, "aider", "openai/gpt-oss-120b", "security/go-fix-05", 3, index=7)
    assert digest_of([synthetic_result(key)]) == digest_of([synthetic_result(key)])
    assert digest_of([synthetic_result(key)]) != digest_of([synthetic_result(key, attempt=2)])


def test_failures_and_passes_come_at_realistic_rates() -> None:
    results = [synthetic_result(k, artifacts=False) for k in Grid().cells(SWEEP_ID, 1000)]
    classes = Counter(r.failure.failure_class for r in results)
    assert 5 <= classes[FailureClass.infra] <= 40  # ~2 %
    assert 10 <= classes[FailureClass.agent] <= 60  # ~3 % timeouts
    assert all(r.axes is None for r in results if r.failure.failure_class == FailureClass.infra)
    passed = sum(1 for r in results if r.axes is not None and r.axes.pass_rate.passed)
    assert 0.2 < passed / len(results) < 0.8


def test_some_casts_carry_hostile_text_for_the_site_to_escape() -> None:
    casts = [a.text() for r in twenty() for a in r.artifacts if a.name == ArtifactName.terminal]
    assert any(json.dumps(line)[1:-1] in cast for cast in casts for line in HOSTILE)


@pytest.mark.parametrize(("n", "reruns", "per_category"), [(20, 5, 20), (10_000, 5, 20), (30_000, 15, 20)])
def test_the_grid_grows_with_the_cells_asked(n: int, reruns: int, per_category: int) -> None:
    grid = grid_for(n)
    assert (grid.reruns, grid.tasks_per_category) == (reruns, per_category)
    assert grid.size >= n


def test_task_infos_describe_every_task() -> None:
    infos = task_infos(Grid())
    assert len(infos) == 100
    info = infos["refactor/rust-port-01"]
    assert (info.category, info.language) == ("refactor", "rust")


def test_the_bulk_write_stores_what_upsert_result_stores(tmp_path: Path) -> None:
    report = write_store(tmp_path / "bulk.db", 20)
    assert report.cells == 20
    by_upsert = ResultStore(f"sqlite:///{tmp_path / 'upsert.db'}")
    by_upsert.create_schema()
    for r in twenty():
        by_upsert.upsert_result(r)
    bulk = ResultStore(f"sqlite:///{tmp_path / 'bulk.db'}")
    got, want = bulk.latest_by_cell(SWEEP_ID), by_upsert.latest_by_cell(SWEEP_ID)
    assert got == want and len(got) == 20
    for cell_id, r in want.items():
        ident = r.identity
        assert bulk.artifacts(cell_id, ident.attempt) == by_upsert.artifacts(cell_id, ident.attempt)
    assert bulk.sweep_signature(SWEEP_ID).attempts == 20

    changed = new_attempts(bulk, SWEEP_ID, 3)
    latest = bulk.latest_by_cell(SWEEP_ID)
    assert len(changed) == 3
    assert sorted(c for c, r in latest.items() if r.identity.attempt == 2) == sorted(
        r.identity.cell_id for r in changed
    )
    bulk.close()
    by_upsert.close()
