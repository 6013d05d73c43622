"""How long the results site takes to build for a big sweep, cold and incrementally.

Run from the repo root::

    .venv/bin/python bench/site_build.py [--cells 10000] [--changed 100] [--keep DIR] [--json out.json]

In one run, on a synthetic sweep (``bench/synthetic.py``: 5 TUIs x 4 models x 100 tasks x 5 reruns,
each cell with 8 spans, 5-20 model calls, a 20-60 KB asciicast and a diff) in a fresh SQLite store:

1. **generate**: draw the cells and write them into the store (setup, not part of the target);
2. **cold build**: ``build_site`` into an empty folder;
3. **rebuild, nothing changed**: ``build_site`` again over the same store and folder;
4. **rebuild after --changed cells**: that many cells get a new attempt (``ResultStore.upsert_result``,
   like a rerun landing), then ``build_site`` again.

Each build prints its time, the pages it wrote and the pages it kept; then the output's size and file
count, and the ratio of each rebuild to the cold build. The issue's target is the cold build of
10,000 cells in under 60 s on this machine; the verdict line says PASS or MISS. Nothing is asserted.
``--store`` reuses a store written by an earlier run (``--keep``) and skips step 1.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

_REPO = Path(__file__).resolve().parent.parent
if str(_REPO) not in sys.path:
    sys.path.insert(0, str(_REPO))

from rich.console import Console  # noqa: E402
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn  # noqa: E402
from rich.table import Table  # noqa: E402

from bench.synthetic import SWEEP_ID, grid_for, new_attempts, task_infos, write_store  # noqa: E402
from cab_core.settings import Settings  # noqa: E402
from cab_core.store import ResultStore  # noqa: E402
from cab_site.build import build_site  # noqa: E402
from cab_site.vendor import player_assets as vendored  # noqa: E402

TARGET_CELLS, TARGET_COLD_S = 10_000, 60.0

console = Console(width=None if sys.stdout.isatty() else 130)


@dataclass(frozen=True)
class Step:
    """One measured build (or the generation, with no pages)."""

    name: str
    seconds: float
    cells: int
    pages_written: int | None = None
    pages_unchanged: int | None = None


@contextmanager
def bar(label: str) -> Iterator[Callable[[str, int, int], None]]:
    """A transient rich progress bar; yields ``update(stage, done, total)``."""
    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
    with Progress(*columns, console=console, transient=True) as progress:
        task = progress.add_task(label, total=None)

        def update(stage: str, done: int, total: int) -> None:
            progress.update(task, description=f"{label}: {stage}", completed=done, total=total)

        yield update


def player_assets() -> dict[str, Path]:
    """The pinned terminal player, as ``cab site build`` copies it (fetched once into CAB_HOME)."""
    return vendored(Settings().cab_home.vendor)


def build(name: str, store: ResultStore, out: Path, n: int) -> Step:
    with bar(name) as update:
        report = build_site(
            store, [SWEEP_ID], out, tasks=task_infos(grid_for(n)), vendor=player_assets(), progress=update
        )
    step = Step(name, report.seconds, report.cells, report.pages_written, report.pages_unchanged)
    console.print(
        f"{name}: {step.seconds:.2f} s, {step.cells:,} cells, {step.pages_written:,} pages written, "
        f"{step.pages_unchanged:,} kept"
    )
    return step


def tree_size(root: Path) -> tuple[int, int]:
    """(bytes, files) under ``root``, the build's hidden manifest included."""
    sizes = [p.stat().st_size for p in root.rglob("*") if p.is_file()]
    return sum(sizes), len(sizes)


def generate(path: Path, n: int) -> Step:
    with bar("generate") as update:
        report = write_store(path, n, progress=lambda done, total: update("cells", done, total))
    console.print(
        f"generate: {report.cells:,} cells in {report.seconds:.1f} s "
        f"({report.seconds / report.cells * 1000:.2f} ms/cell), store {report.db_bytes / 1e6:,.0f} MB"
    )
    return Step("generate store", report.seconds, report.cells)


