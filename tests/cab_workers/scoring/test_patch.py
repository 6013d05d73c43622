"""The agent's diff as text (``scoring.patch`` over ``scoring.line_diff``): unified hunks written by
hand, one line for what is not diffed, hostile names and contents that cannot forge lines, the total
cap with its marker, and bounded time on inputs that made difflib quadratic."""

from __future__ import annotations

import difflib
import random
import re
import time

import pytest

from cab_workers.scoring.line_diff import Budget, opcodes, unified
from cab_workers.scoring.patch import (
    Absent,
    Content,
    FileChange,
    Link,
    Oversized,
    Side,
    Unreadable,
    file_patch,
    quote,
    render_patch,
)

pytestmark = pytest.mark.unit

A = Absent()


def c(text: str | bytes) -> Content:
    return Content(text.encode() if isinstance(text, str) else text)


@pytest.mark.parametrize(
    ("path", "before", "after", "want"),
    [
        pytest.param(
            "src/lib.rs",
            c("fn a() {}\nfn b() { old }\nfn c() {}\n"),
            c("fn a() {}\nfn b() { new }\nfn c() {}\n"),
            "--- a/src/lib.rs\n+++ b/src/lib.rs\n@@ -1,3 +1,3 @@\n"
            " fn a() {}\n-fn b() { old }\n+fn b() { new }\n fn c() {}\n",
            id="modified",
        ),
        pytest.param(
            "new.txt",
            A,
            c("one\ntwo\n"),
            "--- /dev/null\n+++ b/new.txt\n@@ -0,0 +1,2 @@\n+one\n+two\n",
            id="added",
        ),
        pytest.param(
            "old.txt", c("gone\n"), A, "--- a/old.txt\n+++ /dev/null\n@@ -1 +0,0 @@\n-gone\n", id="removed"
        ),
        pytest.param(
            "x",
            c("a\nb"),
            c("a\nc"),
            "--- a/x\n+++ b/x\n@@ -1,2 +1,2 @@\n a\n-b\n\\ No newline at end of file\n"
            "+c\n\\ No newline at end of file\n",
            id="no-final-newline",
        ),
        pytest.param(
            "x",
            c(b"ok\n\xff\xfe\n"),
            c("ok\n"),
            "--- a/x\n+++ b/x\n@@ -1,2 +1 @@\n ok\n-\ufffd\ufffd\n",
            id="not-utf8",
        ),
        pytest.param(
            "img.png", c(b"\x89PNG\0\x01"), c(b"\x89PNG\0\x02"), "Binary file img.png differs\n", id="binary"
        ),
        pytest.param("blob", A, c(b"\0"), "Binary file blob differs\n", id="binary-added"),
        pytest.param(
            "big.log",
            c("small\n"),
            Oversized(10_000_000_000),
            "File big.log differs: over the 262144-byte per-file limit "
            "(before: 6 bytes, after: 10000000000 bytes)\n",
            id="oversized",
        ),
        pytest.param(
            "pipe",
            A,
            Unreadable("not a regular file"),
            "File pipe not shown: not a regular file\n",
            id="fifo",
        ),
        pytest.param(
            "link",
            A,
            Link("/etc/passwd"),
            "--- /dev/null\n+++ b/link\n@@ -0,0 +1 @@\n+symlink to /etc/passwd\n",
            id="symlink-is-its-target",
        ),
        pytest.param(
            "cfg",
            c("x = 1\n"),
            Link("../../secret"),
            "--- a/cfg\n+++ b/cfg\n@@ -1 +1 @@\n-x = 1\n+symlink to ../../secret\n",
            id="file-became-link",
        ),
        pytest.param("empty", A, c(""), "New empty file empty\n", id="new-empty"),
        pytest.param("empty", c(""), A, "Deleted empty file empty\n", id="deleted-empty"),
        pytest.param(
            "x",
            c(b"\xff"),
            c(b"\xfe"),
            "File x changed (no difference once decoded as UTF-8)\n",
            id="same-once-decoded",
        ),
    ],
)
def test_one_file(path: str, before: Side, after: Side, want: str) -> None:
    assert file_patch(FileChange(path, before, after)) == want


def test_context_is_three_lines_and_far_changes_are_two_hunks() -> None:
    old = [f"{i}\n" for i in range(1, 21)]
    new = [*old]
    new[1], new[17] = "two\n", "eighteen\n"
    got = "".join(unified(old, new, "a/f", "b/f", context=3, budget=Budget(10**6)))
    assert got == (
        "--- a/f\n+++ b/f\n"
        "@@ -1,5 +1,5 @@\n 1\n-2\n+two\n 3\n 4\n 5\n"
        "@@ -15,6 +15,6 @@\n 15\n 16\n 17\n-18\n+eighteen\n 19\n 20\n"
    )


