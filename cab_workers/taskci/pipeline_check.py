"""Task CI through the real pipeline: the oracle cell passes and the noop cell fails.

A throwaway sweep (TUI ``reference``, models ``scripted/oracle`` and ``scripted/noop``, the tasks
under test) runs exactly as ``cab run`` runs one (``composition.LocalHost`` + ``plan`` +
``run_planned``): images, agent network, recording proxy, scripted endpoint, scorer. Its results
go to a temporary SQLite store under ``$CAB_HOME`` that is deleted afterwards, so the user's store
never sees a validation sweep; the sweep id is unique per run all the same.
"""

from __future__ import annotations

import secrets
import tempfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from cab_core.schema import CellResult, FailureClass, SweepSpec
from cab_core.settings import Settings
from cab_core.store import ResultStore
from cab_scheduler.catalog import TaskCatalog
from cab_scheduler.sweep import expand
from cab_workers.adapters import ADAPTERS
from cab_workers.composition import LocalHost
from cab_workers.sweep_runner import plan, run_planned

ORACLE = "scripted/oracle"
NOOP = "scripted/noop"


@dataclass(frozen=True)
class CellOutcome:
    """One validation cell as the pipeline finished it."""

    passed: bool
    failure: str | None
    """``class: message`` when the cell failed for infra or scorer reasons (not the agent's)."""


@dataclass(frozen=True)
class PipelineVerdict:
    """Oracle and noop cells of one task."""

    task_id: str
    oracle: CellOutcome | None
    noop: CellOutcome | None

    @property
    def ok(self) -> bool:
        return (
            self.oracle is not None
            and self.noop is not None
            and self.oracle.passed
            and not self.noop.passed
            and self.oracle.failure is None
            and self.noop.failure is None
        )

    @property
    def detail(self) -> str:
        bits = []
        for model, cell in ((ORACLE, self.oracle), (NOOP, self.noop)):
            if cell is None:
                bits.append(f"{model}: no result")
            elif cell.failure:
                bits.append(f"{model}: {cell.failure}")
        if self.oracle is not None and not self.oracle.passed:
            bits.append("oracle cell does not pass")
        if self.noop is not None and self.noop.passed:
            bits.append("noop cell passes")
        return "; ".join(bits) or "ok"


def outcome(result: CellResult) -> CellOutcome:
    """Pass or not, and any failure that is not the agent's own."""
    passed = bool(result.axes and result.axes.pass_rate.passed)
    failure = result.failure
    foreign = failure.failure_class not in (FailureClass.none, FailureClass.agent)
    return CellOutcome(passed, f"{failure.failure_class.value}: {failure.reason}"[:200] if foreign else None)


def sweep_for(task_ids: Sequence[str], slots: int) -> SweepSpec:
    """The throwaway sweep: reference agent, oracle and noop, on ``task_ids``."""
    return SweepSpec.model_validate(
        {
            "sweep_id": f"validate-{secrets.token_hex(4)}",
            "tuis": ["reference"],
            "models": [ORACLE, NOOP],
            "tasks": list(task_ids),
            "slots": slots,
            "endpoint": "scripted",
        }
    )


def check_pipeline(
    settings: Settings,
    task_ids: Sequence[str],
    *,
    slots: int = 2,
    progress: Callable[[str], None] = lambda _: None,
) -> dict[str, PipelineVerdict]:
    """Run the oracle and noop cells of every task in ``task_ids``; one verdict per task."""
    spec = sweep_for(task_ids, slots)
    cells = expand(spec, TaskCatalog(settings.tasks_dir), sorted(ADAPTERS))
    home = settings.cab_home.ensure()
    by_task: dict[str, dict[str, CellOutcome]] = {t: {} for t in task_ids}
    with tempfile.TemporaryDirectory(prefix="validate-store-", dir=home.root) as tmp:
        with ResultStore(f"sqlite:///{tmp}/validate.db") as store:
            store.create_schema()
            with LocalHost(settings, progress=progress) as host:
                assert host.ctx is not None, "LocalHost sets ctx on enter"

                def done(r: CellResult) -> None:
                    progress(f"pipeline: {r.identity.model} on {r.identity.task_id} finished")

                results = run_planned(plan(cells, store), host.ctx, store, slots=slots, on_done=done)
    for r in results:
        by_task.setdefault(r.identity.task_id, {})[r.identity.model] = outcome(r)
    return {t: PipelineVerdict(t, got.get(ORACLE), got.get(NOOP)) for t, got in by_task.items()}
