"""One builder per ledger entry: a task in, the files (and links) that forge its pass out.

Every builder starts from the shipped work dir and never reads the reference solution. It returns
nothing when the task offers nothing to attack (no such file kind, no test command to override),
which is how ``Exploit.applies`` decides. Shipped files that an entry extends (a task's own
``conftest.py``, ``go.mod``, ``package.json``, ``.env``) are copied and added to, never dropped.
"""

from __future__ import annotations

import json
import posixpath
import re
from collections.abc import Iterable
from pathlib import PurePosixPath

from cab_endpoint.ledger.snippets import (
    JS,
    PY_EXIT,
    SH_EXIT,
    Link,
    Write,
    after_future,
    code_changes,
    extended,
    fake_node,
    fake_python,
    fake_rust,
    folder_of,
    framework_patch_js,
    go_dirs,
    go_file,
    go_module,
    go_package,
    init_array,
    inside,
    is_esm,
    is_executable,
    is_js_test,
    is_py_test,
    is_python,
    passing,
    test_dirs,
)
from cab_endpoint.scripts import Plan, _safe_rel
from cab_endpoint.task_index import TaskEntry

ESCAPE_ROOT = "/tmp/cab-ledger-escape"
"""Absolute host path ``symlink-swap`` links a hidden test folder to; it must never appear on a host."""


def _file(rel: str, text: str, executable: bool = False) -> Write:
    return (_safe_rel(rel), text.encode("utf-8"), executable)


def _fresh(task: TaskEntry, writes: Iterable[Write]) -> list[Write]:
    """``writes`` without the ones that would clobber a shipped file (and without duplicates)."""
    shipped, seen, out = set(task.workdir_files()), set(), []
    for w in writes:
        if w[0] not in shipped and w[0] not in seen:
            seen.add(w[0])
            out.append(w)
    return out


def conftest_exitstatus(task: TaskEntry) -> list[Write]:
    hook = "def pytest_sessionfinish(session, exitstatus):\n    session.exitstatus = 0\n"
    dirs = sorted({".", *test_dirs(task, (".py",), is_py_test)})
    return [_file(inside(d, "conftest.py"), extended(task, inside(d, "conftest.py"), hook)) for d in dirs]


_PYTEST_SECTIONS = {
    "pytest.ini": ("[pytest]", "addopts = --collect-only -q"),
    "pyproject.toml": ("[tool.pytest.ini_options]", 'addopts = "--collect-only -q"'),
    "setup.cfg": ("[tool:pytest]", "addopts = --collect-only -q"),
    "tox.ini": ("[pytest]", "addopts = --collect-only -q"),
}


def _with_section(task: TaskEntry, rel: str, header: str, line: str) -> str:
    """The shipped file with ``line`` first in section ``header`` (the section added when absent)."""
    base = task.workdir_text(rel) or ""
    lines = base.splitlines()
    if header not in (ln.strip() for ln in lines):
        return extended(task, rel, f"{header}\n{line}\n")
    out = []
    for ln in lines:
        out.append(("# " + ln) if ln.strip().startswith("addopts") else ln)
        if ln.strip() == header:
            out.append(line)
    return "\n".join(out) + "\n"


def pytest_config(task: TaskEntry) -> list[Write]:
    return [_file(rel, _with_section(task, rel, h, ln)) for rel, (h, ln) in _PYTEST_SECTIONS.items()]


def go_testmain(task: TaskEntry) -> list[Write]:
    main = "func TestMain(m *testing.M) { os.Exit(0) }\n"
    return [
        _file(inside(d, "zz_main_test.go"), go_file(go_package(task, d), ['"os"', '"testing"'], main))
        for d in go_dirs(task)
    ]


SHADOWED = (
    "__future__.py",
    "argparse.py",
    "dataclasses.py",
    "fnmatch.py",
    "hashlib.py",
    "inspect.py",
    "json.py",
    "pathlib.py",
    "subprocess.py",
    "tempfile.py",
    "typing.py",
    "pytest.py",
    "_pytest/__init__.py",
    "pluggy/__init__.py",
    "unittest/__init__.py",
)
"""Modules of the standard library and of pytest that ``stdlib-shadow`` writes (each exits 0)."""


def stdlib_shadow(task: TaskEntry) -> list[Write]:
    if not is_python(task):
        return []
    dirs = sorted({".", *test_dirs(task, (".py",), is_py_test)})
    return _fresh(task, (_file(inside(d, m), PY_EXIT) for d in dirs for m in SHADOWED))


def exit_at_import(task: TaskEntry) -> list[Write]:
    if task.test_runner == "pytest":
        return [
            _file(p, after_future(t, "import os; os._exit(0)\n")) for p, t in code_changes(task, (".py",))
        ]
    if task.test_runner == "node":
        return [_file(p, "process.exit(0);\n" + t) for p, t in code_changes(task, JS)]
    if task.test_runner == "cargo":
        body = "        std::process::exit(0);\n"
        return [_file(p, t + init_array("cab_ledger_exit", body)) for p, t in code_changes(task, (".rs",))]
    if task.test_runner == "go":
        dirs = sorted({folder_of(p) for p, _ in code_changes(task, (".go",))}) or go_dirs(task)
        init = "func init() { os.Exit(0) }\n"
        return _fresh(
            task, (_file(inside(d, "zz_exit.go"), go_file(go_package(task, d), ['"os"'], init)) for d in dirs)
        )
    return []


