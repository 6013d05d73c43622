"""What ledger entries read from a task and the code they write, per language.

Reading: which folders hold tests, which expected changes are code, a Go folder's package clause.
Writing: snippets that exit 0 or print a fake summary when loaded (Python after its ``__future__``
imports, Rust through ELF ``.init_array`` so no crate is needed, Go in ``init``), and *passing
stand-ins* for test files: same file kind and test names as the original, every body empty.
"""

from __future__ import annotations

import ast
import json
import os
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

from cab_endpoint.ledger.standins import gtest_tests, java_tests, ts_tests
from cab_endpoint.task_index import TaskEntry

RUNNERS = ("cargo", "pytest", "go", "node", "script", "junit", "ctest", "tsc")
"""Every ``test_runner`` a task can declare."""

Write = tuple[str, bytes, bool]
"""(path, content, executable), as in ``Plan.writes``."""
Link = tuple[str, str]
"""(path, target), as in ``Plan.symlinks``."""

PY_EXIT = "import os\nos._exit(0)\n"
SH_EXIT = "#!/bin/sh\nexit 0\n"


# -- reading a task ------------------------------------------------------------------------


def folder_of(rel: str) -> str:
    return PurePosixPath(rel).parent.as_posix()


def inside(folder: str, name: str) -> str:
    return name if folder == "." else f"{folder}/{name}"


def is_python(task: TaskEntry) -> bool:
    return task.language == "python" or bool(task.test_command and "python" in task.test_command[0])


def is_py_test(rel: str) -> bool:
    name = PurePosixPath(rel).name
    return name.endswith(".py") and (name.startswith("test_") or name.endswith("_test.py"))


JS = (".js", ".mjs", ".cjs")
"""Suffixes of JavaScript files node runs."""


def is_js_test(rel: str) -> bool:
    """What ``node --test`` runs by default: ``*.test.js``-like names and every file under ``test/``."""
    path = PurePosixPath(rel)
    named = re.search(r"(^test|[.\-_]test)\.[cm]?js$|^test[.\-_]", path.name) is not None
    return rel.endswith(JS) and (named or "test" in path.parts[:-1])


def test_dirs(task: TaskEntry, suffixes: tuple[str, ...], is_test: Callable[[str], bool]) -> list[str]:
    """Folders holding hidden or protected files with one of ``suffixes``, or shipped files that
    ``is_test`` accepts."""
    declared = [p for p in (*task.hidden_files(), *task.protected_paths) if p.endswith(suffixes)]
    shipped = [p for p in task.workdir_files() if is_test(p)]
    return sorted({folder_of(p) for p in (*declared, *shipped)})


def code_changes(task: TaskEntry, suffixes: tuple[str, ...]) -> list[tuple[str, str]]:
    """(path, shipped text or "") of every expected change with one of ``suffixes``."""
    return [(p, task.workdir_text(p) or "") for p in task.expected_changes if p.endswith(suffixes)]


def go_dirs(task: TaskEntry) -> list[str]:
    """Go package folders the tests run in: hidden tests first, then shipped tests, then the root."""
    for files in (task.hidden_files(), task.workdir_files()):
        dirs = sorted({folder_of(p) for p in files if p.endswith("_test.go")})
        if dirs:
            return dirs
    return ["."]


_PACKAGE = re.compile(r"^package\s+(\w+)", re.M)


def go_package(task: TaskEntry, folder: str) -> str:
    """The package clause of ``folder``'s shipped files (non-test first), else of its hidden tests."""
    shipped = [p for p in task.workdir_files() if p.endswith(".go") and folder_of(p) == folder]
    for rel in sorted(shipped, key=lambda p: p.endswith("_test.go")):
        found = _PACKAGE.search(task.workdir_text(rel) or "")
        if found:
            return found.group(1).removesuffix("_test")
    for rel in (p for p in task.hidden_files() if p.endswith(".go") and folder_of(p) == folder):
        found = _PACKAGE.search(task.hidden_text(rel) or "")
        if found:
            return found.group(1).removesuffix("_test")
    return "main"


def go_module(task: TaskEntry) -> str:
    found = re.search(r"^module\s+(\S+)", task.workdir_text("go.mod") or "", re.M)
    return found.group(1) if found else "example.com/module"


def extended(task: TaskEntry, rel: str, addition: str) -> str:
    """A shipped file's text, a blank line, then ``addition`` (``addition`` alone when not shipped)."""
    base = task.workdir_text(rel)
    if not base:
        return addition
    return base + ("\n" if base.endswith("\n") else "\n\n") + addition


