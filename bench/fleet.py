"""SIMULATION of a cab fleet: slot utilisation and sustained completions through broker + store.

Run from the repo root::

    .venv/bin/python bench/fleet.py [--util-cells 200] [--fleet-workers 50] [--fleet-cells 3000]

No container is started. Every worker is a separate process (bench/_fleet_worker.py) running
real Celery from ``make_celery`` with the real thin task and the real ``execute_cell`` (the store
lease, its watch, the fenced write into PostgreSQL); only
``run_cell`` is replaced by a sleep of the cell's scripted duration. Cells are planned with
``record_plan`` and fanned out by the real ``Dispatcher`` loop (max_queued=1000) in this process,
on a private redis-server and a scratch PostgreSQL database.

  (a) utilisation: 2 worker processes x 2 slots, 200 cells of 0.2-2.0 s in shuffled order;
      busy slot-seconds / available slot-seconds while the queue is non-empty;
  (b) fleet: 50 worker processes (1-2 slots, threads pool) draining a few thousand 0 s cells;
      completions per second in the steady state.

bench/README.md explains every number. Nothing here asserts on a timing: this is a report.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

_REPO = Path(__file__).resolve().parent.parent
for p in (str(_REPO), str(_REPO / "bench")):
    if p not in sys.path:
        sys.path.insert(0, p)

import redis  # noqa: E402
from _fleet_worker import sim_model  # noqa: E402
from _services import PG_ADMIN_URL, pct, pg_connection_budget, private_redis, scratch_database  # noqa: E402
from rich.console import Console  # noqa: E402
from rich.table import Table  # noqa: E402
from sqlalchemy import func, select  # noqa: E402

from cab_core.schema import CellSpec, SweepSpec, make_cell_id  # noqa: E402
from cab_core.settings import BrokerSettings, DispatcherSettings, Settings  # noqa: E402
from cab_core.store import ResultStore  # noqa: E402
from cab_core.store import planned as plan  # noqa: E402
from cab_core.store.tables import cells as cells_table  # noqa: E402
from cab_scheduler.catalog import TaskCatalog  # noqa: E402
from cab_scheduler.celery_app import make_celery  # noqa: E402
from cab_scheduler.dispatch import Dispatcher  # noqa: E402

TASK = "polyglot/python-semver-sort"
TARGET_UTIL, TARGET_RATE = 0.98, 50.0
PG_HEADROOM = 20
"""PostgreSQL connections left free for everyone else on the server."""
WORKER = str(_REPO / "bench" / "_fleet_worker.py")
PY = sys.executable

console = Console(width=None if sys.stdout.isatty() else 130)


@dataclass
class Run:
    label: str
    slots: list[int]
    durations_s: list[float]
    records: list[dict[str, Any]]
    stored: int
    dispatch_t0: float
    ready_s: float
    rss_mb: float
    wall_s: float


def make_cells(sweep_id: str, durations_s: list[float], catalog: TaskCatalog) -> list[CellSpec]:
    """One real task spec copied into len(durations) cells, each model naming its sleep."""
    task = catalog.load(TASK)
    out = []
    for i, d in enumerate(durations_s, start=1):
        model = sim_model(d)
        out.append(
            CellSpec(
                cell_id=make_cell_id(sweep_id, "reference", model, task.task_id, i),
                sweep_id=sweep_id,
                tui="reference",
                model=model,
                task=task,
                run=i,
            )
        )
    return out


def _rss_mb(pid: int) -> float:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


def _stored(store: ResultStore, sweep_id: str) -> int:
    with store.engine.connect() as conn:
        q = select(func.count(func.distinct(cells_table.c.cell_id))).where(cells_table.c.sweep_id == sweep_id)
        return int(conn.execute(q).scalar() or 0)


def run_scenario(
    label: str,
    slots: list[int],
    durations_s: list[float],
    redis_url: str,
    store_url: str,
    catalog: TaskCatalog,
    tmp: Path,
    timeout_s: float,
) -> Run:
    sweep_id = f"bench-fleet-{label}"
    work = tmp / label
    work.mkdir()
    store = ResultStore(store_url)
    client = redis.Redis.from_url(redis_url)
    procs: list[subprocess.Popen[bytes]] = []
    stop = threading.Event()
    thread: threading.Thread | None = None
    t_start = time.perf_counter()
    try:
        for i, s in enumerate(slots):
            name = f"sim-{label}-{i:03d}@bench"
            log = (work / f"w{i:03d}.log").open("wb")
            procs.append(
                subprocess.Popen(
                    [
                        PY,
                        WORKER,
                        "--broker",
                        redis_url,
                        "--store",
                        store_url,
                        "--name",
                        name,
                        "--slots",
                        str(s),
                        "--out",
                        str(work / f"w{i:03d}.jsonl"),
                        "--ready",
                        str(work / f"w{i:03d}.ready"),
                    ],
                    stdout=log,
                    stderr=subprocess.STDOUT,
                    start_new_session=True,
                )
            )
        deadline = time.monotonic() + 60 + 6 * len(slots)
        while sum((work / f"w{i:03d}.ready").exists() for i in range(len(slots))) < len(slots):
            dead = [p.args for p in procs if p.poll() is not None]
            if dead or time.monotonic() > deadline:
                raise SystemExit(f"{label}: workers did not become ready (exited: {len(dead)}); see {work}")
            time.sleep(0.2)
        ready_s = time.perf_counter() - t_start
        rss = sum(_rss_mb(p.pid) for p in procs)
        console.print(
            f"  [dim]{label}: {len(slots)} workers / {sum(slots)} slots ready after {ready_s:.1f} s, "
            f"{rss:,.0f} MB RSS in total[/]"
        )

        cells = make_cells(sweep_id, durations_s, catalog)
        spec = SweepSpec(sweep_id=sweep_id, tuis=["reference"], models=["sim/sleep"], tasks=[TASK])
        plan.record_plan(store, spec, cells)
        dispatcher = Dispatcher(
            store=store,
            app=make_celery(BrokerSettings(url=redis_url)),
            client=client,
            settings=DispatcherSettings(),
        )
        thread = threading.Thread(target=dispatcher.run, args=(stop,), daemon=True)
        dispatch_t0 = time.time()
        thread.start()
        deadline = time.monotonic() + timeout_s
        stored = 0
        while time.monotonic() < deadline:
            stored = _stored(store, sweep_id)
            if stored >= len(cells):
                break
            time.sleep(0.25)
        wall_s = time.time() - dispatch_t0
        if stored < len(cells):
            console.print(
                f"[yellow]{label}: only {stored}/{len(cells)} cells stored within {timeout_s:.0f} s[/]"
            )
    finally:
        stop.set()
        if thread is not None:
            thread.join(timeout=30)
        for p in procs:
            if p.poll() is None:
                p.terminate()
        for p in procs:
            try:
                p.wait(timeout=60)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait(timeout=10)
        # a stopped Dispatcher keeps cab:dispatcher until it expires (lease_s); the next scenario's
        # dispatcher would idle until then, so the bench removes it (see bench/README.md)
        client.delete("cab:dispatcher")
        store.close()
        client.close()
    records = []
    for f in sorted(work.glob("w*.jsonl")):
        records += [json.loads(line) for line in f.read_text().splitlines() if line.strip()]
    return Run(label, slots, durations_s, records, stored, dispatch_t0, ready_s, rss, wall_s)


# -- analysis --------------------------------------------------------------------------------------


def _overlap(a: float, b: float, lo: float, hi: float) -> float:
    return max(0.0, min(b, hi) - max(a, lo))


def handoff_gaps_ms(records: list[dict[str, Any]]) -> list[float]:
    """Per worker: for each task start, ms since the latest task end on that worker (if any ended)."""
    by_worker: dict[str, list[dict[str, Any]]] = {}
    for r in records:
        by_worker.setdefault(r["w"], []).append(r)
    gaps = []
    for rs in by_worker.values():
        ends = sorted(r["t1"] for r in rs)
        for r in rs:
            before = [e for e in ends if e <= r["t0"]]
            if before:
                gaps.append((r["t0"] - before[-1]) * 1000)
    return gaps


def report_util(run: Run) -> None:
    rs = [r for r in run.records if r["status"] == "stored"]
    n_slots = sum(run.slots)
    lo = min(r["t0"] for r in rs)
    hi = max(r["t0"] for r in rs)  # the last cell left the queue: from here on slots drain
    window = hi - lo
    busy_sleep = sum(_overlap(r["s0"], r["s1"], lo, hi) for r in rs)
    busy_task = sum(_overlap(r["t0"], r["t1"], lo, hi) for r in rs)
    makespan = max(r["t1"] for r in rs) - lo
    ideal = sum(run.durations_s) / n_slots
    over = [((r["t1"] - r["t0"]) - (r["s1"] - r["s0"])) * 1000 for r in rs]
    gaps = handoff_gaps_ms(rs)
    t = Table(
        title=f"SIMULATION (a) slot utilisation: {len(run.slots)} workers x {run.slots[0]} slots, "
        f"{len(run.durations_s)} cells of {min(run.durations_s):.1f}-{max(run.durations_s):.1f} s"
    )
    t.add_column("number", justify="left")
    t.add_column("value", justify="right")
    t.add_row("cells stored / planned", f"{run.stored} / {len(run.durations_s)}")
    t.add_row("deliveries recorded (stored / other)", f"{len(rs)} / {len(run.records) - len(rs)}")
    t.add_row("window while queue non-empty (first start -> last start), s", f"{window:.2f}")
    t.add_row("available slot-seconds in the window", f"{n_slots * window:.2f}")
    t.add_row("busy slot-seconds, cell sleep only", f"{busy_sleep:.2f}")
    t.add_row("busy slot-seconds, whole task (execute_cell)", f"{busy_task:.2f}")
    t.add_row("[bold]utilisation, cell sleep only[/]", f"[bold]{busy_sleep / (n_slots * window):.2%}[/]")
    t.add_row("utilisation, whole task", f"{busy_task / (n_slots * window):.2%}")
    t.add_row(
        "per-cell cab overhead (task - sleep) p50 / p99, ms", f"{pct(over, 50):.1f} / {pct(over, 99):.1f}"
    )
    t.add_row(
        "slot hand-off gap (task end -> next start, same worker) p50 / p99, ms",
        f"{pct(gaps, 50):.1f} / {pct(gaps, 99):.1f}",
    )
    t.add_row("dispatch start -> first task start, ms", f"{(lo - run.dispatch_t0) * 1000:.0f}")
    t.add_row(
        "makespan (first start -> last end) / ideal (sum of sleeps / slots), s",
        f"{makespan:.2f} / {ideal:.2f} = {makespan / ideal:.3f}x",
    )
    console.print(t)
    u = busy_sleep / (n_slots * window)
    console.print(
        f"verdict: utilisation {u:.2%} {'>=' if u >= TARGET_UTIL else '<'} {TARGET_UTIL:.0%} -> "
        f"{'[green]MEETS[/]' if u >= TARGET_UTIL else '[red]MISSES[/]'} the target"
    )


def report_fleet(run: Run) -> None:
    rs = sorted((r for r in run.records if r["status"] == "stored"), key=lambda r: r["t1"])
    n = len(rs)
    ends = [r["t1"] for r in rs]
    a, b = int(n * 0.1), max(int(n * 0.9) - 1, int(n * 0.1) + 1)
    steady = (b - a) / (ends[b] - ends[a]) if n > 10 and ends[b] > ends[a] else float("nan")
    first = min(r["t0"] for r in rs)
    overall = n / (ends[-1] - run.dispatch_t0)
    task_ms = [(r["t1"] - r["t0"]) * 1000 for r in rs]
    per_worker: dict[str, int] = {}
    for r in rs:
        per_worker[r["w"]] = per_worker.get(r["w"], 0) + 1
    counts = sorted(per_worker.values())
    statuses: dict[str, int] = {}
    for r in run.records:
        statuses[r["status"]] = statuses.get(r["status"], 0) + 1
    t = Table(
        title=f"SIMULATION (b) fleet: {len(run.slots)} worker processes, {sum(run.slots)} slots "
        f"({run.slots.count(1)} x 1, {run.slots.count(2)} x 2), {len(run.durations_s):,} cells of 0 s"
    )
    t.add_column("number", justify="left")
    t.add_column("value", justify="right")
    t.add_row("cells stored / planned", f"{run.stored:,} / {len(run.durations_s):,}")
    t.add_row("deliveries by outcome", ", ".join(f"{k} {v:,}" for k, v in sorted(statuses.items())))
    t.add_row("workers up (start -> all ready), s; total RSS, MB", f"{run.ready_s:.1f}; {run.rss_mb:,.0f}")
    t.add_row("dispatch start -> first task start, ms", f"{(first - run.dispatch_t0) * 1000:.0f}")
    t.add_row("dispatch start -> last result, s", f"{ends[-1] - run.dispatch_t0:.2f}")
    t.add_row(
        "[bold]completions/s, steady state (10th -> 90th percentile of ends)[/]", f"[bold]{steady:,.1f}[/]"
    )
    t.add_row("completions/s, overall (n / dispatch start -> last end)", f"{overall:,.1f}")
    t.add_row(
        "task time (execute_cell, 0 s sleep) p50 / p99, ms",
        f"{pct(task_ms, 50):.1f} / {pct(task_ms, 99):.1f}",
    )
    t.add_row(
        "cells per worker min / median / max", f"{counts[0]} / {counts[len(counts) // 2]} / {counts[-1]}"
    )
    t.add_row("workers that got no cell", f"{len(run.slots) - len(per_worker)}")
    t.add_row("load average (1 min) at the end", f"{os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs")
    console.print(t)
    console.print(
        f"verdict: {steady:,.1f} completions/s {'>=' if steady >= TARGET_RATE else '<'} "
        f"{TARGET_RATE:g}/s -> {'[green]MEETS[/]' if steady >= TARGET_RATE else '[red]MISSES[/]'} the target"
    )


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--util-cells", type=int, default=200, help="(a) cells (default %(default)s; 0 skips)")
    ap.add_argument("--util-workers", type=int, default=2)
    ap.add_argument("--util-slots", type=int, default=2)
    ap.add_argument("--min-s", type=float, default=0.2, help="(a) shortest cell")
    ap.add_argument("--max-s", type=float, default=2.0, help="(a) longest cell")
    ap.add_argument("--fleet-workers", type=int, default=50, help="(b) worker processes (0 skips)")
    ap.add_argument("--fleet-slots", default="1,2", help="(b) slots per worker, cycled (default 1,2)")
    ap.add_argument("--fleet-cells", type=int, default=3000, help="(b) cells (default %(default)s)")
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--redis-port", type=int, default=6398, help="port of the private redis-server")
    ap.add_argument("--pg", default=PG_ADMIN_URL, help="PostgreSQL server (a scratch database is created)")
    args = ap.parse_args(argv)
    import logging

    import structlog

    logging.getLogger().setLevel(logging.WARNING)
    structlog.configure(wrapper_class=structlog.make_filtering_bound_logger(logging.WARNING))
    rng = random.Random(args.seed)
    catalog = TaskCatalog(Settings().tasks_dir)
    console.print(
        f"[bold]fleet[/]: [bold yellow]SIMULATION[/] (cells sleep instead of starting containers; "
        f"broker, lease and store are real), {os.cpu_count()} CPUs, {datetime.now(UTC):%Y-%m-%d %H:%M} UTC"
    )
    with (
        tempfile.TemporaryDirectory(prefix="cab-bench-fleet-") as tmp_s,
        private_redis(args.redis_port) as redis_url,
        scratch_database(args.pg, "fleet") as store_url,
    ):
        tmp = Path(tmp_s)
        ResultStore(store_url).create_schema()
        if args.util_cells:
            durations = [round(rng.uniform(args.min_s, args.max_s), 3) for _ in range(args.util_cells)]
            slots = [args.util_slots] * args.util_workers
            timeout = 120 + 3 * sum(durations) / sum(slots)
            report_util(run_scenario("util", slots, durations, redis_url, store_url, catalog, tmp, timeout))
        if args.fleet_workers:
            pattern = [int(s) for s in args.fleet_slots.split(",")]
            slots = [pattern[i % len(pattern)] for i in range(args.fleet_workers)]
            max_conn, used = pg_connection_budget(args.pg)
            budget = max_conn - used - PG_HEADROOM
            i = len(slots) - 1
            while sum(slots) > budget and i >= 0:  # one pooled PG connection per busy slot
                slots[i] = 1
                i -= 1
            console.print(
                f"  [dim]PostgreSQL: {used}/{max_conn} connections in use; fleet uses up to "
                f"{sum(slots)} (one per slot)[/]"
            )
            durations = [0.0] * args.fleet_cells
            report_fleet(
                run_scenario(
                    "fleet", slots, durations, redis_url, store_url, catalog, tmp, 180 + args.fleet_cells / 10
                )
            )
    return 0


if __name__ == "__main__":
    sys.exit(main())
