"""Mutation sites in Rust, Go, JavaScript, TypeScript, Java, C and C++, found with tree-sitter.

Each language is a grammar wheel (``tree-sitter-rust`` ...) and a ``_Grammar`` row naming its node
types. Operators are read only from a ``binary_expression``'s ``operator`` field (generics use ``<``
too). Rust items under a ``#[test]`` or ``#[cfg(test)]`` attribute are never mutated; test files
are excluded by path before this module sees them. ``tokens`` gives the normalised form (the leaf
tokens without comments) used to drop equivalent mutants.
"""

from __future__ import annotations

import importlib
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from functools import cache

from tree_sitter import Language, Node, Parser

from cab_scheduler.mutation.operators import (
    INDEX_NAME,
    NON_COMMUTATIVE,
    Site,
    comparison_swaps,
    constant_swaps,
)

__all__ = ["TREE_SITTER_LANGUAGES", "parses", "tokens", "treesitter_sites"]


@dataclass(frozen=True)
class _Grammar:
    module: str
    function: str
    integer: frozenset[str]
    index: frozenset[str]
    arguments: frozenset[str]
    conditional: frozenset[str]
    """Node types with a ``condition`` field that is a branch or loop condition."""


_C_LIKE = frozenset({"if_statement", "while_statement", "do_statement"})
_GRAMMARS: dict[str, _Grammar] = {
    "rust": _Grammar(
        "tree_sitter_rust",
        "language",
        frozenset({"integer_literal"}),
        frozenset({"index_expression"}),
        frozenset({"arguments"}),
        frozenset({"if_expression", "while_expression"}),
    ),
    "go": _Grammar(
        "tree_sitter_go",
        "language",
        frozenset({"int_literal"}),
        frozenset({"index_expression"}),
        frozenset({"argument_list"}),
        frozenset({"if_statement"}),
    ),
    "javascript": _Grammar(
        "tree_sitter_javascript",
        "language",
        frozenset({"number"}),
        frozenset({"subscript_expression"}),
        frozenset({"arguments"}),
        _C_LIKE,
    ),
    "typescript": _Grammar(
        "tree_sitter_typescript",
        "language_typescript",
        frozenset({"number"}),
        frozenset({"subscript_expression"}),
        frozenset({"arguments"}),
        _C_LIKE,
    ),
    "java": _Grammar(
        "tree_sitter_java",
        "language",
        frozenset({"decimal_integer_literal"}),
        frozenset({"array_access"}),
        frozenset({"argument_list"}),
        _C_LIKE,
    ),
    "c": _Grammar(
        "tree_sitter_c",
        "language",
        frozenset({"number_literal"}),
        frozenset({"subscript_expression"}),
        frozenset({"argument_list"}),
        _C_LIKE,
    ),
    "cpp": _Grammar(
        "tree_sitter_cpp",
        "language",
        frozenset({"number_literal"}),
        frozenset({"subscript_expression"}),
        frozenset({"argument_list"}),
        _C_LIKE,
    ),
}
TREE_SITTER_LANGUAGES = tuple(sorted(_GRAMMARS))
"""Languages this module parses."""

_INTEGER = re.compile(rb"^(-?)([0-9][0-9_]*)([A-Za-z][A-Za-z0-9]*)?$")

_SIMPLE_HINTS: tuple[str, ...] = (
    *("identifier", "literal", "number", "call", "index", "subscript", "access", "field", "member"),
    *("parenthesized", "selector", "invocation", "true", "false", "nil", "null"),
)
"""Node types (by substring) that need no parentheses when moved to the other side of an operator."""
_BLOCKS = frozenset({"block", "statement_block", "compound_statement", "statement_list"})
_UNTYPED = frozenset({"javascript"})
"""Languages where swapping a call's two arguments usually still compiles (typed ones mostly fail to
build, which wastes a kill check)."""
_ERROR_CALLS = (b"errors.New", b"fmt.Errorf")
_ERROR_MACROS = frozenset({b"panic", b"bail", b"unreachable"})


@cache
def _parser(language: str) -> Parser:
    grammar = _GRAMMARS[language]
    module = importlib.import_module(grammar.module)
    capsule: object = getattr(module, grammar.function)()
    return Parser(Language(capsule))


