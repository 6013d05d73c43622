"""Every TUI against a REAL model: ``endpoint: local:gemma3-270m`` starts llama.cpp's llama-server with
Gemma 3 270M as a sweep does, one cell per TUI runs against it, and each cell must end classified with
what the server itself reported: token counts from its usage (``source = proxy``, not estimated), TTFT
for streamed calls, and the model build id (weights digest, server build).

A 270M model solves little; the assertions are about the record, not the score. CI runs the TUIs in
``CI_TUIS`` (one per way of talking to a server; see the module's note in the README's matrix); every
TUI runs with::

    CAB_REAL_MODEL_FULL=1 .venv/bin/pytest tests/cab_workers/test_real_model_cells.py
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from cab_core.schema import CellResult, FailureClass, SweepSpec, TokenSource
from cab_core.settings import Settings
from cab_scheduler.catalog import TaskCatalog
from cab_scheduler.sweep import expand
from cab_workers.adapters import ADAPTERS
from cab_workers.composition import LocalHost
from cab_workers.sweep_runner import plan, run_planned
from tests.conftest import LOCAL_MODEL

pytestmark = [pytest.mark.docker, pytest.mark.slow]

REPO = Path(__file__).resolve().parents[2]
TASK = "polyglot/python-semver-sort"
ALL_TUIS = [
    "reference",
    "opencode",
    "aider",
    "openhands",
    "codex",
    "qwen-code",
    "pi",
    "cline",
    "mini-swe-agent",
]
CI_TUIS = ["reference", "opencode", "codex", "aider"]
"""One TUI per way of speaking to a server: cab's own loop (chat completions, not streamed), a
TypeScript SDK streaming chat completions with tools, the Responses API, and litellm."""
TUIS = ALL_TUIS if os.environ.get("CAB_REAL_MODEL_FULL", "") not in ("", "0") else CI_TUIS


@pytest.fixture(scope="module")
def results(
    images, model_image: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[dict[str, CellResult]]:  # noqa: ANN001
    """One sweep, one cell per TUI, run on a host as ``cab run`` runs it: TUI -> its result."""
    from cab_core.store import ResultStore

    home = tmp_path_factory.mktemp("real-model")
    settings = Settings(home=home, tasks_dir=REPO / "tasks", images_dir=REPO / "images")
    spec = SweepSpec.model_validate(
        {
            "sweep_id": "real-model-test",
            "tuis": TUIS,
            "models": [LOCAL_MODEL],
            "tasks": [TASK],
            "endpoint": f"local:{LOCAL_MODEL}",
            "slots": 2,
            # answers of at most 256 tokens: every TUI gets some in its time on 2 cores (the server's own
            # cap is 1024); recorded per call as set by cab
            "sampling": {"max_tokens": 256},
            "timeouts": {"agent_s": 150, "test_s": 180, "setup_s": 300},
        }
    )
    cells = expand(spec, TaskCatalog(REPO / "tasks"), sorted(ADAPTERS))
    store = ResultStore(f"sqlite:///{home / 'cab.db'}")
    store.create_schema()
    with LocalHost(settings, model_slots=2) as host:
        assert host.ctx is not None
        done = run_planned(plan(cells, store), host.ctx, store, slots=2)
    store.close()
    yield {r.identity.tui: r for r in done}


@pytest.mark.parametrize("tui", TUIS)
def test_the_cell_ends_classified_with_what_the_real_server_reported(
    tui: str, results: dict[str, CellResult]
) -> None:
    r = results[tui]
    failure = r.failure
    why = f"{tui}: {failure.failure_class.value} {failure.reason!r}"
    # classified: the agent's own failure, a pass/fail, or a handshake the real server refused;
    # never cab's infra (images, Docker, the server not coming up)
    if failure.failure_class == FailureClass.infra:
        assert failure.reason.startswith("handshake failure"), why
    else:
        assert failure.failure_class in (FailureClass.none, FailureClass.agent), why
        assert r.axes is not None, why
    assert "sha256:" in r.identity.model_build_id and "llama.cpp b" in r.identity.model_build_id
    (endpoint,) = [s for s in r.spans if s.kind == "endpoint"]
    assert endpoint.attrs.get("context_tokens") == 32768  # one slot's context, what the TUI was told
    assert r.model_calls, f"{tui} never reached the server ({why})"
    answered = [c for c in r.model_calls if c.http_status == 200 and c.error is None]
    for call in answered:  # the server's own usage, never an estimate
        assert call.source == TokenSource.proxy and not call.estimated, (tui, call)
        assert call.prompt_tokens is not None and call.prompt_tokens > 0, (tui, call)
        assert call.completion_tokens is not None, (tui, call)
        if call.stream:
            assert call.ttft_ms is not None, (tui, call)
    if failure.failure_class != FailureClass.infra:
        seen = [(c.http_status, c.error) for c in r.model_calls]
        assert answered, f"{tui}: no call was answered in the agent's time ({why}; calls: {seen})"
        assert all(256 in c.sampling_forced.values() for c in answered), (tui, answered[0].sampling_forced)
        assert r.axes is not None and r.axes.tokens.source == TokenSource.proxy, why
