"""The generated task.yaml: the source's grading, the mutant's changes, provenance; stable bytes."""

from __future__ import annotations

import pytest
import yaml

from cab_core.schema import TaskSpec
from cab_scheduler.mutation import generate, mutant_slug, mutant_spec, render_spec

pytestmark = pytest.mark.unit

SOURCE = TaskSpec(
    category="polyglot",
    slug="py-clamp",
    title="t",
    language="python",
    prompt="fix it",
    test_command=["python3", "-m", "pytest", "-q"],
    test_runner="pytest",
    expected_changes=["pkg/clamp.py"],
    protected_paths=["tests/test_clamp.py"],
    declared_tests=["tests/test_hidden.py::test_a"],
)


def test_spec_and_rendering() -> None:
    mutant = generate({"pkg/clamp.py": b"def f(x):\n    return x < 3\n"}, seed=2).mutants[0]
    spec = mutant_spec(SOURCE, mutant, prompt="Bug report\n\nline two\n", source_hash="ab" * 32, seed=2)
    assert spec.task_id == f"mutations/{mutant_slug('py-clamp', mutant)}"
    assert spec.slug.startswith("py-clamp-m01-")
    assert spec.expected_changes == ["pkg/clamp.py"]
    assert (spec.test_command, spec.protected_paths, spec.declared_tests) == (
        SOURCE.test_command,
        SOURCE.protected_paths,
        SOURCE.declared_tests,
    )
    assert spec.generated_by is not None and spec.generated_by.source == "polyglot/py-clamp"
    text = render_spec(spec)
    assert "prompt: |\n  Bug report\n\n  line two\n" in text
    assert TaskSpec.model_validate(yaml.safe_load(text)) == spec
    assert render_spec(spec) == text
