"""Unified-diff hunks of two lists of lines, in bounded time whatever the lines are (pure).

``difflib.unified_diff`` alone is quadratic on some inputs an agent can write: two 256 KiB files whose
every other line differs took 33 s here. So the lines are first matched the patience way (lines that
occur once on each side, in order, are anchors: a longest increasing subsequence, O(n log n)); only
the gaps between anchors go to ``difflib.SequenceMatcher``, and only while a comparison budget lasts
(the product of a gap's two lengths is spent). A gap past the budget is shown whole as removed then
added: still a correct diff, just not a minimal one.
"""

from __future__ import annotations

import bisect
import difflib
from collections import Counter
from dataclasses import dataclass

GAP_BUDGET = 4_000_000
"""Largest gap (lines before x lines after) handed to SequenceMatcher."""

Opcode = tuple[str, int, int, int, int]
"""``(tag, i1, i2, j1, j2)`` as difflib's: equal / replace / delete / insert."""


@dataclass
class Budget:
    """Comparisons left for SequenceMatcher (shared by every file of one diff)."""

    left: int


def _anchors(a: list[str], b: list[str]) -> list[tuple[int, int]]:
    """Pairs ``(i, j)`` with ``a[i] == b[j]`` unique on both sides, the longest run increasing in both."""
    once_a, once_b = Counter(a), Counter(b)
    where_b = {line: j for j, line in enumerate(b) if once_b[line] == 1}
    pairs = [(i, where_b[line]) for i, line in enumerate(a) if once_a[line] == 1 and line in where_b]
    tails: list[int] = []  # tails[k]: smallest j ending an increasing run of length k + 1
    tail_at: list[int] = []  # index in pairs of that tail
    before: list[int] = []  # index in pairs of the previous element of the run ending here
    for n, (_, j) in enumerate(pairs):
        k = bisect.bisect_left(tails, j)
        if k == len(tails):
            tails.append(j)
            tail_at.append(n)
        else:
            tails[k], tail_at[k] = j, n
        before.append(tail_at[k - 1] if k else -1)
    run: list[tuple[int, int]] = []
    n = tail_at[-1] if tail_at else -1
    while n >= 0:
        run.append(pairs[n])
        n = before[n]
    return run[::-1]


def _gap(a: list[str], b: list[str], i: int, j: int, budget: Budget) -> list[Opcode]:
    """Opcodes of the gap ``a[i:]`` vs ``b[j:]`` (already sliced), shifted to ``i``, ``j``."""
    if not a and not b:
        return []
    if not a:
        return [("insert", i, i, j, j + len(b))]
    if not b:
        return [("delete", i, i + len(a), j, j)]
    cost = len(a) * len(b)
    if cost > GAP_BUDGET or cost > budget.left:
        return [("replace", i, i + len(a), j, j + len(b))]
    budget.left -= cost
    codes = difflib.SequenceMatcher(None, a, b, autojunk=True).get_opcodes()
    return [(tag, i + i1, i + i2, j + j1, j + j2) for tag, i1, i2, j1, j2 in codes]


def opcodes(a: list[str], b: list[str], budget: Budget) -> list[Opcode]:
    """How to turn ``a`` into ``b``, adjacent equal runs merged."""
    codes: list[Opcode] = []
    i = j = 0
    for ai, bj in [*_anchors(a, b), (len(a), len(b))]:
        codes += _gap(a[i:ai], b[j:bj], i, j, budget)
        if ai < len(a):
            codes.append(("equal", ai, ai + 1, bj, bj + 1))
        i, j = ai + 1, bj + 1
    merged: list[Opcode] = []
    for code in codes:
        if merged and code[0] == "equal" == merged[-1][0]:
            last = merged.pop()
            code = ("equal", last[1], code[2], last[3], code[4])
        merged.append(code)
    return merged


def _groups(codes: list[Opcode], context: int) -> list[list[Opcode]]:
    """The changes in hunks: equal runs cut to ``context`` lines around each change, and a hunk ends
    where more than ``2 * context`` equal lines separate two changes."""
    groups: list[list[Opcode]] = []
    current: list[Opcode] = []
    for tag, i1, i2, j1, j2 in codes:
        if tag != "equal":
            current.append((tag, i1, i2, j1, j2))
            continue
        if current:  # lines after a change
            if i2 - i1 <= 2 * context:
                current.append((tag, i1, i2, j1, j2))
                continue
            current.append((tag, i1, i1 + context, j1, j1 + context))
            groups.append(current)
        current = [(tag, max(i1, i2 - context), i2, max(j1, j2 - context), j2)]
    if current and any(code[0] != "equal" for code in current):
        tag, i1, i2, j1, j2 = current[-1]
        if tag == "equal":  # the lines after the last change: context only
            current[-1] = (tag, i1, min(i2, i1 + context), j1, min(j2, j1 + context))
        groups.append(current)
    return [_strip_empty(g) for g in groups]


def _strip_empty(group: list[Opcode]) -> list[Opcode]:
    return [c for c in group if c[0] != "equal" or c[2] > c[1]]


def _range(start: int, length: int) -> str:
    """A hunk header's range, 1-based, as ``diff -u`` writes it."""
    if length == 1:
        return f"{start + 1}"
    return f"{start if length == 0 else start + 1},{length}"


def unified(a: list[str], b: list[str], old: str, new: str, *, context: int, budget: Budget) -> list[str]:
    """The unified diff of ``a`` and ``b`` (lines with their ends), headed ``--- old`` / ``+++ new``;
    [] when they are equal. A line without an end is returned without one."""
    groups = _groups(opcodes(a, b, budget), context)
    if not groups:
        return []
    out = [f"--- {old}\n", f"+++ {new}\n"]
    for group in groups:
        first, last = group[0], group[-1]
        old_range = _range(first[1], last[2] - first[1])
        new_range = _range(first[3], last[4] - first[3])
        out.append(f"@@ -{old_range} +{new_range} @@\n")
        for tag, i1, i2, j1, j2 in group:
            if tag == "equal":
                out += [" " + line for line in a[i1:i2]]
                continue
            out += ["-" + line for line in a[i1:i2]]
            out += ["+" + line for line in b[j1:j2]]
    return out
