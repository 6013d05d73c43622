"""A synthetic sweep as big as a real one, without running anything: for timing the results site.

    .venv/bin/python bench/synthetic.py -o /tmp/synthetic.db [--cells 10000]
    CAB_STORE_URL=sqlite:////tmp/synthetic.db .venv/bin/cab site build synthetic-10k -o /tmp/site

The default grid is 5 TUIs x 4 models x 100 tasks (5 categories of 20) x 5 reruns = 10,000 cells.
Each is a realistic ``CellResult``: 8 spans, 5-20 model calls, every axis scored, a 20-60 KB
asciicast and a small diff as artifacts. Whether a cell passes is drawn from a skill model: each TUI
and model has a strength, each task a difficulty, and reruns of one (TUI, model, task) draw from the
same probability, so the leaderboard has real differences and reruns disagree now and then. About 2 %
of cells are infra failures (not scored) and about 3 % agent timeouts. Everything is seeded by the
cell id (and attempt): the same grid always gives the same bytes.

``bench/site_build.py`` times the site over such a store; ``tests/bench/test_synthetic.py`` checks
that the records validate.
"""

from __future__ import annotations

import argparse
import hashlib
import math
import random
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

_REPO = Path(__file__).resolve().parent.parent
if str(_REPO) not in sys.path:
    sys.path.insert(0, str(_REPO))

from sqlalchemy import Table, insert  # noqa: E402

from bench._synthetic_cell import CellKey, synthetic_result  # noqa: E402
from cab_core.schema import CellResult, SweepSpec  # noqa: E402
from cab_core.store import ResultStore, rows, tables  # noqa: E402
from cab_site.model import TaskInfo  # noqa: E402

SWEEP_ID = "synthetic-10k"
TUIS = ("aider", "opencode", "codex", "cline", "qwen-code")
MODELS = (
    "meta/llama-3.3-70b-instruct",
    "qwen/qwen3-coder-480b-a35b-instruct",
    "openai/gpt-oss-120b",
    "deepseek-ai/deepseek-v3.1",
)
CATEGORIES = ("polyglot", "integrity", "mutations", "refactor", "security")
LANGUAGES = ("python", "rust", "go", "typescript", "javascript", "java", "c", "cpp")
WRITE_BATCH = 250
"""Results per write transaction: one commit (one fsync) per batch instead of per cell."""
CHILD_ROWS: tuple[tuple[Table, Callable[[CellResult], list[dict[str, Any]]]], ...] = (
    (tables.spans, rows.span_rows),
    (tables.model_calls, rows.call_rows),
    (tables.exchanges, rows.exchange_rows),
    (tables.artifacts, rows.artifact_rows),
)
"""The child tables ``statements.write_result`` fills, with the row function of each."""


@dataclass(frozen=True)
class Grid:
    """The sweep's axes; cells are enumerated rerun by rerun, so any prefix covers every pair."""

    tuis: tuple[str, ...] = TUIS
    models: tuple[str, ...] = MODELS
    tasks_per_category: int = 20
    reruns: int = 5

    @property
    def task_ids(self) -> list[str]:
        slugs = ("fix", "port", "harden", "trim", "parse")
        return [
            f"{cat}/{LANGUAGES[i % len(LANGUAGES)]}-{slugs[i % len(slugs)]}-{i:02d}"
            for cat in CATEGORIES
            for i in range(self.tasks_per_category)
        ]

    @property
    def size(self) -> int:
        return len(self.tuis) * len(self.models) * len(self.task_ids) * self.reruns

    def cells(self, sweep_id: str, n: int | None = None) -> Iterator[CellKey]:
        """The first ``n`` cells (all when None); ``n`` above the grid's size is refused."""
        n = self.size if n is None else n
        if not 0 <= n <= self.size:
            raise ValueError(f"{n} cells asked of a grid of {self.size}")
        count = 0
        for run in range(1, self.reruns + 1):
            for task_id in self.task_ids:
                for model in self.models:
                    for tui in self.tuis:
                        if count == n:
                            return
                        yield CellKey(sweep_id, tui, model, task_id, run, index=count)
                        count += 1


def grid_for(n: int) -> Grid:
    """The default grid, with more reruns (at most 100) or tasks when ``n`` is larger than 10,000."""
    grid = Grid()
    pairs_tasks = len(grid.tuis) * len(grid.models) * len(grid.task_ids)
    if n <= grid.size:
        return grid
    reruns = math.ceil(n / pairs_tasks)
    if reruns <= 100:
        return Grid(reruns=reruns)
    per_category = math.ceil(n / (100 * len(grid.tuis) * len(grid.models) * len(CATEGORIES)))
    return Grid(reruns=100, tasks_per_category=per_category)


def sweep_spec(grid: Grid, sweep_id: str = SWEEP_ID) -> SweepSpec:
    return SweepSpec(
        sweep_id=sweep_id,
        tuis=list(grid.tuis),
        models=list(grid.models),
        tasks=[f"{c}/*" for c in CATEGORIES],
        reruns=grid.reruns,
    )


