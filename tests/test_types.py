"""The type gate runs with the tests: mypy --strict over the packages, as ``[tool.mypy]`` configures it."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.unit

REPO = Path(__file__).resolve().parent.parent


@pytest.mark.timeout(900)
def test_mypy_is_clean() -> None:
    mypy = Path(sys.executable).parent / "mypy"
    # no targets: the packages come from pyproject.toml; the incremental cache (.mypy_cache) is kept
    done = subprocess.run([str(mypy)], cwd=REPO, capture_output=True, text=True)
    assert done.returncode == 0, done.stdout + done.stderr
