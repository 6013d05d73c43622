"""Writing the killed mutants of ``mutantcheck`` as task folders::

    <out>/<source-slug>-m<NN>-<operator>/
    ├── task.yaml       taskgen.render_spec (category mutations, generated_by)
    ├── workdir/        source workdir + solution, then the mutation
    ├── solution/       the original of the mutated file
    ├── hidden_tests/   the source's
    └── environment/    the source's, when it has one

Everything written is a function of the source folder, the mutant and the failing tests, so the same
seed writes the same bytes; an existing folder of the same slug is replaced.
"""

from __future__ import annotations

import shutil
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from cab_core.errors import TaskError
from cab_core.paths import TaskPaths
from cab_core.schema import TaskSpec
from cab_core.task_bundle import content_hash
from cab_scheduler.catalog import materialise
from cab_scheduler.mutation import Mutant, bug_report, mutant_spec, render_spec
from cab_workers.taskci.mutantcheck import MutantVerdict

__all__ = ["Written", "write_killed", "write_task"]


@dataclass(frozen=True)
class Written:
    """One generated task folder."""

    slug: str
    rank: int
    language: str
    operator: str
    path: str
    """The mutated file."""
    folder: Path


def write_killed(
    out: Path, source: TaskSpec, paths: TaskPaths, verdicts: Sequence[MutantVerdict], *, seed: int
) -> list[Written]:
    """A task folder under ``out`` for each killed mutant of ``verdicts``."""
    source_hash = content_hash(paths.root)
    written = []
    for verdict in verdicts:
        if verdict.outcome != "killed":
            continue
        mutant = verdict.mutant
        prompt = bug_report(
            verdict.failing,
            test_command=source.test_command,
            protected_paths=source.protected_paths,
            mutated_path=mutant.path,
            mutated_line=mutant.mutated_line,
        )
        spec = mutant_spec(source, mutant, prompt=prompt, source_hash=source_hash, seed=seed)
        folder = write_task(out, paths, spec, mutant, render_spec(spec))
        written.append(Written(spec.slug, mutant.rank, mutant.language, mutant.operator, mutant.path, folder))
    return written


def write_task(out: Path, source: TaskPaths, spec: TaskSpec, mutant: Mutant, yaml_text: str) -> Path:
    """Write one generated task folder (replacing an earlier one of the same slug); its path."""
    folder = Path(out) / spec.slug
    if folder.exists():
        shutil.rmtree(folder)
    folder.mkdir(parents=True)
    work = materialise(source, folder / "workdir", with_solution=True, with_hidden_tests=False)
    if (work / mutant.path).read_bytes() != mutant.original:
        raise TaskError(f"{source.root}: {mutant.path} changed since the mutants were generated")
    (work / mutant.path).write_bytes(mutant.mutated)
    solution = folder / "solution" / mutant.path
    solution.parent.mkdir(parents=True)
    solution.write_bytes(mutant.original)
    shutil.copytree(source.hidden_tests, folder / "hidden_tests", symlinks=True)
    if source.environment.is_dir():
        shutil.copytree(source.environment, folder / "environment", symlinks=True)
    (folder / "task.yaml").write_text(yaml_text, encoding="utf-8")
    return folder
