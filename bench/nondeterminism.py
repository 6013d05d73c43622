"""Nondeterminism of a real model, side by side: the same cells rerun with each TUI's own sampling and
with temperature 0 and a seed set by cab's proxy, and how many different answers the reruns got.

Run from the repo root (the model image is built when missing, as ``cab run`` does)::

    CAB_CA_BUNDLE=/etc/ssl/certs/ca-certificates.crt .venv/bin/python bench/nondeterminism.py \\
        [--home DIR] [--reruns 3] [--json out.json]

It runs ``examples/real-model-default.yaml`` and ``examples/real-model-t0.yaml`` (the reference agent and
opencode on one task, three reruns each; ``--reruns`` changes that) with ``cab run`` into one
``CAB_HOME`` (a temp dir, or ``--home``: there ``cab run`` resumes and a finished sweep is only read).
For every TUI and task it then reads the store and prints, for each sweep:

- **first prompts**: distinct first prompts among the reruns (the text the model reads: messages or
  input, ids and client metadata left out; codex's requests differ in session ids on every run). One
  means the reruns asked the same thing, so any difference in their first answers is the model's;
- **first answers**: distinct first answers among the reruns whose first answer is whole, compared on
  what the model generated (its text, tool-call names and arguments; ids and timestamps left out). An
  answer cut short by the agent's deadline holds what had come by then and is not compared. One of
  three: the reruns agree; three: every rerun got another answer;
- **all answers**: distinct answer sequences among the reruns whose answers are all whole;
- **sampling sent / set by cab**: what the TUI's first call sent, and what the proxy set on every call.

The ratio line compares the two sweeps: distinct first answers with the TUIs' sampling / with
temperature 0. bench/README.md explains every number. Nothing is asserted.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import subprocess
import sys
import tempfile
from collections import defaultdict
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

import yaml  # noqa: E402
from rich.console import Console  # noqa: E402
from rich.table import Table  # noqa: E402

from cab_core.schema import CellResult, Exchange  # noqa: E402
from cab_core.settings import Settings  # noqa: E402
from cab_core.store import ResultStore  # noqa: E402
from cab_workers.proxy.call import SSE  # noqa: E402
from cab_workers.proxy.usage import Tally, canonical_json  # noqa: E402

SWEEPS = {"default": REPO / "examples/real-model-default.yaml", "t0": REPO / "examples/real-model-t0.yaml"}
console = Console(stderr=True)


def answer_of(exchange: Exchange) -> str:
    """What the model generated in one recorded answer: text, reasoning, tool-call names and arguments."""
    return Tally.of(exchange.response_body, stream=exchange.content_type.startswith(SSE)).generated


PROMPT_KEYS = ("instructions", "system", "messages", "prompt", "input", "tools")
IDS = frozenset({"id", "call_id", "tool_call_id"})


def without_ids(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: without_ids(v) for k, v in value.items() if k not in IDS}
    if isinstance(value, list):
        return [without_ids(v) for v in value]
    return value


def prompt_of(exchange: Exchange) -> str:
    """What the model reads in one request (instructions, messages or input, tools), ids left out."""
    try:
        body = json.loads(exchange.request_body)
    except ValueError:
        return ""
    if not isinstance(body, dict):
        return ""
    return canonical_json({k: without_ids(body[k]) for k in PROMPT_KEYS if k in body})


def digest(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()[:12]


def run_sweep(path: Path, home: Path, reruns: int, workdir: Path) -> str:
    """``cab run`` one example sweep (with ``reruns``) into ``home``; returns its sweep id."""
    spec = yaml.safe_load(path.read_text())
    spec["reruns"] = reruns
    spec["sweep_id"] = f"{spec['sweep_id']}-x{reruns}"
    sweep = workdir / f"{spec['sweep_id']}.yaml"
    sweep.write_text(yaml.safe_dump(spec))
    env = {**os.environ, "CAB_HOME": str(home)}
    cab = str(Path(sys.executable).with_name("cab"))
    subprocess.run([cab, "run", str(sweep)], env=env, check=True)
    return str(spec["sweep_id"])


def cell_view(store: ResultStore, result: CellResult) -> dict[str, Any]:
    """One rerun: its first prompt, its answers, the sampling its first call sent and cab set."""
    exchanges = store.exchanges(result.identity.cell_id, result.identity.attempt)
    whole = {c.seq for c in result.model_calls if c.http_status == 200 and c.error is None}
    # an answer cut short (the agent's deadline) holds what had come by then: not comparable
    answers = [digest(answer_of(ex)) if ex.seq in whole else None for ex in exchanges]
    first_call = result.model_calls[0] if result.model_calls else None
    return {
        "run": result.identity.run,
        "first_prompt": digest(prompt_of(exchanges[0])) if exchanges else None,
        "first_answer": answers[0] if answers else None,
        "answers": answers,
        "sent": first_call.sampling if first_call else {},
        "set": first_call.sampling_forced if first_call else {},
        "passed": result.axes.pass_rate.passed if result.axes is not None else None,
    }


def summarise(store: ResultStore, sweep_id: str) -> dict[tuple[str, str], dict[str, Any]]:
    """(tui, task) -> the reruns' views and how many distinct first prompts, first answers, sequences."""
    groups: dict[tuple[str, str], list[dict[str, Any]]] = defaultdict(list)
    for result in store.latest_by_cell(sweep_id).values():
        groups[(result.identity.tui, result.identity.task_id)].append(cell_view(store, result))
    out = {}
    for key, runs in sorted(groups.items()):
        runs.sort(key=lambda r: r["run"])
        firsts = [r["first_answer"] for r in runs if r["first_answer"] is not None]
        cells = [tuple(r["answers"]) for r in runs if r["answers"] and None not in r["answers"]]
        out[key] = {
            "reruns": len(runs),
            "first_prompts": len({r["first_prompt"] for r in runs}),
            "first_answers": len(set(firsts)),
            "whole_first_answers": len(firsts),
            "all_answers": len(set(cells)),
            "whole_cells": len(cells),
            "runs": runs,
        }
    return out


