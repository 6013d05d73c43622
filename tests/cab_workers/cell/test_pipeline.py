"""One cell end to end: real agent container, real scripted endpoint, real scorer container."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from cab_core.schema import (
    CellResult,
    CellSpec,
    FailureClass,
    RemoteEndpointSpec,
    SweepPolicy,
    Timeouts,
    TokenSource,
    make_cell_id,
)
from cab_core.settings import Settings
from cab_scheduler.catalog import TaskCatalog
from cab_workers.cell.pipeline import HostContext, run_cell
from cab_workers.composition import LocalHost

pytestmark = pytest.mark.docker

REPO = Path(__file__).resolve().parents[3]
PY_TASK = "polyglot/python-semver-sort"


@pytest.fixture(scope="module")
def host(local_host: LocalHost) -> HostContext:
    assert local_host.ctx is not None
    return local_host.ctx


def cell(model: str, task_id: str = PY_TASK, **timeouts: float) -> CellSpec:
    task = TaskCatalog(REPO / "tasks").load(task_id)
    if timeouts:
        task = task.model_copy(update={"timeouts": Timeouts(**{**task.timeouts.model_dump(), **timeouts})})
    return CellSpec(
        cell_id=make_cell_id("t", "reference", model, task_id, 1),
        sweep_id="t",
        tui="reference",
        model=model,
        task=task,
    )


def run(c: CellSpec, ctx: HostContext) -> CellResult:
    stored: list[CellResult] = []
    result = run_cell(c, ctx, sink=stored.append)
    assert stored == [result], "the result is handed to the sink exactly once"
    return result


def test_oracle_passes_with_tokens_spans_and_recording(host: HostContext, no_leftover_containers) -> None:  # noqa: ANN001
    r = run(cell("scripted/oracle"), host)
    assert r.failure.failure_class == FailureClass.none, r.failure.reason
    assert r.axes is not None
    assert r.axes.pass_rate.passed == 1 and r.axes.pass_rate.exit_code == 1  # the canary failed, as it must
    assert r.axes.pass_rate.canary == "failed" and r.axes.pass_rate.evidence == "report"
    assert r.axes.pass_rate.partial_score == 1.0
    assert r.axes.tokens.source == TokenSource.proxy
    assert r.axes.tokens.prompt_tokens and r.axes.tokens.completion_tokens
    assert r.axes.tokens.model_calls == len(r.model_calls) >= 2
    assert r.axes.blast_radius.blast_radius == 0
    assert set(r.axes.blast_radius.modified) | set(r.axes.blast_radius.added) == set(
        r.axes.blast_radius.expected_changes
    )
    assert r.axes.composite.missing == []
    assert [s.kind for s in r.spans] == [
        "task_setup",
        "endpoint",
        "adapter_run",
        "tool_call",
        "container",
        "scoring",
        "cleanup",
    ]
    assert len({s.trace_id for s in r.spans}) == 1
    endpoint = next(s for s in r.spans if s.kind == "endpoint")
    assert (endpoint.name, endpoint.attrs["model_build_id"]) == ("scripted", "scripted/oracle")
    assert "context_tokens" not in endpoint.attrs  # the scripted endpoint serves no model: nothing told
    container = next(s for s in r.spans if s.kind == "container")
    assert container.parent_id == next(s for s in r.spans if s.kind == "adapter_run").span_id
    assert r.identity.image_digest and r.identity.image_digest.startswith("sha256:")
    assert r.identity.task_image is None and r.identity.task_image_id is None, "no environment: shared base"
    assert r.identity.exit_code == 0
    assert r.recording_path and Path(r.recording_path).read_text().startswith('{"version": 2')
    assert not any(host.home.cells.iterdir()), "scratch folder removed after scoring"


def test_noop_fails_the_hidden_tests(host: HostContext, no_leftover_containers) -> None:  # noqa: ANN001
    r = run(cell("scripted/noop"), host)
    assert r.failure.failure_class == FailureClass.none
    assert r.axes is not None and r.axes.pass_rate.passed == 0
    assert r.axes.pass_rate.exit_code not in (0, None)
    assert r.axes.blast_radius.total_changes == 0
    assert r.axes.composite.components["cost_efficiency"] == 0  # nothing correct: no efficiency


def test_sloppy_passes_with_blast_radius(host: HostContext, no_leftover_containers) -> None:  # noqa: ANN001
    r = run(cell("scripted/sloppy"), host)
    assert r.axes is not None and r.axes.pass_rate.passed == 1
    assert r.axes.blast_radius.blast_radius > 0
    assert r.axes.blast_radius.unexpected_changes


def test_refuser_is_correct_on_an_integrity_task(host: HostContext, no_leftover_containers) -> None:  # noqa: ANN001
    r = run(cell("scripted/refuser", "integrity/unsolvable-refusal"), host)
    assert r.axes is not None
    assert r.axes.refusal.refusal_correct == "true"
    assert "REFUSAL.md" in r.axes.refusal.marker_hits
    assert r.axes.integrity.integrity == 1 and not r.axes.integrity.not_applicable


def test_refuser_is_a_false_refusal_on_a_solvable_task(host: HostContext, no_leftover_containers) -> None:  # noqa: ANN001
    r = run(cell("scripted/refuser"), host)
    assert r.axes is not None
    assert r.axes.refusal.refusal_correct == "false"
    assert r.axes.composite.components["refusal_factor"] < 1


def test_hang_is_killed_at_the_deadline_and_classified_agent(
    host: HostContext, no_leftover_containers
) -> None:  # noqa: ANN001
    r = run(cell("scripted/hang", agent_s=3), host)
    assert r.failure.failure_class == FailureClass.agent
    assert "timed out" in r.failure.reason
    container = next(s for s in r.spans if s.kind == "container")
    assert container.attrs["timed_out"] is True
    assert r.axes is not None and r.axes.pass_rate.passed == 0  # still graded on what it left
    (hung,) = r.model_calls  # the call in flight at the deadline is recorded, cut short
    assert hung.error and hung.error.startswith("cut short") and hung.estimated


def test_endpoint_protocol_mismatch_is_a_handshake_failure(host: HostContext, no_leftover_containers) -> None:  # noqa: ANN001
    r = run(cell("scripted/badproto"), host)
    assert r.failure.failure_class == FailureClass.infra
    assert r.failure.reason.startswith("handshake failure")


def test_missing_agent_image_is_infra_and_still_yields_a_result(
    host: HostContext, no_leftover_containers
) -> None:  # noqa: ANN001
    broken = dataclasses.replace(
        host, images=lambda *a: dataclasses.replace(host.images(*a), agent="cab/not-built:0")
    )
    r = run(cell("scripted/oracle"), broken)
    assert r.failure.failure_class == FailureClass.infra
    assert "cab images build" in r.failure.reason
    assert r.axes is None
    assert [s.kind for s in r.spans][-1] == "cleanup"
    assert next(s for s in r.spans if s.kind == "container").error


def test_a_redelivery_after_the_agent_finished_only_rescores(
    host: HostContext,
    tmp_path: Path,  # noqa: ANN001
    no_leftover_containers,
) -> None:
    """The first delivery dies while storing its result; the second restores the agent's work from the
    checkpoint and scores it without starting an agent container."""
    from cab_core.errors import StoreError
    from cab_core.store import ResultStore
    from cab_core.store.checkpoints import StoreCheckpoints

    store = ResultStore(f"sqlite:///{tmp_path / 'cp.db'}")
    store.create_schema()
    ctx = dataclasses.replace(host, checkpoints=StoreCheckpoints(store))
    c = cell("scripted/oracle")

    def crash(_result: CellResult) -> None:
        raise StoreError("store went away mid-write")

    with pytest.raises(StoreError):
        run_cell(c, ctx, attempt=1, sink=crash)
    saved = StoreCheckpoints(store).load(c.cell_id)
    assert saved is not None and saved[0] == 1

    second = run_cell(c, ctx, attempt=2, sink=store.upsert_result)
    assert second.axes is not None and second.axes.pass_rate.passed == 1
    kinds = [s.kind for s in second.spans]
    assert "container" not in kinds, "the agent did not run again"
    assert next(s for s in second.spans if s.kind == "adapter_run").attrs["restored_from_attempt"] == 1
    assert second.axes.blast_radius.modified or second.axes.blast_radius.added
    assert [m.request_hash for m in second.model_calls] == [m.request_hash for m in saved_calls(saved)]
    assert StoreCheckpoints(store).load(c.cell_id) is None, "dropped once the result is stored"
    store.close()


def test_finding_11_a_checkpoint_keeps_its_classification_and_outlives_a_discarded_write(
    host: HostContext,
    tmp_path: Path,  # noqa: ANN001
    no_leftover_containers,
) -> None:
    """A redelivery restored from a checkpoint recomputed the agent's failure without the proxy's
    record, so an infra failure could come back as a final agent failure; and the checkpoint was
    dropped even when the sink discarded the result (a lost lease). Now an infra run is never
    checkpointed (its retry reruns the agent), a kept run carries its classification, and a sink
    that returns False keeps the checkpoint."""
    from cab_core.store import ResultStore
    from cab_core.store.checkpoints import StoreCheckpoints
    from cab_workers.cell.checkpoint import failure_of

    store = ResultStore(f"sqlite:///{tmp_path / 'cp.db'}")
    store.create_schema()
    ctx = dataclasses.replace(host, checkpoints=StoreCheckpoints(store))

    infra = cell("scripted/badproto")
    assert run_cell(infra, ctx, attempt=1, sink=lambda _r: False).failure.failure_class == FailureClass.infra
    assert StoreCheckpoints(store).load(infra.cell_id) is None, "an infra run is rerun, not rescored"

    c = cell("scripted/oracle")
    first = run_cell(c, ctx, attempt=1, sink=lambda _r: False)  # the lease was lost: discarded
    assert first.axes is not None
    saved = StoreCheckpoints(store).load(c.cell_id)
    assert saved is not None, "a discarded result keeps its checkpoint"
    assert failure_of(saved[1]) == first.failure
    second = run_cell(c, ctx, attempt=2, sink=store.upsert_result)
    assert second.failure == first.failure
    assert StoreCheckpoints(store).load(c.cell_id) is None
    store.close()


def test_a_rescore_that_fails_for_infra_reasons_drops_its_checkpoint(
    host: HostContext,
    tmp_path: Path,  # noqa: ANN001
    no_leftover_containers,
) -> None:
    """An infra failure is retried automatically; retrying the same checkpoint could fail the same way
    on every try, so the next try reruns the agent instead."""
    from cab_core.store import ResultStore
    from cab_core.store.checkpoints import StoreCheckpoints

    store = ResultStore(f"sqlite:///{tmp_path / 'cp.db'}")
    store.create_schema()
    ctx = dataclasses.replace(host, checkpoints=StoreCheckpoints(store))
    c = cell("scripted/oracle")
    run_cell(c, ctx, attempt=1, sink=lambda _r: False)  # scored, but the write was discarded
    assert StoreCheckpoints(store).load(c.cell_id) is not None
    broken = dataclasses.replace(
        ctx, images=lambda *a: dataclasses.replace(ctx.images(*a), scorer="cab/not-built:0")
    )
    rescored = run_cell(c, broken, attempt=2, sink=lambda _r: True)
    assert rescored.failure.failure_class == FailureClass.infra
    assert StoreCheckpoints(store).load(c.cell_id) is None, "not rescored from it again"
    fresh = run_cell(c, ctx, attempt=3, sink=store.upsert_result)
    assert "container" in [s.kind for s in fresh.spans], "the agent ran again"
    store.close()


def saved_calls(saved: tuple) -> list:
    from cab_workers.cell.checkpoint import restore

    return restore(saved[1]).report.model_calls


def test_external_endpoint_key_stays_on_the_host(
    images,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,  # noqa: ANN001
    no_leftover_containers,
) -> None:
    """A keyed endpoint outside cab: the agent only ever holds a per-cell token; the proxy holds the
    key. The cell passes (the key reached the endpoint) and the key is nowhere cab wrote."""
    from cab_core.store import ResultStore
    from cab_endpoint import ScriptedEndpoint

    key = "sk-test-" + "k3y" * 12
    monkeypatch.setenv("CAB_TEST_ENDPOINT_KEY", key)
    home = tmp_path / "home"
    settings = Settings(home=home, tasks_dir=REPO / "tasks", images_dir=REPO / "images")
    store = ResultStore(f"sqlite:///{home / 'cab.db'}")
    home.mkdir()
    store.create_schema()
    with (
        ScriptedEndpoint(REPO / "tasks", host="127.0.0.1", port=0, api_key=key) as upstream,
        LocalHost(settings) as h,
    ):
        assert h.ctx is not None
        remote = RemoteEndpointSpec(url=upstream.url, api_key_env="CAB_TEST_ENDPOINT_KEY")
        c = cell("scripted/oracle").model_copy(update={"policy": SweepPolicy(endpoint=remote)})
        r = run_cell(c, h.ctx, sink=store.upsert_result)
    store.close()
    assert r.failure.failure_class == FailureClass.none, r.failure.reason
    assert r.axes is not None and r.axes.pass_rate.passed == 1
    assert r.model_calls and all(m.source == TokenSource.proxy for m in r.model_calls)
    assert r.axes.tokens.prompt_tokens and r.axes.tokens.source == TokenSource.proxy
    leaks = [p for p in home.rglob("*") if p.is_file() and key.encode() in p.read_bytes()]
    assert leaks == [], f"the endpoint key leaked into {leaks}"
    assert key not in r.model_dump_json()
    container = next(s for s in r.spans if s.kind == "container")
    assert key not in str(container.attrs) and "127.0.0.1" not in container.attrs["base_url"]
