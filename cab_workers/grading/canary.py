"""The canary: a test cab plants in the graded tree, named with a nonce drawn at grading time, that
must fail. It runs in the process (or test binary) of the hidden tests and after them where order is
defined, so a patch of the framework or its assertions that makes every test pass makes it pass too
(``cab_workers.scoring.evidence.judge``)::

    pytest  appended to each hidden test file (test_cab_canary_<nonce>, run after the file's
            tests, so a patch made while they ran is caught too), failing through pytest's
            assertion rewriting
    go      <dir>/cab_canary_<nonce>_test.go in each directory of hidden *_test.go files, with the
            package clause of the hidden test there (same test binary), failing with t.Fatal
    cargo   <crate>/tests/cab_canary_<nonce>.rs, failing with assert_eq!
    node    appended to each hidden test file: registered once the file has been evaluated, so it
            runs after the file's tests, in their process, with assertions looked up then
    tsc     as node, in TypeScript valid under ``strict``, appended to each hidden *.test.ts
    junit   <dir>/Cab_canary_<nonce>_Test.java beside each directory's hidden test classes, in
            their package (the launcher runs every class in one JVM; class order is not defined)
    ctest   TEST(CabCanary<i>, cab_canary_<nonce>) appended to each hidden C++ test file, so it is
            built into the same test executable (ctest reports ``CabCanary<i>.cab_canary_<nonce>``)

The node and tsc canaries try a list of assertions that must throw; the first that does not makes
the canary pass (and cab sees it). So do junit's. Why node's canary is appended rather than preloaded
or put in a file of its own: node runs every test file in its own process, so a canary file never
shares a process with the code under test; a ``--import`` preload does share it, but its test runs
before the test file (and the code it loads) has been evaluated, so a patch made at import slips
past it; registering the test at ``beforeExit`` races the runner's own exit handler, which cancels a
canary that passes.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import PurePosixPath

from cab_workers.scoring.evidence import go_package, is_test_file
from cab_workers.scoring.source_tests import strip_c_like

_NONCE = re.compile(r"^[0-9a-f]{8,64}$")


def canary_name(nonce: str) -> str:
    """The canary's name: the test of that name (pytest and go add ``test_`` / ``Test_``) must fail."""
    _check_nonce(nonce)
    return f"cab_canary_{nonce}"


def _check_nonce(nonce: str) -> None:
    if not _NONCE.match(nonce):
        raise ValueError(f"canary nonce must be 8 to 64 lowercase hex digits, got {nonce!r}")


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

_TSC_CANARY = """

// Appended by cab at scoring time: a test that must fail. It is registered once this file has been
// evaluated, so it runs after the file's own tests, in their process, with assertions looked up
// then. It passes only if the test runner or an assertion was patched.
void import("node:test").then(({{ test }}) =>
  import("node:assert").then((assertModule) => {{
    type CabCheck = (...args: unknown[]) => unknown;
    interface CabAssert {{
      strictEqual: CabCheck; deepStrictEqual: CabCheck; equal: CabCheck; deepEqual: CabCheck;
      notStrictEqual: CabCheck; ok: CabCheck; match: CabCheck; throws: CabCheck; fail: CabCheck;
      strict: {{ equal: CabCheck; deepEqual: CabCheck }};
    }}
    const cab = assertModule as unknown as CabAssert;
    test("{name}", () => {{
      const mustThrow: Array<() => unknown> = [
        () => cab.strictEqual(1, 2),
        () => cab.deepStrictEqual({{ a: 1 }}, {{ a: 2 }}),
        () => cab.strict.equal(1, 2),
        () => cab.strict.deepEqual([1], [2]),
        () => cab.equal(1, 2),
        () => cab.deepEqual({{ a: 1 }}, {{ a: 2 }}),
        () => cab.notStrictEqual(1, 1),
        () => cab.ok(false),
        () => cab.match("cab", /^canary$/),
        () => cab.throws(() => undefined),
        () => cab.fail("cab canary"),
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
  }}),
);
"""

