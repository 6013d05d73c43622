"""Per runner: how the scorer container runs the hidden tests and what cab reads back (the canary
cab plants is in ``canary``).

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
    junit   appended: --reports-dir=<report>/junit (the console launcher's TEST-<engine>.xml)
            and --config=junit.jupiter.extensions.autodetection.enabled=false (over any
            junit-platform.properties)
    ctest   appended: --output-junit <report>/ctest.xml; GTEST_OUTPUT=xml:<report>/gtest/ (each
            gtest process's own report, which confirms ctest's passes and gives source files)
    tsc     node's four reporter flags appended (so they reach ``node --test "$@"``, not tsc);
            NODE_PATH=/usr/local/lib/node_modules (the image's global npm packages, for the
            compiled tests in /tmp/cab-ts, outside any node_modules tree)

The junit, ctest and tsc test commands must end by exec'ing their runner with the arguments cab
appends (``sh -c '... && exec ctest --output-on-failure "$@"' sh``); README "Scores that cannot
be forged" gives the exact shapes.

Experiments (cab/base and the fixture task images, /work read-only, uid 1000, no network) showed
no runner needs to write in /work with these settings, and exit codes of 1 (pytest, go, node,
junit, tsc), 101 (cargo) and 8 (ctest) when only the canary fails.
"""

from __future__ import annotations

import fnmatch
import os
import shlex
import stat
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

from cab_core.paths import CONTAINER_WORK
from cab_workers.cell.hidden_tests import REPORT_DIR, SUPPORT_DIR
from cab_workers.grading.canary import canary_files, canary_name
from cab_workers.scoring.reports import (
    MAX_REPORT_BYTES,
    RunnerReport,
    parse_ctest_report,
    parse_go_test_json,
    parse_junit_platform,
    parse_libtest_json,
    parse_node_report,
    parse_pytest_junit,
    parse_tsc_report,
)

__all__ = [
    "REPORT_FILES",
    "Invocation",
    "canary_files",
    "canary_name",
    "collect",
    "invocation",
    "read_report",
]

REPORT_FILES: Mapping[str, str] = {
    "pytest": "pytest.xml",
    "node": "node.jsonl",
    "tsc": "node.jsonl",
    "ctest": "ctest.xml",
}
"""The report file each runner writes in the report folder; go and cargo report on stdout."""
REPORT_DIRS: Mapping[str, tuple[str, str]] = {"junit": ("junit", "TEST-*.xml"), "ctest": ("gtest", "*.xml")}
"""Report folders (and the files read in them) a runner writes one file per engine or process to."""
MAX_REPORT_PARTS = 10_000
"""Files read from one report folder; more is a problem (an honest run writes far fewer)."""
TSC_NODE_PATH = "/usr/local/lib/node_modules"
"""Where ``npm install -g`` puts packages in cab's images: the tsc runner's NODE_PATH."""
JUNIT_FLAGS = ("--config=junit.jupiter.extensions.autodetection.enabled=false",)
"""Console launcher settings cab adds after the task's (``--config`` beats junit-platform.properties)."""

GO_CACHE_SEED = "/opt/cab/gocache"
"""The base image's Go build cache of the standard library (``go build std`` at image build time)."""

GO_SEEDED = (
    "sh",
    "-c",
    f'mkdir -p "$GOCACHE" && if [ -d {GO_CACHE_SEED} ]; then cp -R {GO_CACHE_SEED}/. "$GOCACHE"; fi; '
    'exec "$@"',
    "cab-go",
)
"""Prefix of go's test command: the scorer's empty ``GOCACHE`` starts as a copy of the image's standard
library build (read-only in the image, so no cell can poison another's), instead of compiling the standard
library again in every run (tens of seconds on one CPU)."""

NODE_REPORTER = "cab_reporter.mjs"
"""cab's node --test reporter, as named in the support folder."""

