"""Every operator in every language: a source snippet and a mutant it must produce (table-driven),
plus sites it must not produce (tests, generics, maps indexed by key)."""

from __future__ import annotations

import pytest

from cab_scheduler.mutation import apply
from cab_scheduler.mutation.engine import sites_of

pytestmark = pytest.mark.unit

PY = b"""def f(a, items):
    if a < len(items):
        raise ValueError("too short")
    for i in range(len(items)):
        a = a - items[i]
    return a == 0 and True
"""
RUST = b"""pub fn f(v: &[u32], i: usize) -> Result<u32, E> {
    if v.len() < i {
        return Err(E::Short);
    }
    let mut total = 0;
    for k in 0..i {
        total = total - v[k];
    }
    Ok(total + v[i])
}

#[cfg(test)]
mod tests {
    fn helper() -> bool { 1 < 2 }
}
"""
GO = b"""package p

func F(a []int, i int) (int, error) {
\tif i >= len(a) {
\t\treturn 0, fmt.Errorf("index %d", i)
\t}
\tif a[i] == 3 {
\t\treturn a[i] % 7, nil
\t}
\treturn a[i] - 1, nil
}
"""
JS = b"""export function f(a, i) {
  if (a.length <= i) {
    throw new RangeError("short");
  }
  return a[i] / 2 === 1 ? pick(a, i) : false;
}
"""
TS = b"""export function f(a: number[], i: number): number {
  if (!(i < a.length)) {
    throw new Error("short");
  }
  const m: Map<string, number> = new Map();
  return a[i] - 1;
}
"""
JAVA = b"""class A {
  int f(int[] a, int i) {
    if (i > a.length) throw new IllegalArgumentException("i");
    while (i != 0) { i = i - 1; }
    return a[i] << 2;
  }
}
"""
C = b"""int f(const int *a, int n) {
  if (n < 0) return -1;
  int s = 0;
  for (int i = 0; i < n; i++) { s = s - a[i]; }
  return s == 0;
}
"""
CPP = b"""#include <vector>
int f(const std::vector<int>& a, int n) {
  if (n > 10) { throw std::out_of_range("n"); }
  bool ok = true;
  return ok ? a[n] % 3 : 0;
}
"""

