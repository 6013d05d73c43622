"""The task catalog: every ``tasks/<category>/<slug>/`` folder as a validated ``TaskSpec``.

The folder layout is drawn in ``cab_core.paths.TaskPaths``. A task id is ``category/slug`` and
must match the folder names. Selectors, as written in sweeps and on the command line:

    polyglot/rust-lifetime-fix   one task
    polyglot/*                   every task of a category
    *                            every task

``materialise`` and ``changed_paths`` rebuild a task's work dir (optionally with the reference
solution and the hidden tests laid over it) and compare two trees; ``cab tasks validate`` uses them
to check that the solution changes exactly ``expected_changes``. Every error is a ``TaskError``
whose message is one actionable line.
"""

from __future__ import annotations

import difflib
import filecmp
import os
import shutil
from pathlib import Path, PurePosixPath

import yaml
from pydantic import ValidationError

from cab_core.errors import TaskError
from cab_core.paths import SOLUTION_DELETE_LIST, TaskPaths
from cab_core.schema import TaskSpec

__all__ = ["TaskCatalog", "changed_paths", "deleted_paths", "layout_problems", "materialise"]

_SPEC_NAME = "task.yaml"


def _one_line(text: object) -> str:
    return " ".join(str(text).split())


def _suggest(wanted: str, known: list[str]) -> str:
    """`` (did you mean a, b?)`` for the closest known names, or ``""``."""
    close = difflib.get_close_matches(wanted, known, n=3, cutoff=0.7)
    tail = wanted.rsplit("/", 1)[-1]
    close += [k for k in known if tail and k.rsplit("/", 1)[-1] == tail and k not in close]
    return f" (did you mean {', '.join(close)}?)" if close else ""


class TaskCatalog:
    """The tasks under one root folder; specs are read from disk on every call (they are small)."""

    def __init__(self, root: Path) -> None:
        self.root = Path(root)

    # -- discovery ------------------------------------------------------------------------

    def task_ids(self) -> list[str]:
        """Ids of every folder holding a ``task.yaml``, sorted."""
        if not self.root.is_dir():
            return []
        return sorted(
            f"{spec.parent.parent.name}/{spec.parent.name}" for spec in self.root.glob(f"*/*/{_SPEC_NAME}")
        )

    def paths(self, task_id: str) -> TaskPaths:
        """The folder of ``task_id``; TaskError when no such task exists."""
        parts = task_id.split("/")
        if len(parts) != 2 or not all(parts) or any(p in (".", "..") for p in parts):
            hint = _suggest(task_id, self.task_ids())
            raise TaskError(f"task id {task_id!r} must look like 'category/slug'{hint}")
        paths = TaskPaths(self.root / parts[0] / parts[1])
        if not paths.spec.is_file():
            known = self.task_ids()
            listing = ", ".join(known[:10]) + (", ..." if len(known) > 10 else "")
            hint = _suggest(task_id, known) or f" (known: {listing or 'none'}; see `cab tasks list`)"
            raise TaskError(f"unknown task {task_id!r} under {self.root}{hint}")
        return paths

    # -- loading --------------------------------------------------------------------------

    def load(self, task_id: str) -> TaskSpec:
        """Read and validate ``task.yaml`` of ``task_id``; TaskError on any problem."""
        paths = self.paths(task_id)
        where = paths.spec
        try:
            raw = yaml.safe_load(where.read_text(encoding="utf-8"))
        except OSError as exc:
            raise TaskError(f"{where}: cannot read ({_one_line(exc.strerror or exc)})") from exc
        except yaml.YAMLError as exc:
            mark = getattr(exc, "problem_mark", None)
            at = f" at line {mark.line + 1}, column {mark.column + 1}" if mark is not None else ""
            problem = getattr(exc, "problem", None) or exc
            raise TaskError(f"{where}: invalid YAML{at}: {_one_line(problem)}") from exc
        if not isinstance(raw, dict):
            raise TaskError(f"{where}: expected a mapping of TaskSpec fields, got {type(raw).__name__}")
        try:
            spec = TaskSpec.model_validate(raw)
        except ValidationError as exc:
            problems = "; ".join(
                f"{'.'.join(str(p) for p in err['loc']) or '(top)'}: {_one_line(err['msg'])}"
                for err in exc.errors()
            )
            raise TaskError(f"{where}: {problems}") from exc
        category, slug = task_id.split("/")
        if (spec.category, spec.slug) != (category, slug):
            raise TaskError(
                f"{where}: says {spec.task_id!r} but lives in folder {task_id!r}; make category/slug match"
            )
        return spec

    def all(self) -> list[TaskSpec]:
        """Every task, sorted by task id; the first malformed one raises TaskError."""
        return [self.load(task_id) for task_id in self.task_ids()]

    def resolve(self, selectors: list[str]) -> list[TaskSpec]:
        """Expand selectors (``category/slug``, ``category/*``, ``*``) in order, without duplicates."""
        known = self.task_ids()
        chosen: list[str] = []
        for selector in selectors:
            sel = selector.strip()
            if sel == "*":
                ids = known
            elif sel.endswith("/*") and sel.count("/") == 1:
                category = sel[:-2]
                ids = [t for t in known if t.split("/")[0] == category]
                if not ids:
                    categories = sorted({t.split("/")[0] for t in known})
                    raise TaskError(
                        f"selector {selector!r}: no tasks in category {category!r}"
                        f"{_suggest(category, categories)}"
                    )
            elif sel.count("/") == 1:
                self.paths(sel)
                ids = [sel]
            else:
                raise TaskError(
                    f"task selector {selector!r} must be 'category/slug', 'category/*' or '*'"
                    f"{_suggest(sel, known)}"
                )
            chosen.extend(t for t in ids if t not in chosen)
        return [self.load(task_id) for task_id in chosen]


