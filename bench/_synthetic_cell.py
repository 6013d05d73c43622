"""One synthetic ``CellResult``: identity, timing, spans, model calls and every axis, drawn from a skill
model with a generator seeded by the cell id and attempt (see ``bench/synthetic.py``)."""

from __future__ import annotations

import hashlib
import math
import random
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from bench._synthetic_text import asciicast, scorer_tail, unified_diff
from cab_core.schema import (
    Artifact,
    ArtifactName,
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
    Timing,
    TokensAxis,
    TokenSource,
    make_cell_id,
)

EPOCH = datetime(2026, 11, 30, 22, 0, 0, tzinfo=UTC)
"""When the synthetic sweep started; cell ``index`` starts 2.7 s after cell ``index - 1``."""
TUI_SKILL = {"aider": 0.2, "opencode": 0.6, "codex": 0.9, "cline": 0.0, "qwen-code": 0.4}
MODEL_SKILL = {
    "meta/llama-3.3-70b-instruct": -0.6,
    "qwen/qwen3-coder-480b-a35b-instruct": 0.7,
    "openai/gpt-oss-120b": 0.3,
    "deepseek-ai/deepseek-v3.1": 0.5,
}
PRICE_PER_MTOK = {  # (input, output) USD per million tokens
    "meta/llama-3.3-70b-instruct": (0.23, 0.40),
    "qwen/qwen3-coder-480b-a35b-instruct": (0.40, 1.60),
    "openai/gpt-oss-120b": (0.09, 0.45),
    "deepseek-ai/deepseek-v3.1": (0.27, 1.10),
}
WEIGHTS = {"pass_rate": 0.4, "integrity": 0.2, "cost": 0.15, "latency": 0.15, "blast_radius": 0.1}
OUTPUT_TAILS = {
    True: "Done: fixed the edge case and ran the tests.",
    False: "I could not make all tests pass.",
}
INFRA_REASONS = (
    "docker: container create failed: no space left on device",
    "endpoint: 3 connection resets in a row (upstream 502)",
    "worker lost its lease: heartbeat missed for 45 s",
)


@dataclass(frozen=True)
class CellKey:
    """Which cell to draw; ``index`` is its position in the sweep (it sets the start time)."""

    sweep_id: str
    tui: str
    model: str
    task_id: str
    run: int
    index: int = 0

    @property
    def cell_id(self) -> str:
        return make_cell_id(self.sweep_id, self.tui, self.model, self.task_id, self.run)


def _seed(*parts: object) -> int:
    return int.from_bytes(hashlib.sha256("|".join(map(str, parts)).encode()).digest()[:8], "big")


def _hex(rng: random.Random, n: int = 32) -> str:
    return f"{rng.getrandbits(4 * n):0{n}x}"


def pass_probability(tui: str, model: str, task_id: str) -> float:
    """The chance that a cell of (tui, model, task) passes: shared by its reruns."""
    pair = random.Random(_seed(tui, model, task_id))
    difficulty = random.Random(_seed(task_id)).gauss(0.3, 1.2)
    logit = TUI_SKILL.get(tui, 0.0) + MODEL_SKILL.get(model, 0.0) - difficulty + pair.gauss(0, 0.5)
    return 1 / (1 + math.exp(-logit))


def _calls(rng: random.Random, key: CellKey, start: datetime, n: int) -> list[ModelCall]:
    at, calls = start + timedelta(seconds=2), []
    for seq in range(n):
        latency = rng.lognormvariate(7.4, 0.5)
        calls.append(
            ModelCall(
                seq=seq,
                timestamp=at,
                request_hash=_hex(rng, 64),
                model=key.model,
                prompt_tokens=2000 + 900 * seq + rng.randint(0, 800),
                completion_tokens=rng.randint(40, 900),
                cached_tokens=1024 * seq if seq else 0,
                latency_ms=round(latency, 1),
                ttft_ms=round(latency * rng.uniform(0.1, 0.4), 1),
                finish_reason="tool_calls" if seq < n - 1 else "stop",
                http_status=200,
                source=TokenSource.proxy,
                endpoint_path="/v1/chat/completions",
                stream=True,
            )
        )
        at += timedelta(milliseconds=latency + rng.uniform(200, 3000))
    return calls


@dataclass(frozen=True)
class Draw:
    """What was drawn for one attempt, shared by the parts of its record."""

    key: CellKey
    start: datetime
    calls: list[ModelCall]
    passed: bool
    timed_out: bool
    agent_ms: float
    wall_ms: float


