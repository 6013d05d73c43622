"""Mutation sites in Python source, found with ``ast`` (positions are UTF-8 byte columns).

Operator tokens carry no position in ``ast``, so a comparison's or a binary operation's operator is
located in the bytes between its operands; when anything but blanks and the operator lies there
(parentheses, a comment, a line break) the site is skipped rather than guessed. Test functions
(``def test_*``) are never mutated.
"""

from __future__ import annotations

import ast
import re

from cab_scheduler.mutation.operators import INDEX_NAME, Site, comparison_swaps, constant_swaps

__all__ = ["python_sites"]

_CMP = {
    ast.Lt: "<",
    ast.LtE: "<=",
    ast.Gt: ">",
    ast.GtE: ">=",
    ast.Eq: "==",
    ast.NotEq: "!=",
    ast.In: "in",
    ast.NotIn: "not in",
    ast.Is: "is",
    ast.IsNot: "is not",
}
_WORD_FLIP = {"in": "not in", "not in": "in", "is": "is not", "is not": "is"}
_SWAP = {
    ast.Sub: "-",
    ast.Div: "/",
    ast.FloorDiv: "//",
    ast.Mod: "%",
    ast.Pow: "**",
    ast.LShift: "<<",
    ast.RShift: ">>",
}
_SIMPLE = (ast.Name, ast.Constant, ast.Attribute, ast.Subscript, ast.Call)


class _Source:
    """The encoded source with byte offsets of ``ast`` positions."""

    def __init__(self, path: str, data: bytes) -> None:
        self.path = path
        self.data = data
        self.starts = [0]
        for i, b in enumerate(data):
            if b == 0x0A:
                self.starts.append(i + 1)

    def begin(self, node: ast.expr | ast.stmt) -> int:
        return self.starts[node.lineno - 1] + node.col_offset

    def end(self, node: ast.expr | ast.stmt) -> int:
        assert node.end_lineno is not None and node.end_col_offset is not None
        return self.starts[node.end_lineno - 1] + node.end_col_offset

    def text(self, node: ast.expr) -> bytes:
        return self.data[self.begin(node) : self.end(node)]

    def site(self, start: int, end: int, operator: str, replacement: bytes) -> Site:
        return Site(self.path, start, end, operator, replacement, self.data.count(b"\n", 0, start) + 1)


def python_sites(path: str, data: bytes) -> list[Site]:
    """Every site of every operator in one Python file; ``[]`` when it does not parse."""
    try:
        tree = ast.parse(data)
    except (SyntaxError, ValueError):
        return []
    src = _Source(path, data)
    sites: list[Site] = []
    skip: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) and node.name.startswith("test"):
            skip |= {id(n) for n in ast.walk(node)}
    for node in ast.walk(tree):
        if id(node) in skip:
            continue
        if isinstance(node, ast.Compare):
            sites += _compare(src, node)
        elif isinstance(node, ast.BinOp) and type(node.op) in _SWAP:
            sites += _swap(src, node.left, node.right, _SWAP[type(node.op)])
        elif isinstance(node, ast.If | ast.While | ast.IfExp):
            sites += _negate(src, node.test)
        elif isinstance(node, ast.Constant):
            sites += _constant(src, node)
        elif isinstance(node, ast.Subscript) and _index_like(node.slice):
            sites += _plus_minus(src, node.slice)
        elif isinstance(node, ast.Slice) and node.upper is not None and _index_like(node.upper):
            sites += _plus_minus(src, node.upper)
        elif isinstance(node, ast.Call):
            sites += _call(src, node)
        if isinstance(
            node, ast.Module | ast.FunctionDef | ast.AsyncFunctionDef | ast.If | ast.For | ast.While
        ):
            sites += _error_branches(src, node)
    return sites


def _operator_at(src: _Source, start: int, end: int, op: str) -> int | None:
    """Offset of ``op`` when ``src[start:end]`` is only blanks around it."""
    gap = src.data[start:end].decode("utf-8", "replace")
    pattern = r"[ \t]*" + r"\s+".join(map(re.escape, op.split())) + r"[ \t]*"
    m = re.fullmatch(pattern, gap)
    return None if m is None else start + len(gap[: len(gap) - len(gap.lstrip(" \t"))].encode())