CASES = [
    # python
    ("python", PY, "negate-condition", b"    if not (a < len(items)):\n"),
    ("python", PY, "off-by-one", b"    if a <= len(items):\n"),
    ("python", PY, "off-by-one", b"    for i in range(len(items) + 1):\n"),
    ("python", PY, "off-by-one", b"        a = a - items[i - 1]\n"),
    ("python", PY, "swap-operands", b"        a = items[i] - a\n"),
    ("python", PY, "flip-comparison", b"    if a > len(items):\n"),
    ("python", PY, "flip-comparison", b"    return a != 0 and True\n"),
    ("python", PY, "drop-error-branch", b"def f(a, items):\n    for i in range"),
    ("python", PY, "wrong-constant", b"    return a == 1 and True\n"),
    ("python", PY, "wrong-constant", b"    return a == 0 and False\n"),
    # rust
    ("rust", RUST, "negate-condition", b"    if !(v.len() < i) {\n"),
    ("rust", RUST, "off-by-one", b"    if v.len() <= i {\n"),
    ("rust", RUST, "off-by-one", b"    for k in 0..=i {\n"),
    ("rust", RUST, "off-by-one", b"        total = total - v[k + 1];\n"),
    ("rust", RUST, "swap-operands", b"        total = v[k] - total;\n"),
    ("rust", RUST, "flip-comparison", b"    if v.len() > i {\n"),
    ("rust", RUST, "drop-error-branch", b"{\n    let mut total = 0;\n"),
    ("rust", RUST, "wrong-constant", b"    let mut total = 1;\n"),
    # go
    ("go", GO, "negate-condition", b"\tif !(i >= len(a)) {\n"),
    ("go", GO, "off-by-one", b"\tif i > len(a) {\n"),
    ("go", GO, "off-by-one", b"\treturn a[i - 1] - 1, nil\n"),
    ("go", GO, "swap-operands", b"\t\treturn 7 % a[i], nil\n"),
    ("go", GO, "flip-comparison", b"\tif a[i] != 3 {\n"),
    ("go", GO, "drop-error-branch", b") {\n\tif a[i] == 3 {\n"),
    ("go", GO, "wrong-constant", b"\tif a[i] == 4 {\n"),
    # javascript
    ("javascript", JS, "negate-condition", b"  if (!(a.length <= i)) {\n"),
    ("javascript", JS, "off-by-one", b"  if (a.length < i) {\n"),
    ("javascript", JS, "swap-operands", b"  return 2 / a[i] === 1 ? pick(a, i) : false;\n"),
    ("javascript", JS, "swap-operands", b"  return a[i] / 2 === 1 ? pick(i, a) : false;\n"),
    ("javascript", JS, "flip-comparison", b"  return a[i] / 2 !== 1 ? pick(a, i) : false;\n"),
    ("javascript", JS, "drop-error-branch", b"export function f(a, i) {\n  return"),
    ("javascript", JS, "wrong-constant", b"  return a[i] / 2 === 1 ? pick(a, i) : true;\n"),
    # typescript
    ("typescript", TS, "negate-condition", b"  if (i < a.length) {\n"),
    ("typescript", TS, "off-by-one", b"  if (!(i <= a.length)) {\n"),
    ("typescript", TS, "off-by-one", b"  return a[i + 1] - 1;\n"),
    ("typescript", TS, "swap-operands", b"  return 1 - a[i];\n"),
    ("typescript", TS, "flip-comparison", b"  if (!(i > a.length)) {\n"),
    ("typescript", TS, "drop-error-branch", b"number {\n  const m"),
    ("typescript", TS, "wrong-constant", b"  return a[i] - 0;\n"),
    # java
    ("java", JAVA, "negate-condition", b"    while (!(i != 0)) { i = i - 1; }\n"),
    ("java", JAVA, "off-by-one", b"    if (i >= a.length) throw"),
    ("java", JAVA, "swap-operands", b"    return 2 << a[i];\n"),
    ("java", JAVA, "flip-comparison", b"    while (i == 0) { i = i - 1; }\n"),
    ("java", JAVA, "drop-error-branch", b"int i) {\n    while"),
    ("java", JAVA, "wrong-constant", b"    return a[i] << 3;\n"),
    # c
    ("c", C, "negate-condition", b"  if (!(n < 0)) return -1;\n"),
    ("c", C, "off-by-one", b"  for (int i = 0; i <= n; i++)"),
    ("c", C, "off-by-one", b"s = s - a[i + 1];"),
    ("c", C, "swap-operands", b"s = a[i] - s;"),
    ("c", C, "flip-comparison", b"  return s != 0;\n"),
    ("c", C, "drop-error-branch", b"int n) {\n  int s = 0;\n"),
    ("c", C, "wrong-constant", b"  if (n < 0) return -2;\n"),
    # cpp
    ("cpp", CPP, "negate-condition", b"  if (!(n > 10)) {"),
    ("cpp", CPP, "off-by-one", b"  if (n >= 10) {"),
    ("cpp", CPP, "off-by-one", b"  return ok ? a[n - 1] % 3 : 0;\n"),
    ("cpp", CPP, "swap-operands", b"  return ok ? 3 % a[n] : 0;\n"),
    ("cpp", CPP, "flip-comparison", b"  if (n < 10) {"),
    ("cpp", CPP, "drop-error-branch", b"int n) {\n  bool ok = true;\n"),
    ("cpp", CPP, "wrong-constant", b"  bool ok = false;\n"),
    ("cpp", CPP, "wrong-constant", b"  if (n > 11) {"),
]


def mutants(language: str, source: bytes, operator: str) -> list[bytes]:
    return [apply(source, s) for s in sites_of("src/x", source, language) if s.operator == operator]


@pytest.mark.parametrize(("language", "source", "operator", "expected"), CASES)
def test_operator_produces_the_mutant(language: str, source: bytes, operator: str, expected: bytes) -> None:
    found = mutants(language, source, operator)
    assert any(expected in m for m in found), f"{language} {operator}: none of {len(found)} mutants has it"


def test_rust_test_module_is_never_mutated() -> None:
    assert not [m for m in mutants("rust", RUST, "flip-comparison") if b"1 > 2" in m]


def test_typescript_generics_are_not_comparisons() -> None:
    assert not [
        m for m in mutants("typescript", TS, "flip-comparison") if b"Map>string" in m or b"Map<" not in m
    ]


def test_go_map_keys_are_not_shifted() -> None:
    source = b"package p\n\nfunc F(m map[string]int, key string) int {\n\treturn m[key]\n}\n"
    assert mutants("go", source, "off-by-one") == []


def test_typed_languages_do_not_swap_call_arguments() -> None:
    source = b"package p\n\nfunc F(a string, b int) int {\n\treturn g(a, b)\n}\n"
    assert mutants("go", source, "swap-operands") == []


def test_python_swaps_keep_the_grouping() -> None:
    # a parenthesised operand's parentheses are not in its ast span: that swap is skipped, not guessed
    assert mutants("python", b"x = a - (b - c)\n", "swap-operands") == [b"x = a - (c - b)\n"]
    assert b"x = c - (a - b)\n" in mutants("python", b"x = a - b - c\n", "swap-operands")
    assert b"int x = c - (a - b);" in mutants("c", b"int x = a - b - c;", "swap-operands")


def test_unparsable_source_has_no_sites() -> None:
    assert sites_of("x.py", b"def (:\n", "python") == []
    assert sites_of("x.rs", b"fn f( {", "rust") == []