def task_infos(grid: Grid) -> dict[str, TaskInfo]:
    """What the CLI would read from the task catalogue, for the task pages."""
    infos = {}
    for task_id in grid.task_ids:
        category, slug = task_id.split("/")
        prompt = (
            f"The {slug.split('-')[1]} step of `{slug}` is wrong on edge cases (empty input, ties, "
            "non-ASCII text). Fix it without changing the public API; the visible tests show the intent."
        )
        infos[task_id] = TaskInfo(task_id, category, slug.split("-")[0], prompt, "valid (synthetic)")
    return infos


@dataclass(frozen=True)
class StoreReport:
    """What ``write_store`` produced."""

    path: Path
    cells: int
    seconds: float
    db_bytes: int


def write_fresh(store: ResultStore, results: Iterator[CellResult], *, batch: int = WRITE_BATCH) -> int:
    """Insert first attempts of cells the store does not hold yet, ``batch`` per transaction.

    Every result is validated like ``upsert_result`` does and turned into rows by the store's own
    ``rows`` functions; only the statements differ: one multi-row INSERT per table and batch instead
    of an upsert, four deletes and four inserts per cell, which made a 10,000-cell store take twice as
    long. ``tests/bench/test_synthetic.py`` checks that both paths store the same thing.
    """
    written, pending = 0, []
    for result in results:
        pending.append(result)
        if len(pending) == batch:
            written += _insert(store, pending)
    return written + _insert(store, pending)


def _insert(store: ResultStore, pending: list[CellResult]) -> int:
    if not pending:
        return 0
    n = len(pending)
    for result in pending:
        store.check(result, f"write {result.identity.cell_id}")
    with store.transaction(f"write {n} synthetic results") as conn:
        conn.execute(insert(tables.cells), [rows.cell_row(r) for r in pending])
        for table, to_rows in CHILD_ROWS:
            if values := [row for r in pending for row in to_rows(r)]:
                conn.execute(insert(table), values)
    pending.clear()
    return n


def write_store(
    path: Path,
    n: int = 10_000,
    *,
    sweep_id: str = SWEEP_ID,
    artifacts: bool = True,
    progress: Callable[[int, int], None] | None = None,
) -> StoreReport:
    """A fresh SQLite store at ``path`` holding ``n`` synthetic cells of ``sweep_id`` (first attempts)."""
    path.unlink(missing_ok=True)
    started = time.perf_counter()
    grid = grid_for(n)
    store = ResultStore(f"sqlite:///{path}")
    store.create_schema()
    store.record_sweep(sweep_spec(grid, sweep_id))
    tick = progress or (lambda _done, _total: None)

    def results() -> Iterator[CellResult]:
        for key in grid.cells(sweep_id, n):
            yield synthetic_result(key, artifacts=artifacts)
            if (key.index + 1) % 100 == 0 or key.index + 1 == n:
                tick(key.index + 1, n)

    written = write_fresh(store, results())
    store.close()
    return StoreReport(path, written, time.perf_counter() - started, path.stat().st_size)


def new_attempts(store: ResultStore, sweep_id: str, count: int, *, seed: int = 1) -> list[CellResult]:
    """Write a new attempt for ``count`` cells picked evenly over the sweep (a rerun landing): the
    latest attempt plus one, drawn again. Returns what was written."""
    latest = store.latest_by_cell(sweep_id)
    position = {cell_id: i for i, cell_id in enumerate(sorted(latest))}
    picked = random.Random(seed).sample(sorted(latest), min(count, len(latest)))
    fresh = []
    for cell_id in sorted(picked):
        ident = latest[cell_id].identity
        key = CellKey(ident.sweep_id, ident.tui, ident.model, ident.task_id, ident.run, position[cell_id])
        fresh.append(synthetic_result(key, attempt=ident.attempt + 1))
    for result in fresh:
        store.upsert_result(result)
    return fresh


def digest_of(results: Sequence[CellResult]) -> str:
    """A short fingerprint of records (for checking that generation is deterministic)."""
    h = hashlib.sha256()
    for r in results:
        h.update(r.model_dump_json(by_alias=True).encode())
        for a in r.artifacts:
            h.update(a.body)
    return h.hexdigest()[:16]


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("-o", "--out", type=Path, required=True, help="SQLite file to (re)create")
    ap.add_argument("--cells", type=int, default=10_000, help="cells to generate (default %(default)s)")
    ap.add_argument("--sweep", default=SWEEP_ID, help="sweep id (default %(default)s)")
    ap.add_argument("--no-artifacts", action="store_true", help="no asciicast or diff per cell")
    args = ap.parse_args(argv)
    if args.cells < 1:
        ap.error("--cells must be >= 1")
    report = write_store(args.out, args.cells, sweep_id=args.sweep, artifacts=not args.no_artifacts)
    print(
        f"{report.cells:,} cells of {args.sweep} in {report.seconds:.1f} s; "
        f"{report.db_bytes / 1e6:.1f} MB in {report.path} (CAB_STORE_URL=sqlite:///{report.path.resolve()})"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
