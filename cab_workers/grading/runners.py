"""Per runner: how the scorer container runs the hidden tests, what cab plants, what it reads back.

``invocation`` adds what makes the runner run every test and write a structured report where cab
collects it (``REPORT_DIR``, mounted writable, read by cab after the container exits), without
changing what the task's test command selects::

    pytest  PYTEST_ADDOPTS: --junitxml=<report>/pytest.xml -o junit_family=xunit1 (it carries
            file names), --rootdir=/work (names relative to the work dir), -p no:cacheprovider
            (/work is read-only), --continue-on-collection-errors (a broken file does not stop
            the others)
    go      GOFLAGS=-json (go test's event stream on stdout; the env is cab's, so nothing in
            /work can change it), GOWORK=off
    cargo   --no-fail-fast (else cargo stops at the first failing test binary: the canary), then
            -- -Z unstable-options --format json (libtest's JSON lines on stdout), with
            RUSTC_BOOTSTRAP=1 for the unstable flag on the stable toolchain, CARGO_TERM_COLOR=never
    node    --test-reporter=spec to stdout, and cab's reporter (cab_reporter.mjs, from the
            read-only SUPPORT_DIR) to <report>/node.jsonl: node 20's junit reporter names no
            files. As node arguments when the command is ``node ...``, else in NODE_OPTIONS

``canary_files`` plants a test that must fail, named with a nonce drawn at grading time
(``canary_name``), in the process of the hidden tests and after them where order is defined::

    pytest  appended to each hidden test file (test_cab_canary_<nonce>, run after the file's
            tests, so a patch made while they ran is caught too), failing through pytest's
            assertion rewriting
    go      <dir>/cab_canary_<nonce>_test.go in each directory of hidden *_test.go files, with the
            package clause of the hidden test there (same test binary), failing with t.Fatal
    cargo   <crate>/tests/cab_canary_<nonce>.rs, failing with assert_eq!
    node    appended to each hidden test file: registered once the file has been evaluated, so it
            runs after the file's tests, in their process, with assertions looked up then

Why node's canary is appended rather than preloaded or put in a file of its own: node runs every
test file in its own process, so a canary file never shares a process with the code under test; a
``--import`` preload does share it, but its test runs before the test file (and the code it loads)
has been evaluated, so a patch made at import slips past it; registering the test at
``beforeExit`` races the runner's own exit handler, which cancels a canary that passes.

Experiments (cab/base, /work read-only, uid 1000, no network) showed none of the four runners needs
to write in /work with these settings, and exit codes of 1 (pytest, go, node) and 101 (cargo) when
only the canary fails.
"""

from __future__ import annotations

import os
import re
import shlex
import stat
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

from cab_core.paths import CONTAINER_WORK
from cab_workers.cell.hidden_tests import REPORT_DIR, SUPPORT_DIR
from cab_workers.scoring.evidence import go_package, is_test_file
from cab_workers.scoring.reports import (
    MAX_REPORT_BYTES,
    RunnerReport,
    parse_go_test_json,
    parse_libtest_json,
    parse_node_report,
    parse_pytest_junit,
)

REPORT_FILES: Mapping[str, str] = {"pytest": "pytest.xml", "node": "node.jsonl"}
"""The report file each runner writes in the report folder; go and cargo report on stdout."""

NODE_REPORTER = "cab_reporter.mjs"
"""cab's node --test reporter, as named in the support folder."""

_HERE = Path(__file__).resolve().parent
_NONCE = re.compile(r"^[0-9a-f]{8,64}$")
_NODE_PROGRAMS = ("node", "nodejs")


@dataclass(frozen=True)
class Invocation:
    """How to run one runner in the scorer container."""

    argv: list[str]
    """The test command with the runner's report flags added."""
    env: dict[str, str]
    """Variables to set over the scorer's fixed environment."""
    report_files: tuple[str, ...] = ()
    """Container paths the runner writes its report to (go and cargo report on stdout)."""
    support_files: dict[str, bytes] = field(default_factory=dict)
    """Files to mount read-only under the support folder, by path relative to it."""


def canary_name(nonce: str) -> str:
    """The canary's name: the test of that name (pytest and go add ``test_`` / ``Test_``) must fail."""
    _check_nonce(nonce)
    return f"cab_canary_{nonce}"


def _check_nonce(nonce: str) -> None:
    if not _NONCE.match(nonce):
        raise ValueError(f"canary nonce must be 8 to 64 lowercase hex digits, got {nonce!r}")


