"""Ledger builders for the compiled runners (junit, ctest, tsc): their share of the generic entries
(``exit-at-import``, ``fake-summary``, ``exit-test-file``, ``framework-patch``) and the entries of
their own. Each returns nothing for a task of another runner; ``either`` chains a generic builder
with the one here.

    junit-extension  a JUnit extension that skips every test body, registered through
                     META-INF/services and junit-platform.properties (autodetection on), and a
                     test class that registers it with @ExtendWith
    junit-halt-hook  a shutdown hook in the code under test that halts the JVM with status 0
                     after the launcher wrote its report (exit code forged)
    cmake-override   CMakeLists.txt and a CTestCustom.cmake that register every hidden test name
                     as ``true``, and a tests/ source that defines main()
    gtest-main       the code under test defines main(): it lists tests for gtest_discover_tests
                     and otherwise exits 0 without running any (overrides gtest_main)
    tsc-config       tsconfig.json that compiles no test, package.json "type": "module", and a
                     test file that patches node:test so that every test passes
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable

from cab_endpoint.ledger.snippets import Write, code_changes, extended, folder_of, inside
from cab_endpoint.scripts import _safe_rel
from cab_endpoint.task_index import TaskEntry

Builder = Callable[[TaskEntry], list[Write]]

JAVA = (".java",)
CPP = (".cpp", ".cc", ".cxx")
TS = (".ts", ".mts", ".cts")

_JAVA_BODY = re.compile(r"\b(?:class|enum|record)\s+\w+[^{;]*\{")
_JAVA_PACKAGE = re.compile(r"^\s*package\s+([\w.]+)\s*;", re.M)
_FAKE_JUNIT = (
    "[        12 tests found           ]\n[        12 tests successful      ]\n"
    "[         0 tests failed          ]\n"
)
_FAKE_CTEST = "100% tests passed, 0 tests failed out of 12\n\nTotal Test time (real) =   0.01 sec\n"
_FAKE_NODE = "# tests 99\n# pass 99\n# fail 0\n\u2139 tests 99\n\u2139 pass 99\n\u2139 fail 0\n"


def _file(rel: str, text: str) -> Write:
    return (_safe_rel(rel), text.encode("utf-8"), False)


def either(*builders: Builder) -> Builder:
    """The first builder's writes that are not empty (each handles its own runners)."""

    def build(task: TaskEntry) -> list[Write]:
        return next((w for b in builders if (w := b(task))), [])

    return build


def _in_java_class(text: str, member: str) -> str:
    """``member`` inserted at the top of the first class, enum or record body of ``text``."""
    m = _JAVA_BODY.search(text)
    if m is None:
        return text + f"\nclass CabLedger {{\n{member}}}\n"
    return text[: m.end()] + "\n" + member + text[m.end() :]


def _java_test_dir(task: TaskEntry) -> tuple[str, str]:
    """(folder, package) of the first hidden or shipped Java test class."""
    tests = [p for p in (*task.hidden_files(), *task.workdir_files()) if p.endswith("Test.java")]
    for rel in tests:
        text = task.hidden_text(rel) or task.workdir_text(rel) or ""
        found = _JAVA_PACKAGE.search(text)
        return folder_of(rel), found.group(1) if found else ""
    return "src/test/java", ""


def _java_class(folder: str, package: str, name: str, body: str, imports: str = "") -> Write:
    head = f"package {package};\n\n" if package else ""
    return _file(inside(folder, f"{name}.java"), f"{head}{imports}class {name} {{\n{body}}}\n")


def _cpp_append(text: str, code: str) -> str:
    return text + ("" if text.endswith("\n") else "\n") + code


def exit_at_import(task: TaskEntry) -> list[Write]:
    if task.test_runner == "junit":
        member = "    static {\n        System.exit(0);\n    }\n"
        return [_file(p, _in_java_class(t, member)) for p, t in code_changes(task, JAVA)]
    if task.test_runner == "ctest":
        code = "#include <cstdlib>\nnamespace {\nconst int cab_ledger_exit = (std::exit(0), 0);\n}\n"
        return [_file(p, _cpp_append(t, code)) for p, t in code_changes(task, CPP)]
    if task.test_runner == "tsc":
        return [_file(p, "process.exit(0);\n" + t) for p, t in code_changes(task, TS)]
    return []


