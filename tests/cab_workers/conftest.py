"""Fixtures of the worker tests that need a whole host: Docker, images, agent network, proxy."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from cab_core.settings import Settings
from cab_workers.composition import LocalHost

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def local_host(images, tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalHost]:  # noqa: ANN001
    """A worker host as `cab run` sets it up (egress lock included), for one test module."""
    settings = Settings(
        home=tmp_path_factory.mktemp("home"), tasks_dir=REPO / "tasks", images_dir=REPO / "images"
    )
    with LocalHost(settings) as h:
        assert h.ctx is not None
        yield h
