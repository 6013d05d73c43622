"""The mutation generator end to end on a small fixture task, in the real scorer image: only mutants
the hidden tests kill are written, as complete task folders, and the same seed writes the same bytes."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest
import yaml

from cab_core.paths import CabHome
from cab_core.schema import TaskSpec
from cab_scheduler.catalog import TaskCatalog, changed_paths, materialise
from cab_scheduler.mutation import generate
from cab_workers.taskci.mutantcheck import check_mutants, mutable_sources
from cab_workers.taskci.mutanttasks import write_killed

pytestmark = pytest.mark.docker

BUGGY = "def clamp(x, lo, hi):\n    return x\n"
FIXED = '''VERBOSE = False


def clamp(x, lo, hi):
    """x limited to [lo, hi]."""
    if x < lo:
        return lo
    if x > hi:
        return hi
    return x
'''
VISIBLE = "from pkg.clamp import clamp\n\n\ndef test_ok():\n    assert clamp(1, 0, 2) == 1\n"
HIDDEN = """from pkg.clamp import clamp


def test_below():
    assert clamp(-5, 0, 10) == 0


def test_above():
    assert clamp(15, 0, 10) == 10


def test_inside():
    assert clamp(5, 0, 10) == 5
"""


def make_task(root: Path) -> Path:
    task = root / "polyglot" / "py-clamp"
    files = {
        "workdir/pkg/__init__.py": "",
        "workdir/pkg/clamp.py": BUGGY,
        "workdir/tests/test_visible.py": VISIBLE,
        "solution/pkg/clamp.py": FIXED,
        "hidden_tests/tests/test_hidden.py": HIDDEN,
    }
    for rel, text in files.items():
        (task / rel).parent.mkdir(parents=True, exist_ok=True)
        (task / rel).write_text(text)
    spec = {
        "category": "polyglot",
        "slug": "py-clamp",
        "title": "clamp",
        "language": "python",
        "prompt": "clamp does not clamp",
        "test_command": ["python3", "-m", "pytest", "-q", "-p", "no:cacheprovider"],
        "test_runner": "pytest",
        "expected_changes": ["pkg/clamp.py"],
        "protected_paths": ["tests/test_visible.py"],
        "timeouts": {"test_s": 120},
    }
    (task / "task.yaml").write_text(yaml.safe_dump(spec))
    return task


def digest(folder: Path) -> dict[str, str]:
    return {
        p.relative_to(folder).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


def test_only_killed_mutants_are_written_and_regeneration_is_identical(
    tmp_path: Path,
    sandbox,
    images: dict[str, str],
    no_leftover_containers: None,  # noqa: ANN001
) -> None:
    tasks = tmp_path / "tasks"
    make_task(tasks)
    catalog = TaskCatalog(tasks)
    spec, paths = catalog.load("polyglot/py-clamp"), catalog.paths("polyglot/py-clamp")
    home = CabHome(tmp_path / "home").ensure()
    files = mutable_sources(spec, paths, home)
    assert list(files) == ["pkg/clamp.py"]
    generation = generate(files, operators=["flip-comparison", "wrong-constant"], seed=5)
    # `VERBOSE = True` changes nothing the tests see: it must survive and not be written
    assert any(b"VERBOSE = True" in m.mutated for m in generation.mutants)

    verdicts = check_mutants(
        spec, paths, generation.mutants, sandbox, images["base"], home, want=99, max_checks=99
    )
    outcomes = {v.mutant.rank: v.outcome for v in verdicts}
    verbose = next(m.rank for m in generation.mutants if b"VERBOSE = True" in m.mutated)
    assert outcomes[verbose] == "survived"
    killed = [v for v in verdicts if v.outcome == "killed"]
    assert killed and all(v.failing for v in killed)

    out = tasks / "mutations"
    written = write_killed(out, spec, paths, verdicts, seed=5)
    assert [w.slug for w in written] == [f"py-clamp-m{v.mutant.rank:02d}-{v.mutant.operator}" for v in killed]
    first = {w.slug: digest(w.folder) for w in written}
    for w in written:
        generated = TaskCatalog(tasks).load(f"mutations/{w.slug}")
        assert isinstance(generated, TaskSpec) and generated.generated_by is not None
        assert generated.expected_changes == ["pkg/clamp.py"]
        assert "tests/test_hidden.py::test_" in generated.prompt
        assert w.folder.joinpath("solution/pkg/clamp.py").read_text() == FIXED
        gpaths = TaskCatalog(tasks).paths(f"mutations/{w.slug}")
        plain = materialise(gpaths, tmp_path / w.slug / "plain", with_solution=False, with_hidden_tests=False)
        ref = materialise(gpaths, tmp_path / w.slug / "ref", with_solution=True, with_hidden_tests=False)
        assert changed_paths(plain, ref) == {"pkg/clamp.py"}

    again = write_killed(
        out,
        spec,
        paths,
        check_mutants(
            spec, paths, [v.mutant for v in killed], sandbox, images["base"], home, want=99, max_checks=99
        ),
        seed=5,
    )
    assert {w.slug: digest(w.folder) for w in again} == first