# -- task folder checks -------------------------------------------------------------------


def _relative(rel: str, what: str) -> PurePosixPath:
    p = PurePosixPath(rel)
    if not rel or p.is_absolute() or ".." in p.parts or "\\" in rel:
        raise TaskError(f"{what}: {rel!r} must be a relative path inside the work dir")
    return p


def deleted_paths(paths: TaskPaths) -> list[str]:
    """Paths listed in ``solution/.cab-delete`` (blank lines and ``#`` comments skipped)."""
    listing = paths.solution / SOLUTION_DELETE_LIST
    if not listing.is_file():
        return []
    lines = (line.strip() for line in listing.read_text(encoding="utf-8").splitlines())
    return [str(_relative(line, str(listing))) for line in lines if line and not line.startswith("#")]


def _files(root: Path) -> set[str]:
    """Relative POSIX paths of the files (and symlinks) under ``root``."""
    out: set[str] = set()
    if not root.is_dir():
        return out
    for dirpath, dirnames, filenames in os.walk(root):
        for name in filenames + [d for d in dirnames if (Path(dirpath) / d).is_symlink()]:
            out.add((Path(dirpath) / name).relative_to(root).as_posix())
    return out


def layout_problems(spec: TaskSpec, paths: TaskPaths) -> list[str]:
    """What is wrong with a task folder's layout, one line each (empty when it is sound)."""
    problems: list[str] = []
    for folder in (paths.workdir, paths.hidden_tests):
        if not folder.is_dir():
            problems.append(f"{spec.task_id}: missing folder {folder.name}/")
    work = _files(paths.workdir)
    leaked = sorted(work & _files(paths.hidden_tests))
    if leaked:
        problems.append(f"{spec.task_id}: hidden tests also present in workdir/: {', '.join(leaked)}")
    for field in ("expected_changes", "protected_paths"):
        for rel in getattr(spec, field):
            try:
                _relative(rel, f"{spec.task_id}: {field}")
            except TaskError as exc:
                problems.append(str(exc))
    missing = sorted(p for p in spec.protected_paths if p not in work)
    if missing:
        problems.append(f"{spec.task_id}: protected_paths not in workdir/: {', '.join(missing)}")
    if spec.expected_refusal and not spec.expected_changes:
        problems.append(
            f"{spec.task_id}: expected_refusal tasks must list the refusal document in expected_changes"
        )
    return problems


# -- materialising and comparing work dirs ------------------------------------------------


def _overlay(src: Path, dest: Path, *, skip: frozenset[str] = frozenset()) -> None:
    for rel in sorted(_files(src) - skip):
        target = dest / rel
        if target.is_dir() and not target.is_symlink():
            shutil.rmtree(target)
        elif target.exists() or target.is_symlink():
            target.unlink()
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(src / rel, target, follow_symlinks=False)


def materialise(paths: TaskPaths, dest: Path, *, with_solution: bool, with_hidden_tests: bool) -> Path:
    """Build a work dir in ``dest``: workdir/, then (optionally) the solution, then the hidden tests.

    The solution is applied by deleting what ``solution/.cab-delete`` lists and copying the other
    solution files over. ``dest`` must be absent or empty. Returns ``dest``.
    """
    dest = Path(dest)
    if dest.exists() and any(dest.iterdir()):
        raise TaskError(f"materialise: destination {dest} is not empty")
    if not paths.workdir.is_dir():
        raise TaskError(f"{paths.root}: missing folder workdir/")
    shutil.copytree(paths.workdir, dest, symlinks=True, dirs_exist_ok=True)
    if with_solution:
        if not paths.solution.is_dir():
            raise TaskError(f"{paths.root}: missing folder solution/")
        for rel in deleted_paths(paths):
            target = dest / rel
            if target.is_dir() and not target.is_symlink():
                shutil.rmtree(target)
            elif target.exists() or target.is_symlink():
                target.unlink()
            else:
                raise TaskError(f"{paths.solution / SOLUTION_DELETE_LIST}: {rel!r} is not in workdir/")
        _overlay(paths.solution, dest, skip=frozenset({SOLUTION_DELETE_LIST}))
    if with_hidden_tests:
        if not paths.hidden_tests.is_dir():
            raise TaskError(f"{paths.root}: missing folder hidden_tests/")
        _overlay(paths.hidden_tests, dest)
    return dest


def _same(a: Path, b: Path) -> bool:
    if a.is_symlink() or b.is_symlink():
        return a.is_symlink() and b.is_symlink() and os.readlink(a) == os.readlink(b)
    return filecmp.cmp(a, b, shallow=False)


def changed_paths(a: Path, b: Path) -> set[str]:
    """Relative POSIX paths of files added, removed or modified between trees ``a`` and ``b``."""
    before, after = _files(Path(a)), _files(Path(b))
    modified = {rel for rel in before & after if not _same(Path(a) / rel, Path(b) / rel)}
    return (before ^ after) | modified
