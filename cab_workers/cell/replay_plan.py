"""``cab replay``: rerun a recorded cell with the proxy answering from its recorded model calls.

    plan_replay(store, catalog, adapters, cell_id)   the recorded result, its exchanges and the cell
                                                     to run again (sweep ``<sweep>.replay``)
    plan_sweep_replay(store, catalog, adapters, id)  the same for every cell of a sweep, plus the cells
                                                     that cannot replay and why
    compare(recorded, replayed)                      per-axis differences (pure)

The replayed cell runs the task version the recorded attempt ran (its ``task_hash``: the stored
bundle, when the local tasks folder holds another version now). No endpoint and no key are needed:
the replayed cell's upstream is a ``ReplayBook`` of the recorded
answers (matched by request hash, else by position). A deterministic agent sends the same requests,
gets the same answers, and leaves the same work dir, so every per-axis score repeats. Latency is not
compared (it is wall clock), nor the composite that includes it.
"""

from __future__ import annotations

import hashlib
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cab_core.errors import ConfigError
from cab_core.schema import Axes, CellResult, CellSpec, Exchange, ReplayEndpointSpec, Timeouts, make_cell_id
from cab_core.store import ResultStore, task_bundles
from cab_core.task_bundle import short, unpack
from cab_scheduler.catalog import TaskCatalog
from cab_scheduler.sweep import expand
from cab_workers.proxy.model_build import as_context

REPLAY_SUFFIX = ".replay"


@dataclass(frozen=True)
class ReplayPlan:
    recorded: CellResult
    exchanges: list[Exchange]
    cell: CellSpec
    """The cell to run: the recorded one under sweep ``<sweep>.replay``, its endpoint a
    ``ReplayEndpointSpec`` (the host answers it from a ``ReplayBook``)."""
    prompt_changed: bool
    """The task's prompt is not the one recorded (the replay may diverge)."""

    @property
    def context_tokens(self) -> int | None:
        """The context the recorded TUI was told (its ``endpoint`` span), told again on the replay."""
        spans = self.recorded.spans
        told = next((s.attrs.get("context_tokens") for s in spans if s.kind == "endpoint"), None)
        return as_context(told)


def plan_replay(
    store: ResultStore, catalog: TaskCatalog, adapters: list[str], cell_id: str, attempt: int | None = None
) -> ReplayPlan:
    """What replaying ``cell_id`` (its latest attempt by default) takes; ``ConfigError`` when it cannot."""
    recorded = store.get(cell_id, attempt)
    if recorded is None:
        raise ConfigError(f"no result for cell {cell_id!r}; list cells with `cab results SWEEP_ID`")
    return _plan(store, recorded, *_cells_of(store, catalog, adapters, recorded.identity.sweep_id))


def plan_sweep_replay(
    store: ResultStore, catalog: TaskCatalog, adapters: list[str], sweep_id: str
) -> tuple[list[ReplayPlan], dict[str, str]]:
    """Replays of every cell of ``sweep_id`` (latest attempts), and the cells that cannot replay with why.

    ``ConfigError`` when the sweep has no results or its spec is not in the store."""
    latest = store.latest_by_cell(sweep_id)
    if not latest:
        known = ", ".join(sorted(s.sweep_id for s in store.sweeps())) or "none yet"
        raise ConfigError(f"no results for sweep {sweep_id!r} (sweeps in the store: {known})")
    cells, timeouts = _cells_of(store, catalog, adapters, sweep_id)
    plans: list[ReplayPlan] = []
    cannot: dict[str, str] = {}
    for cell_id in sorted(latest):
        try:
            plans.append(_plan(store, latest[cell_id], cells, timeouts))
        except ConfigError as e:
            cannot[cell_id] = str(e)
    return plans, cannot


def _cells_of(
    store: ResultStore, catalog: TaskCatalog, adapters: list[str], sweep_id: str
) -> tuple[dict[str, CellSpec], Timeouts | None]:
    """The sweep's cells as its stored spec expands today, and the spec's timeouts override."""
    spec = next((s for s in store.sweeps() if s.sweep_id == sweep_id), None)
    if spec is None:
        raise ConfigError(f"sweep {sweep_id!r} is not in the store; cannot rebuild its cells")
    return {c.cell_id: c for c in expand(spec, catalog, adapters)}, spec.timeouts


