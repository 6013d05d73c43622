"""The mutation operators and the one shape every site finder produces.

A ``Site`` is one edit of one source file, by byte offsets into its UTF-8 encoding: replace
``source[start:end]`` with ``replacement``. Site finders (``python_source`` over ``ast``,
``treesitter_source`` over tree-sitter grammars) only report sites; ``apply`` makes the mutant.

The operators, as named on the command line::

    negate-condition    if/while condition c -> !(c) / not (c); an already negated one loses its !
    off-by-one          < <-> <=, > <-> >=; i -> i + 1 / i - 1 in an index; a loop bound n -> n + 1 / n - 1
                        (python range(), rust a..b <-> a..=b)
    swap-operands       a - b -> b - a for - / % << >> (python also // and **); f(a, b) -> f(b, a)
    flip-comparison     < <-> >, <= <-> >=, == <-> !=, === <-> !== (python: in <-> not in, is <-> is not)
    drop-error-branch   an `if` without else whose body only raises, throws, panics or returns an error,
                        removed
    wrong-constant      integer literal n -> n + 1 and n - 1 (0 -> 1, 1 -> 0); true <-> false
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Final

__all__ = [
    "INDEX_NAME",
    "NON_COMMUTATIVE",
    "OPERATORS",
    "Site",
    "apply",
    "comparison_swaps",
    "constant_swaps",
    "line_of",
]

OPERATORS: Final = (
    "negate-condition",
    "off-by-one",
    "swap-operands",
    "flip-comparison",
    "drop-error-branch",
    "wrong-constant",
)
"""Every operator, in the canonical order candidates are interleaved in."""

_FLIP: Final = {
    "<": ">",
    ">": "<",
    "<=": ">=",
    ">=": "<=",
    "==": "!=",
    "!=": "==",
    "===": "!==",
    "!==": "===",
}
_BOUND: Final = {"<": "<=", "<=": "<", ">": ">=", ">=": ">"}
INDEX_NAME: Final = re.compile(
    r"^(?:[a-z]|\w*(?:idx|index|pos|mid|lo|hi|start|end|off|offset|count|len|last|first|cursor))$", re.I
)
"""Identifiers that read as integer positions: the only bare identifiers an index shifts by one."""
NON_COMMUTATIVE: Final = frozenset({"-", "/", "%", "<<", ">>"})
"""Binary operators whose operands may not be swapped without changing the meaning."""


@dataclass(frozen=True, order=True)
class Site:
    """One candidate mutation: replace ``[start, end)`` of file ``path``'s bytes with ``replacement``."""

    path: str
    """Work-dir relative POSIX path of the file."""
    start: int
    """Byte offset of the first replaced byte."""
    end: int
    """Byte offset after the last replaced byte."""
    operator: str
    """One of ``OPERATORS``."""
    replacement: bytes
    """What the span becomes."""
    line: int = 0
    """1-based line of ``start`` (for the report; never shown to the agent)."""


def apply(source: bytes, site: Site) -> bytes:
    """``source`` with ``site``'s span replaced."""
    if not 0 <= site.start <= site.end <= len(source):
        raise ValueError(f"site {site.start}:{site.end} outside a source of {len(source)} bytes")
    return source[: site.start] + site.replacement + source[site.end :]


def comparison_swaps(op: str) -> list[tuple[str, str]]:
    """``(operator, replacement)`` pairs a comparison operator ``op`` yields."""
    out = []
    if op in _FLIP:
        out.append(("flip-comparison", _FLIP[op]))
    if op in _BOUND:
        out.append(("off-by-one", _BOUND[op]))
    return out


def constant_swaps(value: int) -> list[int]:
    """The wrong constants for an integer literal: 0 -> 1, 1 -> 0, else n + 1 and n - 1."""
    if value == 0:
        return [1]
    if value == 1:
        return [0, 2]
    return [value + 1, value - 1]


def line_of(source: bytes, offset: int) -> int:
    """1-based line number of byte ``offset``."""
    return source.count(b"\n", 0, offset) + 1
