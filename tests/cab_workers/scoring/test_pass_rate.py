from __future__ import annotations

import pytest

from cab_workers.scoring.pass_rate import parse_test_counts, score_pass_rate

pytestmark = pytest.mark.unit

CARGO_TWO_BINARIES = """
running 3 tests
test tests::a ... ok
test result: ok. 3 passed; 0 failed; 0 ignored; 0 measured; 0 filtered out; finished in 0.00s

running 2 tests
test it::b ... FAILED
test result: FAILED. 1 passed; 1 failed; 0 ignored; 0 measured; 0 filtered out; finished in 0.01s
"""
GO_V = """=== RUN   TestA
--- PASS: TestA (0.00s)
=== RUN   TestB
    --- PASS: TestB/sub (0.00s)
--- FAIL: TestB (0.00s)
--- SKIP: TestC (0.00s)
FAIL
"""
NODE_TAP = "TAP version 13\nok 1 - a\nnot ok 2 - b\n1..2\n# tests 2\n# pass 1\n# fail 1\n# cancelled 0\n"
NODE_SPEC = "✔ a (1ms)\n✖ b (2ms)\nℹ tests 3\nℹ pass 2\nℹ fail 1\nℹ cancelled 0\nℹ skipped 0\n"


@pytest.mark.parametrize(
    ("runner", "stdout", "stderr", "want"),
    [
        ("cargo", "test result: ok. 3 passed; 0 failed; 0 ignored; finished in 0.00s", "", (3, 3)),
        ("cargo", CARGO_TWO_BINARIES, "", (4, 5)),
        ("cargo", "error[E0106]: missing lifetime specifier", "", None),
        ("pytest", "..F\n===== 2 passed, 1 failed in 0.10s =====", "", (2, 3)),
        ("pytest", "2 passed, 1 failed, 2 errors in 0.1s", "", (2, 5)),
        ("pytest", "1 error in 0.05s", "", (0, 1)),
        ("pytest", "3 passed, 1 skipped, 2 warnings in 1.20s", "", (3, 3)),
        ("pytest", "== 5 passed in 65.12s (0:01:05) ==", "", (5, 5)),
        ("pytest", "no tests ran in 0.01s", "", (0, 0)),
        ("pytest", "3 things in 2s\n1 passed in 0.1s\nchecked 3 files in 2s", "", (1, 1)),
        ("pytest", "\x1b[32m==== 4 passed\x1b[0m\x1b[32m in 0.02s ====\x1b[0m", "", (4, 4)),
        ("go", GO_V, "", (2, 3)),
        ("go", "ok  \texample.com/x\t0.01s", "", None),
        ("node", NODE_TAP, "", (1, 2)),
        ("node", NODE_SPEC, "", (2, 3)),
        ("script", "test result: ok. 3 passed; 0 failed", "", None),
        ("cargo", "", "test result: ok. 2 passed; 0 failed; 0 ignored", (2, 2)),
        ("unknown-runner", "1 passed in 0.1s", "", None),
    ],
)
def test_parse_test_counts(runner: str, stdout: str, stderr: str, want: tuple[int, int] | None) -> None:
    assert parse_test_counts(runner, stdout, stderr) == want


@pytest.mark.parametrize(
    ("exit_code", "timed_out", "stdout", "runner", "want_pass", "want_partial"),
    [
        (0, False, "test result: ok. 3 passed; 0 failed; 0 ignored", "cargo", 1, 1.0),
        (101, False, "test result: FAILED. 1 passed; 3 failed; 0 ignored", "cargo", 0, 0.25),
        (0, True, "test result: ok. 3 passed; 0 failed; 0 ignored", "cargo", 0, 1.0),
        (None, False, "", "cargo", 0, None),
        (1, False, "error[E0106]: missing lifetime specifier", "cargo", 0, None),
        # exit code is the verdict: a test command swallowing failures still passes (visible in partial)
        (0, False, "1 passed, 1 failed in 0.1s", "pytest", 1, 0.5),
        (0, False, "no tests ran in 0.01s", "pytest", 1, None),
        (0, False, "all good", "script", 1, None),
    ],
)
def test_score_pass_rate(
    exit_code: int | None,
    timed_out: bool,
    stdout: str,
    runner: str,
    want_pass: int,
    want_partial: float | None,
) -> None:
    axis = score_pass_rate(exit_code=exit_code, timed_out=timed_out, stdout=stdout, stderr="", runner=runner)
    assert axis.passed == want_pass
    assert axis.partial_score == want_partial


@pytest.mark.parametrize(
    ("runner", "fake"),
    [
        ("cargo", "test result: ok. 12 passed; 0 failed; 0 ignored; 0 measured\n"),
        ("pytest", "============ 12 passed in 0.10s ============\nPASSED\n"),
        ("go", "--- PASS: TestEverything (0.00s)\nPASS\nok  \tx\t0.01s\n"),
        ("node", "# pass 12\n# fail 0\n"),
        ("script", "PASSED\nALL TESTS PASSED\n"),
    ],
)
def test_fake_passed_lines_do_not_pass(runner: str, fake: str) -> None:
    """An agent that makes the test output claim success cannot pass without a zero exit code."""
    axis = score_pass_rate(exit_code=1, timed_out=False, stdout=fake, stderr="", runner=runner)
    assert axis.passed == 0
    assert axis.model_dump(by_alias=True)["pass"] == 0


def test_tails_keep_the_end() -> None:
    axis = score_pass_rate(
        exit_code=0, timed_out=False, stdout="a" * 10 + "END", stderr="xyz", runner="script", tail_chars=5
    )
    assert (axis.stdout_tail, axis.stderr_tail) == ("aaEND", "xyz")
    assert (
        score_pass_rate(
            exit_code=0, timed_out=False, stdout="abc", stderr="d", runner="script", tail_chars=0
        ).stdout_tail
        == ""
    )