def _as_recorded(store: ResultStore, cell: CellSpec, task_hash: str, timeouts: Timeouts | None) -> CellSpec:
    """``cell`` on the task version a recorded attempt ran (``task_hash``; its stored bundle), when
    that is not the version the local tasks folder holds now. A result that recorded no version
    replays on the local one, as before tasks had hashes."""
    if not task_hash or task_hash == cell.task_hash:
        return cell
    bundle = task_bundles.load(store, task_hash)
    if bundle is None:
        raise ConfigError(
            f"{cell.cell_id} ran task version {short(task_hash)}, which is not in the store and not "
            "in the local tasks folder"
        )
    with tempfile.TemporaryDirectory(prefix="cab-replay-task-") as tmp:
        unpack(bundle.data, Path(tmp) / cell.task.task_id, task_hash)
        task = TaskCatalog(Path(tmp)).load(cell.task.task_id)
    if timeouts is not None:
        task = task.model_copy(update={"timeouts": timeouts})
    return cell.model_copy(update={"task": task, "task_hash": task_hash})


def _plan(
    store: ResultStore, recorded: CellResult, cells: dict[str, CellSpec], timeouts: Timeouts | None
) -> ReplayPlan:
    ident = recorded.identity
    exchanges = store.exchanges(ident.cell_id, ident.attempt)
    if not exchanges:
        raise ConfigError(
            f"{ident.cell_id} attempt {ident.attempt} has no recorded model answers to replay "
            "(its agent got none, or it was recorded before cab kept them)"
        )
    original = cells.get(ident.cell_id)
    if original is None:
        raise ConfigError(
            f"{ident.cell_id} is not a cell of sweep {ident.sweep_id!r} any more (its spec changed)"
        )
    original = _as_recorded(store, original, ident.task_hash, timeouts)
    sweep_id = ident.sweep_id + REPLAY_SUFFIX
    cell = original.model_copy(
        update={
            "sweep_id": sweep_id,
            "cell_id": make_cell_id(
                sweep_id, original.tui, original.model, original.task.task_id, original.run
            ),
            # a replay calls no endpoint and spends nothing: no key, no caps, no budget
            "policy": original.policy.model_copy(
                update={"endpoint": ReplayEndpointSpec(), "model_concurrency": None, "budget": None}
            ),
        }
    )
    changed = (
        recorded.digests is not None
        and hashlib.sha256(original.task.prompt.encode()).hexdigest() != recorded.digests.prompt_sha256
    )
    return ReplayPlan(recorded=recorded, exchanges=exchanges, cell=cell, prompt_changed=changed)


@dataclass(frozen=True)
class AxisValue:
    axis: str
    recorded: Any
    replayed: Any

    @property
    def same(self) -> bool:
        return bool(self.recorded == self.replayed)


def _values(axes: Axes) -> dict[str, Any]:
    """The per-axis numbers a deterministic replay must repeat."""
    p, t, b, r, i = axes.pass_rate, axes.tokens, axes.blast_radius, axes.refusal, axes.integrity
    return {
        "pass": p.passed,
        "partial_score": p.partial_score,
        "prompt_tokens": t.prompt_tokens,
        "completion_tokens": t.completion_tokens,
        "total_tokens": t.total_tokens,
        "tokens_per_correct_task": t.tokens_per_correct_task,
        "blast_radius": b.blast_radius,
        "changes": sorted([*b.added, *b.removed, *b.modified]),
        "refusal": r.refusal,
        "refusal_correct": r.refusal_correct,
        "integrity": i.integrity,
    }


def compare(recorded: CellResult, replayed: CellResult) -> list[AxisValue]:
    """Every compared per-axis value side by side; an unscored side compares as None."""
    a = _values(recorded.axes) if recorded.axes else {}
    b = _values(replayed.axes) if replayed.axes else {}
    return [AxisValue(k, a.get(k), b.get(k)) for k in dict.fromkeys([*a, *b])] or [
        AxisValue("scored", recorded.axes is not None, replayed.axes is not None)
    ]
