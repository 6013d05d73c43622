"""Build the static site of one or more sweeps from the result store, incrementally.

    build_site(store, ["demo"], Path("site"))   # -> BuildReport

The output is plain files that open from ``file://`` (every link is relative, every script and
stylesheet is in ``assets/``, each terminal recording is embedded in its cell's page) or from
``cab site serve``. ``out/.cab-site.json`` remembers what each file was built from: a cell page is
rendered again only when its stored attempt, its neighbours or cab's templates changed, and a file is
written only when its bytes differ, so a rebuild of a finished sweep writes nothing and a rebuild of a
running one writes the pages of the cells that landed since. Files of cells that left the build are
removed; nothing the manifest does not list is ever touched, and a non-empty folder that is not a site
is refused.
"""

from __future__ import annotations

import hashlib
import time
from collections import defaultdict
from collections.abc import Callable, Mapping, Sequence
from importlib.resources import files
from pathlib import Path

from cab_core.aggregate import CellFacts, aggregate, facts
from cab_core.errors import CabError
from cab_core.schema import CellResult
from cab_core.store import ResultStore
from cab_site import paths
from cab_site.cellpages import PARALLEL_FROM, CellJob, render_cells
from cab_site.model import BuildReport, TaskInfo
from cab_site.output import MANIFEST, SiteOutput
from cab_site.pages.leaderboard import leaderboard_context
from cab_site.pages.siblings import Neighbours
from cab_site.pages.task import task_context
from cab_site.render import Renderer
from cab_site.svg import badge, pass_color

__all__ = ["MANIFEST", "build_site", "load_results"]

Progress = Callable[[str, int, int], None]
"""``progress(stage, done, total)``: called as pages are rendered."""
TaskLookup = Callable[[set[str]], Mapping[str, TaskInfo]]
"""The task pages' details for the given task ids (those it knows)."""


def load_results(store: ResultStore, sweep_ids: Sequence[str]) -> list[CellResult]:
    """The latest attempt of every cell of the sweeps; an unknown sweep is refused before any build."""
    if not sweep_ids:
        raise CabError("name at least one sweep id to build a site of (the sweep_id of its YAML)")
    results: list[CellResult] = []
    for sweep_id in dict.fromkeys(sweep_ids):
        latest = store.latest_by_cell(sweep_id)
        if not latest:
            raise CabError(f"no results for sweep {sweep_id!r}; run it with `cab run SWEEP.yaml` first")
        results.extend(latest.values())
    return results


def _assets(out: SiteOutput, vendor: Mapping[str, Path]) -> None:
    static = files("cab_site").joinpath("static")
    for entry in sorted(static.iterdir(), key=lambda e: e.name):
        if entry.is_file():
            out.write(f"{paths.ASSETS}/{entry.name}", entry.read_bytes())
    for name, path in vendor.items():
        out.write(f"{paths.ASSETS}/{name}", path.read_bytes())


def digest(*parts: object) -> str:
    """What a page is built from, hashed: ``repr`` of frozen dataclasses and strings is stable."""
    h = hashlib.sha256()
    for part in parts:
        h.update(repr(part).encode())
        h.update(b"\0")
    return h.hexdigest()[:32]


def _pair_badges(out: SiteOutput, fs: Sequence[CellFacts], site: str, seed: int) -> None:
    """The pass rate of each (TUI, model); cell badges are drawn with their pages."""
    pairs: dict[tuple[str, str], list[CellFacts]] = defaultdict(list)
    for f in fs:
        pairs[(f.tui, f.model)].append(f)
    for (tui, model), members in sorted(pairs.items()):
        rel, inputs = paths.pair_badge(tui, model), digest(site, members)
        if not out.fresh(rel, inputs):
            (s,) = aggregate(members, (), seed=seed)
            rate = s.pass_rate
            message = f"{rate * 100:.0f} % ({s.passed}/{s.graded})" if rate is not None else "no grade"
            out.write(rel, badge(f"cab · {tui} × {model}", message, pass_color(rate)), inputs)


