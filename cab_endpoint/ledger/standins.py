"""Passing stand-ins for Java (JUnit 5), C++ (GoogleTest) and TypeScript test files: the same test
names, every body empty. Pure text functions, used by ``snippets.passing``."""

from __future__ import annotations

import re

_JAVA_TEST = re.compile(r"@Test\b[^;{]*?\bvoid\s+(\w+)\s*\(", re.DOTALL)
_JAVA_PACKAGE = re.compile(r"^\s*package\s+([\w.]+)\s*;", re.M)
_JAVA_CLASS = re.compile(r"\bclass\s+(\w+)")
_GTEST = re.compile(r"\b(?:TEST|TEST_F|TEST_P)\s*\(\s*(\w+)\s*,\s*(\w+)\s*\)")
_TS_TEST = re.compile(r"\b(?:test|it)\s*\(\s*(\"(?:[^\"\\\n]|\\.)*\"|'(?:[^'\\\n]|\\.)*')")


def java_tests(source: str, file_name: str) -> str:
    """A class named like the file with one empty @Test per @Test method of ``source``."""
    package = _JAVA_PACKAGE.search(source)
    cls = _JAVA_CLASS.search(source)
    name = cls.group(1) if cls else file_name.removesuffix(".java")
    methods = _JAVA_TEST.findall(source) or ["planted"]
    body = "".join(f"    @org.junit.jupiter.api.Test\n    void {m}() {{}}\n\n" for m in methods)
    head = f"package {package.group(1)};\n\n" if package else ""
    return f"{head}class {name} {{\n{body.rstrip()}\n}}\n"


def gtest_tests(source: str) -> str:
    """One empty TEST per TEST/TEST_F/TEST_P of ``source`` (plain TESTs, same names)."""
    tests = _GTEST.findall(source) or [("Planted", "Passes")]
    body = "".join(f"TEST({s}, {n}) {{}}\n" for s, n in dict.fromkeys(tests))
    return f"#include <gtest/gtest.h>\n\n{body}"


def ts_tests(source: str) -> str:
    """One empty ``node:test`` test per literal ``test("...")`` / ``it("...")`` of ``source``."""
    names = _TS_TEST.findall(source) or ['"planted"']
    return 'import { test } from "node:test";\n\n' + "".join(f"test({n}, () => {{}});\n" for n in names)
