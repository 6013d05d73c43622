"""A task environment's CI: static rules first, then every apt package looked up in the base image's
Debian release (real Docker, the Debian mirrors as the image build uses them)."""

from __future__ import annotations

from pathlib import Path

import pytest

from cab_core.paths import TaskPaths
from cab_workers.host.images import ImageBuilder
from cab_workers.taskci.task_env import apt_check, check_environment

REPO = Path(__file__).resolve().parents[3]


def task_with(tmp_path: Path, dockerfile: str) -> TaskPaths:
    paths = TaskPaths(tmp_path / "ci" / "env-task")
    paths.environment.mkdir(parents=True)
    (paths.environment / "Dockerfile").write_text(dockerfile)
    return paths


DOCKERFILE = """\
ARG BASE=cab/base:latest
FROM ${BASE}
USER root
RUN apt-get update && apt-get install -y --no-install-recommends %s && rm -rf /var/lib/apt/lists/*
USER agent
WORKDIR /work
"""


@pytest.mark.docker
def test_apt_check_names_the_package_trixie_lacks(images, sandbox) -> None:  # noqa: ANN001
    got = apt_check(
        sandbox, images["base"], ("junit5", "libgtest-dev", "junit4-cab-no-such-package"), "ci/apt"
    )
    assert got.error is None, got.error
    assert got.release == "trixie"
    assert got.missing == ("junit4-cab-no-such-package",)


@pytest.mark.docker
def test_a_missing_package_fails_the_environment_in_one_line_before_any_build(
    images,  # noqa: ANN001
    sandbox,  # noqa: ANN001
    tmp_path: Path,
) -> None:
    paths = task_with(tmp_path, DOCKERFILE % "make libfoo-cab-missing-dev")
    builder = ImageBuilder(sandbox, REPO / "images")
    verdict = check_environment("ci/env-task", paths, sandbox, builder, images["base"])
    assert verdict.present and not verdict.ok and verdict.image is None
    assert verdict.problems == (
        "apt package 'libfoo-cab-missing-dev' is not in Debian trixie (the base image's release)",
    )


@pytest.mark.unit
def test_static_problems_are_reported_without_docker(tmp_path: Path) -> None:
    paths = task_with(tmp_path, "FROM debian:trixie\nRUN npm install -g typescript@5\n")
    verdict = check_environment("ci/env-task", paths, None, None, "unused")  # type: ignore[arg-type]  # not reached
    assert not verdict.ok
    assert any("FROM debian:trixie" in p for p in verdict.problems)
    assert any("typescript@5: pin an exact version" in p for p in verdict.problems)


@pytest.mark.unit
def test_a_task_without_environment_has_nothing_to_check(tmp_path: Path) -> None:
    verdict = check_environment("ci/x", TaskPaths(tmp_path), None, None, "unused")  # type: ignore[arg-type]  # not reached
    assert not verdict.present and verdict.ok