def invocation(
    runner: str,
    test_command: Sequence[str],
    report_dir: str = REPORT_DIR,
    *,
    support_dir: str = SUPPORT_DIR,
) -> Invocation:
    """The test command and environment that make ``runner`` run every test and report each one;
    ``script`` runs unchanged, with Python in safe-path mode. Pure but for reading cab's node
    reporter from this package."""
    argv = list(test_command)
    if not argv:
        raise ValueError("test command is empty")
    if runner == "pytest":
        opts = [
            f"--junitxml={report_dir}/{REPORT_FILES['pytest']}",
            *("-o", "junit_family=xunit1", "-o", "junit_logging=no", "-p", "no:cacheprovider"),
            f"--rootdir={CONTAINER_WORK}",
            "--continue-on-collection-errors",
        ]
        return Invocation(
            argv, {"PYTEST_ADDOPTS": shlex.join(opts)}, (f"{report_dir}/{REPORT_FILES['pytest']}",)
        )
    if runner == "go":
        return Invocation(argv, {"GOFLAGS": "-json", "GOWORK": "off"})
    if runner == "cargo":
        return Invocation(_cargo_argv(argv), {"RUSTC_BOOTSTRAP": "1", "CARGO_TERM_COLOR": "never"})
    if runner == "node":
        return _node(argv, report_dir, support_dir)
    if runner == "script":
        # the script is the task's; Python does not put its folder (the agent's /work) first on
        # sys.path, so no module there shadows the standard library (a check that imports the
        # work dir's code puts it on sys.path itself)
        return Invocation(argv, {"PYTHONSAFEPATH": "1"})
    raise ValueError(f"unknown test runner {runner!r}")


def _cargo_argv(argv: list[str]) -> list[str]:
    """``cargo [opts] test [args] --no-fail-fast -- [test args] -Z unstable-options --format json``;
    a ``--format``/``-q`` of the test binaries is dropped (libtest takes one format)."""
    split = argv.index("--") if "--" in argv else len(argv)
    cargo_args, test_args = argv[:split], argv[split + 1 :]
    if "test" not in cargo_args[1:]:
        raise ValueError(f"the cargo runner needs a `cargo test` command, got {argv!r}")
    if "--no-fail-fast" not in cargo_args:
        cargo_args.append("--no-fail-fast")
    kept: list[str] = []
    skip = False
    for arg in test_args:
        if skip:
            skip = False
        elif arg == "--format":
            skip = True
        elif not (arg.startswith("--format=") or arg in ("-q", "--quiet")):
            kept.append(arg)
    return [*cargo_args, "--", *kept, "-Z", "unstable-options", "--format", "json"]


def _node(argv: list[str], report_dir: str, support_dir: str) -> Invocation:
    flags = [
        "--test-reporter=spec",
        "--test-reporter-destination=stdout",
        f"--test-reporter={support_dir}/{NODE_REPORTER}",
        f"--test-reporter-destination={report_dir}/{REPORT_FILES['node']}",
    ]
    report = (f"{report_dir}/{REPORT_FILES['node']}",)
    support = {NODE_REPORTER: (_HERE / NODE_REPORTER).read_bytes()}
    if PurePosixPath(argv[0]).name in _NODE_PROGRAMS:
        return Invocation([argv[0], *flags, *argv[1:]], {}, report, support)
    return Invocation(argv, {"NODE_OPTIONS": " ".join(flags)}, report, support)


# --- the canary ------------------------------------------------------------------------------

_PYTEST_CANARY = '''


def test_{name}():
    """Appended by cab at scoring time; must fail. It passes only if pytest or its assertions
    were patched, and then nothing this run reports is trusted."""
    observed = len("cab")
    assert observed == 4, "cab canary: this test must fail"
'''

_GO_CANARY = """// Planted by cab at scoring time: this test must fail. If it passes, the test binary was
// tampered with, and nothing this run reports is trusted.

package {package}

import "testing"

func Test_{name}(t *testing.T) {{
\tt.Fatal("cab canary: this test must fail")
}}
"""

_CARGO_CANARY = """//! Planted by cab at scoring time: this test must fail. If it passes, the test harness was
//! tampered with, and nothing this run reports is trusted.

#[test]
fn {name}() {{
    let observed = "cab".len();
    assert_eq!(observed, 4, "cab canary: this test must fail");
}}
"""

_NODE_CANARY = """

// Appended by cab at scoring time: a test that must fail. It is registered once this file has been
// evaluated (a dynamic import works in ES modules and CommonJS alike), so it runs after the file's
// own tests, in their process. It passes only if the test runner or an assertion was patched.
;import("node:test").then(({{ test }}) => import("node:assert").then(({{ default: assert }}) => {{
  test("{name}", () => {{
    const mustThrow = [
      () => assert.strictEqual(1, 2),
      () => assert.deepStrictEqual({{ a: 1 }}, {{ a: 2 }}),
      () => assert.strict.equal(1, 2),
      () => assert.strict.deepEqual([1], [2]),
      () => assert.equal(1, 2),
      () => assert.deepEqual({{ a: 1 }}, {{ a: 2 }}),
      () => assert.notStrictEqual(1, 1),
      () => assert.ok(false),
      () => assert(false),
      () => assert.match("cab", /^canary$/),
      () => assert.throws(() => {{}}),
      () => assert.fail("cab canary"),
    ];
    for (const check of mustThrow) {{
      try {{
        check();
      }} catch {{
        continue;
      }}
      return; // an assertion let a false claim through: the canary passes, and cab sees it
    }}
    throw new Error("cab canary: this test must fail");
  }});
}}));
"""


