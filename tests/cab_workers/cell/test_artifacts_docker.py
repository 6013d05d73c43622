"""One real cell stores its artifacts: the reference TUI with the oracle model, through the pipeline
into a store; the stored diff shows the solution's change and the stored cast plays (a header, then
events). A redelivery that only rescores keeps both."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import pytest

from cab_core.paths import safe_name
from cab_core.schema import ArtifactName, CellResult, CellSpec, FailureClass, make_cell_id
from cab_core.store import ResultStore
from cab_scheduler.catalog import TaskCatalog
from cab_workers.cell.pipeline import HostContext, run_cell
from cab_workers.composition import LocalHost

pytestmark = pytest.mark.docker

REPO = Path(__file__).resolve().parents[3]
TASK = "polyglot/python-semver-sort"


@pytest.fixture(scope="module")
def host(local_host: LocalHost) -> HostContext:
    assert local_host.ctx is not None
    return local_host.ctx


def oracle_cell(sweep_id: str) -> CellSpec:
    return CellSpec(
        cell_id=make_cell_id(sweep_id, "reference", "scripted/oracle", TASK, 1),
        sweep_id=sweep_id,
        tui="reference",
        model="scripted/oracle",
        task=TaskCatalog(REPO / "tasks").load(TASK),
    )


def test_a_real_cell_stores_its_diff_and_its_recording(
    host: HostContext,
    tmp_path: Path,
    no_leftover_containers,  # noqa: ANN001
) -> None:
    cell = oracle_cell("art")
    with ResultStore(f"sqlite:///{tmp_path / 'cab.db'}") as store:
        store.create_schema()
        result = run_cell(cell, host, sink=store.upsert_result)
        assert result.failure.failure_class == FailureClass.none, result.failure.reason
        got = {a.name: a for a in store.artifacts(cell.cell_id, 1)}
    assert set(got) == {ArtifactName.diff, ArtifactName.terminal}
    diff = got[ArtifactName.diff].text()
    assert "--- a/relnotes/versions.py\n+++ b/relnotes/versions.py\n" in diff
    assert "-        return (self.major, self.minor, self.patch, self.pre)\n" in diff
    assert "+        core = (int(self.major), int(self.minor), int(self.patch))\n" in diff
    assert ".git/" not in diff, "cab's bookkeeping is not the agent's change"
    header, *events = [json.loads(line) for line in got[ArtifactName.terminal].text().splitlines()]
    assert header["version"] == 2 and header["title"] == cell.cell_id
    assert events and all(isinstance(e[0], float | int) and e[1] == "o" for e in events)


def test_a_rescored_redelivery_keeps_the_diff_and_the_recording_of_the_run_it_restores(
    host: HostContext,
    tmp_path: Path,
    no_leftover_containers,  # noqa: ANN001
) -> None:
    """The first delivery dies while storing; the second rescores its checkpoint on this host: the
    diff is made again from the restored work dir, the recording is the first delivery's."""
    from cab_core.errors import StoreError
    from cab_core.store.checkpoints import StoreCheckpoints

    cell = oracle_cell("rescore")
    with ResultStore(f"sqlite:///{tmp_path / 'cab.db'}") as store:
        store.create_schema()
        ctx = dataclasses.replace(host, checkpoints=StoreCheckpoints(store))

        def crash(_result: CellResult) -> None:
            raise StoreError("store went away mid-write")

        with pytest.raises(StoreError):
            run_cell(cell, ctx, attempt=1, sink=crash)
        second = run_cell(cell, ctx, attempt=2, sink=store.upsert_result)
        assert "container" not in [s.kind for s in second.spans], "the agent did not run again"
        got = {a.name: a for a in store.artifacts(cell.cell_id, 2)}
    assert (
        "+        core = (int(self.major), int(self.minor), int(self.patch))\n"
        in got[ArtifactName.diff].text()
    )
    assert got[ArtifactName.terminal].text().startswith('{"version": 2')
    assert second.recording_path == str(host.home.recordings / f"{safe_name(cell.cell_id, 1)}.cast")
