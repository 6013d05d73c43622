"""The exploit ledger: scripted ways to forge a pass without solving the task, each a ``Plan``.

A benchmark whose pass an agent can forge is worse than none, so the tricks that forged ``pass = 1``
(or the partial score) on an unsolved task before issue 12, and others of their classes, are kept
here as data. Each entry starts from the shipped
work dir, never applies the reference solution, and is served by the scripted endpoint as model
``scripted/forge-<name>``: one shell command, then "done" (see ``behaviours``). ``cab tasks
validate`` applies every entry that fits a task to a materialised work dir with ``apply_plan`` and
grades it; a task passes validation only when every entry scores pass 0.

The package: ``builders`` (one function per entry, task -> writes and links), ``compiled`` (the
junit, ctest and tsc runners' builders, chained with the generic ones by ``either``), ``snippets``
(what the entries read from a task and the code they write, per language), ``standins`` (passing
Java, C++ and TypeScript test files), ``markup`` (the entry against the result pages). ``apply_plan`` (from
``scripts``) applies a plan to a folder on the host without a shell.

    entry                runners                      what the agent writes
    conftest-exitstatus  pytest                       conftest.py (root, test dirs): exitstatus = 0
    pytest-config        pytest                       addopts = --collect-only in pytest.ini,
                                                      pyproject.toml, setup.cfg, tox.ini
    go-testmain          go                           zz_main_test.go: TestMain exits 0
    stdlib-shadow        pytest, script (python)      hashlib.py, pytest.py, _pytest/, ... exit 0
    exit-at-import       pytest, go, cargo, node,     an expected change that exits 0 when loaded
                         junit, ctest, tsc            (a Java static block, a C++ static initialiser)
    fake-summary         all                          code that prints a fake passing summary
    hidden-path-plant    all                          passing files at the hidden test paths
    pth-file             pytest, script (python)      cab.pth running os._exit(0)
    dotenv-pythonpath    pytest, script (python)      .env PYTHONPATH, sitecustomize/usercustomize
    go-mod-replace       go                           go.mod replace -> ./evil, toolchain, go.work,
                                                      vendor/modules.txt
    node-preload         node                         package.json scripts/imports/exports, .npmrc,
                                                      node.config.json preloading evil.cjs/.mjs
    exit-test-file       pytest, go, node, cargo,     a new test file that exits 0 when loaded
                         junit, ctest, tsc
    script-override      tasks run through make, npm  the Makefile target / npm script / named
                         or a work-dir script         script becomes ``exit 0``
    symlink-swap         all                          protected tests -> links to passing copies;
                                                      the first hidden test's folder -> ESCAPE_ROOT
    framework-patch      pytest, node, tsc            an expected change that no-ops the framework
    junit-extension      junit                        an extension skipping every test body, registered
                                                      by META-INF/services, properties, @ExtendWith
    junit-halt-hook      junit                        a shutdown hook halting the JVM with status 0
    cmake-override       ctest                        CMakeLists.txt / CTestCustom.cmake registering the
                                                      hidden test names as ``true``; a tests/ main()
    gtest-main           ctest                        the code under test defines main(): lists the
                                                      tests, runs none, exits 0
    tsc-config           tsc                          tsconfig.json compiling no test, package.json
                                                      "type": "module", a test file patching node:test
    page-markup          all                          files whose names and contents carry script,
                                                      event handlers and a fake pass, for the result
                                                      pages (cab site) that show them

Each entry's ``proves`` says which defence a pass of 0 proves. ``framework-patch`` measures a
documented limit: code under test runs inside the test process.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from cab_endpoint.ledger import builders as b
from cab_endpoint.ledger import compiled as c
from cab_endpoint.ledger import markup as m
from cab_endpoint.ledger.builders import ESCAPE_ROOT
from cab_endpoint.ledger.snippets import RUNNERS, Write
from cab_endpoint.scripts import Plan, apply_plan
from cab_endpoint.task_index import TaskEntry

__all__ = ["ESCAPE_ROOT", "LEDGER", "PREFIX", "RUNNERS", "Exploit", "apply_plan", "by_name"]

PREFIX = "forge-"
"""Model ids ``scripted/forge-<name>`` serve the entry ``<name>``."""

Build = Callable[[TaskEntry], Plan | list[Write]]


@dataclass(frozen=True)
class Exploit:
    """One way to forge a pass, as data: where it applies and the plan it asks the agent to run."""

    name: str
    """The entry's name; the model ``scripted/forge-<name>`` serves it."""
    proves: str
    """One sentence: the defence that a pass of 0 under this entry proves."""
    runners: tuple[str, ...]
    """The ``test_runner`` values of the tasks it can apply to."""
    build: Build = field(repr=False, compare=False)
    """The writes (or a whole plan, for links) for a task; empty when the task offers nothing to attack."""

    def _built(self, task: TaskEntry) -> Plan:
        if task.test_runner not in self.runners:
            return Plan(task.task_id)
        built = self.build(task)
        return built if isinstance(built, Plan) else Plan(task.task_id, writes=tuple(built))

    def applies(self, task: TaskEntry) -> bool:
        """True when the task's runner is one of ``runners`` and the entry has something to change."""
        built = self._built(task)
        return bool(built.writes or built.symlinks)

    def plan(self, task: TaskEntry) -> Plan:
        """The changes, starting from the shipped work dir; ValueError when the entry does not apply."""
        built = self._built(task)
        if not (built.writes or built.symlinks):
            raise ValueError(f"exploit {self.name!r} does not apply to task {task.task_id!r}")
        return built


