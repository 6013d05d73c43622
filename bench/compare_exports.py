"""Do two runs of a sweep score the same? Compares two ``cab export`` files cell by cell.

Run from the repo root::

    .venv/bin/cab export demo -o before.jsonl      # CAB_HOME of the first run
    .venv/bin/cab export demo -o after.jsonl       # CAB_HOME of the second run
    .venv/bin/python bench/compare_exports.py before.jsonl after.jsonl

Every field of a cell's axes and failure is compared, and the number of its model calls, except
what a rerun cannot repeat: clocks and durations, the latency axis and what is derived from it (the
composite), ids, digests, hosts and output tails. With scripted models every remaining field is
deterministic, so a refactor that changes none of cab's behaviour prints "0 differ". Exit 1 when a
cell differs or is missing from one side.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

NOT_REPEATABLE = frozenset(
    {
        "latency",
        "composite",
        "wall_clock_ms",
        "latency_efficiency",
        "started_at",
        "ended_at",
        "duration_ms",
        "ttft_ms",
        "trace_id",
        "stdout_tail",
        "stderr_tail",
        "agent_output_tail",
        "note",
    }
)


def repeatable(value: Any) -> Any:
    """``value`` without the keys a rerun cannot repeat, at any depth."""
    if isinstance(value, dict):
        return {k: repeatable(v) for k, v in value.items() if k not in NOT_REPEATABLE}
    if isinstance(value, list):
        return [repeatable(v) for v in value]
    return value


def load(path: Path) -> dict[str, dict[str, Any]]:
    cells: dict[str, dict[str, Any]] = {}
    for line in path.read_text().splitlines():
        record = json.loads(line)
        cells[record["identity"]["cell_id"]] = {
            "axes": repeatable(record.get("axes")),
            "failure": repeatable(record["failure"]),
            "model calls": len(record.get("model_calls") or []),
        }
    return cells


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("before", type=Path)
    ap.add_argument("after", type=Path)
    args = ap.parse_args()
    before, after = load(args.before), load(args.after)
    differ = sorted(k for k in before.keys() | after.keys() if before.get(k) != after.get(k))
    print(f"{len(before)} cells vs {len(after)} cells; {len(differ)} differ on repeatable fields")
    for cell_id in differ:
        print(cell_id)
        a, b = before.get(cell_id) or {}, after.get(cell_id) or {}
        for part in ("axes", "failure", "model calls"):
            if a.get(part) != b.get(part):
                print(f"  {part}:")
                print(f"    before {json.dumps(a.get(part))[:600]}")
                print(f"    after  {json.dumps(b.get(part))[:600]}")
    return 1 if differ else 0


if __name__ == "__main__":
    sys.exit(main())