def _text(node: Node) -> bytes:
    return node.text or b""


def _walk(node: Node, skip: Callable[[Node], bool]) -> Iterator[Node]:
    stack = [node]
    while stack:
        n = stack.pop()
        if skip(n):
            continue
        yield n
        stack.extend(reversed(n.children))


def _is_test_item(node: Node) -> bool:
    """A Rust item right after ``#[test]`` / ``#[cfg(test)]`` (or any attribute naming test)."""
    prev = node.prev_named_sibling
    return (
        node.type in ("mod_item", "function_item")
        and prev is not None
        and prev.type == "attribute_item"
        and re.search(rb"\btest\b", _text(prev)) is not None
    )


def treesitter_sites(path: str, data: bytes, language: str) -> list[Site]:
    """Every site of every operator in one file of ``language``; ``[]`` when it does not parse."""
    tree = _parser(language).parse(data)
    if tree.root_node.has_error:
        return []
    grammar = _GRAMMARS[language]
    sites: list[Site] = []

    def site(node: Node, operator: str, replacement: bytes, start: int | None = None) -> None:
        begin = node.start_byte if start is None else start
        sites.append(Site(path, begin, node.end_byte, operator, replacement, node.start_point[0] + 1))

    for node in _walk(tree.root_node, _is_test_item):
        if node.type == "binary_expression":
            _binary(node, site)
        elif node.type in grammar.integer:
            _integer(node, site)
        elif node.type in ("true", "false", "boolean_literal") and _text(node) in (b"true", b"false"):
            site(node, "wrong-constant", b"false" if _text(node) == b"true" else b"true")
        elif node.type in grammar.conditional:
            _condition(node, site)
            _error_branch(node, data, site)
        elif node.type in grammar.index:
            _index(node, site)
        elif node.type in grammar.arguments and language in _UNTYPED:
            _arguments(node, site)
        elif node.type == "range_expression" and language == "rust":
            _range(node, site)
    return sites


_Emit = Callable[..., None]


def _wrap(node: Node) -> bytes:
    simple = any(hint in node.type for hint in _SIMPLE_HINTS) and "binary" not in node.type
    return _text(node) if simple else b"(" + _text(node) + b")"


def _binary(node: Node, site: _Emit) -> None:
    op, left, right = (node.child_by_field_name(f) for f in ("operator", "left", "right"))
    if op is None or left is None or right is None:
        return
    token = _text(op).decode()
    for name, new in comparison_swaps(token):
        site(op, name, new.encode())
    if token in NON_COMMUTATIVE:
        middle = _text(node)[left.end_byte - node.start_byte : right.start_byte - node.start_byte]
        site(node, "swap-operands", _wrap(right) + middle + _wrap(left))


def _integer(node: Node, site: _Emit) -> None:
    m = _INTEGER.match(_text(node))
    if m is None or (len(m.group(2)) > 1 and m.group(2).startswith(b"0")):
        return  # hex, octal, binary, floats: left alone
    value = int(m.group(2).replace(b"_", b"")) * (-1 if m.group(1) else 1)
    for v in constant_swaps(value):
        site(node, "wrong-constant", str(v).encode() + (m.group(3) or b""))


def _unwrap(node: Node) -> Node | None:
    """The expression inside a ``( ... )`` condition, or the condition itself."""
    while node.type in ("parenthesized_expression", "condition_clause"):
        inner = [c for c in node.named_children if "comment" not in c.type]
        if len(inner) != 1:
            return None
        node = inner[0]
    return None if "let" in node.type or "declaration" in node.type else node


def _condition(node: Node, site: _Emit) -> None:
    cond = node.child_by_field_name("condition")
    inner = None if cond is None else _unwrap(cond)
    if inner is None:
        return
    first = inner.children[0] if inner.children else None
    if inner.type == "unary_expression" and first is not None and _text(first) == b"!":
        operand = inner.named_children[-1]
        unwrapped = _unwrap(operand) if operand.type == "parenthesized_expression" else None
        site(inner, "negate-condition", _text(unwrapped or operand))
    else:
        site(inner, "negate-condition", b"!" + _wrap(inner))