def show(found: dict[str, dict[tuple[str, str], dict[str, Any]]]) -> None:
    table = Table(title="Distinct answers among a cell's reruns (1 = the reruns agree)")
    for col in ("TUI", "task", "sweep", "reruns", "first prompts", "first answers", "all answers"):
        table.add_column(col, justify="left" if col in ("TUI", "task", "sweep") else "right")
    table.add_column("sampling sent (first call)")
    table.add_column("set by cab")
    for name, groups in found.items():
        for (tui, task), g in groups.items():
            first = g["runs"][0]
            sent = ", ".join(f"{k}={v}" for k, v in sorted(first["sent"].items())) or "-"
            forced = ", ".join(f"{k}={v}" for k, v in sorted(first["set"].items())) or "-"
            row = (
                str(g["reruns"]),
                str(g["first_prompts"]),
                f"{g['first_answers']} of {g['whole_first_answers']} whole",
                f"{g['all_answers']} of {g['whole_cells']} whole",
            )
            table.add_row(tui, task, name, *row, sent, forced)
    Console(width=200).print(table)
    default, t0 = (sum(g["first_answers"] for g in found[n].values()) for n in ("default", "t0"))
    ratio = f"{default / t0:.2f}" if t0 else "n/a"
    Console(width=200).print(
        f"distinct whole first answers, TUIs' sampling / temperature 0: {default} / {t0} = {ratio}"
    )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--home", type=Path, help="CAB_HOME to run in (resumed); a temp dir by default")
    ap.add_argument("--reruns", type=int, default=3)
    ap.add_argument("--json", type=Path, help="write every rerun's view and the summary here")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory(prefix="cab-nondet-") as tmp:
        home = args.home or Path(tmp) / "home"
        ids = {name: run_sweep(path, home, args.reruns, Path(tmp)) for name, path in SWEEPS.items()}
        store = ResultStore(Settings(home=home).resolved_store_url)
        try:
            found = {name: summarise(store, sweep_id) for name, sweep_id in ids.items()}
        finally:
            store.close()
    show(found)
    if args.json:
        flat = {n: {f"{tui} {task}": g for (tui, task), g in groups.items()} for n, groups in found.items()}
        args.json.write_text(json.dumps(flat, indent=2, default=str))
        console.print(f"wrote {args.json}")


if __name__ == "__main__":
    main()
