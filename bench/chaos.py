"""Chaos: one sweep on 3 real workers, once clean and once under faults; is every cell done once?

Run from the repo root::

    .venv/bin/python bench/chaos.py [--cells 200] [--seed 1] [--workers 3] [--slots 1] [--json out.json]

Starts its own redis-server (AOF on) and its own PostgreSQL cluster (initdb into a temp dir), one
``cab dispatcher`` and ``--workers`` ``cab worker`` processes, and runs the same sweep twice: a
baseline without faults, then with the faults of ``bench/_chaos.py`` injected on a seeded schedule
(kill -9 of a worker, a worker frozen past its lease, Redis restarted empty and from its AOF, Redis
frozen for 10 s, PostgreSQL restarted fast and immediate). Prints, per run: cells final, cells that
had more than one agent container alive at once, duplicate final rows, containers left after the
reapers had their time, wall time; and the faults with their times.

Exit code 0 only when both runs are correct (every cell final once, no concurrent duplicate, no
orphan). Timings are reported, never gated on. bench/README.md explains every number.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import sys
import tempfile
from dataclasses import asdict, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

_REPO = Path(__file__).resolve().parent.parent
if str(_REPO) not in sys.path:
    sys.path.insert(0, str(_REPO))

from rich.console import Console  # noqa: E402
from rich.table import Table  # noqa: E402

from bench._chaos import FAULTS, MAX_RERUNS, ChaosConfig, HarnessError, TrialResult, run_trial  # noqa: E402
from bench._services import PgServer, RedisServer, ServiceError  # noqa: E402

console = Console(width=None if sys.stdout.isatty() else 130)


def _mark(ok: bool) -> str:
    return "[green]ok[/]" if ok else "[red]WRONG[/]"


def report(cfg: ChaosConfig, runs: list[TrialResult]) -> None:
    t = Table(title=f"chaos: {cfg.planned} cells, {cfg.workers} workers x {cfg.slots} slots, seed {cfg.seed}")
    t.add_column("number")
    for r in runs:
        t.add_column(r.label, justify="right")
    t.add_row(
        "cells final / planned", *(f"{r.final}/{r.planned} {_mark(r.final == r.planned)}" for r in runs)
    )
    t.add_row(
        "cells with >1 agent container at once", *(f"{len(r.overlaps)} {_mark(not r.overlaps)}" for r in runs)
    )
    t.add_row(
        "cells with more than one final row",
        *(f"{len(r.duplicate_finals)} {_mark(not r.duplicate_finals)}" for r in runs),
    )
    t.add_row(
        "containers left after the reapers", *(f"{len(r.orphans)} {_mark(not r.orphans)}" for r in runs)
    )
    t.add_row("wall time, submit -> all final, s", *(f"{r.wall_s:.1f}" for r in runs))
    t.add_row(
        "final cells by failure class",
        *(", ".join(f"{k} {n}" for k, n in sorted(r.by_class.items())) for r in runs),
    )
    t.add_row("agent containers started", *(str(r.agent_starts) for r in runs))
    t.add_row("gave up", *(r.gave_up or "-" for r in runs))
    t.add_row("processes that exited on their own", *(_exited(r) for r in runs))
    console.print(t)
    if len(runs) == 2 and runs[0].final == runs[0].planned and runs[1].final == runs[1].planned:
        console.print(f"wall time with faults / without: [bold]{runs[1].wall_s / runs[0].wall_s:.2f}x[/]")
    for r in runs:
        _details(r)


def _exited(r: TrialResult) -> str:
    return ", ".join(f"{n} (rc {rc})" for n, rc in sorted(r.exited.items())) or "-"


def _details(r: TrialResult) -> None:
    if r.watch_error:
        console.print(f"  [red]{r.label}: {r.watch_error}[/]: the overlap count is incomplete")
    if r.faults or r.not_injected:
        f = Table(title=f"{r.label}: faults")
        for col in ("#", "fault", "at, s", "cells final then", "took, s", "what"):
            f.add_column(col)
        for i, x in enumerate(r.faults, 1):
            f.add_row(str(i), x.kind, f"{x.at_s:.1f}", str(x.final_at), f"{x.took_s:.1f}", x.detail)
        why = "the sweep finished first" if r.final == r.planned else "the sweep stopped progressing first"
        for kind in r.not_injected:
            f.add_row("-", kind, "-", "-", "-", f"[yellow]not injected: {why}[/]")
        console.print(f)
    for o in r.overlaps[:10]:
        console.print(
            f"  [red]{o.most_at_once} agents at once[/] {o.cell_id} (workers {', '.join(sorted(o.workers))})"
        )
    for cell, n in list(r.duplicate_finals.items())[:10]:
        console.print(f"  [red]{n} final rows[/] {cell}")
    for name in r.orphans[:10]:
        console.print(f"  [red]left behind[/] {name}")
    if r.missing:
        console.print(f"  [red]{len(r.missing)} cells not final[/] ({r.gave_up}); the first ones:")
        for m in r.missing[:10]:
            console.print(f"    {m.cell_id}: {m.latest}")


def as_json(cfg: ChaosConfig, runs: list[TrialResult]) -> dict[str, Any]:
    out: dict[str, Any] = {
        "when": datetime.now(UTC).isoformat(),
        "cpus": os.cpu_count(),
        "config": asdict(cfg) | {"planned": cfg.planned, "deadline_s": cfg.deadline_s},
        "runs": [],
    }
    for r in runs:
        d = asdict(r)
        d["log_dir"] = str(r.log_dir)
        d["overlaps"] = [{**asdict(o), "workers": sorted(o.workers)} for o in r.overlaps]
        d["ok"] = r.ok
        out["runs"].append(d)
    return out


def _on_sigterm(signum: int, frame: object) -> None:
    raise KeyboardInterrupt  # the same cleanup as Ctrl-C (Python's default SIGTERM skips `finally`)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--cells", type=int, default=200, help="cells per run, rounded up to a multiple of 8")
    ap.add_argument("--seed", type=int, default=1, help="fault order and victims (default %(default)s)")
    ap.add_argument("--workers", type=int, default=3)
    ap.add_argument("--slots", type=int, default=1, help="slots per worker (default %(default)s)")
    ap.add_argument("--faults", default=",".join(FAULTS), help="comma list, each injected once")
    ap.add_argument(
        "--timeout", type=float, help="give up on a run after this many s (default: 300 + 10/cell/slot)"
    )
    ap.add_argument("--stall", type=float, default=240.0, help="give up when no cell got final for this long")
    ap.add_argument("--json", type=Path, help="write every number and fault here")
    ap.add_argument("--no-baseline", action="store_true", help="only the run with faults")
    ap.add_argument(
        "--keep", action="store_true", help="keep the process logs (kept anyway when a run is wrong)"
    )
    args = ap.parse_args(argv)
    faults = tuple(f.strip() for f in args.faults.split(",") if f.strip())
    unknown = [f for f in faults if f not in FAULTS]
    if unknown:
        ap.error(f"unknown faults {unknown}; known: {', '.join(FAULTS)}")
    cfg = ChaosConfig(cells=args.cells, seed=args.seed, workers=args.workers, slots=args.slots)
    cfg = replace(cfg, faults=faults, timeout_s=args.timeout, stall_s=args.stall)
    if cfg.reruns > MAX_RERUNS:
        ap.error(f"at most {MAX_RERUNS * cfg.planned // cfg.reruns} cells ({MAX_RERUNS} reruns)")
    console.print(
        f"[bold]chaos[/]: {cfg.planned} cells ({cfg.reruns} reruns of {cfg.planned // cfg.reruns} cells), "
        f"{cfg.workers} workers x {cfg.slots} slots, {os.cpu_count()} CPUs, seed {cfg.seed}, "
        f"{datetime.now(UTC):%Y-%m-%d %H:%M} UTC"
    )
    signal.signal(signal.SIGTERM, _on_sigterm)
    root = Path(tempfile.mkdtemp(prefix="cab-chaos-"))
    runs: list[TrialResult] = []
    redis = RedisServer(root)
    try:
        redis.start()
        with PgServer() as pg:
            labels = [("faults", True)] if args.no_baseline else [("baseline", False), ("faults", True)]
            for label, inject in labels:
                runs.append(
                    run_trial(cfg, label=label, inject=inject, redis=redis, pg=pg, root=root, console=console)
                )
                console.print(f"  [dim]{runs[-1].summary().splitlines()[0]}[/]")
    except (KeyboardInterrupt, HarnessError, ServiceError) as e:
        what = "interrupted" if isinstance(e, KeyboardInterrupt) else f"[red]harness failed[/]: {e}"
        console.print(f"{what}; every process, server and container it started is stopped. Logs: {root}")
        return 130 if isinstance(e, KeyboardInterrupt) else 2
    finally:
        redis.stop()
    report(cfg, runs)
    if args.json:
        args.json.write_text(json.dumps(as_json(cfg, runs), indent=2, default=str))
    ok = bool(runs) and all(r.ok for r in runs)
    console.print(f"verdict: {'[green]CORRECT[/]' if ok else '[red]WRONG[/]'} (timings are not gated on)")
    skipped = sum(len(r.not_injected) for r in runs)
    if skipped:
        console.print(
            f"[yellow]{skipped} planned faults were not injected: a short or stuck run proves less[/]"
        )
    if args.keep or not ok:
        console.print(f"process logs: {root}  (one dir per run: <name>.log, home-<name>/logs/cab.log)")
    else:
        shutil.rmtree(root, ignore_errors=True)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
