"""The page of one task: its prompt, language, category and validation state (from the catalogue of
the host that builds the site, when it has the task), and its results across TUIs and models."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from cab_core.aggregate import CellFacts, aggregate
from cab_site import paths
from cab_site.model import TaskInfo
from cab_site.pages.leaderboard import row


def task_context(
    task_id: str, info: TaskInfo | None, facts: Sequence[CellFacts], *, seed: int = 0
) -> dict[str, Any]:
    """The task's facts across every (TUI, model) pair that ran it; ``facts`` are this task's only."""
    rows = []
    for s in aggregate(facts, ("tui", "model"), seed=seed):
        tui, model = s.key
        cells = sorted(
            (f for f in facts if (f.tui, f.model) == (tui, model)), key=lambda f: (f.run, f.cell_id)
        )
        rows.append(
            {
                **row(s, tui, model),
                "cells": [
                    {"run": f.run, "path": paths.cell_page(f.cell_id), "passed": f.passed, "infra": f.infra}
                    for f in cells
                ],
            }
        )
    hashes = sorted({f.task_hash for f in facts if f.task_hash})
    return {
        "task_id": task_id,
        "category": task_id.split("/", 1)[0],
        "info": info,
        "rows": rows,
        "versions": [h[:12] for h in hashes],
    }
