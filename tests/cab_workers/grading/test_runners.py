"""Runner invocations, the canary cab plants, and reading a report back from a hostile folder."""

from __future__ import annotations

import ast
import os
import shlex
from pathlib import Path

import pytest

from cab_workers.grading import runners
from cab_workers.grading.runners import (
    GO_SEEDED,
    canary_files,
    canary_name,
    collect,
    invocation,
    read_report,
)
from cab_workers.scoring import reports
from cab_workers.scoring.evidence import declared_tests, go_package

pytestmark = pytest.mark.unit

NONCE = "0123abcd"
NAME = "cab_canary_0123abcd"


# --- invocation ------------------------------------------------------------------------------


def test_pytest_writes_junit_with_file_names() -> None:
    inv = invocation("pytest", ["python3", "-m", "pytest", "-q", "-p", "no:cacheprovider"])
    assert inv.argv == ["python3", "-m", "pytest", "-q", "-p", "no:cacheprovider"]
    assert shlex.split(inv.env["PYTEST_ADDOPTS"]) == [
        "--junitxml=/cab-report/pytest.xml",
        "-o",
        "junit_family=xunit1",
        "-o",
        "junit_logging=no",
        "-p",
        "no:cacheprovider",
        "--rootdir=/work",
        "--continue-on-collection-errors",
    ]
    assert inv.report_files == ("/cab-report/pytest.xml",)
    assert (
        invocation("pytest", ["pytest"], "/r x")
        .env["PYTEST_ADDOPTS"]
        .startswith("'--junitxml=/r x/pytest.xml'")
    )


def test_go_reports_json_through_the_environment() -> None:
    inv = invocation("go", ["go", "test", "-v", "./..."])
    assert (inv.argv, inv.env, inv.report_files) == (
        [*GO_SEEDED, "go", "test", "-v", "./..."],
        {"GOFLAGS": "-json", "GOWORK": "off"},
        (),
    )


@pytest.mark.parametrize(
    ("command", "argv"),
    [
        (
            ["cargo", "test", "--offline"],
            [
                "cargo",
                "test",
                "--offline",
                "--no-fail-fast",
                "--",
                "-Z",
                "unstable-options",
                "--format",
                "json",
            ],
        ),
        (
            ["cargo", "test", "--no-fail-fast", "--", "--test-threads=1"],
            [
                "cargo",
                "test",
                "--no-fail-fast",
                "--",
                "--test-threads=1",
                "-Z",
                "unstable-options",
                "--format",
                "json",
            ],
        ),
        # the test binaries take one format: the command's own is dropped
        (
            ["cargo", "+stable", "test", "--", "--format", "pretty", "-q", "--format=terse", "--nocapture"],
            [
                "cargo",
                "+stable",
                "test",
                "--no-fail-fast",
                "--",
                "--nocapture",
                "-Z",
                "unstable-options",
                "--format",
                "json",
            ],
        ),
    ],
)
def test_cargo_runs_every_binary_with_json_output(command: list[str], argv: list[str]) -> None:
    inv = invocation("cargo", command)
    assert inv.argv == argv
    assert inv.env == {"RUSTC_BOOTSTRAP": "1", "CARGO_TERM_COLOR": "never"}


def test_node_gets_cabs_reporter_as_arguments_or_node_options() -> None:
    inv = invocation("node", ["node", "--test"])
    assert inv.argv == [
        "node",
        "--test-reporter=spec",
        "--test-reporter-destination=stdout",
        "--test-reporter=/cab-harness/cab_reporter.mjs",
        "--test-reporter-destination=/cab-report/node.jsonl",
        "--test",
    ]
    assert inv.env == {} and inv.report_files == ("/cab-report/node.jsonl",)
    assert inv.support_files == {
        "cab_reporter.mjs": (Path(runners.__file__).parent / "cab_reporter.mjs").read_bytes()
    }
    npm = invocation("node", ["npm", "test"], "/rep", support_dir="/sup")
    assert npm.argv == ["npm", "test"]
    assert npm.env["NODE_OPTIONS"].split() == [
        "--test-reporter=spec",
        "--test-reporter-destination=stdout",
        "--test-reporter=/sup/cab_reporter.mjs",
        "--test-reporter-destination=/rep/node.jsonl",
    ]


def test_script_runs_unchanged_with_python_in_safe_path_mode() -> None:
    """regression: a hashlib.py next to hidden_check.py shadowed the standard library inside the check."""
    assert invocation("script", ["python3", "hidden_check.py"]) == runners.Invocation(
        ["python3", "hidden_check.py"], {"PYTHONSAFEPATH": "1"}
    )


@pytest.mark.parametrize(
    ("runner", "command"),
    [("pytest", []), ("cargo", ["cargo", "build"]), ("cargo", ["cargo", "--", "test"]), ("jest", ["jest"])],
)
def test_unusable_commands_are_refused(runner: str, command: list[str]) -> None:
    with pytest.raises(ValueError):
        invocation(runner, command)


# --- the canary ------------------------------------------------------------------------------


@pytest.mark.parametrize("nonce", ["", "abc", "0123ABCD", "0123abcd/..", "g123abcd", "0" * 65])
def test_nonce_must_be_lowercase_hex(nonce: str) -> None:
    with pytest.raises(ValueError):
        canary_name(nonce)