@pytest.mark.parametrize(
    ("name", "want"),
    [
        ("src/lib.rs", "src/lib.rs"),
        ("with space.txt", "with space.txt"),
        ("évité.txt", "évité.txt"),
        ("x\n+++ b/forged", '"x\\x0a+++ b/forged"'),
        ('say "hi"', '"say \\"hi\\""'),
        ("bell\x07\x1b[31m", '"bell\\x07\\x1b[31m"'),
        ("line\u2028sep", '"line\\u2028sep"'),
        ("lone\udcff", '"lone\\udcff"'),
    ],
)
def test_names_with_control_characters_are_quoted(name: str, want: str) -> None:
    assert quote(name) == want


def test_a_hostile_file_name_cannot_start_a_line_of_its_own() -> None:
    name = "a.txt\n--- a/forged\n+++ b/forged\n@@ -1 +1 @@"
    for change in (FileChange(name, A, c("x\n")), FileChange(name, c(b"\0"), A), FileChange(name, A, c(""))):
        text = file_patch(change)
        lines = text.splitlines()
        assert not any(line.startswith(("--- a/forged", "+++ b/forged", "@@ -1 +1")) for line in lines), text
        assert text.encode("utf-8")  # no lone surrogate survives


def test_the_total_cap_cuts_at_a_line_and_says_how_much_was_shown() -> None:
    changes = [FileChange(f"f{i}.txt", A, c("line\n" * 10)) for i in range(3)]
    one = len(
        file_patch(changes[0]).encode()
    )  # "--- /dev/null\n+++ b/f0.txt\n@@ -0,0 +1,10 @@\n" + 10 * "+line\n"
    assert one == 14 + 13 + 17 + 60
    patch = render_patch(changes, max_bytes=one + 30)
    kept = one + 14 + 13  # the second file's two header lines fit, its hunk header does not
    assert patch.truncated and patch.original_bytes == 3 * one
    assert patch.text.endswith(f"+++ b/f1.txt\n[diff truncated: {kept} of {3 * one} bytes shown]\n")
    whole = render_patch(changes, max_bytes=3 * one)
    assert not whole.truncated and whole.original_bytes == len(whole.body) == 3 * one


def apply(a: list[str], diff: list[str]) -> list[str]:
    """A small patch applier: the diff must turn ``a`` into what it claims."""
    out: list[str] = []
    i = 0
    for line in diff[2:]:
        if line.startswith("@@"):
            m = re.match(r"@@ -(\d+)(?:,(\d+))? \+\d+(?:,\d+)? @@", line)
            assert m, line
            start = int(m[1]) - 1 if int(m[2] or 1) > 0 else int(m[1])
            out += a[i:start]
            i = start
        elif line[0] in " -":
            assert a[i] == line[1:], (a[i], line)
            out += [a[i]] if line[0] == " " else []
            i += 1
        else:
            out.append(line[1:])
    return out + a[i:]


def test_random_edits_apply_and_mostly_match_difflib() -> None:
    rng = random.Random(7)
    same = 0
    for _ in range(500):
        a = [f"l{rng.randrange(40)}\n" for _ in range(rng.randrange(30))]
        b = [*a]
        for _ in range(rng.randrange(5)):
            k = rng.randrange(len(b) + 1)
            if k == len(b) or rng.random() < 0.4:
                b.insert(k, f"n{rng.randrange(40)}\n")
            elif rng.random() < 0.5:
                del b[k]
            else:
                b[k] = f"r{rng.randrange(40)}\n"
        mine = unified(a, b, "a/x", "b/x", context=3, budget=Budget(10**9))
        assert apply(a, mine) == b
        same += mine == list(difflib.unified_diff(a, b, "a/x", "b/x", n=3))
    assert same >= 450, "the anchors changed most alignments"


@pytest.mark.parametrize(
    ("old", "new"),
    [
        pytest.param(
            [f"line {i}\n" for i in range(20000)],
            [f"line {i}\n" if i % 2 else f"LINE {i}\n" for i in range(20000)],
            id="every-other-line",  # 33 s with difflib alone
        ),
        pytest.param(
            [f"{(i * 7919) % 300}\n" for i in range(50000)],
            [f"{(i * 104729) % 300}\n" for i in range(50000)],
            id="few-distinct-lines",
        ),
    ],
)
def test_hostile_inputs_are_diffed_in_bounded_time(old: list[str], new: list[str]) -> None:
    started = time.monotonic()
    got = unified(old, new, "a/x", "b/x", context=3, budget=Budget(64_000_000))
    assert time.monotonic() - started < 5
    assert apply(old, got) == new


def test_a_gap_past_the_budget_is_shown_whole_as_replaced() -> None:
    assert opcodes(["a\n", "b\n"], ["c\n", "d\n"], Budget(3)) == [("replace", 0, 2, 0, 2)]
    assert opcodes(["a\n", "b\n"], ["c\n", "d\n"], Budget(4)) == [("replace", 0, 2, 0, 2)]
    budget = Budget(10)
    assert opcodes(["k\n", "a\n", "x\n"], ["k\n", "b\n", "x\n"], budget) == [
        ("equal", 0, 1, 0, 1),
        ("replace", 1, 2, 1, 2),
        ("equal", 2, 3, 2, 3),
    ]
    assert budget.left == 10 - 1 * 1
