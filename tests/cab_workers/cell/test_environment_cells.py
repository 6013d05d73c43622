"""Cells of a task with its own environment, through the real pipeline: the task image is built once
(on the first cell that needs it), the agent runs in the TUI layered on it, the scorer in it, and the
run identity says so. A task whose environment does not build fails as infra, with the build log's
tail, never as the agent's failure.

The fixture task (``tests/fixtures/env_tasks/envs/jq-order-totals``) installs Debian's ``jq`` in its
environment; its hidden test reads the report with ``jq``, so it passes only in the task's image.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from cab_core.schema import CellResult, CellSpec, FailureClass, make_cell_id
from cab_core.settings import Settings
from cab_scheduler.catalog import TaskCatalog
from cab_workers.cell.pipeline import run_cell
from cab_workers.composition import LocalHost

pytestmark = pytest.mark.docker

REPO = Path(__file__).resolve().parents[3]
FIXTURES = REPO / "tests" / "fixtures" / "env_tasks"
TASK = "envs/jq-order-totals"
BROKEN = "envs/jq-order-totals-broken"


@pytest.fixture(scope="module")
def env_host(images, tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalHost]:  # noqa: ANN001
    """A host whose catalogue is the fixture task plus a copy whose environment fails to build."""
    root = tmp_path_factory.mktemp("env-tasks")
    shutil.copytree(FIXTURES, root, dirs_exist_ok=True)
    broken = root / BROKEN
    shutil.copytree(root / TASK, broken)
    spec = broken / "task.yaml"
    spec.write_text(spec.read_text().replace("slug: jq-order-totals", "slug: jq-order-totals-broken"))
    steps = "".join(f"RUN echo broken-step-{i:02d}\n" for i in range(1, 21))
    (broken / "environment" / "Dockerfile").write_text(
        f"ARG BASE\nFROM ${{BASE}}\n{steps}RUN echo no-such-package-here && exit 7\n"
    )
    settings = Settings(home=tmp_path_factory.mktemp("env-home"), tasks_dir=root, images_dir=REPO / "images")
    with LocalHost(settings) as host:
        yield host


def cell(host: LocalHost, model: str, task_id: str = TASK) -> CellSpec:
    task = TaskCatalog(host.settings.tasks_dir).load(task_id)
    return CellSpec(
        cell_id=make_cell_id("env", "reference", model, task_id, 1),
        sweep_id="env",
        tui="reference",
        model=model,
        task=task,
    )


def run(host: LocalHost, spec: CellSpec) -> CellResult:
    assert host.ctx is not None
    return run_cell(spec, host.ctx)


def setup_span(result: CellResult) -> dict[str, object]:
    return next(s for s in result.spans if s.kind == "task_setup").attrs


def test_the_oracle_passes_in_the_task_image_and_the_next_cell_hits_the_cache(
    env_host: LocalHost,
    no_leftover_containers: None,
) -> None:
    assert env_host.sandbox is not None
    builder, sandbox = env_host.image_builder, env_host.sandbox
    paths = TaskCatalog(env_host.settings.tasks_dir).paths(TASK)
    for stale in (builder.task_ref(paths),):  # cold: a previous run's task image is removed first
        if stale is not None and stale.built:
            sandbox.client.images.remove(builder.tag("reference", stale.tag), force=True)
            sandbox.client.images.remove(stale.tag, force=True)

    oracle = run(env_host, cell(env_host, "scripted/oracle"))
    assert oracle.failure.failure_class == FailureClass.none, oracle.failure.reason
    assert oracle.axes is not None and oracle.axes.pass_rate.passed == 1, "jq ran in the scorer's image"
    task_ref = builder.task_ref(paths)
    assert task_ref is not None and task_ref.built
    identity = oracle.identity
    assert identity.task_image == task_ref.tag and identity.task_image_id == task_ref.image_id
    assert identity.task_image.startswith("cab/task-envs.jq-order-totals:")
    agent_tag = builder.tag("reference", task_ref.tag)
    assert identity.container_image == agent_tag != env_host.agent_image("reference")
    assert identity.image_digest == sandbox.image_id(agent_tag)
    attrs = setup_span(oracle)
    assert attrs["task_image"] == task_ref.tag and attrs["scorer_image"] == task_ref.tag
    assert attrs["built"] is True and attrs["cached"] is False and attrs["pulled"] is False
    assert isinstance(attrs["build_s"], float) and attrs["build_s"] > 0
    assert any("built" in line for line in attrs["image_log"])  # type: ignore[attr-defined]

    noop = run(env_host, cell(env_host, "scripted/noop"))
    assert noop.failure.failure_class == FailureClass.none, noop.failure.reason
    assert noop.axes is not None and noop.axes.pass_rate.passed == 0
    assert noop.identity.task_image_id == task_ref.image_id
    attrs = setup_span(noop)
    assert attrs["cached"] is True and attrs["built"] is False and attrs["build_s"] == 0.0


def test_a_task_whose_environment_does_not_build_fails_as_infra_with_the_log_tail(
    env_host: LocalHost,
    no_leftover_containers: None,
) -> None:
    r = run(env_host, cell(env_host, "scripted/oracle", BROKEN))
    assert r.failure.failure_class == FailureClass.infra and r.failure.retryable
    assert r.failure.reason.startswith("building task-envs.jq-order-totals-broken failed:")
    assert "non-zero code: 7" in r.failure.reason and "no-such-package-here" in r.failure.reason
    assert r.axes is None and r.identity.task_image is None
    assert [s.kind for s in r.spans] == ["task_setup", "cleanup"], "the agent never ran"
    span = next(s for s in r.spans if s.kind == "task_setup")
    assert span.error and "ImageError" in span.error
    assert any("broken-step-20" in line for line in span.attrs["image_log"])
