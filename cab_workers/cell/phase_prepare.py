"""Phase 1, prepare: find the agent's image, then the ``task_setup`` span.

The span makes the attempt's scratch folder afresh and fills its work dir: from the task (copied,
made a git repo with one commit, hashed into the baseline) or, when an earlier delivery's agent
already finished, from that delivery's checkpoint (its baseline and its agent run come back with
it, and the cell is only rescored). Setup over the task's budget is an infra failure.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from cab_core.errors import InfraError
from cab_core.paths import CellPaths
from cab_workers.adapters import get_adapter
from cab_workers.cell import checkpoint
from cab_workers.cell.ports import HostContext
from cab_workers.cell.run_record import Baseline, CellRun, Prepared, Restored
from cab_workers.cell.snapshot import git_snapshot, manifest

TUI_VERSION_LABEL = "cab.tui.version"
"""Image label holding the TUI's pinned version (``LABEL`` in ``images/<tui>/Dockerfile``)."""


def prepare(run: CellRun, ctx: HostContext) -> Prepared:
    """Resolve the agent image and set up the work dir; raises (a CabError) when it cannot."""
    cell = run.cell
    adapter = get_adapter(cell.tui)
    run.image = ctx.agent_image(adapter.image_name)
    run.image_id = ctx.sandbox.image_id(run.image)
    run.tui_version = ctx.sandbox.image_label(run.image, TUI_VERSION_LABEL)
    task_paths = ctx.task_root(cell.task.task_id)
    run.log.info("cell_started", image=run.image)

    with run.tracer.span(
        "task_setup",
        f"prepare:{cell.task.task_id}",
        workdir=str(run.paths.work),
        task_category=cell.task.category,
    ) as s:
        _fresh_scratch(run.paths)
        restored = _restore(run, ctx)
        if restored is not None:  # the agent already ran in an earlier delivery: rescore only
            baseline = restored.baseline
            s.attrs["restored_from_attempt"] = restored.from_attempt
        else:
            baseline = _fresh_workdir(task_paths.workdir, run.paths.work)
        s.attrs["files"] = len(baseline.files)
        setup_s = run.elapsed_s()
        if setup_s > cell.task.timeouts.setup_s:
            raise InfraError(
                f"task setup took {setup_s:.1f}s, over its {cell.task.timeouts.setup_s:g}s budget"
            )
    return Prepared(adapter=adapter, task_paths=task_paths, baseline=baseline, restored=restored)


def _fresh_scratch(paths: CellPaths) -> None:
    if paths.root.exists():
        shutil.rmtree(paths.root)
    for p in (paths.work, paths.agent, paths.out):
        p.mkdir(parents=True)


def _restore(run: CellRun, ctx: HostContext) -> Restored | None:
    """This cell's checkpoint, unpacked into the work dir and adopted by ``run``; None without one."""
    loaded = ctx.checkpoints.load(run.cell.cell_id) if ctx.checkpoints else None
    if loaded is None:
        return None
    from_attempt, meta, workdir = loaded
    run.restored_from = from_attempt
    checkpoint.unpack(workdir, run.paths.work)
    outcome, baseline = checkpoint.restore(meta), checkpoint.baseline_of(meta)
    run.adopt(outcome)
    return Restored(from_attempt=from_attempt, baseline=baseline, outcome=outcome, meta=meta)


def _fresh_workdir(task_workdir: Path, work: Path) -> Baseline:
    """The task's work dir copied to ``work``, made a one-commit git repo, and hashed."""
    shutil.copytree(task_workdir, work, symlinks=True, dirs_exist_ok=True)
    git_snapshot(work)
    files, git_dirs = manifest(work)
    return Baseline(files=files, git_dirs=git_dirs)
