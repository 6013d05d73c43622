"""From source texts to the ordered, de-duplicated mutants of a task (pure: no I/O).

``generate`` takes the files to mutate (work-dir path -> bytes, read by the caller from the task's
work dir with its reference solution applied), finds every site of the chosen operators, applies
each one, and drops the mutants that do not parse, that normalise to the original (python:
``ast.dump``; tree-sitter languages: the token stream without whitespace and comments) or to an
earlier mutant. The rest are ordered deterministically (sites sorted by file and offset, then
shuffled per operator with ``random.Random(seed)`` and interleaved in ``OPERATORS`` order, so the
first few mutants cover several operators) and ranked from 1.
"""

from __future__ import annotations

import ast
import random
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import PurePosixPath

from cab_scheduler.mutation.operators import OPERATORS, Site, apply
from cab_scheduler.mutation.python_source import python_sites
from cab_scheduler.mutation.treesitter_source import TREE_SITTER_LANGUAGES, parses, tokens, treesitter_sites

__all__ = ["LANGUAGES", "Generation", "Mutant", "generate", "is_test_path", "language_of", "normalise"]

LANGUAGES = ("python", *TREE_SITTER_LANGUAGES)
"""Languages whose files can be mutated."""

_EXTENSIONS = {
    ".py": "python",
    ".rs": "rust",
    ".go": "go",
    ".js": "javascript",
    ".mjs": "javascript",
    ".cjs": "javascript",
    ".ts": "typescript",
    ".mts": "typescript",
    ".cts": "typescript",
    ".java": "java",
    ".c": "c",
    ".cc": "cpp",
    ".cpp": "cpp",
    ".cxx": "cpp",
    ".hpp": "cpp",
    ".hh": "cpp",
    ".hxx": "cpp",
}
_ALIASES = {"c++": "cpp", "js": "javascript", "ts": "typescript", "golang": "go"}


def language_of(path: str, task_language: str = "") -> str | None:
    """The language a file is parsed as (a ``.h`` header follows the task: C++ tasks' are C++)."""
    suffix = PurePosixPath(path).suffix.lower()
    if suffix == ".h":
        hint = _ALIASES.get(task_language.lower(), task_language.lower())
        return "cpp" if hint == "cpp" else "c"
    if suffix == ".d.ts" or path.endswith(".d.ts"):
        return None
    return _EXTENSIONS.get(suffix)


def is_test_path(path: str) -> bool:
    """Whether a work-dir path looks like test code (never mutated)."""
    p = PurePosixPath(path)
    name = p.name.lower()
    dirs = {d.lower() for d in p.parts[:-1]}
    if dirs & {"test", "tests", "__tests__", "testing", "spec"}:
        return True
    stem = name.split(".")[0]
    return (
        stem.startswith("test_")
        or stem.endswith(("_test", "_tests", "test", "tests", "_spec"))
        or ".test." in name
        or ".spec." in name
        or name == "conftest.py"
    )


@dataclass(frozen=True)
class Mutant:
    """One mutant: a site applied to one file."""

    rank: int
    """1-based position in the sampled order (stable for a seed and source)."""
    site: Site
    language: str
    original: bytes
    """The file before the mutation."""
    mutated: bytes
    """The file after it."""

    @property
    def path(self) -> str:
        return self.site.path

    @property
    def operator(self) -> str:
        return self.site.operator

    @property
    def mutated_line(self) -> str:
        """The whole mutated line(s) as text (kept out of prompts)."""
        start = self.mutated.rfind(b"\n", 0, self.site.start) + 1
        end = self.mutated.find(b"\n", self.site.start + len(self.site.replacement))
        return self.mutated[start : end if end >= 0 else len(self.mutated)].decode("utf-8", "replace")


@dataclass(frozen=True)
class Generation:
    """What ``generate`` found."""

    candidates: int
    """Sites found for the chosen operators."""
    equivalent: int
    """Dropped: normalise to the original or to an earlier mutant."""
    invalid: int
    """Dropped: the mutant does not parse."""
    mutants: tuple[Mutant, ...]
    """The rest, in sampled order."""


def normalise(data: bytes, language: str) -> bytes | None:
    """The normal form used to spot equivalent mutants; None when ``data`` does not parse."""
    if language == "python":
        try:
            return ast.dump(ast.parse(data)).encode()
        except (SyntaxError, ValueError):
            return None
    return tokens(data, language) if parses(data, language) else None


def sites_of(path: str, data: bytes, language: str) -> list[Site]:
    """Every site in one file."""
    if language == "python":
        return python_sites(path, data)
    return treesitter_sites(path, data, language)


def generate(
    files: Mapping[str, bytes],
    *,
    task_language: str = "",
    operators: Sequence[str] = OPERATORS,
    seed: int = 0,
) -> Generation:
    """The mutants of ``files`` (path -> bytes), ordered by ``seed``; files of unknown language or
    that look like tests are skipped."""
    unknown = sorted(set(operators) - set(OPERATORS))
    if unknown:
        raise ValueError(f"unknown mutation operator(s) {', '.join(unknown)}; known: {', '.join(OPERATORS)}")
    found: list[tuple[Site, str]] = []
    for path in sorted(files):
        language = language_of(path, task_language)
        if language is None or is_test_path(path):
            continue
        found += [(s, language) for s in sites_of(path, files[path], language) if s.operator in operators]
    found.sort()
    seen: dict[str, set[bytes]] = {}
    equivalent = invalid = 0
    kept: list[tuple[Site, str, bytes]] = []
    for site, language in found:
        original = files[site.path]
        mutated = apply(original, site)
        norm = normalise(mutated, language)
        if norm is None:
            invalid += 1
            continue
        known = seen.setdefault(site.path, {normalise(original, language) or b""})
        if norm in known:
            equivalent += 1
            continue
        known.add(norm)
        kept.append((site, language, mutated))
    ordered = _interleave(kept, operators, seed)
    mutants = tuple(
        Mutant(rank, site, language, files[site.path], mutated)
        for rank, (site, language, mutated) in enumerate(ordered, start=1)
    )
    return Generation(len(found), equivalent, invalid, mutants)


def _interleave(
    kept: list[tuple[Site, str, bytes]], operators: Sequence[str], seed: int
) -> list[tuple[Site, str, bytes]]:
    rng = random.Random(seed)
    groups = []
    for op in (o for o in OPERATORS if o in operators):
        group = [k for k in kept if k[0].operator == op]
        rng.shuffle(group)
        groups.append(group)
    out = []
    for i in range(max((len(g) for g in groups), default=0)):
        out += [g[i] for g in groups if i < len(g)]
    return out
