"""Groups of cells against numbers worked out by hand (the arithmetic is in the comments)."""

from __future__ import annotations

import pytest

from cab_core.aggregate import CellFacts, GroupStats, Interval, aggregate
from cab_core.errors import CabError

pytestmark = pytest.mark.unit


def cell(
    task: str,
    run: int,
    *,
    passed: bool = False,
    composite: float = 0.0,
    infra: bool = False,
    tokens: int | None = None,
    cost: float | None = None,
    wall_ms: float = 1000.0,
    tui: str = "aider",
    model: str = "m/one",
    sweep: str = "s1",
) -> CellFacts:
    return CellFacts(
        cell_id=f"{sweep}/{tui}/{model}/{task}#run{run}",
        sweep_id=sweep,
        tui=tui,
        model=model,
        task_id=task,
        category=task.split("/")[0],
        run=run,
        attempt=1,
        failure_class="infra" if infra else "none",
        infra=infra,
        passed=passed,
        composite=None if infra else composite,
        total_tokens=tokens,
        cost_usd=cost,
        wall_ms=wall_ms,
        task_hash="",
    )


MIXED = [
    # t/x: pass, pass, fail -> n=3, c=2, mean composite (1 + 1 + .4)/3 = .8
    cell("t/x", 1, passed=True, composite=1.0, tokens=100, cost=0.01, wall_ms=1000),
    cell("t/x", 2, passed=True, composite=1.0, tokens=200, cost=0.02, wall_ms=2000),
    cell("t/x", 3, composite=0.4, wall_ms=3000),
    # t/y: three fails (they agree) and an infra cell -> n=3, c=0, composite .2
    cell("t/y", 1, composite=0.2, tokens=300, wall_ms=4000),
    cell("t/y", 2, composite=0.2, tokens=300, wall_ms=5000),
    cell("t/y", 3, composite=0.2, tokens=300, wall_ms=6000),
    cell("t/y", 4, infra=True, tokens=1000, cost=9.0, wall_ms=99999),
    # u/z: two passes (they agree) and an infra cell -> n=2, c=2, composite .9
    cell("u/z", 1, passed=True, composite=0.9, cost=0.03, wall_ms=7000),
    cell("u/z", 2, passed=True, composite=0.9, wall_ms=8000),
    cell("u/z", 3, infra=True, wall_ms=99999),
]


def test_a_mixed_group() -> None:
    (got,) = aggregate(MIXED, ("tui", "model"))
    assert (got.by, got.key, got.labels) == (
        ("tui", "model"),
        ("aider", "m/one"),
        {"tui": "aider", "model": "m/one"},
    )
    # 10 cells, 2 lost to infra: 8 graded, 4 of them passed
    assert (got.cells, got.graded, got.infra, got.passed) == (10, 8, 2, 4)
    assert got.infra_rate == pytest.approx(0.2)
    assert got.pass_rate == pytest.approx(0.5)
    assert got.pass_ci is not None  # Wilson 4 of 8
    assert (round(got.pass_ci.low, 4), round(got.pass_ci.high, 4)) == (0.2152, 0.7848)
    # tasks .8, .2, .9 -> 1.9 / 3
    assert got.composite_mean == pytest.approx(1.9 / 3)
    assert got.composite_ci is not None
    assert 0.2 <= got.composite_ci.low < 1.9 / 3 < got.composite_ci.high <= 0.9
    # k = fewest graded reruns = 2 (u/z)
    assert (got.tasks, got.k) == (3, 2)
    # pass@1 = mean(2/3, 0, 1) = 5/9; pass@2 = mean(1 - C(1,2)/C(3,2), 1 - C(3,2)/C(3,2), 1) = mean(1, 0, 1)
    assert got.pass_at_k == pytest.approx({1: 5 / 9, 2: 2 / 3})
    # pass^1 = 5/9; pass^2 = mean(C(2,2)/C(3,2), 0, C(2,2)/C(2,2)) = mean(1/3, 0, 1) = 4/9
    assert got.pass_hat_k == pytest.approx({1: 5 / 9, 2: 4 / 9})
    # every task has two or more graded reruns; t/y and u/z agree, t/x does not
    assert (got.agreement, got.agreement_tasks) == (pytest.approx(2 / 3), 3)
    # graded tokens 100 + 200 + 3 * 300 = 1200 over 5 known cells; the infra cell's 1000 is left out
    assert (got.tokens_known, got.mean_tokens, got.tokens_per_solved) == (5, 240.0, 300.0)
    # graded cost .01 + .02 + .03 over 3 known cells, 4 solved; the infra cell's 9.0 is left out
    assert got.cost_known == 3
    assert (got.mean_cost_usd, got.cost_per_solved) == (pytest.approx(0.02), pytest.approx(0.015))
    # median of the 8 graded walls 1000..8000
    assert got.wall_median_ms == 4500.0


def test_a_group_lost_to_infra_has_no_rates() -> None:
    (got,) = aggregate([cell("t/x", 1, infra=True, tokens=50), cell("t/x", 2, infra=True)], ("tui",))
    assert got == GroupStats(
        by=("tui",),
        key=("aider",),
        cells=2,
        graded=0,
        infra=2,
        infra_rate=1.0,
        passed=0,
        pass_rate=None,
        pass_ci=None,
        composite_mean=None,
        composite_ci=None,
        tasks=0,
        k=0,
        pass_at_k={},
        pass_hat_k={},
        agreement=None,
        agreement_tasks=0,
        tokens_known=0,
        mean_tokens=None,
        tokens_per_solved=None,
        cost_known=0,
        mean_cost_usd=None,
        cost_per_solved=None,
        wall_median_ms=None,
    )


