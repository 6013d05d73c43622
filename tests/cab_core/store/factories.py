"""Realistic ``CellResult`` records for store and render tests (modelled on the seed pages)."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime, timedelta

from cab_core.schema import (
    Axes,
    BlastRadiusAxis,
    CellResult,
    CompositeAxis,
    Digests,
    Failure,
    FailureClass,
    IntegrityAxis,
    LatencyAxis,
    ModelCall,
    PassRateAxis,
    RefusalAxis,
    RunIdentity,
    Span,
    SweepSpec,
    Timing,
    TokensAxis,
    TokenSource,
    make_cell_id,
)

STARTED_AT = datetime(2026, 6, 16, 0, 48, 46, 519436, tzinfo=UTC)
DIGEST = "sha256:e56bdb69fb83ea2f8c81c06257f190fd4b5e91077e83d5536f722ff1b9c70275"
FAKE_SECRET = "sk-live-THIS1SAFAKESECRETVALUE0123456789"
"""Put into span attrs by ``make_result(secret_in_attrs=True)``; renderers must never show it."""


def _hex(seed: str, n: int = 32) -> str:
    return hashlib.sha256(seed.encode()).hexdigest()[:n]


def make_sweep(sweep_id: str = "free-20260527", **overrides: object) -> SweepSpec:
    fields: dict[str, object] = {
        "sweep_id": sweep_id,
        "tuis": ["opencode", "aider"],
        "models": ["meta/llama-3.3-70b-instruct"],
        "tasks": ["polyglot/*"],
        "reruns": 2,
        "endpoint": "http://127.0.0.1:31415/v1",
        "api_key_env": "CAB_TEST_KEY",
    }
    return SweepSpec.model_validate({**fields, **overrides})


def _spans(cell_id: str, task_id: str, tui: str, *, secret: bool) -> list[Span]:
    ids = {k: _hex(f"{cell_id}/{k}") for k in ("setup", "plugins", "container", "adapter", "cleanup")}
    trace = _hex(f"{cell_id}/trace")

    def span(key: str, kind: str, name: str, at_ms: float, dur: float, **kw: object) -> Span:
        return Span.model_validate(
            {
                "trace_id": trace,
                "span_id": ids[key],
                "kind": kind,
                "name": name,
                "started_at": STARTED_AT + timedelta(milliseconds=at_ms),
                "duration_ms": dur,
                **kw,
            }
        )

    container_attrs: dict[str, object] = {
        "image": f"cab/{tui}:v1",
        "exit_code": 0,
        "timed_out": False,
        "image_digest": DIGEST,
        "command": [tui, "run", "--format", "json"],
    }
    if secret:
        container_attrs["env"] = {
            "OPENAI_API_KEY": FAKE_SECRET,
            "OPENAI_BASE_URL": "http://172.17.0.1:31415/v1",
        }
    return [
        span(
            "setup",
            "task_setup",
            f"prepare:{task_id}",
            0,
            3.2,
            attrs={
                "workdir": "/tmp/cells/x/work",
                "task_category": task_id.split("/")[0],
                "plugin_stack": [],
            },
        ),
        span(
            "plugins",
            "tool_call",
            "applied_plugins",
            4,
            0.1,
            parent_id=ids["adapter"],
            attrs={"tui": tui, "count": 0, "applied": [], "env_keys": ["OPENAI_API_KEY"]},
        ),
        span(
            "container",
            "container",
            f"{tui}-run:{task_id}",
            5,
            11731.0,
            parent_id=ids["adapter"],
            attrs=container_attrs,
        ),
        span(
            "adapter", "adapter_run", f"{tui}:{task_id}", 4, 11731.4, attrs={"timeout_s": 600, "exit_code": 0}
        ),
        span("cleanup", "cleanup", f"cleanup:{tui}", 11740, 0.4, attrs={}, error="work dir kept: --keep"),
    ]


def _calls(model: str, n: int, *, tokens: bool) -> list[ModelCall]:
    return [
        ModelCall(
            seq=i,
            timestamp=STARTED_AT + timedelta(seconds=1 + 2 * i),
            request_hash=_hex(f"req{i}", 64),
            model=model,
            prompt_tokens=1200 + 100 * i if tokens else None,
            completion_tokens=80 + i if tokens else None,
            cached_tokens=512 if tokens else None,
            latency_ms=1800.5 + i,
            ttft_ms=300.0,
            finish_reason="tool_calls" if i < n - 1 else "stop",
            http_status=200,
            source=TokenSource.proxy,
        )
        for i in range(n)
    ]


def make_result(
    *,
    sweep_id: str = "free-20260527",
    tui: str = "opencode",
    model: str = "meta/llama-3.3-70b-instruct",
    task_id: str = "polyglot/rust-lifetime-fix",
    run: int = 1,
    attempt: int = 1,
    failure_class: FailureClass = FailureClass.none,
    reason: str = "",
    passed: int = 1,
    calls: int = 3,
    tokens: bool = True,
    scored: bool = True,
    secret_in_attrs: bool = False,
) -> CellResult:
    """A fully populated result; ``tokens=False`` leaves every token count unknown (None)."""
    cell_id = make_cell_id(sweep_id, tui, model, task_id, run)
    model_calls = _calls(model, calls, tokens=tokens)
    prompt = sum(c.prompt_tokens or 0 for c in model_calls) if tokens else None
    completion = sum(c.completion_tokens or 0 for c in model_calls) if tokens else None
    total = prompt + completion if prompt is not None and completion is not None else None
    axes = Axes(
        pass_rate=PassRateAxis.model_validate(
            {
                "pass": passed,
                "exit_code": 0 if passed else 101,
                "stdout_tail": "test result: ok. 3 passed\n",
                "partial_score": 1.0 if passed else 0.25,
                "tests_passed": 3 if passed else 1,
                "tests_total": 3,
            }
        ),
        tokens=TokensAxis(
            prompt_tokens=prompt,
            completion_tokens=completion,
            total_tokens=total,
            model_calls=calls if tokens else None,
            tokens_per_correct_task=(total / passed) if total is not None and passed else None,
            pass_used_for_division=passed,
            source=TokenSource.proxy if tokens else TokenSource.none,
        ),
        latency=LatencyAxis(
            wall_clock_ms=11734.067,
            container_active_ms=11730.371,
            model_call_ms=sum(c.latency_ms or 0 for c in model_calls) if calls else None,
        ),
        blast_radius=BlastRadiusAxis(
            blast_radius=0.0,
            modified=["src/lib.rs"],
            expected_changes=["src/lib.rs"],
            total_changes=1,
            tui_state_files=[".opencode/state.json"],
        ),
        refusal=RefusalAxis(
            refusal=0.0,
            not_applicable=True,
            expected_refusal=False,
            refusal_produced=False,
            refusal_correct=None,
        ),
        integrity=IntegrityAxis(
            integrity=1.0, not_applicable=False, task_id=task_id, checked=["visible tests unchanged"]
        ),
        composite=CompositeAxis(
            composite=0.9621796428558476 if passed else 0.31,
            weights={"pass_rate": 0.4, "integrity": 0.2, "cost": 0.15, "latency": 0.15, "blast_radius": 0.1},
            components={"pass_rate": passed, "integrity": 1, "latency_efficiency": 0.7478642857056501},
            note="Single-cell composite.",
            scoring_version="cab-2026.11.1",
        ),
    )
    return CellResult(
        identity=RunIdentity(
            cell_id=cell_id,
            sweep_id=sweep_id,
            tui=tui,
            model=model,
            task_id=task_id,
            run=run,
            attempt=attempt,
            container_image=f"cab/{tui}:v1",
            image_digest=DIGEST,
            model_build_id=model,
            exit_code=0,
            host="worker-1",
        ),
        timing=Timing(
            started_at=STARTED_AT, ended_at=STARTED_AT + timedelta(seconds=11.734), duration_s=11.734
        ),
        failure=Failure(failure_class=failure_class, reason=reason),
        axes=axes if scored else None,
        spans=_spans(cell_id, task_id, tui, secret=secret_in_attrs),
        model_calls=model_calls,
        digests=Digests(prompt_sha256=_hex("p", 64), output_sha256=_hex("o", 64), grade_sha256=_hex("g", 64)),
        recording_path=f"recordings/{_hex(cell_id, 8)}.cast",
        agent_output_tail="Fixed the lifetime annotation in src/lib.rs.",
    )
