"""Cells grouped (per TUI x model, per task, per category ...) into the numbers a leaderboard shows.

Why one function for every view: the terminal table, the CSV export and the web leaderboard must print
the same pass rate for the same cells. Rules every group follows:

- only graded cells count in a rate: a cell lost to infra is counted apart (``infra``), never silently
  as a failure;
- the pass rate's interval is Wilson over graded cells; the composite is first averaged over each
  task's reruns, then bootstrapped over tasks (seeded), since tasks, not reruns, are the sample;
- pass@k and pass^k are per-task estimators averaged over tasks, with k no larger than the fewest graded
  reruns any task of the group has;
- unknown tokens or cost are left out of sums and means (``tokens_known`` says how many were known),
  never read as 0.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field

from cab_core.aggregate.facts import CellFacts
from cab_core.aggregate.stats import Interval, bootstrap_mean, median, pass_at_k, pass_hat_k, wilson
from cab_core.errors import ConfigError

GROUP_FIELDS: dict[str, Callable[[CellFacts], str]] = {
    "tui": lambda f: f.tui,
    "model": lambda f: f.model,
    "task": lambda f: f.task_id,
    "category": lambda f: f.category,
    "sweep": lambda f: f.sweep_id,
}
"""What cells can be grouped by, and the fact each name reads."""


@dataclass(frozen=True)
class GroupStats:
    """The aggregate of one group of cells (each cell's latest attempt)."""

    by: tuple[str, ...]
    """The grouping fields, e.g. ``("tui", "model")``."""
    key: tuple[str, ...]
    """This group's value of each field in ``by``, e.g. ``("aider", "openai/gpt-4o")``."""
    cells: int
    """Cells in the group, infra included."""
    graded: int
    """Cells not lost to infra: the denominator of every rate below."""
    infra: int
    """Cells lost to infra failures, counted apart."""
    infra_rate: float
    """infra / cells."""
    passed: int
    """Graded cells whose hidden tests passed."""
    pass_rate: float | None
    """passed / graded; None when nothing was graded."""
    pass_ci: Interval | None
    """95 % Wilson interval of ``pass_rate`` over graded cells."""
    composite_mean: float | None
    """Mean over tasks of each task's mean composite over its graded reruns."""
    composite_ci: Interval | None
    """95 % percentile bootstrap interval of ``composite_mean``, resampling tasks (seeded)."""
    tasks: int
    """Distinct tasks with at least one graded cell."""
    k: int
    """The fewest graded reruns any of those tasks has: the largest k pass@k is given for (0: no tasks)."""
    pass_at_k: dict[int, float]
    """k -> mean over tasks of the unbiased pass@k (at least one of k reruns passes), k in 1..``k``."""
    pass_hat_k: dict[int, float]
    """k -> mean over tasks of pass^k (all k reruns pass), k in 1..``k``."""
    agreement: float | None
    """Share of tasks with two or more graded reruns whose reruns all agree on pass ("stays"); None when
    no task has two."""
    agreement_tasks: int
    """Tasks with two or more graded reruns: the denominator of ``agreement``."""
    tokens_known: int
    """Graded cells whose tokens were recorded."""
    mean_tokens: float | None
    """Mean total tokens over those cells; None when none were recorded."""
    tokens_per_solved: float | None
    """Recorded tokens summed over graded cells / passed; None when nothing passed or none recorded."""
    cost_known: int
    """Graded cells whose cost is known."""
    mean_cost_usd: float | None
    """Mean cost over those cells; None when none is known."""
    cost_per_solved: float | None
    """Known cost summed over graded cells / passed; None when nothing passed or no cost is known."""
    wall_median_ms: float | None
    """Median wall clock over graded cells; None when nothing was graded."""

    @property
    def labels(self) -> dict[str, str]:
        """``by`` and ``key`` as a mapping, e.g. ``{"tui": "aider", "model": "openai/gpt-4o"}``."""
        return dict(zip(self.by, self.key, strict=True))


@dataclass
class _Task:
    """One task's graded reruns within a group."""

    runs: int = 0
    passes: int = 0
    composite_sum: float = 0.0


@dataclass(frozen=True)
class _Reruns:
    """The per-task part of a group's statistics."""

    tasks: int
    k: int
    pass_at_k: dict[int, float] = field(default_factory=dict)
    pass_hat_k: dict[int, float] = field(default_factory=dict)
    agreement: float | None = None
    agreement_tasks: int = 0
    composite_mean: float | None = None
    composite_ci: Interval | None = None


def check_by(by: Sequence[str]) -> tuple[str, ...]:
    """``by`` as a tuple, or a ``ConfigError`` naming the first unknown or repeated field."""
    seen: list[str] = []
    for name in by:
        if name not in GROUP_FIELDS:
            raise ConfigError(
                f"unknown group field {name!r}; group by any of {', '.join(GROUP_FIELDS)} (e.g. tui,model)"
            )
        if name in seen:
            raise ConfigError(f"group field {name!r} given twice; name each field once (e.g. tui,model)")
        seen.append(name)
    return tuple(seen)


def aggregate(facts: Iterable[CellFacts], by: Sequence[str], *, seed: int = 0) -> list[GroupStats]:
    """One ``GroupStats`` per distinct value of the ``by`` fields, sorted by key; ``by=()`` gives one
    group of every cell. ``facts`` should hold one entry per cell (its latest attempt)."""
    fields = check_by(by)
    readers = [GROUP_FIELDS[name] for name in fields]
    groups: dict[tuple[str, ...], list[CellFacts]] = {}
    for f in facts:
        groups.setdefault(tuple(read(f) for read in readers), []).append(f)
    return [_group(fields, key, members, seed) for key, members in sorted(groups.items())]


def _group(by: tuple[str, ...], key: tuple[str, ...], members: list[CellFacts], seed: int) -> GroupStats:
    graded = [f for f in members if not f.infra]
    infra = len(members) - len(graded)
    passed = sum(1 for f in graded if f.passed)
    reruns = _reruns(graded, seed)
    tokens = [f.total_tokens for f in graded if f.total_tokens is not None]
    costs = [f.cost_usd for f in graded if f.cost_usd is not None]
    return GroupStats(
        by=by,
        key=key,
        cells=len(members),
        graded=len(graded),
        infra=infra,
        infra_rate=infra / len(members),
        passed=passed,
        pass_rate=passed / len(graded) if graded else None,
        pass_ci=wilson(passed, len(graded)),
        composite_mean=reruns.composite_mean,
        composite_ci=reruns.composite_ci,
        tasks=reruns.tasks,
        k=reruns.k,
        pass_at_k=reruns.pass_at_k,
        pass_hat_k=reruns.pass_hat_k,
        agreement=reruns.agreement,
        agreement_tasks=reruns.agreement_tasks,
        tokens_known=len(tokens),
        mean_tokens=sum(tokens) / len(tokens) if tokens else None,
        tokens_per_solved=sum(tokens) / passed if tokens and passed else None,
        cost_known=len(costs),
        mean_cost_usd=sum(costs) / len(costs) if costs else None,
        cost_per_solved=sum(costs) / passed if costs and passed else None,
        wall_median_ms=median([f.wall_ms for f in graded]),
    )


def _reruns(graded: list[CellFacts], seed: int) -> _Reruns:
    """pass@k, pass^k, agreement and the composite over tasks, from each task's graded reruns."""
    per_task: dict[str, _Task] = {}
    for f in graded:
        task = per_task.setdefault(f.task_id, _Task())
        task.runs += 1
        task.passes += f.passed
        task.composite_sum += f.composite if f.composite is not None else 0.0
    if not per_task:
        return _Reruns(tasks=0, k=0)
    tallies = [per_task[task_id] for task_id in sorted(per_task)]  # input order must not move the interval
    k = min(t.runs for t in tallies)
    repeated = [t for t in tallies if t.runs >= 2]
    stays = sum(1 for t in repeated if t.passes in (0, t.runs))
    composites = [t.composite_sum / t.runs for t in tallies]
    return _Reruns(
        tasks=len(tallies),
        k=k,
        pass_at_k={j: _mean([pass_at_k(t.runs, t.passes, j) for t in tallies]) for j in range(1, k + 1)},
        pass_hat_k={j: _mean([pass_hat_k(t.runs, t.passes, j) for t in tallies]) for j in range(1, k + 1)},
        agreement=stays / len(repeated) if repeated else None,
        agreement_tasks=len(repeated),
        composite_mean=_mean(composites),
        composite_ci=bootstrap_mean(composites, seed=seed),
    )


def _mean(values: list[float]) -> float:
    return sum(values) / len(values)
