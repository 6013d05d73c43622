"""`cab tasks mutate`: generate mutation tasks from a task with a reference solution.

The command parses and hands off: the engine (``cab_scheduler.mutation``) finds and orders the
mutants, ``cab_workers.taskci.mutantcheck`` grades them in the scorer image, and
``cab_workers.taskci.mutanttasks`` writes the killed ones. Languages other than Python need the
tree-sitter grammar wheels: ``pip install 'cab[mutate]'``.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from cab_cli.common import console, fail, load_settings, wide_console
from cab_core.errors import CabError

if TYPE_CHECKING:
    from cab_core.paths import TaskPaths
    from cab_core.schema import TaskSpec
    from cab_core.settings import Settings
    from cab_scheduler.mutation import Generation
    from cab_workers.taskci.mutantcheck import MutantVerdict
    from cab_workers.taskci.mutanttasks import Written

_OPERATORS_HELP = (
    "Operators (repeatable or comma-separated): negate-condition, off-by-one, swap-operands, "
    "flip-comparison, drop-error-branch, wrong-constant. Default: all."
)


def mutate(
    source: Annotated[str, typer.Argument(help="The source task (category/slug); it needs a solution.")],
    operators: Annotated[list[str] | None, typer.Option("--operators", help=_OPERATORS_HELP)] = None,
    count: Annotated[int, typer.Option("--count", min=1, help="Killed mutants to write as tasks.")] = 3,
    seed: Annotated[int, typer.Option("--seed", help="Seed of the mutants' order.")] = 0,
    out: Annotated[
        Path | None, typer.Option("--out", help="Folder of the generated tasks (default: <tasks>/mutations).")
    ] = None,
    max_checks: Annotated[
        int | None, typer.Option("--max-checks", min=1, help="Mutants to grade at most (default: 5 x count).")
    ] = None,
    per_operator: Annotated[
        int | None,
        typer.Option("--per-operator", min=1, help="Killed mutants to keep per operator at most (variety)."),
    ] = None,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="List the ordered mutants; grade and write nothing.")
    ] = False,
) -> None:
    """Mutate a task's reference solution with classic operators, keep the mutants its hidden tests
    kill, and write each as a task folder (the mutant as work dir, the original as solution)."""
    try:
        from cab_scheduler.mutation import OPERATORS, generate
    except ImportError as e:  # the tree-sitter wheels are an optional extra
        fail(f"the mutation generator needs its grammars: pip install 'cab[mutate]' ({e})")
    chosen = [o.strip() for item in operators or [] for o in item.split(",") if o.strip()] or list(OPERATORS)
    settings = load_settings()
    try:
        from cab_scheduler.catalog import TaskCatalog
        from cab_workers.taskci.mutantcheck import mutable_sources

        catalog = TaskCatalog(settings.tasks_dir)
        spec, paths = catalog.load(source), catalog.paths(source)
        files = mutable_sources(spec, paths, settings.cab_home.ensure())
        if not files:
            fail(f"{source}: its solution changes no source file the generator can parse")
        generation = generate(files, task_language=spec.language, operators=chosen, seed=seed)
    except CabError as e:
        fail(e)
    except ValueError as e:  # an unknown operator
        fail(str(e))
    if dry_run:
        _candidates(generation)
        return
    target = out or settings.tasks_dir / "mutations"
    limits = _Limits(count, max_checks or 5 * count, per_operator)
    verdicts, written = _grade_and_write(settings, spec, paths, generation, limits, seed, target)
    _summary(generation, verdicts, written)
    if not written:
        fail(f"no mutant of {source} was killed by its hidden tests", code=1)


@dataclass(frozen=True)
class _Limits:
    count: int
    """Killed mutants wanted."""
    max_checks: int
    """Mutants graded at most."""
    per_operator: int | None
    """Killed mutants kept per operator at most."""


def _grade_and_write(
    settings: Settings,
    spec: TaskSpec,
    paths: TaskPaths,
    generation: Generation,
    limits: _Limits,
    seed: int,
    out: Path,
) -> tuple[list[MutantVerdict], list[Written]]:
    """Obtain the scorer image, grade the mutants under a progress bar, write the killed ones."""
    from cab_workers.composition import host_image_builder
    from cab_workers.host.sandbox import Sandbox
    from cab_workers.taskci.mutantcheck import check_mutants
    from cab_workers.taskci.mutanttasks import write_killed

    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
    try:
        sandbox = Sandbox()
        builder = host_image_builder(settings, sandbox)
        with console.status(f"scorer image for {spec.task_id}") as status:
            task_image = builder.ensure_task_image(paths, status.update)
            image = task_image.tag if task_image else builder.ensure(["base"], status.update)[-1].tag
        with Progress(*columns, console=console) as progress:
            bar = progress.add_task(
                f"grading mutants of {spec.task_id}", total=min(limits.max_checks, len(generation.mutants))
            )

            def seen(v: MutantVerdict) -> None:
                label = f"m{v.mutant.rank:02d} {v.mutant.operator}: {v.outcome}"
                progress.update(bar, advance=1, description=label)

            verdicts = check_mutants(
                spec,
                paths,
                generation.mutants,
                sandbox,
                image,
                settings.cab_home.ensure(),
                want=limits.count,
                max_checks=limits.max_checks,
                per_operator=limits.per_operator,
                on_verdict=seen,
            )
        return verdicts, write_killed(out, spec, paths, verdicts, seed=seed)
    except CabError as e:
        fail(e)


def _candidates(generation: Generation) -> None:
    table = Table("rank", "operator", "file", "line", title="mutants in order (nothing graded)")
    for m in generation.mutants:
        table.add_row(str(m.rank), m.operator, m.path, str(m.site.line))
    console.print(table)
    console.print(
        f"{generation.candidates} candidates, {generation.equivalent} equivalent and "
        f"{generation.invalid} unparsable dropped, {len(generation.mutants)} left"
    )


def _summary(generation: Generation, verdicts: list[MutantVerdict], written: list[Written]) -> None:
    outcomes = [v.outcome for v in verdicts]
    summary = Table(
        "candidates", "equivalent dropped", "unparsable", "graded", "survived", "broken", "killed", "written"
    )
    summary.add_row(
        str(generation.candidates),
        str(generation.equivalent),
        str(generation.invalid),
        str(len(verdicts)),
        str(outcomes.count("survived")),
        str(outcomes.count("broken")),
        str(outcomes.count("killed")),
        str(len(written)),
    )
    out = wide_console()
    out.print(summary)
    rows = Table("task", "language", "operator", "mutated file", "verdict detail")
    by_rank = {v.mutant.rank: v for v in verdicts}
    for w in written:
        rows.add_row(f"mutations/{w.slug}", w.language, w.operator, w.path, by_rank[w.rank].detail)
    if written:
        out.print(rows)