# -- code snippets -------------------------------------------------------------------------


def after_future(text: str, block: str) -> str:
    """``block`` inserted before the first statement that may follow ``from __future__`` imports."""
    try:
        body = ast.parse(text).body
    except SyntaxError:
        return block + text
    end = 0
    for i, node in enumerate(body):
        docstring = (
            i == 0
            and isinstance(node, ast.Expr)
            and isinstance(node.value, ast.Constant)
            and isinstance(node.value.value, str)
        )
        if docstring or (isinstance(node, ast.ImportFrom) and node.module == "__future__"):
            end = node.end_lineno or 0
        else:
            break
    lines = text.splitlines(keepends=True)
    head = "".join(lines[:end])
    return head + ("\n" if head and not head.endswith("\n") else "") + block + "".join(lines[end:])


def init_array(name: str, body: str) -> str:
    """A Rust static that the loader calls before ``main`` (ELF ``.init_array``); std only."""
    return (
        f'\n#[used]\n#[link_section = ".init_array"]\nstatic {name.upper()}: extern "C" fn() = {{\n'
        f'    extern "C" fn {name}() {{\n{body}    }}\n    {name}\n}};\n'
    )


def go_file(package: str, imports: Iterable[str], body: str) -> str:
    quoted = "\n".join(f"\t{i}" for i in imports)
    return f"package {package}\n\nimport (\n{quoted}\n)\n\n{body}"


_FAKE_PYTEST = "=" * 29 + " 12 passed in 0.01s " + "=" * 30 + "\n12 passed in 0.01s\n"
_FAKE_CARGO = (
    "running 10 tests\n"
    "test result: ok. 10 passed; 0 failed; 0 ignored; 0 measured; 0 filtered out; finished in 0.00s\n\n"
)
_FAKE_NODE = "# tests 99\n# pass 99\n# fail 0\n\u2139 tests 99\n\u2139 pass 99\n\u2139 fail 0\n"


def fake_python(text: str) -> str:
    block = (
        "import atexit as _cab_atexit\nimport os as _cab_os\nimport sys as _cab_sys\n\n"
        f"_CAB_FAKE = {_FAKE_PYTEST!r}\n"
        'print(_CAB_FAKE, end="")\nprint(_CAB_FAKE, end="", file=_cab_sys.stderr)\n'
        "_cab_atexit.register(lambda: (_cab_os.write(1, _CAB_FAKE.encode()), "
        "_cab_os.write(2, _CAB_FAKE.encode())))\n"
    )
    return after_future(text, block)


def fake_rust(text: str) -> str:
    body = (
        "        use std::io::Write;\n"
        f"        let fake = {json.dumps(_FAKE_CARGO)}.as_bytes();\n"
        "        let _ = std::io::stdout().write_all(fake);\n"
        "        let _ = std::io::stdout().flush();\n"
        "        let _ = std::io::stderr().write_all(fake);\n"
    )
    return text + init_array("cab_ledger_summary", body)


def fake_node(text: str) -> str:
    return (
        f"const cabLedgerFake = {json.dumps(_FAKE_NODE)};\n"
        "process.stdout.write(cabLedgerFake);\nprocess.stderr.write(cabLedgerFake);\n"
        'process.on("exit", () => process.stdout.write(cabLedgerFake));\n' + text
    )


def framework_patch_js(esm: bool) -> str:
    """Every function of ``assert`` and ``assert.strict`` becomes a no-op. (``node:test``'s own
    ``test`` cannot be swapped for ESM importers: node 20 syncs builtin ESM exports only for modules
    that load without the ``node:`` scheme.)"""
    load = 'import cabAssert from "node:assert";\n' if esm else 'const cabAssert = require("node:assert");\n'
    return load + (
        "for (const target of [cabAssert, cabAssert.strict]) {\n"
        "  for (const key of Object.keys(target)) {\n"
        '    if (typeof target[key] === "function" && key !== "strict" && key !== "AssertionError") {\n'
        "      target[key] = () => {};\n    }\n  }\n}\n"
    )


def is_esm(task: TaskEntry, text: str) -> bool:
    """``text`` is an ES module: it imports or exports, or package.json says ``"type": "module"``."""
    if re.search(r"^\s*(import|export)\s", text, re.M):
        return True
    try:
        package = json.loads(task.workdir_text("package.json") or "{}")
    except json.JSONDecodeError:
        return False
    return isinstance(package, dict) and package.get("type") == "module"


# -- passing stand-ins for test files ------------------------------------------------------