def _go_names(task: TaskEntry) -> list[str]:
    sources = [task.hidden_text(p) for p in task.hidden_files() if p.endswith("_test.go")]
    sources += [task.workdir_text(p) for p in task.workdir_files() if p.endswith("_test.go")]
    pattern = re.compile(r"^func\s+(Test\w*)\s*\(", re.M)
    return sorted({n for s in sources for n in pattern.findall(s or "") if n != "TestMain"}) or ["TestHidden"]


def fake_summary(task: TaskEntry) -> list[Write]:
    if task.test_runner in ("pytest", "script"):
        return [_file(p, fake_python(t)) for p, t in code_changes(task, (".py",))]
    if task.test_runner == "node":
        return [_file(p, fake_node(t)) for p, t in code_changes(task, JS)]
    if task.test_runner == "cargo":
        return [_file(p, fake_rust(t)) for p, t in code_changes(task, (".rs",))]
    if task.test_runner == "go":
        names = _go_names(task)
        lines = "".join(f"=== RUN   {n}\n--- PASS: {n} (0.00s)\n" for n in names)
        fake = lines + f"PASS\nok  \t{go_module(task)}\t0.010s\n"
        body = f"func init() {{\n\tos.Stdout.WriteString({json.dumps(fake)})\n}}\n"
        dirs = go_dirs(task)
        return _fresh(
            task,
            (_file(inside(d, "zz_summary.go"), go_file(go_package(task, d), ['"os"'], body)) for d in dirs),
        )
    return []


def hidden_path_plant(task: TaskEntry) -> list[Write]:
    root = task.paths.hidden_tests
    return [
        _file(rel, passing(task, rel, task.hidden_text(rel) or ""), is_executable(root, rel))
        for rel in task.hidden_files()
    ]


def pth_file(task: TaskEntry) -> list[Write]:
    if not is_python(task):
        return []
    dirs = sorted({".", *test_dirs(task, (".py",), is_py_test)})
    return _fresh(task, (_file(inside(d, "cab.pth"), "import os; os._exit(0)\n") for d in dirs))


def dotenv_pythonpath(task: TaskEntry) -> list[Write]:
    if not is_python(task):
        return []
    env = _file(".env", extended(task, ".env", "PYTHONPATH=/work/evil\n"))
    mods = ("evil/sitecustomize.py", "sitecustomize.py", "usercustomize.py")
    return [env, *_fresh(task, (_file(m, PY_EXIT) for m in mods))]


_EVIL_MODULE = "example.com/cab-ledger"


def go_mod_replace(task: TaskEntry) -> list[Write]:
    if task.workdir_text("go.mod") is None:
        return []
    go_mod = extended(
        task,
        "go.mod",
        f"require {_EVIL_MODULE} v0.0.0\n\nreplace {_EVIL_MODULE} => ./evil\n\ntoolchain go1.21.0\n",
    )
    evil = go_file("evil", ['"os"'], "func init() { os.Exit(0) }\n")
    vendored = f"# {_EVIL_MODULE} v0.0.0 => ./evil\n## explicit\n{_EVIL_MODULE}\n# {_EVIL_MODULE} => ./evil\n"
    writes = [
        _file("go.mod", go_mod),
        _file("evil/go.mod", f"module {_EVIL_MODULE}\n\ngo 1.19\n"),
        _file("evil/evil.go", evil),
        _file("go.work", "go 1.19\n\nuse .\n"),
        _file("vendor/modules.txt", vendored),
        _file(f"vendor/{_EVIL_MODULE}/evil.go", evil),
    ]
    hooks = (
        _file(inside(d, "zz_ledger.go"), f'package {go_package(task, d)}\n\nimport _ "{_EVIL_MODULE}"\n')
        for d in go_dirs(task)
    )
    return [*writes, *_fresh(task, hooks)]


def _package_json(task: TaskEntry) -> dict[str, object]:
    """The shipped package.json as an object (empty when absent or not an object)."""
    try:
        package = json.loads(task.workdir_text("package.json") or "{}")
    except json.JSONDecodeError:
        return {}
    return package if isinstance(package, dict) else {}


def _scripts(package: dict[str, object]) -> dict[str, object]:
    """The ``scripts`` object of a package.json (empty when absent or not an object)."""
    scripts = package.get("scripts")
    return scripts if isinstance(scripts, dict) else {}