def test_pytest_canary_is_appended_to_each_hidden_test_file() -> None:
    hidden = {
        "tests/test_hidden.py": "def test_a():\n    assert True",
        "tests/unit/test_more.py": "class TestX:\n    def test_b(self):\n        pass\n\n\n",
        "tests/helpers.py": "X = 1\n",
    }
    files = canary_files("pytest", hidden, NONCE)
    assert sorted(files) == ["tests/test_hidden.py", "tests/unit/test_more.py"]
    for path, data in files.items():
        text = data.decode()
        assert text.startswith(hidden[path].rstrip("\n") + "\n")
        ast.parse(text)
        # the canary is a collected test, last in the file; declared tests come from the pristine text
        assert [t.name for t in declared_tests("pytest", {path: text})][-1] == f"test_{NAME}"
        assert f"test_{NAME}" not in [t.name for t in declared_tests("pytest", hidden)]
    assert canary_files("pytest", {}, NONCE) == {
        f"test_{NAME}.py": canary_files("pytest", {}, NONCE)[f"test_{NAME}.py"]
    }


def test_go_canary_shares_each_hidden_package() -> None:
    hidden = {
        "cache_hidden_test.go": "// doc\npackage thumbcache\n",
        "sub/x_test.go": "/* package wrong */\npackage sub_test\n",
        "sub/y_test.go": "package sub_test\n",
        "sub/helper.go": "package sub\n",
    }
    files = canary_files("go", hidden, NONCE)
    assert sorted(files) == [f"{NAME}_test.go", f"sub/{NAME}_test.go"]
    assert go_package(files[f"{NAME}_test.go"].decode()) == "thumbcache"
    assert go_package(files[f"sub/{NAME}_test.go"].decode()) == "sub_test"
    assert f"func Test_{NAME}(t *testing.T)" in files[f"{NAME}_test.go"].decode()
    assert [t.name for t in declared_tests("go", {k: v.decode() for k, v in files.items()})] == [
        f"Test_{NAME}"
    ]  # go names tests, not files


def test_cargo_canary_is_a_test_target_of_each_crate() -> None:
    files = canary_files("cargo", {"tests/hidden.rs": "", "crates/k/tests/h.rs": "", "src/lib.rs": ""}, NONCE)
    assert sorted(files) == [f"crates/k/tests/{NAME}.rs", f"tests/{NAME}.rs"]
    assert [
        t.name for t in declared_tests("cargo", {f"tests/{NAME}.rs": files[f"tests/{NAME}.rs"].decode()})
    ] == [NAME]
    assert list(canary_files("cargo", {}, NONCE)) == [f"tests/{NAME}.rs"]


def test_node_canary_is_appended_to_each_hidden_test_file() -> None:
    hidden = {
        "test/q.hidden.test.js": 'import { test } from "node:test";\n// trailing comment',
        "src/x.js": "",
    }
    files = canary_files("node", hidden, NONCE)
    assert list(files) == ["test/q.hidden.test.js"]
    text = files["test/q.hidden.test.js"].decode()
    assert text.startswith(hidden["test/q.hidden.test.js"] + "\n")
    assert f'test("{NAME}"' in text and 'import("node:test")' in text


def test_script_has_no_canary() -> None:
    assert canary_files("script", {"hidden_check.py": "print(1)"}, NONCE) == {}


# --- reading the report back -----------------------------------------------------------------

JUNIT = b'<testsuites><testcase name="test_a" file="t.py" classname="t"/></testsuites>'
GO = '{"Action":"start","Package":"p"}\n{"Action":"run","Package":"p","Test":"TestA"}\n'


def test_read_report_per_runner() -> None:
    assert read_report("pytest", stdout="", stderr="", files={}) is None
    assert [
        c.name for c in read_report("pytest", stdout="", stderr="", files={"pytest.xml": JUNIT}).cases
    ] == ["test_a"]
    assert read_report("node", stdout="", stderr="", files={}) is None
    assert read_report("go", stdout="", stderr="go: cannot find main module", files={}) is None
    assert (
        read_report("cargo", stdout="", stderr="error[E0106]: missing lifetime specifier", files={}) is None
    )
    assert read_report("script", stdout="", stderr="", files={}) is None
    go = read_report("go", stdout=GO, stderr="", files={}, stdout_truncated=True)
    assert go is not None and go.problems[-1].startswith("stdout was cut to its tail")


def test_collect_reads_a_regular_report_file(tmp_path: Path) -> None:
    (tmp_path / "pytest.xml").write_bytes(JUNIT)
    report = collect("pytest", "", "", tmp_path)
    assert report is not None and [c.name for c in report.cases] == ["test_a"]
    assert collect("node", "", "", tmp_path) is None


def test_collect_never_follows_a_link_out_of_the_report_folder(tmp_path: Path) -> None:
    """Regression: code under test can put a symlink to a host file where the report goes."""
    secret = tmp_path / "secret.xml"
    secret.write_bytes(JUNIT)
    folder = tmp_path / "report"
    folder.mkdir()
    (folder / "pytest.xml").symlink_to(secret)
    report = collect("pytest", "", "", folder)
    assert report is not None and report.cases == ()
    assert "could not be read safely" in report.problems[0]


@pytest.mark.parametrize("kind", ["dir", "fifo"])
def test_collect_refuses_what_is_not_a_regular_file(tmp_path: Path, kind: str) -> None:
    if kind == "dir":
        (tmp_path / "node.jsonl").mkdir()
    else:
        os.mkfifo(tmp_path / "node.jsonl")
    report = collect("node", "", "", tmp_path)
    assert report is not None and report.cases == () and "could not be read safely" in report.problems[0]


def test_collect_caps_what_it_reads(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(runners, "MAX_REPORT_BYTES", 64)
    monkeypatch.setattr(reports.cases, "MAX_REPORT_BYTES", 64)
    (tmp_path / "pytest.xml").write_bytes(JUNIT + b" " * 10_000)
    report = collect("pytest", "", "", tmp_path)
    assert report is not None and any("over the 64 byte cap" in p for p in report.problems)