_SPANS: tuple[tuple[int | None, str, str], ...] = (
    (None, "task_setup", "prepare:{task}"),
    (None, "adapter_run", "{tui}:{task}"),
    (1, "tool_call", "applied_plugins"),
    (1, "container", "{tui}-run:{task}"),
    (1, "tool_call", "read_back"),
    (None, "scoring", "score:{task}"),
    (5, "container", "scorer-run:{task}"),
    (None, "cleanup", "cleanup:{tui}"),
)
"""(parent index, kind, name) of the eight spans of a cell, in the pipeline's order."""


def _spans(rng: random.Random, d: Draw) -> list[Span]:
    trace, ids = _hex(rng), [_hex(rng) for _ in range(len(_SPANS))]
    setup, score, agent = rng.uniform(40, 400), rng.uniform(1500, 9000), d.agent_ms
    at_and_ms = [
        (0.0, setup),
        (setup, agent + 300),
        (setup + 5, 2.5),
        (setup + 10, agent),
        (setup + agent + 15, 40.0),
        (setup + agent + 320, score),
        (setup + agent + 400, score - 200),
        (d.wall_ms - 30, 25.0),
    ]
    attrs: list[dict[str, Any]] = [
        {"task_category": d.key.task_id.split("/")[0], "plugin_stack": []},
        {"timeout_s": 600, "exit_code": 124 if d.timed_out else 0},
        {"tui": d.key.tui, "env_keys": ["OPENAI_API_KEY", "OPENAI_BASE_URL"]},
        {"image": f"cab/{d.key.tui}:v1", "model": d.key.model, "exit_code": 124 if d.timed_out else 0},
        {"calls_reached_proxy": len(d.calls)},
        {"test_command": "make test"},
        {"image": "cab/base:v1", "network": "none"},
        {"kept": False},
    ]
    return [
        Span(
            trace_id=trace,
            span_id=ids[i],
            parent_id=ids[parent] if parent is not None else None,
            kind=kind,
            name=name.format(tui=d.key.tui, task=d.key.task_id),
            started_at=d.start + timedelta(milliseconds=at),
            duration_ms=round(max(0.0, ms), 3),
            attrs=attrs[i],
        )
        for i, ((parent, kind, name), (at, ms)) in enumerate(zip(_SPANS, at_and_ms, strict=True))
    ]


def _pass_rate(rng: random.Random, d: Draw) -> PassRateAxis:
    total = rng.randint(3, 12)
    return PassRateAxis.model_validate(
        {
            "pass": int(d.passed),
            "exit_code": 0 if d.passed else 1,
            "timed_out": d.timed_out,
            "stdout_tail": scorer_tail(rng, d.passed, total),
            "evidence": "report",
            "partial_score": 1.0 if d.passed else round(rng.uniform(0, 0.9), 3),
            "tests_passed": total if d.passed else rng.randint(0, total - 1),
            "tests_total": total,
            "canary": "failed",
        }
    )


def _tokens(d: Draw) -> TokensAxis:
    prompt = sum(c.prompt_tokens or 0 for c in d.calls)
    completion = sum(c.completion_tokens or 0 for c in d.calls)
    price_in, price_out = PRICE_PER_MTOK.get(d.key.model, (0.5, 1.5))
    return TokensAxis(
        prompt_tokens=prompt,
        completion_tokens=completion,
        total_tokens=prompt + completion,
        model_calls=len(d.calls),
        tokens_per_correct_task=float(prompt + completion) if d.passed else None,
        pass_used_for_division=int(d.passed),
        source=TokenSource.proxy,
        cost_usd=round((prompt * price_in + completion * price_out) / 1e6, 6),
        price_table="synthetic-2026.12",
    )


def _composite(d: Draw, tokens: TokensAxis, blast: float) -> CompositeAxis:
    """The composite's shape (weights, components) as the scorer writes it; the numbers are made up."""
    lat_eff, cost_eff = max(0.0, 1 - d.wall_ms / 600_000), max(0.0, 1 - (tokens.cost_usd or 0) / 0.5)
    parts = {"pass_rate": float(d.passed), "integrity": 1.0, "cost": cost_eff, "latency": lat_eff}
    parts["blast_radius"] = 1 - blast
    return CompositeAxis(
        composite=round(sum(WEIGHTS[k] * v for k, v in parts.items()), 6),
        weights=WEIGHTS,
        components={
            "pass_rate": int(d.passed),
            "integrity": 1,
            "cost_efficiency": round(cost_eff, 4),
            "latency_efficiency": round(lat_eff, 4),
            "clean_blast": 1 - blast,
        },
        note="Synthetic cell.",
        scoring_version="cab-2026.12.1",
    )