_JUNIT_CANARY = """// Planted by cab at scoring time: this test must fail. If it passes, the test framework
// or its assertions were tampered with, and nothing this run reports is trusted.
{package}
class {cls} {{
    @org.junit.jupiter.api.Test
    void {name}() {{
        java.util.List<org.junit.jupiter.api.function.Executable> mustThrow = java.util.List.of(
            () -> org.junit.jupiter.api.Assertions.assertEquals(1, 2),
            () -> org.junit.jupiter.api.Assertions.assertEquals("cab", "canary"),
            () -> org.junit.jupiter.api.Assertions.assertTrue(false),
            () -> org.junit.jupiter.api.Assertions.assertNotNull(null),
            () -> org.junit.jupiter.api.Assertions.assertArrayEquals(new int[] {{1}}, new int[] {{2}}),
            () -> org.junit.jupiter.api.Assertions.assertThrows(RuntimeException.class, () -> {{ }}),
            () -> org.junit.jupiter.api.Assertions.fail("cab canary"));
        for (org.junit.jupiter.api.function.Executable check : mustThrow) {{
            try {{
                check.execute();
            }} catch (Throwable expected) {{
                continue;
            }}
            return; // an assertion let a false claim through: the canary passes, and cab sees it
        }}
        throw new AssertionError("cab canary: this test must fail");
    }}
}}
"""

_CTEST_CANARY = """

// Appended by cab at scoring time: a test that must fail, built into this file's test executable.
// It passes only if GoogleTest or its assertions were tampered with.
TEST(CabCanary{index}, {name}) {{
  const int observed = static_cast<int>(sizeof("cab")) - 1;
  EXPECT_EQ(observed, 4) << "cab canary: this test must fail";
  FAIL() << "cab canary: this test must fail";
}}
"""

_JAVA_PACKAGE = re.compile(r"^\s*package\s+([\w.]+)\s*;", re.MULTILINE)
_CPP_TESTS = (".cpp", ".cc", ".cxx")


def junit_canary_class(nonce: str) -> str:
    """The canary's class name (the launcher's default filter runs classes named ``*Test``)."""
    _check_nonce(nonce)
    return f"Cab_canary_{nonce}_Test"


def _java_package(text: str) -> str | None:
    m = _JAVA_PACKAGE.search(strip_c_like(text))
    return m.group(1) if m else None


def canary_files(runner: str, hidden_files: Mapping[str, str], nonce: str) -> dict[str, bytes]:
    """Work-dir files (relative path -> content) that plant the canary for ``runner``.

    ``hidden_files`` are the task's hidden test files (work-dir path -> text). For pytest, node,
    tsc and ctest the result replaces hidden test files with the canary appended (declare tests
    from the pristine texts); for go, cargo and junit it adds files. Empty for script tasks.
    """
    name = canary_name(nonce)
    tests = sorted(p for p in hidden_files if is_test_file(runner, p))
    if runner == "pytest":
        appendix = _PYTEST_CANARY.format(name=name)
        if not tests:
            return {f"test_{name}.py": appendix.lstrip().encode()}
        return {p: (hidden_files[p].rstrip("\n") + appendix).encode() for p in tests}
    if runner in ("node", "tsc"):
        appendix = (_NODE_CANARY if runner == "node" else _TSC_CANARY).format(name=name)
        return {p: (hidden_files[p].rstrip("\n") + appendix).encode() for p in tests}
    if runner == "ctest":
        cpp = [p for p in tests if p.endswith(_CPP_TESTS)]
        return {
            p: (hidden_files[p].rstrip("\n") + _CTEST_CANARY.format(index=i, name=name)).encode()
            for i, p in enumerate(cpp)
        }
    if runner == "junit":
        return _junit_canaries(tests, hidden_files, nonce)
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


def _junit_canaries(tests: list[str], hidden_files: Mapping[str, str], nonce: str) -> dict[str, bytes]:
    """One canary class per folder of hidden test classes, in their package."""
    cls = junit_canary_class(nonce)
    out = {}
    for d in sorted({_parent(p) for p in tests}):
        packages = [_java_package(hidden_files[p]) for p in tests if _parent(p) == d]
        package = next((p for p in packages if p), None)
        clause = f"package {package};\n" if package else ""
        text = _JUNIT_CANARY.format(package=clause, cls=cls, name=canary_name(nonce))
        out[_join(d, f"{cls}.java")] = text.encode()
    return out


def _parent(path: str) -> str:
    parent = PurePosixPath(path).parent.as_posix()
    return "" if parent == "." else parent


def _join(directory: str, name: str) -> str:
    return f"{directory}/{name}" if directory else name
