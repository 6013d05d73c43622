"""What each TUI costs before the model even thinks: cold start to its first model call, and the
wall time of an oracle cell, per TUI, with cab's reference agent measured alongside in the same run.

Run from the repo root (images are built first when missing; that time is not counted)::

    .venv/bin/python bench/tui_startup.py [--tuis opencode,aider] [--task polyglot/python-semver-sort]
                                          [--runs 1] [--json out.json]

For each TUI, ``--runs`` oracle cells of ``--task`` run one after another on one host set up like
``cab run`` (egress lock, proxy, scripted endpoint). Per cell:

* **cold start**: the agent container's start (Docker's ``StartedAt``) to the first model call the
  proxy recorded: image start-up, config, plugin loading, everything before the first token is asked;
* **agent**: the agent container's run (start to exit);
* **cell**: the whole cell, scoring included (``timing.duration_s``);
* **calls**: model calls the proxy recorded, and the tokens they carried.

The ratio column divides each TUI's cold start by the reference agent's (a stdlib Python loop).
Medians over ``--runs``; nothing is asserted.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
from datetime import datetime
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from cab_core.schema import CellResult, CellSpec, Timeouts, make_cell_id  # noqa: E402
from cab_core.settings import Settings  # noqa: E402
from cab_scheduler.catalog import TaskCatalog  # noqa: E402
from cab_workers.adapters import ADAPTERS  # noqa: E402
from cab_workers.cell.pipeline import run_cell  # noqa: E402
from cab_workers.composition import LocalHost  # noqa: E402


def measure(result: CellResult) -> dict[str, Any]:
    container = next(s for s in result.spans if s.kind == "container")
    started = container.attrs.get("started_at")
    first = min((c.timestamp for c in result.model_calls), default=None)
    cold = (first - datetime.fromisoformat(started)).total_seconds() if started and first else None
    axes = result.axes
    return {
        "passed": bool(axes and axes.pass_rate.passed),
        "failure": result.failure.failure_class.value,
        "cold_start_s": cold,
        "agent_s": (axes.latency.container_active_ms / 1000) if axes else None,
        "cell_s": result.timing.duration_s,
        "calls": len(result.model_calls),
        "tokens": axes.tokens.total_tokens if axes else None,
    }


def median(rows: list[dict[str, Any]], key: str) -> float | None:
    values = [r[key] for r in rows if r[key] is not None]
    return statistics.median(values) if values else None


def fmt(value: float | None, spec: str = "{:.1f}") -> str:
    return "-" if value is None else spec.format(value)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--tuis", default=",".join(sorted(n for n in ADAPTERS if n != "reference")))
    parser.add_argument("--task", default="polyglot/python-semver-sort")
    parser.add_argument("--runs", type=int, default=1)
    parser.add_argument("--json", type=Path, default=None)
    args = parser.parse_args(argv)
    tuis = ["reference", *[t for t in args.tuis.split(",") if t and t != "reference"]]
    task = TaskCatalog(REPO / "tasks").load(args.task)
    task = task.model_copy(update={"timeouts": Timeouts(agent_s=300, test_s=180, setup_s=60)})
    settings = Settings(home=Path(tempfile.mkdtemp(prefix="cab-bench-")), tasks_dir=REPO / "tasks")
    results: dict[str, list[dict[str, Any]]] = {}
    with LocalHost(settings, progress=lambda m: None) as host:
        assert host.ctx is not None
        for tui in tuis:
            host.agent_image(ADAPTERS[tui].image_name)  # build outside the measurement
            rows = []
            for run in range(1, args.runs + 1):
                cell = CellSpec(
                    cell_id=make_cell_id("bench", tui, "scripted/oracle", task.task_id, run),
                    sweep_id="bench",
                    tui=tui,
                    model="scripted/oracle",
                    task=task,
                    run=run,
                )
                rows.append(measure(run_cell(cell, host.ctx)))
            results[tui] = rows
            print(f"{tui}: {rows}", file=sys.stderr, flush=True)
    base = median(results["reference"], "cold_start_s")
    print(f"\nTUI start-up and oracle cell ({args.task}, median of {args.runs})\n")
    heads = ["TUI", "cold start to first call", "x reference", "agent container", "whole cell", "calls"]
    print("| " + " | ".join([*heads, "tokens", "passed"]) + " |")
    print("|---" * (len(heads) + 2) + "|")
    for tui, rows in results.items():
        cold = median(rows, "cold_start_s")
        ratio = cold / base if cold is not None and base else None
        agent = fmt(median(rows, "agent_s"))
        print(
            f"| {tui} | {fmt(cold, '{:.2f}')} s | {fmt(ratio, '{:.1f}')} | {agent} s | "
            f"{fmt(median(rows, 'cell_s'))} s | {fmt(median(rows, 'calls'), '{:.0f}')} | "
            f"{fmt(median(rows, 'tokens'), '{:,.0f}')} | {sum(r['passed'] for r in rows)}/{len(rows)} |"
        )
    if args.json:
        args.json.write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
