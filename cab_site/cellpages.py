"""Rendering the cell pages of a build, in this process or, for big builds, in worker processes.

Cell pages are most of a site (10,000 of them for a 10,000-cell sweep) and each is independent, so a
build that has many to render splits them over one process per core. A worker opens its own store
connection, reads each cell's record and artifacts, renders and writes the page atomically, and
reports the paths back; the parent keeps the manifest. Small builds render in process: starting
interpreters costs more than it saves.
"""

from __future__ import annotations

import multiprocessing
import os
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass
from pathlib import Path

from markupsafe import Markup

from cab_core.aggregate import CellFacts, facts
from cab_core.errors import CabError, StoreError
from cab_core.schema import CellResult
from cab_core.store import ResultStore
from cab_site import paths
from cab_site.output import write_atomic
from cab_site.pages.cell import Sibling, cell_context
from cab_site.render import Renderer
from cab_site.svg import badge, pass_color

PARALLEL_FROM = 300
"""Pages to render before worker processes are worth their start-up (~1 s each)."""
CHUNK = 250


@dataclass(frozen=True)
class CellJob:
    """One cell page to render: which attempt, its neighbours' links, and the inputs digest."""

    cell_id: str
    attempt: int
    siblings: dict[str, list[Sibling]]
    inputs: str


def cell_badge(f: CellFacts) -> Markup:
    """One cell's badge: pass / fail with its composite, or infra (never graded)."""
    if f.infra:
        message, color = "infra", pass_color(None)
    else:
        message, color = ("pass" if f.passed else "fail"), pass_color(1.0 if f.passed else 0.0)
        message += f" · {f.composite:.2f}" if f.composite is not None else ""
    return badge(f"{f.tui} × {f.model}", message, color)


def render_one(
    store: ResultStore, renderer: Renderer, job: CellJob, root: Path, result: CellResult | None = None
) -> str:
    """Render and write one cell page and its badge; returns the page's path relative to ``root``."""
    result = result or store.get(job.cell_id, job.attempt)
    if result is None:
        raise CabError(f"cell {job.cell_id} attempt {job.attempt} vanished from the store during the build")
    try:
        artifacts, problem = store.artifacts(job.cell_id, job.attempt), None
    except StoreError as e:  # a tampered or corrupt row: the page says so, the build goes on
        artifacts, problem = [], str(e)
    here = paths.cell_page(job.cell_id)
    context = cell_context(result, artifacts, job.siblings, artifact_problem=problem)
    write_atomic(root / here, renderer.page("cell.html", here, **context).encode())
    write_atomic(root / paths.cell_badge(job.cell_id), cell_badge(facts(result)).encode())
    return here


def _render_chunk(url: str, schema: str | None, jobs: Sequence[CellJob], root: str) -> list[tuple[str, str]]:
    """A worker's share: ``(path, inputs)`` of each page written."""
    store, renderer = ResultStore(url, schema=schema), Renderer()
    try:
        return [(render_one(store, renderer, job, Path(root)), job.inputs) for job in jobs]
    finally:
        store.close()


def render_cells(
    store: ResultStore,
    renderer: Renderer,
    jobs: Sequence[CellJob],
    root: Path,
    results: dict[str, CellResult],
    on_page: Callable[[str, str], None],
) -> None:
    """Render every job's page and badge; ``on_page(path, inputs)`` is called for each page written."""
    workers = min(os.cpu_count() or 1, 8)
    if (
        len(jobs) < PARALLEL_FROM
        or workers < 2
        or store.url.startswith("sqlite://")
        and ":memory:" in store.url
    ):
        for job in jobs:
            on_page(render_one(store, renderer, job, root, results.get(job.cell_id)), job.inputs)
        return
    chunks = [jobs[i : i + CHUNK] for i in range(0, len(jobs), CHUNK)]
    spawn = multiprocessing.get_context("spawn")  # no inherited engine, locks or threads
    with ProcessPoolExecutor(max_workers=workers, mp_context=spawn) as pool:
        futures = [pool.submit(_render_chunk, store.url, store.schema, chunk, str(root)) for chunk in chunks]
        for fut in as_completed(futures):
            for rel, inputs in fut.result():
                on_page(rel, inputs)