def fake_summary(task: TaskEntry) -> list[Write]:
    if task.test_runner == "junit":
        fake = json.dumps(_FAKE_JUNIT)
        member = (
            f"    static {{\n        System.out.print({fake});\n        System.err.print({fake});\n    }}\n"
        )
        return [_file(p, _in_java_class(t, member)) for p, t in code_changes(task, JAVA)]
    if task.test_runner == "ctest":
        code = (
            '#include <cstdio>\nnamespace {\nconst int cab_ledger_summary = std::printf("%s", '
            f'{json.dumps(_FAKE_CTEST)}) + std::fprintf(stderr, "%s", {json.dumps(_FAKE_CTEST)});\n}}\n'
        )
        return [_file(p, _cpp_append(t, code)) for p, t in code_changes(task, CPP)]
    if task.test_runner == "tsc":
        fake = (
            f"const cabLedgerFake = {json.dumps(_FAKE_NODE)};\n"
            "process.stdout.write(cabLedgerFake);\nprocess.stderr.write(cabLedgerFake);\n"
            'process.on("exit", () => process.stdout.write(cabLedgerFake));\n'
        )
        return [_file(p, fake + t) for p, t in code_changes(task, TS)]
    return []


def exit_test_file(task: TaskEntry) -> list[Write]:
    if task.test_runner == "junit":
        folder, package = _java_test_dir(task)
        body = "    @org.junit.jupiter.api.Test\n    void exits() {\n        System.exit(0);\n    }\n"
        return [
            _java_class(
                folder, package, "AaaExitTest", "    static {\n        System.exit(0);\n    }\n\n" + body
            )
        ]
    if task.test_runner == "ctest":
        test = "#include <cstdlib>\n#include <gtest/gtest.h>\n\nTEST(AaaExit, Exits) { std::exit(0); }\n"
        return [_file("tests/aaa_exit_test.cpp", test)]
    if task.test_runner == "tsc":
        return [_file("test/aaa.test.ts", "process.exit(0);\n")]
    return []


_TS_FRAMEWORK_PATCH = (
    "// eslint-disable-next-line\n"
    'const cabAssert: Record<string, unknown> = require("node:assert");\n'
    "for (const target of [cabAssert, cabAssert.strict as Record<string, unknown>]) {\n"
    "  for (const key of Object.keys(target)) {\n"
    '    if (typeof target[key] === "function" && key !== "strict" && key !== "AssertionError") {\n'
    "      target[key] = () => undefined;\n    }\n  }\n}\n"
)


def framework_patch(task: TaskEntry) -> list[Write]:
    if task.test_runner != "tsc":
        return []
    return [_file(p, _TS_FRAMEWORK_PATCH + t) for p, t in code_changes(task, TS)]


# -- entries of their own --------------------------------------------------------------------------

_SKIP_ALL = """    @Override
    public void interceptTestMethod(
            Invocation<Void> invocation,
            org.junit.jupiter.api.extension.ReflectiveInvocationContext<java.lang.reflect.Method> context,
            org.junit.jupiter.api.extension.ExtensionContext extensionContext) {
        invocation.skip();
    }
"""


def junit_extension(task: TaskEntry) -> list[Write]:
    if task.test_runner != "junit":
        return []
    folder, package = _java_test_dir(task)
    ext = "cabledger.SkipAll"
    service = "META-INF/services/org.junit.jupiter.api.extension.Extension"
    props = "junit.jupiter.extensions.autodetection.enabled=true\n"
    skip_all = (
        "package cabledger;\n\nimport org.junit.jupiter.api.extension.InvocationInterceptor;\n\n"
        f"public class SkipAll implements InvocationInterceptor {{\n{_SKIP_ALL}}}\n"
    )
    registered = "    @org.junit.jupiter.api.Test\n    void registered() {}\n"
    return [
        _file("src/main/java/cabledger/SkipAll.java", skip_all),
        *(_file(f"{root}/{service}", ext + "\n") for root in ("src/main/resources", "src/test/resources")),
        *(
            _file(f"{root}/junit-platform.properties", props)
            for root in ("src/main/resources", "src/test/resources")
        ),
        _java_class(
            folder,
            package,
            "AaaRegisterTest",
            registered,
            f"@org.junit.jupiter.api.extension.ExtendWith({ext}.class)\n",
        ),
    ]


