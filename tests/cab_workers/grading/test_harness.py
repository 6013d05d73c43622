"""The graded tree: harness files are the task's, agent-added tests stay out, links never lead out."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from cab_core.schema import TaskSpec
from cab_workers.grading.harness import HarnessPolicy, build_graded_tree, matches, plan_tree
from cab_workers.grading.tree import Entry, read_tree

pytestmark = pytest.mark.unit


def _task(runner: str, language: str, **extra: object) -> TaskSpec:
    return TaskSpec.model_validate(
        {
            "category": "polyglot",
            "slug": "t",
            "title": "t",
            "language": language,
            "prompt": "p",
            "test_command": {
                "pytest": ["python3", "-m", "pytest", "-q"],
                "go": ["go", "test", "./..."],
                "cargo": ["cargo", "test", "--offline"],
                "node": ["node", "--test"],
                "script": ["bash", "run_tests.sh"],
            }[runner],
            "test_runner": runner,
            **extra,
        }
    )


def _files(**files: str) -> dict[str, Entry]:
    return {k.replace("__", "/"): Entry.of(v.encode()) for k, v in files.items()}


def _plan(task: TaskSpec, pristine: dict[str, Entry], agent: dict[str, Entry], hidden: dict[str, Entry]):
    return plan_tree(HarnessPolicy.for_task(task), pristine, agent, hidden)


PY = _task("pytest", "python")
PRISTINE_PY = {
    "relnotes/__init__.py": Entry.of(b""),
    "relnotes/versions.py": Entry.of(b"def sort(): ...\n"),
    "tests/test_versions.py": Entry.of(b"def test_a(): pass\n"),
    "pyproject.toml": Entry.of(b'[project]\nname = "relnotes"\n'),
}
HIDDEN_PY = {"tests/test_hidden.py": Entry.of(b"def test_h(): pass\n")}


@pytest.mark.parametrize(
    ("added", "why"),
    [
        ({"conftest.py": "def pytest_sessionfinish(session): session.exitstatus = 0"}, "root conftest"),
        ({"tests/conftest.py": "x = 1"}, "nested conftest"),
        ({"pytest.ini": "[pytest]\naddopts = --collect-only"}, "pytest.ini"),
        ({"tox.ini": "[pytest]\naddopts = --collect-only"}, "tox.ini pytest section"),
        ({"setup.cfg": "[tool:pytest]\naddopts = -k nothing"}, "setup.cfg pytest section"),
        ({"sitecustomize.py": "import os; os._exit(0)"}, "sitecustomize"),
        ({"tests/usercustomize.py": "import os"}, "usercustomize"),
        ({"evil.pth": "import os; os._exit(0)"}, "pth file"),
        ({"hashlib.py": "import os; os._exit(0)"}, "stdlib shadow at root"),
        ({"tests/json.py": "import os"}, "stdlib shadow in a test folder on sys.path"),
        ({"_pytest/__init__.py": "import os"}, "test runner shadow"),
        ({"pytest.py": "import os"}, "pytest shadow"),
        ({".env": "PYTHONPATH=/work/evil"}, "dotenv"),
        ({"Makefile": "test:\n\ttrue\n"}, "makefile"),
    ],
)
def test_agent_added_harness_file_is_removed_and_counted_as_tampering(
    added: dict[str, str], why: str
) -> None:
    agent = {**PRISTINE_PY, **{k: Entry.of(v.encode()) for k, v in added.items()}}
    tree, report = _plan(PY, PRISTINE_PY, agent, HIDDEN_PY)
    for rel in added:
        assert rel not in tree, why
        assert rel in report.tampered, why


def test_pyproject_pytest_section_is_reset_but_other_edits_are_kept() -> None:
    edited = b'[project]\nname = "relnotes"\nversion = "2"\n'
    agent = {**PRISTINE_PY, "pyproject.toml": Entry.of(edited)}
    tree, report = _plan(PY, PRISTINE_PY, agent, HIDDEN_PY)
    assert tree["pyproject.toml"].data == edited and report.tampered == ()

    forged = edited + b'[tool.pytest.ini_options]\naddopts = "--collect-only"\n'
    agent = {**PRISTINE_PY, "pyproject.toml": Entry.of(forged)}
    tree, report = _plan(PY, PRISTINE_PY, agent, HIDDEN_PY)
    assert tree["pyproject.toml"] is PRISTINE_PY["pyproject.toml"]
    assert report.tampered == ("pyproject.toml",)


def test_modified_shipped_test_file_is_restored_and_new_test_files_are_excluded() -> None:
    agent = {
        **PRISTINE_PY,
        "tests/test_versions.py": Entry.of(b"def test_a(): assert True\n"),
        "tests/test_mine.py": Entry.of(b"def test_mine(): pass\n"),
        "tests/test_plugin.py": Entry.of(b"pytest_plugins = ['evil']\n"),
    }
    tree, report = _plan(PY, PRISTINE_PY, agent, HIDDEN_PY)
    assert tree["tests/test_versions.py"] is PRISTINE_PY["tests/test_versions.py"]
    assert "tests/test_mine.py" not in tree and report.excluded == ("tests/test_mine.py",)
    assert report.tampered == ("tests/test_plugin.py", "tests/test_versions.py")


def test_agent_code_is_graded_as_written_and_hidden_tests_overwrite_planted_ones() -> None:
    agent = {
        **PRISTINE_PY,
        "relnotes/versions.py": Entry.of(b"def sort(): return 1\n"),
        "relnotes/json.py": Entry.of(b"# a submodule named like the stdlib is fine inside a package\n"),
        "tests/test_hidden.py": Entry.of(b"def test_h(): pass  # planted\n"),
    }
    tree, report = _plan(PY, PRISTINE_PY, agent, HIDDEN_PY)
    assert tree["relnotes/versions.py"].data == b"def sort(): return 1\n"
    assert "relnotes/json.py" in tree
    assert tree["tests/test_hidden.py"] is HIDDEN_PY["tests/test_hidden.py"]
    assert report.tampered == ("tests/test_hidden.py",)


def test_caches_are_dropped_silently() -> None:
    agent = {**PRISTINE_PY, "tests/__pycache__/test_hidden.cpython-313-pytest-8.3.5.pyc": Entry.of(b"x")}
    tree, report = _plan(PY, PRISTINE_PY, agent, HIDDEN_PY)
    assert not any("__pycache__" in p for p in tree) and report == type(report)()


def test_go_testmain_and_mod_directives() -> None:
    task = _task("go", "go")
    pristine = _files(**{"go.mod": "module thumbcache\n\ngo 1.22\n", "cache.go": "package thumbcache\n"})
    hidden = {"cache_hidden_test.go": Entry.of(b"package thumbcache\n")}
    agent = {
        **pristine,
        "zz_main_test.go": Entry.of(b"package thumbcache\nfunc TestMain(m *testing.M) { os.Exit(0) }\n"),
        "extra_test.go": Entry.of(b"package thumbcache\nfunc TestMine(t *testing.T) {}\n"),
        "go.work": Entry.of(b"use .\n"),
        "vendor/modules.txt": Entry.of(b"# x\n"),
        "go.mod": Entry.of(b"module thumbcache\n\ngo 1.22\n\nreplace example.com/x => ./evil\n"),
    }
    tree, report = _plan(task, pristine, agent, hidden)
    assert report.tampered == ("go.mod", "go.work", "vendor/modules.txt", "zz_main_test.go")
    assert report.excluded == ("extra_test.go",)
    assert tree["go.mod"] is pristine["go.mod"]
    required = {
        **pristine,
        "go.mod": Entry.of(b"module thumbcache\n\ngo 1.22\n\nrequire example.com/y v1.0.0\n"),
    }
    _, report = _plan(task, pristine, required, hidden)
    assert report.tampered == ()  # a require line does not drive the run


def test_cargo_harness() -> None:
    task = _task("cargo", "rust")
    manifest = b'[package]\nname = "retrying"\nversion = "0.1.0"\nedition = "2021"\n'
    pristine = {"Cargo.toml": Entry.of(manifest), "src/lib.rs": Entry.of(b"pub fn f() {}\n")}
    hidden = {"tests/hidden_retry.rs": Entry.of(b"#[test] fn h() {}\n")}
    agent = {
        **pristine,
        "Cargo.toml": Entry.of(manifest + b"autotests = false\n"),
        "build.rs": Entry.of(b"fn main() {}\n"),
        ".cargo/config.toml": Entry.of(b'[target.x86_64-unknown-linux-gnu]\nrunner = "true"\n'),
        "src/build.rs": Entry.of(b"// a module named build is code\n"),
        "tests/mine.rs": Entry.of(b"#[test] fn mine() {}\n"),
    }
    tree, report = _plan(task, pristine, agent, hidden)
    assert report.tampered == (".cargo/config.toml", "Cargo.toml", "build.rs")
    assert report.excluded == ("tests/mine.rs",)
    assert "src/build.rs" in tree
    deps = {**pristine, "Cargo.toml": Entry.of(manifest + b'\n[dependencies]\nx = { path = "x" }\n')}
    _, report = _plan(task, pristine, deps, hidden)
    assert report.tampered == ()


def test_node_harness_and_editable_exemption() -> None:
    task = _task("node", "javascript")
    pristine = _files(**{"package.json": '{"name": "q", "type": "module"}', "src/query.js": "export {}"})
    hidden = {"test/query.hidden.test.js": Entry.of(b"import test from 'node:test'\n")}
    agent = {
        **pristine,
        "package.json": Entry.of(b'{"name": "q", "type": "module", "imports": {"#x": "./evil.js"}}'),
        ".npmrc": Entry.of(b"node-options=--require ./evil.cjs\n"),
        "node_modules/assert/index.js": Entry.of(b""),
        "test/aaa.test.js": Entry.of(b"process.exit(0)\n"),
    }
    _, report = _plan(task, pristine, agent, hidden)
    assert report.tampered == (".npmrc", "node_modules/assert/index.js", "package.json")
    assert report.excluded == ("test/aaa.test.js",)
    editable = _task("node", "javascript", agent_editable=["package.json"])
    _, report = _plan(editable, pristine, agent, hidden)
    assert "package.json" not in report.tampered


def test_script_runner_protects_the_files_its_command_names() -> None:
    task = _task("script", "shell")
    pristine = _files(**{"run_tests.sh": "python3 check.py\n", "lib.sh": "x=1\n"})
    agent = {**pristine, "run_tests.sh": Entry.of(b"exit 0\n"), "lib.sh": Entry.of(b"x=2\n")}
    tree, report = _plan(task, pristine, agent, {})
    assert report.tampered == ("run_tests.sh",)
    assert tree["lib.sh"].data == b"x=2\n"


def test_task_harness_paths_add_globs() -> None:
    task = _task("pytest", "python", harness_paths=["fixtures/*.json"])
    pristine = {**PRISTINE_PY, "fixtures/a.json": Entry.of(b"{}")}
    agent = {**pristine, "fixtures/a.json": Entry.of(b'{"x": 1}')}
    _, report = _plan(task, pristine, agent, HIDDEN_PY)
    assert report.tampered == ("fixtures/a.json",)


@pytest.mark.parametrize(
    ("path", "patterns", "expected"),
    [
        ("a/b/conftest.py", ["conftest.py"], True),
        ("a/conftest.py.bak", ["conftest.py"], False),
        (".cargo/config.toml", [".cargo"], True),
        ("x/Conftest.py", ["conftest.py"], False),
        ("fixtures/a.json", ["fixtures/*.json"], True),
        ("src/fixtures/a.json", ["fixtures/*.json"], False),
    ],
)
def test_pattern_semantics(path: str, patterns: list[str], expected: bool) -> None:
    assert matches(path, patterns) is expected


def test_symlinks_never_lead_a_write_out_of_the_graded_tree(tmp_path: Path) -> None:
    """regression: the hidden tests were copied through an agent's symlinked test folder."""
    outside = tmp_path / "outside"
    outside.mkdir()
    pristine, agent, hidden, dest = (tmp_path / n for n in ("pristine", "agent", "hidden", "graded"))
    for root in (pristine, agent):
        (root / "relnotes").mkdir(parents=True)
        (root / "relnotes" / "versions.py").write_text("x = 1\n")
    (pristine / "tests").mkdir()
    (pristine / "tests" / "test_versions.py").write_text("def test_a(): pass\n")
    (hidden / "tests").mkdir(parents=True)
    (hidden / "tests" / "test_hidden.py").write_text("def test_h(): pass\n")
    os.symlink(outside, agent / "tests")  # the whole test folder is a link to the host
    os.symlink(outside / "x.py", agent / "relnotes" / "link.py")  # a dangling link is kept as a link

    report = build_graded_tree(
        PY, pristine_root=pristine, agent_root=agent, hidden=read_tree(hidden), dest=dest
    )

    assert list(outside.iterdir()) == []
    assert (dest / "tests").is_dir() and not (dest / "tests").is_symlink()
    assert (dest / "tests" / "test_hidden.py").read_text() == "def test_h(): pass\n"
    assert (dest / "tests" / "test_versions.py").read_text() == "def test_a(): pass\n"
    assert os.readlink(dest / "relnotes" / "link.py") == str(outside / "x.py")
    assert "tests" in report.tampered


def test_read_tree_does_not_follow_links(tmp_path: Path) -> None:
    (tmp_path / "real").mkdir()
    (tmp_path / "real" / "f").write_text("x")
    os.symlink(tmp_path / "real", tmp_path / "link")
    tree = read_tree(tmp_path)
    assert set(tree) == {"real/f", "link"} and tree["link"].kind == "link"


def test_shipped_test_fixtures_are_the_tasks_but_not_for_check_scripts() -> None:
    """regression: an agent could rewrite the expected output a hidden test compares against."""
    pristine = {**PRISTINE_PY, "tests/data/expected.json": Entry.of(b'["1.9.0", "1.10.0"]')}
    agent = {
        **pristine,
        "tests/data/expected.json": Entry.of(b"[]"),
        "tests/data/mine.json": Entry.of(b"{}"),
    }
    tree, report = _plan(PY, pristine, agent, HIDDEN_PY)
    assert tree["tests/data/expected.json"] is pristine["tests/data/expected.json"]
    assert "tests/data/mine.json" in tree and report.tampered == ("tests/data/expected.json",)
    script = _task("script", "python")
    tree, report = _plan(script, pristine, agent, {})
    assert tree["tests/data/expected.json"].data == b"[]" and report.tampered == ()
