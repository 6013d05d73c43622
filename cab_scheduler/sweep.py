"""Sweeps: load and validate a sweep file, expand it into cells (each with its task's content hash),
and pack the task bundles a submission stores. Pure apart from reading the files."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from cab_core.errors import SweepError, TaskError
from cab_core.schema import CellSpec, SweepSpec, make_cell_id
from cab_core.store.task_bundles import Bundle
from cab_core.task_bundle import content_hash, pack, short
from cab_scheduler.catalog import TaskCatalog


def _first_error(e: ValidationError, data: dict[str, Any]) -> str:
    err = e.errors()[0]
    loc = list(err["loc"])
    if loc[:1] == ["policy"] and "policy" not in data:
        loc = loc[1:]  # the file wrote the policy keys at its top level: name them as it did
    where = ".".join(str(p) for p in loc) or "sweep"
    return f"{where}: {err['msg']}"


def load_sweep(path: Path) -> SweepSpec:
    """Read and validate a sweep file; any problem is one line naming the file and the field."""
    try:
        data = yaml.safe_load(path.read_text())
    except FileNotFoundError as e:
        raise SweepError(f"{path}: no such sweep file") from e
    except yaml.YAMLError as e:
        mark = getattr(e, "problem_mark", None)
        at = f" at line {mark.line + 1}" if mark else ""
        raise SweepError(f"{path}: not valid YAML{at}") from e
    if not isinstance(data, dict):
        raise SweepError(f"{path}: a sweep is a mapping with sweep_id, tuis, models, tasks")
    try:
        return SweepSpec.model_validate(data)
    except ValidationError as e:
        raise SweepError(f"{path}: {_first_error(e, data)}") from e


def expand(spec: SweepSpec, catalog: TaskCatalog, known_tuis: list[str]) -> list[CellSpec]:
    """Every (tui, model, task, run) of the sweep, in a stable order. Validates all names first.

    Every cell holds the sweep's one ``policy`` record (not a copy) and the content hash of its task
    folder in ``catalog`` (``task_hash``): the one version of the task it may run against."""
    unknown = [t for t in spec.tuis if t not in known_tuis]
    if unknown:
        raise SweepError(f"unknown TUI {unknown[0]!r}; known: {', '.join(sorted(known_tuis))}")
    if len(set(spec.models)) != len(spec.models):
        raise SweepError("models: listed twice; each model once")
    try:
        tasks = catalog.resolve(spec.tasks)
    except TaskError as e:
        raise SweepError(str(e)) from e
    hashes = {task.task_id: content_hash(catalog.paths(task.task_id).root) for task in tasks}
    cells = []
    for tui in spec.tuis:
        for model in spec.models:
            for task in tasks:
                task_hash = hashes[task.task_id]
                if spec.timeouts is not None:
                    task = task.model_copy(update={"timeouts": spec.timeouts})
                for run in range(1, spec.reruns + 1):
                    cells.append(
                        CellSpec(
                            cell_id=make_cell_id(spec.sweep_id, tui, model, task.task_id, run),
                            sweep_id=spec.sweep_id,
                            tui=tui,
                            model=model,
                            task=task,
                            run=run,
                            task_hash=task_hash,
                            policy=spec.policy,
                        )
                    )
    return cells


def bundler(cells: list[CellSpec], catalog: TaskCatalog) -> Callable[[str], Bundle]:
    """``hash -> Bundle`` for the task versions of ``cells``, packed from ``catalog`` on demand (what
    ``cab_core.store.task_bundles.save`` stores). A task folder edited since the cells were expanded
    packs to another hash: ``SweepError``, nothing is stored for it."""
    by_hash = {c.task_hash: c.task.task_id for c in cells if c.task_hash}

    def pack_one(task_hash: str) -> Bundle:
        task_id = by_hash[task_hash]
        got, data = pack(catalog.paths(task_id).root)
        if got != task_hash:
            raise SweepError(
                f"task {task_id} changed while the sweep was being submitted "
                f"({short(task_hash)} -> {short(got)}); submit again"
            )
        return Bundle(task_id, data)

    return pack_one
