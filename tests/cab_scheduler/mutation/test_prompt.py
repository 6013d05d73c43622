"""The prompt template: failing tests and cleaned messages, never the mutated line; deterministic."""

from __future__ import annotations

import pytest

from cab_scheduler.mutation import FailingTest, bug_report
from cab_scheduler.mutation.prompt import MAX_TESTS, clean_message

pytestmark = pytest.mark.unit


def report(failing: list[FailingTest], line: str = "    if x > lo:") -> str:
    return bug_report(
        failing,
        test_command=["python3", "-m", "pytest", "-q"],
        protected_paths=["tests/test_clamp.py"],
        mutated_path="pkg/clamp.py",
        mutated_line=line,
    )


def test_template() -> None:
    text = report(
        [
            FailingTest(
                "tests/test_h.py::test_upper", "AssertionError: assert 11 == 10\n  Use -v to get more diff"
            ),
            FailingTest("tests/test_h.py::test_lower", "AssertionError: assert -1 == 0"),
        ]
    )
    assert text == (
        "Bug report: 2 failing acceptance tests after the latest change\n"
        "\n"
        "Since the last change to this repository, our CI run of the acceptance tests (they are\n"
        "not part of this checkout) fails. The failing tests and what they report:\n"
        "\n"
        "- tests/test_h.py::test_lower\n"
        "      AssertionError: assert -1 == 0\n"
        "- tests/test_h.py::test_upper\n"
        "      AssertionError: assert 11 == 10\n"
        "\n"
        "The acceptance tests describe the intended behaviour; the code is wrong, not the tests.\n"
        "Find the bug and fix it so that these tests pass, without breaking the tests that are\n"
        "already in the repository. Keep the public API unchanged and do not modify tests/test_clamp.py.\n"
        "No new dependencies; there is no network access. Tests run with `python3 -m pytest -q`.\n"
    )


def test_the_mutated_line_and_file_are_never_quoted() -> None:
    message = (
        "Traceback (most recent call last):\n"
        '  File "pkg/clamp.py", line 3, in clamp\n'
        "    if x > lo:\n"
        "AssertionError: boom\n"
    )
    assert "if x > lo" not in report([FailingTest("t::a", "    if x > lo:\nAssertionError: boom")])
    assert clean_message(message, mutated_path="pkg/clamp.py", mutated_line="    if x > lo:") == []
    rust = (
        "thread 't' panicked at src/lib.rs:40:9:\n"
        "index out of bounds: the len is 3 but the index is 3\n"
        "note: run with"
    )
    assert clean_message(rust, mutated_path="src/lib.rs", mutated_line="x") == [
        "index out of bounds: the len is 3 but the index is 3"
    ]


def test_run_specific_noise_is_removed() -> None:
    go = (
        "panic: runtime error: invalid memory address [recovered]\n"
        "\tpanic: runtime error: invalid memory address\n"
        "[signal SIGSEGV: segmentation violation code=0x1 addr=0x18 pc=0x4f3a2b]\n"
        "\ngoroutine 7 [running]:\nmain.f()\n"
    )
    assert clean_message(go, mutated_path="c.go", mutated_line="x") == [
        "panic: runtime error: invalid memory address"
    ]
    node = (
        "\x1b[31mAssertionError [ERR_ASSERTION]: Expected values\x1b[39m (1.25ms)\n"
        "    at Test.run (node:internal)"
    )
    assert clean_message(node, mutated_path="q.js", mutated_line="x") == [
        "AssertionError [ERR_ASSERTION]: Expected values"
    ]
    assert clean_message("<Obj at 0x7f3a9b2c4d10>", mutated_path="m.py", mutated_line="x") == [
        "<Obj at 0x...>"
    ]


def test_long_lists_are_capped_and_sorted() -> None:
    failing = [FailingTest(f"t::test_{i:02d}", f"E {i}") for i in range(MAX_TESTS + 3)]
    text = report(list(reversed(failing)))
    assert "t::test_00" in text and f"t::test_{MAX_TESTS:02d}" not in text
    assert "- ... and 3 more failing tests" in text
    assert text == report(failing)
