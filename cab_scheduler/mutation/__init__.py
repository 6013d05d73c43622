"""The mutation generator's pure engine: from a task's sources to mutants, prompts and task specs.

No I/O here beyond the texts it is given; ``cab_workers.taskci.mutantcheck`` runs the kill check and
writes task folders, ``cab tasks mutate`` (cab_cli/mutate_cmd.py) drives both::

    operators.py          the operators' names and rules, Site (a byte-offset edit), apply
    python_source.py      sites in Python, with ast positions
    treesitter_source.py  sites in Rust, Go, JavaScript, TypeScript, Java, C, C++ (tree-sitter wheels)
    engine.py             generate: sites -> applied, de-duplicated, seeded order (Mutant, Generation)
    prompt.py             bug_report: the prompt, from the failing tests' names and messages
    taskgen.py            mutant_spec / render_spec: the generated task.yaml
"""

from __future__ import annotations

from cab_scheduler.mutation.engine import LANGUAGES, Generation, Mutant, generate, is_test_path, language_of
from cab_scheduler.mutation.operators import OPERATORS, Site, apply
from cab_scheduler.mutation.prompt import FailingTest, bug_report
from cab_scheduler.mutation.taskgen import MUTATIONS_CATEGORY, mutant_slug, mutant_spec, render_spec

__all__ = [
    "LANGUAGES",
    "MUTATIONS_CATEGORY",
    "OPERATORS",
    "FailingTest",
    "Generation",
    "Mutant",
    "Site",
    "apply",
    "bug_report",
    "generate",
    "is_test_path",
    "language_of",
    "mutant_slug",
    "mutant_spec",
    "render_spec",
]