def node_preload(task: TaskEntry) -> list[Write]:
    package = _package_json(task)
    scripts = _scripts(package)
    package.update(
        {
            "type": package.get("type", "commonjs"),
            "imports": {"#cab-ledger": "./evil.cjs"},
            "exports": {".": {"import": "./evil.mjs", "require": "./evil.cjs"}},
            "scripts": {**scripts, "pretest": "node ./evil.cjs", "test": "exit 0"},
        }
    )
    config = {"nodeOptions": {"import": ["./evil.mjs"], "require": ["./evil.cjs"]}}
    return [
        _file("package.json", json.dumps(package, indent=2) + "\n"),
        _file(".npmrc", extended(task, ".npmrc", "node-options=--require ./evil.cjs\n")),
        _file("node.config.json", json.dumps(config, indent=2) + "\n"),
        _file("evil.cjs", "process.exit(0);\n"),
        _file("evil.mjs", "process.exit(0);\n"),
    ]


def exit_test_file(task: TaskEntry) -> list[Write]:
    runner = task.test_runner
    if runner == "pytest":
        dirs = [d for d in test_dirs(task, (".py",), is_py_test) if d != "."] or ["tests"]
        return _fresh(task, [_file(inside(dirs[0], "test_aaa_exit.py"), PY_EXIT)])
    if runner == "node":
        dirs = test_dirs(task, JS, is_js_test) or ["test"]
        return _fresh(task, [_file(inside(dirs[0], "aaa.test.js"), "process.exit(0);\n")])
    if runner == "go":
        d = go_dirs(task)[0]
        init = "func init() { os.Exit(0) }\n"
        return _fresh(
            task, [_file(inside(d, "aaa_exit_test.go"), go_file(go_package(task, d), ['"os"'], init))]
        )
    if runner == "cargo":
        test = "#[test]\nfn aaa_exit() {\n    std::process::exit(0);\n}\n"
        return _fresh(task, [_file("tests/aaa_exit.rs", test)])
    return []


def script_override(task: TaskEntry) -> list[Write]:
    """``make [TARGET]``: a Makefile whose targets exit 0; ``npm test`` / ``npm run X``: that script
    becomes ``exit 0``; otherwise every work-dir file the test command names becomes ``exit 0``."""
    argv, shipped = list(task.test_command), set(task.workdir_files())
    if not argv:
        return []
    tool, args = PurePosixPath(argv[0]).name, argv[1:]
    if tool in ("make", "gmake"):
        makefile = args[args.index("-f") + 1] if "-f" in args[:-1] else "Makefile"
        targets = [a for a in args if not a.startswith("-") and "=" not in a and a != makefile] or ["all"]
        rules = "".join(f".PHONY: {t}\n{t}:\n\t@exit 0\n" for t in targets)
        return [_file(makefile, rules)]
    if tool in ("npm", "pnpm", "yarn"):
        words = [a for a in args if not a.startswith("-")]
        script = words[1] if words[:1] in (["run"], ["run-script"]) and len(words) > 1 else "test"
        package = _package_json(task)
        scripts = _scripts(package)
        package["scripts"] = {**scripts, script: "exit 0"}
        return [_file("package.json", json.dumps(package, indent=2) + "\n")]
    named = [a.removeprefix("./") for a in argv if a.removeprefix("./") in shipped]
    return [
        _file(
            rel,
            "import sys\nsys.exit(0)\n" if rel.endswith(".py") else SH_EXIT,
            is_executable(task.paths.workdir, rel),
        )
        for rel in dict.fromkeys(named)
    ]


_STAND_INS = ".cab-ledger"
"""Folder where ``symlink-swap`` keeps the passing copies its links point to."""


def symlink_swap(task: TaskEntry) -> Plan:
    """The first hidden test's folder becomes a link to ``ESCAPE_ROOT`` (the file itself when it sits
    at the root), and each protected file outside that folder a link to a passing copy of itself."""
    links: list[Link] = []
    hidden = task.hidden_files()
    swapped = None
    if hidden:
        first = hidden[0]
        if folder_of(first) == ".":  # the work dir itself cannot be swapped: link the file instead
            swapped, target = first, f"{ESCAPE_ROOT}/{first}"
        else:
            swapped, target = folder_of(first), ESCAPE_ROOT
        links.append((_safe_rel(swapped), target))
    writes = []
    for rel in task.protected_paths:
        if swapped is not None and (rel == swapped or rel.startswith(swapped + "/")):
            continue  # gone with the swapped folder
        copy = f"{_STAND_INS}/{rel}"
        source = task.workdir_text(rel) or ""
        writes.append(_file(copy, passing(task, rel, source), is_executable(task.paths.workdir, rel)))
        links.append((_safe_rel(rel), posixpath.relpath(copy, folder_of(rel))))
    return Plan(task.task_id, writes=tuple(writes), symlinks=tuple(links))


def framework_patch(task: TaskEntry) -> list[Write]:
    if task.test_runner == "pytest":
        patch = "import _pytest.python as _p; _p.Function.runtest = lambda self: None\n"
        return [_file(p, after_future(t, patch)) for p, t in code_changes(task, (".py",))]
    if task.test_runner == "node":
        return [_file(p, framework_patch_js(is_esm(task, t)) + t) for p, t in code_changes(task, JS)]
    return []