def _statements(node: Node) -> list[Node]:
    if node.type in _BLOCKS:
        return [s for c in node.named_children if "comment" not in c.type for s in _statements(c)]
    if node.type == "expression_statement" and node.named_child_count == 1:
        return _statements(node.named_children[0])
    return [node]


def _raises(stmt: Node) -> bool:
    """A statement that only raises, throws, panics or returns an error."""
    if stmt.type == "throw_statement":
        return True
    if stmt.type == "macro_invocation":
        return _text(stmt).split(b"!")[0].strip() in _ERROR_MACROS
    if stmt.type == "call_expression" and _text(stmt).startswith(b"panic("):
        return True
    if stmt.type in ("return_expression", "return_statement"):
        values = [c for c in stmt.named_children if "comment" not in c.type]
        if values and values[-1].type == "expression_list":
            values = values[-1].named_children
        last = _text(values[-1]) if values else b""
        return (
            last.startswith((b"Err(", b"-", b"NULL", *_ERROR_CALLS))
            or re.fullmatch(rb"\w*[eE]rr\w*", last) is not None
        )
    return False


def _error_branch(node: Node, data: bytes, site: _Emit) -> None:
    if node.type not in ("if_statement", "if_expression") or node.child_by_field_name("alternative"):
        return
    body = node.child_by_field_name("consequence")
    statements = [] if body is None else _statements(body)
    if len(statements) != 1 or not _raises(statements[0]):
        return
    line_start = data.rfind(b"\n", 0, node.start_byte) + 1
    if data[line_start : node.start_byte].strip() == b"" and data[node.end_byte : node.end_byte + 1] == b"\n":
        sites_end = node.end_byte + 1
        site(_Span(line_start, sites_end, node), "drop-error-branch", b"")
    else:
        site(node, "drop-error-branch", b"")


class _Span:
    """A node's position stretched to whole lines (what ``site`` reads of a node)."""

    def __init__(self, start: int, end: int, node: Node) -> None:
        self.start_byte, self.end_byte, self.start_point = start, end, node.start_point


def _index(node: Node, site: _Emit) -> None:
    index = node.child_by_field_name("index") or node.child_by_field_name("indices")
    if index is None and node.named_child_count == 2:
        index = node.named_children[1]
    if index is not None and index.type == "subscript_argument_list" and index.named_child_count == 1:
        index = index.named_children[0]
    if index is None:
        return
    right = index.child_by_field_name("right")
    op = index.child_by_field_name("operator")
    arithmetic = index.type == "binary_expression" and op is not None and _text(op) in (b"+", b"-")
    if (index.type == "identifier" and INDEX_NAME.match(_text(index).decode())) or (
        arithmetic and right is not None and right.type != index.type and not _INTEGER.match(_text(right))
    ):
        for delta in (b" + 1", b" - 1"):
            site(index, "off-by-one", _text(index) + delta)


def _arguments(node: Node, site: _Emit) -> None:
    args = [c for c in node.named_children if "comment" not in c.type]
    if len(args) != 2:
        return
    first, second = args
    middle = _text(node)[first.end_byte - node.start_byte : second.start_byte - node.start_byte]
    if middle.strip() == b",":
        site(
            _Span(first.start_byte, second.end_byte, first),
            "swap-operands",
            _text(second) + middle + _text(first),
        )


def _range(node: Node, site: _Emit) -> None:
    for child in node.children:
        if child.type in ("..", "..="):
            site(child, "off-by-one", b"..=" if child.type == ".." else b"..")


def parses(data: bytes, language: str) -> bool:
    """Whether ``data`` parses without error nodes."""
    return not _parser(language).parse(data).root_node.has_error


def tokens(data: bytes, language: str) -> bytes:
    """The leaf tokens of ``data`` without comments, NUL-separated: equal for sources that differ
    only in whitespace and comments."""
    out: list[bytes] = []
    stack = [_parser(language).parse(data).root_node]
    while stack:
        n = stack.pop()
        if "comment" in n.type:
            continue
        if not n.children or "string" in n.type or "literal" in n.type or n.type == "char":
            out.append(_text(n))
        else:
            stack.extend(reversed(n.children))
    return b"\0".join(out)
