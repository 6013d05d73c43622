"""The seed pages' "other CLIs on this task", "other models with this CLI" and "other tasks in this
category" links, and the same cell's other reruns, computed once for the whole build.

Links carry no outcome: a page then depends only on which cells exist, so a cell that lands or is
rerun rewrites its own page, not the pages of every neighbour (the leaderboard and task pages show
outcomes side by side)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence

from cab_core.aggregate import CellFacts
from cab_site.pages.cell import Sibling

MAX_LINKS = 24
"""Per section: a 10,000-cell sweep would otherwise list hundreds of tasks on every page."""


def _sibling(f: CellFacts, label: str) -> Sibling:
    return Sibling(label=label, cell_id=f.cell_id)


class Neighbours:
    """Index of a build's cells by what they share; ``of(cell_id)`` gives one cell's link sections."""

    def __init__(self, fs: Sequence[CellFacts]) -> None:
        self.by_id = {f.cell_id: f for f in fs}
        self.by_task: dict[tuple[str, str, int], list[CellFacts]] = defaultdict(list)
        self.by_pair: dict[tuple[str, str, str, int], list[CellFacts]] = defaultdict(list)
        self.by_category: dict[tuple[str, str, str, str, int], list[CellFacts]] = defaultdict(list)
        self.by_cell: dict[tuple[str, str, str, str], list[CellFacts]] = defaultdict(list)
        for f in sorted(fs, key=lambda f: f.cell_id):
            self.by_task[(f.sweep_id, f.task_id, f.run)].append(f)
            self.by_pair[(f.sweep_id, f.tui, f.task_id, f.run)].append(f)
            self.by_category[(f.sweep_id, f.tui, f.model, f.category, f.run)].append(f)
            self.by_cell[(f.sweep_id, f.tui, f.model, f.task_id)].append(f)

    def of(self, cell_id: str) -> dict[str, list[Sibling]]:
        f = self.by_id[cell_id]
        reruns = [o for o in self.by_cell[(f.sweep_id, f.tui, f.model, f.task_id)] if o.cell_id != cell_id]
        clis = [
            o for o in self.by_task[(f.sweep_id, f.task_id, f.run)] if o.tui != f.tui and o.model == f.model
        ]
        models = [o for o in self.by_pair[(f.sweep_id, f.tui, f.task_id, f.run)] if o.model != f.model]
        tasks = [
            o
            for o in self.by_category[(f.sweep_id, f.tui, f.model, f.category, f.run)]
            if o.task_id != f.task_id
        ]
        return {
            "Other runs of this cell": [
                _sibling(o, f"run {o.run}") for o in sorted(reruns, key=lambda o: o.run)
            ],
            "Other CLIs on this task": [_sibling(o, o.tui) for o in clis[:MAX_LINKS]],
            "Other models with this CLI": [_sibling(o, o.model) for o in models[:MAX_LINKS]],
            "Other tasks in this category": [_sibling(o, o.task_id) for o in tasks[:MAX_LINKS]],
        }