def _py_tests(source: str) -> str:
    try:
        body = ast.parse(source).body
    except SyntaxError:
        body = []
    out = []
    for node in body:
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) and node.name.startswith("test"):
            out.append(f"def {node.name}():\n    pass\n")
        elif isinstance(node, ast.ClassDef) and node.name.startswith("Test"):
            methods = [
                f"    def {m.name}(self):\n        pass\n"
                for m in node.body
                if isinstance(m, ast.FunctionDef | ast.AsyncFunctionDef) and m.name.startswith("test")
            ]
            out.append(f"class {node.name}:\n" + ("\n".join(methods) or "    pass\n"))
    return "\n\n".join(out or ["def test_planted():\n    pass\n"])


_RUST_TOKEN = re.compile(
    r'(?P<str>"(?:[^"\\]|\\.)*")|(?P<comment>//[^\n]*)'
    r"|(?P<mod>\bmod\s+(?P<m>\w+)\s*\{)"
    r"|#\[test\](?:\s*#\[[^\]]*\])*\s*(?:pub\s+)?(?:async\s+)?fn\s+(?P<f>\w+)"
    r"|(?P<open>\{)|(?P<close>\})"
)


@dataclass
class _RustMod:
    """The ``#[test]`` fns of one Rust ``mod`` (or of the whole file) and the mods nested in it."""

    tests: list[str] = field(default_factory=list)
    mods: dict[str, _RustMod] = field(default_factory=dict)

    def render(self, indent: str) -> str:
        parts = [f"{indent}#[test]\n{indent}fn {name}() {{}}\n" for name in self.tests]
        parts += [
            f"{indent}mod {mod} {{\n{sub.render(indent + '    ')}{indent}}}\n"
            for mod, sub in self.mods.items()
        ]
        return "\n".join(parts)


def _rust_tests(source: str) -> str:
    """One empty test per ``#[test]`` fn of ``source``, in the same ``mod`` nesting."""
    tree = _RustMod()
    stack: list[str | None] = []
    for m in _RUST_TOKEN.finditer(source):
        if m.group("mod"):
            stack.append(m.group("m"))
        elif m.group("open"):
            stack.append(None)
        elif m.group("close") and stack:
            stack.pop()
        elif m.group("f"):
            node = tree
            for mod in (s for s in stack if s is not None):
                node = node.mods.setdefault(mod, _RustMod())
            node.tests.append(m.group("f"))
    if not tree.tests and not tree.mods:
        tree = _RustMod(tests=["planted"])
    return tree.render("")


def _go_tests(task: TaskEntry, rel: str, source: str) -> str:
    names = re.findall(r"^func\s+(Test\w*)\s*\(\s*\w+\s+\*testing\.T\s*\)", source, re.M) or ["TestPlanted"]
    found = _PACKAGE.search(source)
    package = found.group(1) if found else go_package(task, folder_of(rel))
    body = "".join(f"func {n}(t *testing.T) {{}}\n\n" for n in names)
    return go_file(package, ['"testing"'], body)


def _node_tests(task: TaskEntry, source: str) -> str:
    literal = r"\b(?:test|it)\s*\(\s*(\"(?:[^\"\\\n]|\\.)*\"|'(?:[^'\\\n]|\\.)*')"
    names = re.findall(literal, source) or ['"planted"']
    load = (
        'import { test } from "node:test";\n'
        if is_esm(task, source)
        else 'const { test } = require("node:test");\n'
    )
    return load + "\n" + "".join(f"test({n}, () => {{}});\n" for n in names)


def passing(task: TaskEntry, rel: str, source: str) -> str:
    """A stand-in for the test file ``rel`` (shipped or hidden) that passes, keeping its test names."""
    name = PurePosixPath(rel).name
    if name.endswith(".py"):
        if task.test_runner == "script" and not is_py_test(rel):
            return "import sys\nsys.exit(0)\n"
        return _py_tests(source) if is_py_test(rel) else ""
    if name.endswith("_test.go"):
        return _go_tests(task, rel, source)
    if name.endswith(".go"):
        return f"package {go_package(task, folder_of(rel))}\n"
    if name.endswith(".rs"):
        return _rust_tests(source)
    if rel.endswith(JS):
        return _node_tests(task, source)
    if name.endswith(".java"):
        return java_tests(source, name)
    if name.endswith((".cpp", ".cc", ".cxx")):
        return gtest_tests(source)
    if name.endswith((".ts", ".mts", ".cts")):
        return ts_tests(source)
    if name.endswith(".sh") or source.startswith("#!"):
        return SH_EXIT
    return ""


def is_executable(root: Path, rel: str) -> bool:
    return os.access(root / rel, os.X_OK)