def _compare(src: _Source, node: ast.Compare) -> list[Site]:
    out = []
    operands = [node.left, *node.comparators]
    for i, op in enumerate(node.ops):
        token = _CMP[type(op)]
        gap_start, gap_end = src.end(operands[i]), src.begin(operands[i + 1])
        at = _operator_at(src, gap_start, gap_end, token)
        if at is None:
            continue
        token_end = at + len(src.data[at:gap_end].rstrip(b" \t"))
        swaps = comparison_swaps(token) + (
            [("flip-comparison", _WORD_FLIP[token])] if token in _WORD_FLIP else []
        )
        out += [src.site(at, token_end, name, new.encode()) for name, new in swaps]
    return out


def _wrap(src: _Source, node: ast.expr) -> bytes:
    text = src.text(node)
    return text if isinstance(node, _SIMPLE) else b"(" + text + b")"


def _swap(src: _Source, left: ast.expr, right: ast.expr, token: str) -> list[Site]:
    start, end = src.begin(left), src.end(right)
    if _operator_at(src, src.end(left), src.begin(right), token) is None:
        return []
    middle = src.data[src.end(left) : src.begin(right)]
    return [src.site(start, end, "swap-operands", _wrap(src, right) + middle + _wrap(src, left))]


def _negate(src: _Source, test: ast.expr) -> list[Site]:
    if isinstance(test, ast.UnaryOp) and isinstance(test.op, ast.Not):
        return [src.site(src.begin(test), src.end(test), "negate-condition", _wrap(src, test.operand))]
    return [src.site(src.begin(test), src.end(test), "negate-condition", b"not " + _wrap(src, test))]


def _constant(src: _Source, node: ast.Constant) -> list[Site]:
    text = src.text(node)
    if isinstance(node.value, bool):
        flipped = b"False" if node.value else b"True"
        return [src.site(src.begin(node), src.end(node), "wrong-constant", flipped)]
    if isinstance(node.value, int) and text.isdigit():
        return [
            src.site(src.begin(node), src.end(node), "wrong-constant", str(v).encode())
            for v in constant_swaps(node.value)
        ]
    return []


def _index_like(node: ast.expr) -> bool:
    """An index worth shifting by one: a name that reads as a position, or ``a + b`` / ``a - b``
    with a non-literal right (``i - 1 + 1`` is wrong-constant's)."""
    if isinstance(node, ast.Name):
        return INDEX_NAME.match(node.id) is not None
    return (
        isinstance(node, ast.BinOp)
        and isinstance(node.op, ast.Add | ast.Sub)
        and not isinstance(node.right, ast.Constant)
    )


def _plus_minus(src: _Source, node: ast.expr) -> list[Site]:
    text = _wrap(src, node) if not isinstance(node, ast.BinOp) else src.text(node)
    return [
        src.site(src.begin(node), src.end(node), "off-by-one", text + delta) for delta in (b" + 1", b" - 1")
    ]


def _call(src: _Source, node: ast.Call) -> list[Site]:
    out = []
    if isinstance(node.func, ast.Name) and node.func.id == "range" and node.args and not node.keywords:
        bound = node.args[1] if len(node.args) > 1 else node.args[0]
        if not isinstance(bound, ast.Constant | ast.UnaryOp):
            out += _plus_minus(src, bound)
    if len(node.args) == 2 and not node.keywords and not any(isinstance(a, ast.Starred) for a in node.args):
        first, second = node.args
        gap = src.data[src.end(first) : src.begin(second)]
        if gap.strip() == b",":
            swapped = src.text(second) + gap + src.text(first)
            out.append(src.site(src.begin(first), src.end(second), "swap-operands", swapped))
    return out


def _is_error_branch(node: ast.stmt) -> bool:
    return (
        isinstance(node, ast.If)
        and not node.orelse
        and len(node.body) == 1
        and isinstance(node.body[0], ast.Raise)
    )


def _error_branches(src: _Source, parent: ast.AST) -> list[Site]:
    """Drop ``if ...: raise ...`` statements that start their line (whole lines removed; ``pass``
    left when the statement was alone in its block)."""
    out = []
    body: list[ast.stmt] = getattr(parent, "body", [])
    for stmt in body:
        if not _is_error_branch(stmt):
            continue
        line_start = src.starts[stmt.lineno - 1]
        indent = src.data[line_start : src.begin(stmt)]
        if indent.strip():
            continue
        assert stmt.end_lineno is not None
        end = src.starts[stmt.end_lineno] if stmt.end_lineno < len(src.starts) else len(src.data)
        keep = b"" if len(body) > 1 else indent + b"pass\n"
        out.append(src.site(line_start, end, "drop-error-branch", keep))
    return out