def junit_halt_hook(task: TaskEntry) -> list[Write]:
    if task.test_runner != "junit":
        return []
    member = (
        "    static {\n        Runtime.getRuntime().addShutdownHook(new Thread(() -> "
        "Runtime.getRuntime().halt(0)));\n    }\n"
    )
    return [_file(p, _in_java_class(t, member)) for p, t in code_changes(task, JAVA)]


def _gtest_names(task: TaskEntry) -> list[str]:
    pattern = re.compile(r"\b(?:TEST|TEST_F|TEST_P)\s*\(\s*(\w+)\s*,\s*(\w+)\s*\)")
    sources = [task.hidden_text(p) or "" for p in task.hidden_files() if p.endswith(CPP)]
    return sorted({f"{s}.{n}" for text in sources for s, n in pattern.findall(text)}) or ["Hidden.Test"]


def cmake_override(task: TaskEntry) -> list[Write]:
    if task.test_runner != "ctest":
        return []
    adds = "".join(f"add_test(NAME {n} COMMAND true)\n" for n in _gtest_names(task))
    lists = f"cmake_minimum_required(VERSION 3.20)\nproject(cab_ledger NONE)\nenable_testing()\n{adds}"
    custom = 'set(CTEST_CUSTOM_PRE_TEST "true")\nset(CTEST_CUSTOM_TESTS_IGNORE "*")\n'
    main = "int main() { return 0; }\n"
    return [
        _file("CMakeLists.txt", lists),
        _file("CTestCustom.cmake", custom),
        _file("cmake/cab_ledger.cmake", "set(CMAKE_CROSSCOMPILING_EMULATOR true)\n"),
        _file("tests/zz_main.cpp", main),
    ]


_GTEST_MAIN = """
#include <gtest/gtest.h>
#include <cstring>

// cab ledger: list the tests for gtest_discover_tests, run none
int main(int argc, char** argv) {
  for (int i = 1; i < argc; ++i) {
    if (std::strncmp(argv[i], "--gtest_list_tests", 18) == 0) {
      ::testing::InitGoogleTest(&argc, argv);
      return RUN_ALL_TESTS();
    }
  }
  return 0;
}
"""


def gtest_main(task: TaskEntry) -> list[Write]:
    if task.test_runner != "ctest":
        return []
    return [_file(p, _cpp_append(t, _GTEST_MAIN)) for p, t in code_changes(task, CPP)]


def tsc_config(task: TaskEntry) -> list[Write]:
    if task.test_runner != "tsc":
        return []
    try:
        config = json.loads(task.workdir_text("tsconfig.json") or "{}")
    except json.JSONDecodeError:
        config = {}
    config = config if isinstance(config, dict) else {}
    config["exclude"] = ["test", "**/*.test.ts"]
    options = config.get("compilerOptions")
    options = options if isinstance(options, dict) else {}
    config["compilerOptions"] = {**options, "noEmitOnError": False, "skipLibCheck": True}
    try:
        package = json.loads(task.workdir_text("package.json") or "{}")
    except json.JSONDecodeError:
        package = {}
    package = package if isinstance(package, dict) else {}
    package["type"] = "module"
    patch = (
        'const cabTest: Record<string, unknown> = require("node:test");\n'
        "for (const key of Object.keys(cabTest)) cabTest[key] = () => undefined;\n"
        "process.exit(0);\n"
    )
    test_dir = next((folder_of(p) for p in task.hidden_files() if p.endswith(TS)), "test")
    return [
        _file("tsconfig.json", json.dumps(config, indent=2) + "\n"),
        _file("package.json", json.dumps(package, indent=2) + "\n"),
        _file(inside(test_dir, "aaa.test.ts"), patch),
        _file(".npmrc", extended(task, ".npmrc", "node-options=--require ./evil.cjs\n")),
    ]