_HERE = Path(__file__).resolve().parent
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
        return Invocation([*GO_SEEDED, *argv], {"GOFLAGS": "-json", "GOWORK": "off"})
    if runner == "cargo":
        return Invocation(_cargo_argv(argv), {"RUSTC_BOOTSTRAP": "1", "CARGO_TERM_COLOR": "never"})
    if runner == "node":
        return _node(argv, report_dir, support_dir)
    if runner == "tsc":
        node = _node(["node"], report_dir, support_dir)
        return Invocation(
            [*argv, *node.argv[1:]], {"NODE_PATH": TSC_NODE_PATH}, node.report_files, node.support_files
        )
    if runner == "junit":
        return Invocation([*argv, f"--reports-dir={report_dir}/junit", *JUNIT_FLAGS], {})
    if runner == "ctest":
        report = f"{report_dir}/{REPORT_FILES['ctest']}"
        return Invocation(
            [*argv, "--output-junit", report], {"GTEST_OUTPUT": f"xml:{report_dir}/gtest/"}, (report,)
        )
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


# --- reading the report back -----------------------------------------------------------------


def read_report(
    runner: str,
    *,
    stdout: str,
    stderr: str,
    files: Mapping[str, bytes],
    stdout_truncated: bool = False,
) -> RunnerReport | None:
    """The runner's report from its output and report files (path in the report folder -> bytes,
    ``junit/TEST-junit-jupiter.xml`` for a file in a report sub-folder); None when the runner wrote
    none (it never got to run tests, e.g. a build failure).

    ``stdout_truncated`` (the sandbox kept only the tail) is a problem for go and cargo, whose
    report is stdout.
    """
    if runner in REPORT_DIRS and runner not in REPORT_FILES:
        folder = REPORT_DIRS[runner][0] + "/"
        parts = {k[len(folder) :]: v for k, v in files.items() if k.startswith(folder)}
        return parse_junit_platform(parts) if parts else None
    if runner in REPORT_FILES:
        data = files.get(REPORT_FILES[runner])
        if data is None:
            return None
        if runner == "ctest":
            folder = REPORT_DIRS["ctest"][0] + "/"
            gtest = {k[len(folder) :]: v for k, v in files.items() if k.startswith(folder)}
            return parse_ctest_report(data, gtest)
        parse = {"pytest": parse_pytest_junit, "tsc": parse_tsc_report}.get(runner, parse_node_report)
        return parse(data)
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
    regular file (never through a link), at most ``MAX_REPORT_BYTES`` + 1 bytes of it, and a
    report sub-folder only if it is a real folder, at most ``MAX_REPORT_PARTS`` files of it.
    """
    files: dict[str, bytes] = {}
    name = REPORT_FILES.get(runner)
    try:
        if name is not None:
            data = _read_regular(report_dir / name)
            if data is not None:
                files[name] = data
        if runner in REPORT_DIRS:
            folder, pattern = REPORT_DIRS[runner]
            files.update(_read_folder(report_dir, folder, pattern))
    except OSError as exc:
        return RunnerReport(
            problems=(f"report file {exc.filename or name} could not be read safely: {exc.strerror}",)
        )
    return read_report(runner, stdout=stdout, stderr=stderr, files=files, stdout_truncated=stdout_truncated)


def _read_regular(path: Path, dir_fd: int | None = None) -> bytes | None:
    """The file's bytes (capped), None when absent; OSError when it is a link or not a regular file."""
    flags = os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0)
    try:
        fd = os.open(path, flags, dir_fd=dir_fd)
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise OSError(exc.errno, exc.strerror, str(path)) from exc
    with os.fdopen(fd, "rb") as fh:
        if not stat.S_ISREG(os.fstat(fh.fileno()).st_mode):
            raise OSError(0, "not a regular file", str(path))
        return fh.read(MAX_REPORT_BYTES + 1)


def _read_folder(report_dir: Path, folder: str, pattern: str) -> dict[str, bytes]:
    """``folder/<name>`` -> bytes for the files of ``report_dir/folder`` matching ``pattern``
    (none when the folder is absent); OSError when it or one of them is a link or not regular."""
    flags = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | getattr(os, "O_CLOEXEC", 0)
    try:
        dfd = os.open(report_dir / folder, flags)
    except FileNotFoundError:
        return {}
    except OSError as exc:
        raise OSError(exc.errno, "not a real folder", folder) from exc
    try:
        names = sorted(n for n in os.listdir(dfd) if fnmatch.fnmatchcase(n, pattern))
        if len(names) > MAX_REPORT_PARTS:
            raise OSError(0, f"more than {MAX_REPORT_PARTS} files", folder)
        out: dict[str, bytes] = {}
        for n in names:
            data = _read_regular(Path(n), dir_fd=dfd)
            if data is not None:
                out[f"{folder}/{n}"] = data
        return out
    finally:
        os.close(dfd)