def canary_files(runner: str, hidden_files: Mapping[str, str], nonce: str) -> dict[str, bytes]:
    """Work-dir files (relative path -> content) that plant the canary for ``runner``.

    ``hidden_files`` are the task's hidden test files (work-dir path -> text). For pytest and node
    the result replaces hidden test files with the canary appended (declare tests from the
    pristine texts); for go and cargo it adds files. Empty for script tasks.
    """
    name = canary_name(nonce)
    tests = sorted(p for p in hidden_files if is_test_file(runner, p))
    if runner == "pytest":
        appendix = _PYTEST_CANARY.format(name=name)
        if not tests:
            return {f"test_{name}.py": appendix.lstrip().encode()}
        return {p: (hidden_files[p].rstrip("\n") + appendix).encode() for p in tests}
    if runner == "node":
        appendix = _NODE_CANARY.format(name=name)
        return {p: (hidden_files[p].rstrip("\n") + appendix).encode() for p in tests}
    if runner == "go":
        out = {}
        for d in sorted({_parent(p) for p in tests}):
            packages = [go_package(hidden_files[p]) for p in tests if _parent(p) == d]
            package = next((p for p in packages if p), None)
            if package:
                out[_join(d, f"{name}_test.go")] = _GO_CANARY.format(package=package, name=name).encode()
        return out
    if runner == "cargo":
        crates = sorted({p[: p.rindex("tests/")] for p in tests}) or [""]
        return {f"{c}tests/{name}.rs": _CARGO_CANARY.format(name=name).encode() for c in crates}
    return {}


def _parent(path: str) -> str:
    parent = PurePosixPath(path).parent.as_posix()
    return "" if parent == "." else parent


def _join(directory: str, name: str) -> str:
    return f"{directory}/{name}" if directory else name


# --- reading the report back -----------------------------------------------------------------


def read_report(
    runner: str,
    *,
    stdout: str,
    stderr: str,
    files: Mapping[str, bytes],
    stdout_truncated: bool = False,
) -> RunnerReport | None:
    """The runner's report from its output and report files (name in the report folder -> bytes);
    None when the runner wrote none (it never got to run tests, e.g. a build failure).

    ``stdout_truncated`` (the sandbox kept only the tail) is a problem for go and cargo, whose
    report is stdout.
    """
    if runner in REPORT_FILES:
        data = files.get(REPORT_FILES[runner])
        if data is None:
            return None
        return parse_pytest_junit(data) if runner == "pytest" else parse_node_report(data)
    if runner == "go":
        report = parse_go_test_json(stdout)
    elif runner == "cargo":
        report = parse_libtest_json(stdout, stderr)
    else:
        return None
    if not report.cases and not report.problems:
        return None
    if stdout_truncated:
        cut = "stdout was cut to its tail, so the report's beginning is lost"
        report = RunnerReport(cases=report.cases, problems=(*report.problems, cut))
    return report


def collect(
    runner: str, stdout: str, stderr: str, report_dir: Path, *, stdout_truncated: bool = False
) -> RunnerReport | None:
    """``read_report`` over the host folder that was mounted as the report folder.

    The folder was writable by the code under test, so a report file is read only if it is a
    regular file (never through a link), and at most ``MAX_REPORT_BYTES`` + 1 bytes of it.
    """
    files: dict[str, bytes] = {}
    name = REPORT_FILES.get(runner)
    if name is not None:
        try:
            data = _read_regular(report_dir / name)
        except OSError as exc:
            return RunnerReport(problems=(f"report file {name} could not be read safely: {exc.strerror}",))
        if data is not None:
            files[name] = data
    return read_report(runner, stdout=stdout, stderr=stderr, files=files, stdout_truncated=stdout_truncated)


def _read_regular(path: Path) -> bytes | None:
    """The file's bytes (capped), None when absent; OSError when it is a link or not a regular file."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0))
    except FileNotFoundError:
        return None
    with os.fdopen(fd, "rb") as fh:
        if not stat.S_ISREG(os.fstat(fh.fileno()).st_mode):
            raise OSError(0, "not a regular file")
        return fh.read(MAX_REPORT_BYTES + 1)
