"""Phase 1, prepare: the ``task_setup`` span.

The span first obtains the cell's images (its TUI's, on its task's environment image when the task
has one; building or pulling them is not setup time), then makes the attempt's scratch folder
afresh and fills its work dir: from the task (copied, made a git repo with one commit, hashed into
the baseline) or, when an earlier delivery's agent already finished, from that delivery's
checkpoint (its baseline and its agent run come back with it, and the cell is only rescored).
Setup over the task's budget is an infra failure.
"""

from __future__ import annotations

import shutil
import time
from collections import deque
from pathlib import Path

from cab_core.errors import InfraError
from cab_core.paths import CellPaths, TaskPaths
from cab_workers.adapters import get_adapter
from cab_workers.cell import checkpoint
from cab_workers.cell.ports import HostContext
from cab_workers.cell.run_record import Baseline, CellRun, Prepared, Restored
from cab_workers.cell.snapshot import git_snapshot, manifest
from cab_workers.cell.tracing import OpenSpan

TUI_VERSION_LABEL = "cab.tui.version"
"""Image label holding the TUI's pinned version (``LABEL`` in ``images/<tui>/Dockerfile``)."""

IMAGE_LOG_LINES = 15
"""Last image progress lines (pulls, build steps) kept in the ``task_setup`` span."""


def prepare(run: CellRun, ctx: HostContext) -> Prepared:
    """Obtain the cell's images and set up the work dir; raises (a CabError) when it cannot."""
    cell = run.cell
    adapter = get_adapter(cell.tui)
    task_paths = ctx.task_root(cell)
    run.log.info("cell_started", tui=cell.tui, task_id=cell.task.task_id)

    with run.tracer.span(
        "task_setup",
        f"prepare:{cell.task.task_id}",
        workdir=str(run.paths.work),
        task_category=cell.task.category,
    ) as s:
        images_s = _images(run, ctx, adapter.image_name, task_paths, s)
        _fresh_scratch(run.paths)
        restored = _restore(run, ctx)
        if restored is not None:  # the agent already ran in an earlier delivery: rescore only
            baseline = restored.baseline
            s.attrs["restored_from_attempt"] = restored.from_attempt
        else:
            baseline = _fresh_workdir(task_paths.workdir, run.paths.work)
        s.attrs["files"] = len(baseline.files)
        setup_s = run.elapsed_s() - images_s  # building or pulling images is not the task's setup
        if setup_s > cell.task.timeouts.setup_s:
            raise InfraError(
                f"task setup took {setup_s:.1f}s, over its {cell.task.timeouts.setup_s:g}s budget"
            )
    return Prepared(adapter=adapter, task_paths=task_paths, baseline=baseline, restored=restored)


def _images(run: CellRun, ctx: HostContext, image_name: str, task_paths: TaskPaths, s: OpenSpan) -> float:
    """Obtain the cell's images (``ctx.images``: built once per host, or pulled, when missing) and
    record them; returns the seconds that took. Their progress goes to the cell's log and, its last
    lines, to the span."""
    progress: deque[str] = deque(maxlen=IMAGE_LOG_LINES)

    def note(message: str) -> None:
        progress.append(message)
        run.log.debug("image_progress", message=message)

    t0 = time.monotonic()
    try:
        run.images = images = ctx.images(image_name, task_paths, note)
    finally:
        s.attrs["image_log"] = list(progress)
    run.image, run.image_id = images.agent, ctx.sandbox.image_id(images.agent)
    run.tui_version = ctx.sandbox.image_label(images.agent, TUI_VERSION_LABEL)
    cached = not (images.built or images.pulled)
    s.attrs.update(task_image=images.task_image, built=images.built, pulled=images.pulled, cached=cached)
    s.attrs.update(build_s=images.build_s, agent_image=images.agent, scorer_image=images.scorer)
    run.log.info("cell_images", image=run.image, task_image=images.task_image, build_s=images.build_s)
    return time.monotonic() - t0


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
