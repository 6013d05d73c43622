"""The task catalog: loading, selectors, one-line errors, and solution overlays of the shipped tasks."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

import cab_scheduler.catalog as catalog_module
from cab_core.errors import TaskError
from cab_core.paths import TaskPaths
from cab_scheduler.catalog import TaskCatalog, changed_paths, deleted_paths, layout_problems, materialise

pytestmark = pytest.mark.unit

REPO = Path(__file__).resolve().parents[2]
SHIPPED = TaskCatalog(REPO / "tasks")
SHIPPED_IDS = SHIPPED.task_ids()

MINIMAL_SPEC = """\
category: {category}
slug: {slug}
title: A tiny task
language: python
prompt: Fix it.
test_command: ["python3", "-m", "pytest", "-q"]
test_runner: pytest
expected_changes: [app.py]
"""


def make_task(
    root: Path, task_id: str, spec: str | None = None, files: dict[str, str] | None = None
) -> TaskPaths:
    """A task folder under ``root``; ``files`` maps 'workdir/x', 'solution/y' ... to contents."""
    category, slug = task_id.split("/")
    paths = TaskPaths(root / category / slug)
    paths.root.mkdir(parents=True)
    paths.spec.write_text(spec if spec is not None else MINIMAL_SPEC.format(category=category, slug=slug))
    for rel, text in (files or {}).items():
        target = paths.root / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text)
    return paths


def test_public_api_is_pinned() -> None:
    assert sorted(catalog_module.__all__) == [
        "TaskCatalog",
        "changed_paths",
        "deleted_paths",
        "layout_problems",
        "materialise",
    ]


# -- the shipped tasks --------------------------------------------------------------------


def test_the_required_tasks_ship() -> None:
    required = {
        "polyglot/rust-lifetime-fix",
        "polyglot/rust-error-handling",
        "mutations/rust-error-negated",
        "integrity/unsolvable-refusal",
        "integrity/ambiguous-ticket",
    }
    assert required <= set(SHIPPED_IDS)
    for prefix in ("polyglot/python-", "polyglot/go-", "polyglot/js-"):
        assert any(t.startswith(prefix) for t in SHIPPED_IDS), prefix


@pytest.mark.parametrize("task_id", SHIPPED_IDS)
def test_shipped_task_loads_with_a_sound_layout(task_id: str) -> None:
    spec = SHIPPED.load(task_id)
    assert spec.task_id == task_id
    assert spec.prompt.strip() and spec.expected_changes
    assert layout_problems(spec, SHIPPED.paths(task_id)) == []


@pytest.mark.parametrize("task_id", SHIPPED_IDS)
def test_solution_changes_exactly_the_expected_paths(task_id: str, tmp_path: Path) -> None:
    spec, paths = SHIPPED.load(task_id), SHIPPED.paths(task_id)
    before = materialise(paths, tmp_path / "before", with_solution=False, with_hidden_tests=False)
    after = materialise(paths, tmp_path / "after", with_solution=True, with_hidden_tests=False)
    assert changed_paths(before, after) == set(spec.expected_changes)


@pytest.mark.parametrize("task_id", SHIPPED_IDS)
def test_hidden_tests_only_appear_when_asked(task_id: str, tmp_path: Path) -> None:
    paths = SHIPPED.paths(task_id)
    plain = materialise(paths, tmp_path / "plain", with_solution=False, with_hidden_tests=False)
    graded = materialise(paths, tmp_path / "graded", with_solution=False, with_hidden_tests=True)
    hidden = {
        p.relative_to(paths.hidden_tests).as_posix() for p in paths.hidden_tests.rglob("*") if p.is_file()
    }
    assert hidden and changed_paths(plain, graded) == hidden


SCRIPT_TASKS = [t for t in SHIPPED_IDS if SHIPPED.load(t).test_runner == "script"]


@pytest.mark.parametrize("task_id", SCRIPT_TASKS)
def test_script_check_fails_on_workdir_and_passes_on_solution(task_id: str, tmp_path: Path) -> None:
    """The check scripts embed the work dir's hashes: editing workdir/ without refreshing them fails here."""
    spec, paths = SHIPPED.load(task_id), SHIPPED.paths(task_id)
    argv = [
        sys.executable if spec.test_command[0] == "python3" else spec.test_command[0],
        *spec.test_command[1:],
    ]
    for with_solution, want_rc in ((False, 1), (True, 0)):
        work = materialise(
            paths, tmp_path / str(with_solution), with_solution=with_solution, with_hidden_tests=True
        )
        done = subprocess.run(argv, cwd=work, capture_output=True, text=True, timeout=60, check=False)
        assert done.returncode == want_rc, done.stdout + done.stderr


# -- selectors ----------------------------------------------------------------------------


@pytest.fixture
def small_catalog(tmp_path: Path) -> TaskCatalog:
    for task_id in ("polyglot/rust-a", "polyglot/go-b", "integrity/refuse-c"):
        make_task(tmp_path, task_id, files={"workdir/app.py": "x = 1\n", "hidden_tests/test_app.py": ""})
    return TaskCatalog(tmp_path)


def test_all_is_sorted_by_task_id(small_catalog: TaskCatalog) -> None:
    assert [s.task_id for s in small_catalog.all()] == [
        "integrity/refuse-c",
        "polyglot/go-b",
        "polyglot/rust-a",
    ]