def test_unknown_tokens_are_never_zero() -> None:
    (got,) = aggregate([cell("t/x", 1, passed=True, composite=1.0), cell("t/y", 1)], ("model",))
    assert (got.tokens_known, got.mean_tokens, got.tokens_per_solved) == (0, None, None)
    assert (got.cost_known, got.mean_cost_usd, got.cost_per_solved) == (0, None, None)
    assert got.pass_rate == 0.5


def test_nothing_solved_has_no_per_solved_cost_but_a_mean() -> None:
    (got,) = aggregate([cell("t/x", 1, tokens=10, cost=0.5), cell("t/x", 2, tokens=30)], ("tui",))
    assert (got.mean_tokens, got.tokens_per_solved) == (20.0, None)
    assert (got.mean_cost_usd, got.cost_per_solved) == (0.5, None)
    assert got.pass_ci is not None and got.pass_ci.low == 0.0  # Wilson 0 of 2 starts at 0
    assert got.pass_at_k == {1: 0.0, 2: 0.0} and got.agreement == 1.0


def test_one_task_gives_a_degenerate_composite_interval_and_no_agreement() -> None:
    (got,) = aggregate([cell("t/x", 1, passed=True, composite=0.7)], ("task",))
    assert got.key == ("t/x",)
    assert (got.composite_mean, got.composite_ci) == (0.7, Interval(0.7, 0.7))
    assert (got.k, got.pass_at_k, got.pass_hat_k) == (1, {1: 1.0}, {1: 1.0})
    assert (got.agreement, got.agreement_tasks) == (None, 0)


def test_composite_interval_is_seeded_and_ignores_input_order() -> None:
    # with 3 tasks the 2.5 % and 97.5 % quantiles are the extremes for any seed (each has a 1/27 chance
    # per resample); eight tasks leave room for the seed to show
    many = [cell(f"t/{i}", run, composite=(i * i % 7) / 7) for i in range(8) for run in (1, 2)]
    first = aggregate(many, ("tui",), seed=3)[0].composite_ci
    assert aggregate(list(reversed(many)), ("tui",), seed=3)[0].composite_ci == first
    assert aggregate(many, ("tui",), seed=4)[0].composite_ci != first


GROUPINGS = {
    # by: [(key, cells, passed)]
    "tui,model": (
        ("tui", "model"),
        [(("aider", "m/one"), 3, 1), (("aider", "m/two"), 1, 1), (("codex", "m/one"), 2, 0)],
    ),
    "category": (("category",), [(("t",), 4, 2), (("u",), 2, 0)]),
    "task": (("task",), [(("t/x",), 3, 2), (("t/y",), 1, 0), (("u/z",), 2, 0)]),
    "sweep,tui": (
        ("sweep", "tui"),
        [(("s1", "aider"), 3, 1), (("s1", "codex"), 2, 0), (("s2", "aider"), 1, 1)],
    ),
    "everything": ((), [((), 6, 2)]),
}
SPREAD = [
    cell("t/x", 1, passed=True),
    cell("t/x", 2),
    cell("t/x", 1, passed=True, model="m/two", sweep="s2"),
    cell("u/z", 1),
    cell("u/z", 1, tui="codex"),
    cell("t/y", 1, tui="codex"),
]


@pytest.mark.parametrize("case", sorted(GROUPINGS))
def test_grouping_keys_are_sorted(case: str) -> None:
    by, want = GROUPINGS[case]
    got = aggregate(SPREAD, by)
    assert [(g.key, g.cells, g.passed) for g in got] == want
    assert all(g.by == by for g in got)


@pytest.mark.parametrize(
    ("by", "needle"),
    [
        (
            ("tui", "colour"),
            "unknown group field 'colour'; group by any of tui, model, task, category, sweep",
        ),
        (("task_id",), "unknown group field 'task_id'"),
        (("tui", "tui"), "group field 'tui' given twice"),
    ],
)
def test_bad_grouping_is_one_actionable_line(by: tuple[str, ...], needle: str) -> None:
    with pytest.raises(CabError) as caught:
        aggregate(SPREAD, by)
    assert needle in str(caught.value) and "\n" not in str(caught.value)


def test_no_cells_no_groups() -> None:
    assert aggregate([], ("tui", "model")) == []


def test_ten_thousand_cells_aggregate_in_seconds() -> None:
    """The site aggregates whole sweeps on every build: the bootstrap runs over tasks, not cells."""
    import time

    sweep = [
        cell(
            f"c{task % 7}/t{task}",
            run,
            tui=f"tui{tui}",
            model=f"m/{model}",
            passed=(task + run) % 3 == 0,
            composite=(task * 7 + run) % 10 / 10,
        )
        for tui in range(5)
        for model in range(4)
        for task in range(100)
        for run in range(1, 6)
    ]
    assert len(sweep) == 10_000
    started = time.perf_counter()
    pairs = aggregate(sweep, ("tui", "model"))
    categories = aggregate(sweep, ("tui", "model", "category"))
    assert time.perf_counter() - started < 5.0  # about 1 s here; O(resamples x cells) would take minutes
    assert (len(pairs), len(categories)) == (20, 140)
    assert all(g.k == 5 and g.tasks == 100 for g in pairs)
    assert all(g.composite_ci is not None and g.composite_ci.low < g.composite_ci.high for g in pairs)