def build_site(
    store: ResultStore,
    sweep_ids: Sequence[str],
    out: Path,
    *,
    tasks: Mapping[str, TaskInfo] | TaskLookup | None = None,
    vendor: Mapping[str, Path] | None = None,
    progress: Progress | None = None,
    seed: int = 0,
) -> BuildReport:
    """Build (or bring up to date) the site of ``sweep_ids`` in ``out``.

    ``tasks`` gives the task pages their prompt and validation state: a mapping, or a function of the
    task ids on the site (the CLI reads only those from the catalogue).

    ``vendor`` maps asset names (``asciinema-player.min.js``, ``asciinema-player.css``) to the files
    of the pinned player (``cab_site.vendor``); without them cell pages show no player.
    """
    started = time.perf_counter()
    results = load_results(store, sweep_ids)
    renderer = Renderer()
    output = SiteOutput(out, renderer.digest)
    out.mkdir(parents=True, exist_ok=True)
    fs = [facts(r) for r in results]
    infos = tasks({f.task_id for f in fs}) if callable(tasks) else (tasks or {})
    report = progress or (lambda _stage, _done, _total: None)
    _assets(output, vendor or {})
    index_inputs = digest(renderer.digest, list(sweep_ids), fs, seed)
    if not output.fresh(paths.INDEX, index_inputs):
        context = leaderboard_context(fs, sweep_ids, seed=seed)
        output.write(paths.INDEX, renderer.page("index.html", paths.INDEX, **context), index_inputs)
    _task_pages(output, renderer, fs, infos, seed)
    _pair_badges(output, fs, renderer.digest, seed)
    _cell_pages(output, renderer, store, results, fs, report)
    output.finish()
    return BuildReport(
        out=out,
        cells=len(results),
        pages_written=output.written,
        pages_unchanged=output.unchanged,
        seconds=time.perf_counter() - started,
    )


def _task_pages(
    out: SiteOutput, renderer: Renderer, fs: Sequence[CellFacts], tasks: Mapping[str, TaskInfo], seed: int
) -> None:
    by_task: dict[str, list[CellFacts]] = defaultdict(list)
    for f in fs:
        by_task[f.task_id].append(f)
    for task_id, members in sorted(by_task.items()):
        here, info = paths.task_page(task_id), tasks.get(task_id)
        inputs = digest(renderer.digest, members, info, seed)
        if not out.fresh(here, inputs):
            context = task_context(task_id, info, members, seed=seed)
            out.write(here, renderer.page("task.html", here, **context), inputs)


def _cell_pages(
    out: SiteOutput,
    renderer: Renderer,
    store: ResultStore,
    results: Sequence[CellResult],
    fs: Sequence[CellFacts],
    report: Progress,
) -> None:
    """Keep the pages whose inputs are unchanged; render the rest (in worker processes when many)."""
    neighbours = Neighbours(fs)
    jobs = []
    for result in results:
        ident = result.identity
        siblings = neighbours.of(ident.cell_id)
        inputs = digest(renderer.digest, result.model_dump_json(by_alias=True), siblings)
        if not out.fresh_all((paths.cell_page(ident.cell_id), paths.cell_badge(ident.cell_id)), inputs):
            jobs.append(CellJob(ident.cell_id, ident.attempt, siblings, inputs))
    done = 0

    def on_page(rel: str, inputs: str) -> None:
        nonlocal done
        out.written_elsewhere(rel, inputs)
        out.written_elsewhere(paths.cell_badge(rel_cell[rel]), inputs)
        done += 1
        if done % 100 == 0 or done == len(jobs):
            report("cell pages", done, len(jobs))

    rel_cell = {paths.cell_page(j.cell_id): j.cell_id for j in jobs}
    by_id = {r.identity.cell_id: r for r in results} if len(jobs) < PARALLEL_FROM else {}
    render_cells(store, renderer, jobs, out.root, by_id, on_page)