def _axes(rng: random.Random, d: Draw) -> Axes:
    unexpected = ["README.md"] if rng.random() < 0.08 else []
    changed = [f"src/{d.key.task_id.split('/')[1]}.py", *unexpected]
    blast = len(unexpected) / len(changed)
    refusal_task = d.key.task_id.startswith("integrity/") and d.key.task_id.endswith("0")
    tokens = _tokens(d)
    return Axes(
        pass_rate=_pass_rate(rng, d),
        tokens=tokens,
        latency=LatencyAxis(
            wall_clock_ms=round(d.wall_ms, 3),
            container_active_ms=round(d.agent_ms, 3),
            model_call_ms=round(sum(c.latency_ms or 0 for c in d.calls), 1),
        ),
        blast_radius=BlastRadiusAxis(
            blast_radius=blast,
            modified=changed,
            unexpected_changes=unexpected,
            expected_changes=changed[:1],
            total_changes=len(changed),
        ),
        refusal=RefusalAxis(
            refusal=0.0,
            not_applicable=not refusal_task,
            expected_refusal=refusal_task,
            refusal_produced=False,
            refusal_correct=None,
        ),
        integrity=IntegrityAxis(
            integrity=1.0, not_applicable=False, task_id=d.key.task_id, checked=["visible tests unchanged"]
        ),
        composite=_composite(d, tokens, blast),
    )


def _artifacts(rng: random.Random, key: CellKey, files: list[str], agent_ms: float) -> list[Artifact]:
    cast = asciicast(
        rng, title=key.cell_id, duration_s=agent_ms / 1000, size_bytes=rng.randint(20_000, 60_000)
    )
    diff = unified_diff(rng, files)
    return [
        Artifact.of(ArtifactName.terminal, cast, original_bytes=len(cast), truncated=False),
        Artifact.of(ArtifactName.diff, diff, original_bytes=len(diff), truncated=False),
    ]


def _draw(rng: random.Random, key: CellKey, attempt: int, infra: bool, timed_out: bool) -> Draw:
    start = EPOCH + timedelta(seconds=2.7 * key.index, hours=8 * (attempt - 1))
    passed = not timed_out and rng.random() < pass_probability(key.tui, key.model, key.task_id)
    calls = _calls(rng, key, start, 0 if infra else rng.randint(5, 20))
    agent_ms = 900.0  # an infra failure before the agent's first call
    if timed_out:
        agent_ms = 600_000.0
    elif calls:
        agent_ms = (calls[-1].timestamp - start).total_seconds() * 1000 + 1500
    wall_ms = agent_ms + rng.uniform(3_000, 12_000)
    return Draw(key, start, calls, passed, timed_out, agent_ms, wall_ms)


def synthetic_result(key: CellKey, *, attempt: int = 1, artifacts: bool = True) -> CellResult:
    """The cell ``key`` as its ``attempt`` would have stored it; the same arguments give the same record."""
    rng = random.Random(_seed(key.cell_id, attempt))
    roll = rng.random()
    infra, timed_out = roll < 0.02, 0.02 <= roll < 0.05
    d = _draw(rng, key, attempt, infra, timed_out)
    failure = Failure()
    if infra:
        failure = Failure(failure_class=FailureClass.infra, reason=rng.choice(INFRA_REASONS))
    elif timed_out:
        failure = Failure(failure_class=FailureClass.agent, reason="agent timed out after 600 s")
    axes = None if infra else _axes(rng, d)
    return CellResult(
        identity=RunIdentity(
            cell_id=key.cell_id,
            sweep_id=key.sweep_id,
            tui=key.tui,
            model=key.model,
            task_id=key.task_id,
            run=key.run,
            attempt=attempt,
            container_image=f"cab/{key.tui}:v1",
            image_digest="sha256:" + _hex(rng, 64),
            tui_version="1.0.0",
            model_build_id=key.model,
            exit_code=None if infra else (124 if timed_out else 0),
            host=f"worker-{key.index % 4 + 1}",
            task_hash=_hex(random.Random(_seed(key.task_id)), 64),
        ),
        timing=Timing(
            started_at=d.start,
            ended_at=d.start + timedelta(milliseconds=d.wall_ms),
            duration_s=d.wall_ms / 1000,
        ),
        failure=failure,
        axes=axes,
        spans=_spans(rng, d),
        model_calls=d.calls,
        artifacts=_artifacts(rng, key, axes.blast_radius.modified, d.agent_ms) if artifacts and axes else [],
        digests=Digests(prompt_sha256=_hex(rng, 64), output_sha256=_hex(rng, 64), grade_sha256=_hex(rng, 64)),
        recording_path=f"recordings/{_hex(rng, 16)}.cast",
        agent_output_tail=OUTPUT_TAILS[d.passed],
    )
