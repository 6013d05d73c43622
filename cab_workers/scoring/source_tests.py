"""Test names found statically in Rust, JUnit 5 (Java) and GoogleTest (C++) sources.

Both finders blank comments and string/char literals first (same line breaks), so a test named in
a comment or a string never counts::

    rust   ``#[test]`` fns, inside ``mod`` blocks as ``mod::name``

    java   methods annotated @Test, @ParameterizedTest, @RepeatedTest, @TestFactory or
           @TestTemplate, named by their classes as ``Outer::Inner::method`` (a @Nested class
           inside its outer class), as ``reports.junit_platform_case`` names reported cases
    gtest  TEST, TEST_F, TEST_P, TYPED_TEST and TYPED_TEST_P as ``Suite.Name``; ``gtest_base``
           takes a reported name back to that form (``Inst/Suite.Name/0`` -> ``Suite.Name``)
"""

from __future__ import annotations

import re

_C_NOISE = re.compile(
    r'//[^\n]*|/\*.*?\*/|"""(?:\\.|[^\\])*?"""|"(?:\\.|[^"\\\n])*"|\'(?:\\.|[^\'\\\n])+\'',
    re.DOTALL,
)


def strip_c_like(text: str) -> str:
    """Java or C++ source with comments and string/char literals blanked (same line breaks).
    (A C++ raw string ``R"(...)"`` is not recognised; hidden test files rarely hold one.)"""
    return _C_NOISE.sub(lambda m: re.sub(r"[^\n]", " ", m.group(0)), text)


_JAVA_TEST_ANNOTATIONS = frozenset(
    {"Test", "ParameterizedTest", "RepeatedTest", "TestFactory", "TestTemplate"}
)
_JAVA_TOKEN = re.compile(
    r"(?P<annotation>@\s*(?P<aname>[\w.]+))"
    r"|\b(?:class|interface|enum|record)\s+(?P<cname>\w+)"
    r"|(?P<method>\w+)\s*\("
    r"|(?P<open>\{)|(?P<close>\})|(?P<end>;)"
)


def _skip_parens(text: str, pos: int) -> int:
    """After an annotation's name: past its balanced ``( ... )`` argument list, if it has one."""
    i = pos
    while i < len(text) and text[i] in " \t\r\n":
        i += 1
    if i >= len(text) or text[i] != "(":
        return pos
    depth = 0
    while i < len(text):
        if text[i] == "(":
            depth += 1
        elif text[i] == ")":
            depth -= 1
            if depth == 0:
                return i + 1
        i += 1
    return i


def java_test_names(text: str) -> list[str]:
    """JUnit 5 test methods as ``Outer::Inner::method`` (see the module docstring)."""
    src = strip_c_like(text)
    names: list[str] = []
    stack: list[str | None] = []  # per open brace: the class it opens, or None
    pending_class: str | None = None
    pending_test = False
    pos = 0
    while m := _JAVA_TOKEN.search(src, pos):
        pos = m.end()
        if m.group("annotation"):
            if m.group("aname").rsplit(".", 1)[-1] in _JAVA_TEST_ANNOTATIONS:
                pending_test = True
            pos = _skip_parens(src, pos)
        elif m.group("cname"):
            pending_class = m.group("cname")
        elif m.group("method"):
            if pending_test and pending_class is None:
                classes = [c for c in stack if c is not None]
                if classes:
                    names.append("::".join([*classes, m.group("method")]))
            pending_test = False
        elif m.group("open"):
            stack.append(pending_class)
            pending_class, pending_test = None, False
        elif m.group("close"):
            if stack:
                stack.pop()
            pending_class, pending_test = None, False
        elif m.group("end"):
            pending_test = False
    return names


_GTEST = re.compile(r"\b(?:TEST|TEST_F|TEST_P|TYPED_TEST|TYPED_TEST_P)\s*\(\s*(\w+)\s*,\s*(\w+)\s*\)")


def gtest_names(text: str) -> list[str]:
    """GoogleTest tests as ``Suite.Name`` (macros inside ``#define`` lines are skipped)."""
    src = strip_c_like(text)
    lines = [ln for ln in src.splitlines() if not ln.lstrip().startswith("#")]
    return [f"{s}.{n}" for s, n in _GTEST.findall("\n".join(lines))]


def gtest_base(name: str) -> str:
    """A reported gtest name without instantiation prefix, type index and parameter index:
    ``Inst/Suite.Name/0``, ``Suite/0.Name``, ``Inst/Suite/1.Name``, and ctest's ``Inst/Suite.Name/5``,
    ``Suite.Name<int>`` -> ``Suite.Name``."""
    suite, dot, test = name.partition(".")
    if not dot:
        return name
    parts = [p for p in suite.split("/") if p and not p.isdigit()]
    return f"{parts[-1] if parts else suite}.{test.split('/')[0].split('<')[0]}"


_RUST_TOKEN = re.compile(
    r"""
      (?P<line>//[^\n]*)
    | (?P<block>/\*)
    | (?P<raw>\bb?r(?P<hashes>\#*)")
    | (?P<str>b?"(?:\\.|[^"\\])*")
    | (?P<char>b?'(?:\\(?:x[0-9a-fA-F]{2}|u\{[0-9a-fA-F]+\}|.)|[^\\'\n])')
    | (?P<test>\#\s*\[\s*(?:\w+\s*::\s*)?test\s*\])
    | (?P<mod>\bmod\s+(?P<modname>\w+)\s*\{)
    | (?P<fn>\bfn\s+(?P<fnname>\w+))
    | (?P<open>\{)
    | (?P<close>\})
    """,
    re.VERBOSE | re.DOTALL,
)


def rust_test_names(text: str) -> list[str]:
    """``#[test]`` fns, with the ``mod`` blocks around them: ``outer::inner::name``."""
    names: list[str] = []
    stack: list[str | None] = []  # one entry per open brace: the module it opens, or None
    pending = False
    pos = 0
    while m := _RUST_TOKEN.search(text, pos):
        pos = m.end()
        if m.group("line") or m.group("str") or m.group("char"):
            continue
        if m.group("block"):
            pos = _rust_block_comment_end(text, m.end())
        elif m.group("raw") is not None:
            end = text.find('"' + m.group("hashes"), m.end())
            pos = len(text) if end < 0 else end + 1 + len(m.group("hashes"))
        elif m.group("test"):
            pending = True
        elif m.group("mod"):
            stack.append(m.group("modname"))
        elif m.group("fn"):
            if pending:
                names.append("::".join([*(s for s in stack if s), m.group("fnname")]))
            pending = False
        elif m.group("open"):
            stack.append(None)
        elif m.group("close") and stack:
            stack.pop()
    return names


def _rust_block_comment_end(text: str, pos: int) -> int:
    depth = 1
    while depth and pos < len(text):
        if text.startswith("/*", pos):
            depth, pos = depth + 1, pos + 2
        elif text.startswith("*/", pos):
            depth, pos = depth - 1, pos + 2
        else:
            pos += 1
    return pos