def report(steps: list[Step], size: tuple[int, int], n: int) -> dict[str, Any]:
    by = {s.name: s for s in steps}
    cold = by["cold build"]
    table = Table(title=f"site build, {n:,}-cell synthetic sweep")
    for col in ("step", "seconds", "cells", "pages written", "pages kept", "x cold"):
        table.add_column(col, justify="left" if col == "step" else "right")
    for s in steps:
        ratio = f"{s.seconds / cold.seconds:.3f}" if "build" in s.name and cold.seconds else ""
        written = "" if s.pages_written is None else f"{s.pages_written:,}"
        kept = "" if s.pages_unchanged is None else f"{s.pages_unchanged:,}"
        table.add_row(s.name, f"{s.seconds:.2f}", f"{s.cells:,}", written, kept, ratio)
    console.print(table)
    console.print(f"output: {size[0] / 1e6:,.1f} MB in {size[1]:,} files")
    ok = cold.seconds < TARGET_COLD_S
    scale = "" if n == TARGET_CELLS else f" (target is for {TARGET_CELLS:,} cells; this run had {n:,})"
    console.print(
        f"verdict: cold build of {n:,} cells {cold.seconds:.1f} s {'<' if ok else '>='} "
        f"{TARGET_COLD_S:.0f} s -> {'[green]PASS[/]' if ok else '[red]MISS[/]'}{scale}"
    )
    return {
        "cells": n,
        "steps": [asdict(s) for s in steps],
        "output_bytes": size[0],
        "output_files": size[1],
        "target_cold_s": TARGET_COLD_S,
        "pass": ok,
    }


def run(work: Path, n: int, changed: int, store_path: Path | None) -> dict[str, Any]:
    steps = []
    if store_path is None:
        store_path = work / "synthetic.db"
        steps.append(generate(store_path, n))
    out = work / "site"
    shutil.rmtree(out, ignore_errors=True)
    store = ResultStore(f"sqlite:///{store_path}")
    try:
        steps.append(build("cold build", store, out, n))
        steps.append(build("rebuild, nothing changed", store, out, n))
        started = time.perf_counter()
        written = new_attempts(store, SWEEP_ID, changed)
        console.print(f"wrote a new attempt of {len(written)} cells in {time.perf_counter() - started:.2f} s")
        steps.append(build(f"rebuild, {len(written)} cells changed", store, out, n))
    finally:
        store.close()
    return report(steps, tree_size(out), n)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument(
        "--cells", type=int, default=TARGET_CELLS, help="cells in the sweep (default %(default)s)"
    )
    ap.add_argument(
        "--changed", type=int, default=100, help="cells given a new attempt (default %(default)s)"
    )
    ap.add_argument("--keep", type=Path, default=None, help="work in DIR and keep the store and the site")
    ap.add_argument("--store", type=Path, default=None, help="reuse this synthetic store (skips generating)")
    ap.add_argument("--json", type=Path, default=None, help="write the numbers here")
    args = ap.parse_args(argv)
    if args.cells < 1 or args.changed < 0:
        ap.error("--cells must be >= 1 and --changed >= 0")
    import logging

    import structlog

    structlog.configure(wrapper_class=structlog.make_filtering_bound_logger(logging.WARNING))
    console.print(
        f"[bold]site build[/]: {args.cells:,} cells, {args.changed} changed, {os.cpu_count()} CPUs, "
        f"Python {platform.python_version()}, {datetime.now(UTC):%Y-%m-%d %H:%M} UTC"
    )
    if args.keep is not None:
        args.keep.mkdir(parents=True, exist_ok=True)
        result = run(args.keep, args.cells, args.changed, args.store)
    else:
        with tempfile.TemporaryDirectory(prefix="cab-bench-site-") as tmp:
            result = run(Path(tmp), args.cells, args.changed, args.store)
    if args.json:
        args.json.write_text(json.dumps(result, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