LEDGER: tuple[Exploit, ...] = (
    Exploit(
        "conftest-exitstatus",
        "An agent's conftest.py never runs at scoring: harness files are reset before the hidden tests.",
        ("pytest",),
        b.conftest_exitstatus,
    ),
    Exploit(
        "pytest-config",
        "Agent-written pytest settings (pytest.ini, pyproject.toml, setup.cfg, tox.ini) are reset, and a "
        "run that collects without running tests is no pass.",
        ("pytest",),
        b.pytest_config,
    ),
    Exploit(
        "go-testmain",
        "A TestMain the task did not ship is removed, and a test binary that exits 0 without running the "
        "hidden tests is no pass.",
        ("go",),
        b.go_testmain,
    ),
    Exploit(
        "stdlib-shadow",
        "Modules in /work that shadow the standard library or pytest are removed and interpreters run "
        "isolated, so they never load.",
        ("pytest", "script"),
        b.stdlib_shadow,
    ),
    Exploit(
        "exit-at-import",
        "A process that exits 0 before its tests run is no pass: each hidden test must be reported passed.",
        ("pytest", "go", "cargo", "node", "junit", "ctest", "tsc"),
        c.either(b.exit_at_import, c.exit_at_import),
    ),
    Exploit(
        "fake-summary",
        "Summary lines printed by the agent's code never change pass, partial_score, tests_passed or "
        "tests_total: only the runner's structured report counts.",
        RUNNERS,
        c.either(b.fake_summary, c.fake_summary),
    ),
    Exploit(
        "hidden-path-plant",
        "Files the agent writes at the hidden test paths are replaced by the real hidden tests.",
        RUNNERS,
        b.hidden_path_plant,
    ),
    Exploit(
        "pth-file",
        "A .pth file in /work is removed and never processed at scoring.",
        ("pytest", "script"),
        b.pth_file,
    ),
    Exploit(
        "dotenv-pythonpath",
        "The scorer's environment is fixed by cab: a .env PYTHONPATH and sitecustomize/usercustomize in "
        "/work are not read.",
        ("pytest", "script"),
        b.dotenv_pythonpath,
    ),
    Exploit(
        "go-mod-replace",
        "go.mod replace/toolchain lines, go.work and vendor/ written by the agent are reset before go test.",
        ("go",),
        b.go_mod_replace,
    ),
    Exploit(
        "node-preload",
        "package.json test fields, .npmrc and node config files cannot preload code into the scorer's run.",
        ("node",),
        b.node_preload,
    ),
    Exploit(
        "exit-test-file",
        "A test file the task did not ship is removed (or cannot end the run early with exit 0).",
        ("pytest", "go", "node", "cargo", "junit", "ctest", "tsc"),
        c.either(b.exit_test_file, c.exit_test_file),
    ),
    Exploit(
        "script-override",
        "The Makefile, npm script or work-dir script that the test command runs is reset to the task's own.",
        RUNNERS,
        b.script_override,
    ),
    Exploit(
        "symlink-swap",
        "Protected tests swapped for symlinks are restored, and a hidden test folder turned into a link "
        f"to {ESCAPE_ROOT} is neither followed on the host nor a pass.",
        RUNNERS,
        b.symlink_swap,
    ),
    Exploit(
        "framework-patch",
        "Code under test that patches the test framework at import (every test body a no-op) still scores "
        "pass 0 (a documented limit if it ever passes).",
        ("pytest", "node", "tsc"),
        c.either(b.framework_patch, c.framework_patch),
    ),
    Exploit(
        "junit-extension",
        "JUnit extensions and listeners registered by META-INF/services, junit-platform.properties or an "
        "agent test class never load: those files are reset, agent test classes left out, autodetection off.",
        ("junit",),
        c.junit_extension,
    ),
    Exploit(
        "junit-halt-hook",
        "A JVM that halts with status 0 after the launcher reported a failed canary is no pass: the exit "
        "status must be the launcher's own.",
        ("junit",),
        c.junit_halt_hook,
    ),
    Exploit(
        "cmake-override",
        "CMakeLists.txt, *.cmake and test sources the agent writes are reset or left out, so ctest runs the "
        "task's gtest executables, each pass confirmed by gtest's own report.",
        ("ctest",),
        c.cmake_override,
    ),
    Exploit(
        "gtest-main",
        "A main() in the code under test that skips the tests is no pass: ctest passes are confirmed by "
        "gtest's own report, and the canary then passes.",
        ("ctest",),
        c.gtest_main,
    ),
    Exploit(
        "tsc-config",
        "tsconfig.json, package.json test fields and agent test files are reset or left out, so tsc compiles "
        "and node runs the hidden tests as the task set them up.",
        ("tsc",),
        c.tsc_config,
    ),
    Exploit(
        "page-markup",
        "Markup the agent writes reaches cab's result pages as text: no page runs agent script or shows "
        "a score the store does not hold.",
        RUNNERS,
        m.page_markup,
    ),
)
"""Every entry, in the order of the module docstring's table."""


def by_name(name: str) -> Exploit | None:
    """The entry called ``name`` (without ``forge-``); None for an unknown name."""
    return next((e for e in LEDGER if e.name == name), None)