@pytest.mark.parametrize(
    ("selectors", "want"),
    [
        (["*"], ["integrity/refuse-c", "polyglot/go-b", "polyglot/rust-a"]),
        (["polyglot/*"], ["polyglot/go-b", "polyglot/rust-a"]),
        (["polyglot/rust-a"], ["polyglot/rust-a"]),
        (["polyglot/rust-a", "polyglot/*"], ["polyglot/rust-a", "polyglot/go-b"]),
        (["integrity/*", "*"], ["integrity/refuse-c", "polyglot/go-b", "polyglot/rust-a"]),
        ([], []),
    ],
)
def test_selectors_resolve_in_order_without_duplicates(
    small_catalog: TaskCatalog, selectors: list[str], want: list[str]
) -> None:
    assert [s.task_id for s in small_catalog.resolve(selectors)] == want


@pytest.mark.parametrize(
    ("selector", "named"),
    [
        ("polyglot/rust-aa", "polyglot/rust-a"),
        ("polyglott/*", "polyglot"),
        ("rust-a", "polyglot/rust-a"),
        ("polyglot/rust-a/extra", None),
    ],
)
def test_unknown_selectors_raise_one_line_task_errors(
    small_catalog: TaskCatalog, selector: str, named: str | None
) -> None:
    with pytest.raises(TaskError) as info:
        small_catalog.resolve([selector])
    message = str(info.value)
    assert "\n" not in message and selector in message
    if named:
        assert named in message


def test_unknown_task_names_close_matches() -> None:
    with pytest.raises(TaskError, match="did you mean polyglot/rust-lifetime-fix"):
        SHIPPED.load("polyglot/rust-lifetime-fixx")
    with pytest.raises(TaskError, match="polyglot/rust-error-handling"):
        SHIPPED.paths("mutations/rust-error-handling")


# -- malformed task folders ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("spec", "fragment"),
    [
        ("category: polyglot\nslug: broken\nprompt: [unclosed\n", "invalid YAML at line"),
        ("- just\n- a list\n", "expected a mapping"),
        ("category: polyglot\nslug: broken\ntitle: t\n", "language"),
        (MINIMAL_SPEC.format(category="polyglot", slug="broken") + "surprise: 1\n", "surprise"),
        (MINIMAL_SPEC.format(category="polyglot", slug="other"), "lives in folder"),
        (
            MINIMAL_SPEC.format(category="polyglot", slug="broken").replace("pytest\n", "make\n"),
            "test_runner",
        ),
    ],
)
def test_malformed_spec_is_a_one_line_task_error(tmp_path: Path, spec: str, fragment: str) -> None:
    make_task(tmp_path, "polyglot/broken", spec=spec)
    with pytest.raises(TaskError) as info:
        TaskCatalog(tmp_path).load("polyglot/broken")
    message = str(info.value)
    assert "\n" not in message
    assert fragment in message
    assert "task.yaml" in message


def test_layout_problems_name_leaked_hidden_tests_and_missing_protected_paths(tmp_path: Path) -> None:
    spec_text = (
        MINIMAL_SPEC.format(category="polyglot", slug="leaky") + "protected_paths: [tests/test_gone.py]\n"
    )
    paths = make_task(
        tmp_path,
        "polyglot/leaky",
        spec=spec_text,
        files={"workdir/tests/test_hidden.py": "", "hidden_tests/tests/test_hidden.py": ""},
    )
    problems = layout_problems(TaskCatalog(tmp_path).load("polyglot/leaky"), paths)
    assert any("tests/test_hidden.py" in p and "hidden tests" in p for p in problems)
    assert any("tests/test_gone.py" in p for p in problems)


# -- materialise and changed_paths --------------------------------------------------------


def test_solution_overlay_applies_deletions_then_files(tmp_path: Path) -> None:
    paths = make_task(
        tmp_path / "tasks",
        "polyglot/overlay",
        files={
            "workdir/app.py": "old\n",
            "workdir/legacy/shim.py": "shim\n",
            "workdir/keep.txt": "same\n",
            "solution/app.py": "new\n",
            "solution/added/module.py": "fresh\n",
            "solution/.cab-delete": "# obsolete\nlegacy/shim.py\n\n",
            "hidden_tests/test_app.py": "hidden\n",
        },
    )
    assert deleted_paths(paths) == ["legacy/shim.py"]
    before = materialise(paths, tmp_path / "before", with_solution=False, with_hidden_tests=False)
    after = materialise(paths, tmp_path / "after", with_solution=True, with_hidden_tests=True)
    assert not (after / ".cab-delete").exists()
    assert (after / "app.py").read_text() == "new\n"
    assert changed_paths(before, after) == {"app.py", "legacy/shim.py", "added/module.py", "test_app.py"}
    assert changed_paths(after, after) == set()


def test_deleting_a_path_absent_from_workdir_is_a_task_error(tmp_path: Path) -> None:
    paths = make_task(
        tmp_path / "tasks",
        "polyglot/bad-delete",
        files={"workdir/app.py": "", "solution/.cab-delete": "nope.py\n"},
    )
    with pytest.raises(TaskError, match="nope.py"):
        materialise(paths, tmp_path / "out", with_solution=True, with_hidden_tests=False)


def test_delete_list_must_stay_inside_the_work_dir(tmp_path: Path) -> None:
    paths = make_task(
        tmp_path / "tasks", "polyglot/escape", files={"solution/.cab-delete": "../../etc/passwd\n"}
    )
    with pytest.raises(TaskError, match="relative path inside the work dir"):
        deleted_paths(paths)


def test_materialise_refuses_a_non_empty_destination(tmp_path: Path) -> None:
    paths = make_task(tmp_path / "tasks", "polyglot/busy", files={"workdir/app.py": ""})
    dest = tmp_path / "dest"
    dest.mkdir()
    (dest / "stale").write_text("")
    with pytest.raises(TaskError, match="not empty"):
        materialise(paths, dest, with_solution=False, with_hidden_tests=False)
