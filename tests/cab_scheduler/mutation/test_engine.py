"""generate: equivalent and unparsable mutants dropped, test files skipped, order fixed by the seed."""

from __future__ import annotations

import pytest

from cab_scheduler.mutation import OPERATORS, generate, is_test_path, language_of
from cab_scheduler.mutation.engine import normalise

pytestmark = pytest.mark.unit

SOURCE = b"""def clamp(x, lo, hi):
    if x < lo:
        return lo
    if x > hi:
        return hi
    return x - 0 + items[i] * 2
"""


def test_equivalent_mutants_are_dropped() -> None:
    # `a - a` swapped is the same expression; `x  -  y` and `x - y` normalise alike
    gen = generate({"m.py": b"def f(a):\n    return a - a\n"}, operators=["swap-operands"])
    assert (gen.candidates, gen.equivalent, gen.mutants) == (1, 1, ())


def test_duplicate_mutants_keep_only_the_first() -> None:
    # `not (not x)` -> `x` by negate-condition twice would be one mutant; two sites making the same text
    source = b"def f(x):\n    if x == 1:\n        return 1\n    return 0\n"
    gen = generate({"m.py": source}, operators=["flip-comparison", "wrong-constant"], seed=3)
    texts = [m.mutated for m in gen.mutants]
    assert len(texts) == len(set(texts))


def test_tree_sitter_normal_form_ignores_whitespace_and_comments() -> None:
    a = normalise(b"fn f() -> u8 { 1 + 2 }", "rust")
    b = normalise(b"fn f() -> u8 {\n    // sum\n    1+2\n}\n", "rust")
    assert a is not None and a == b
    assert normalise(b"fn f( {", "rust") is None


def test_same_seed_same_order_other_seed_other_order() -> None:
    files = {"m.py": SOURCE}
    first = [(m.rank, m.site) for m in generate(files, seed=7).mutants]
    again = [(m.rank, m.site) for m in generate(files, seed=7).mutants]
    other = [(m.rank, m.site) for m in generate(files, seed=8).mutants]
    assert first == again
    assert sorted(s for _, s in first) == sorted(s for _, s in other)
    assert first != other


def test_order_interleaves_operators() -> None:
    gen = generate({"m.py": SOURCE}, seed=1)
    head = [m.operator for m in gen.mutants[:4]]
    assert len(set(head)) == 4
    assert [m.rank for m in gen.mutants] == list(range(1, len(gen.mutants) + 1))


def test_test_files_and_unknown_languages_are_skipped() -> None:
    files = {"tests/test_m.py": SOURCE, "m_test.go": b"package p\n", "README.md": b"1 < 2", "m.py": SOURCE}
    assert {m.path for m in generate(files).mutants} == {"m.py"}
    assert is_test_path("src/test/java/AppTest.java") and is_test_path("test/q.test.js")
    assert not is_test_path("src/main/java/App.java")
    assert (language_of("a.h", "cpp"), language_of("a.h", "c"), language_of("a.ts")) == (
        "cpp",
        "c",
        "typescript",
    )


def test_unknown_operator_is_an_error() -> None:
    with pytest.raises(ValueError, match="unknown mutation operator"):
        generate({"m.py": SOURCE}, operators=["delete-everything"])
    assert len(OPERATORS) == 6


def test_mutated_line_is_the_whole_line() -> None:
    gen = generate({"m.py": SOURCE}, operators=["flip-comparison"], seed=0)
    assert {m.mutated_line for m in gen.mutants} == {"    if x > lo:", "    if x < hi:"}


def test_public_api_is_pinned() -> None:
    import cab_scheduler.mutation as mutation

    assert sorted(mutation.__all__) == sorted(
        [
            *("LANGUAGES", "MUTATIONS_CATEGORY", "OPERATORS", "FailingTest", "Generation", "Mutant", "Site"),
            *("apply", "bug_report", "generate", "is_test_path", "language_of", "mutant_slug", "mutant_spec"),
            "render_spec",
        ]
    )
