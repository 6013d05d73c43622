"""Packing what the agent left behind, so a redelivered cell can be scored without rerunning it.

A checkpoint is the work dir after the agent (tar.gz, top-level ``.git`` included so the snapshot
stays comparable) plus JSON: the pre-run manifest, the agent container's outcome and the adapter's
report, plus the bytes of the model calls (for replay). The pipeline keeps it through its
``CheckpointPort`` (``cab_workers.cell.ports``), which ``cab_core.store.checkpoints`` implements.
"""

from __future__ import annotations

import io
import tarfile
from datetime import datetime
from pathlib import Path
from typing import Any

from cab_core.schema import Exchange, Failure, ModelCall
from cab_workers.adapters.base import AgentReport
from cab_workers.cell.run_record import AgentOutcome, Baseline
from cab_workers.host.sandbox import ContainerRun


def pack(workdir: Path) -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz", compresslevel=3) as tar:
        tar.add(workdir, arcname=".")
    return buf.getvalue()


def unpack(blob: bytes, dest: Path) -> None:
    """Extract into ``dest``; the ``data`` filter refuses absolute paths, links out of ``dest``, devices."""
    dest.mkdir(parents=True, exist_ok=True)
    with tarfile.open(fileobj=io.BytesIO(blob), mode="r:gz") as tar:
        tar.extractall(dest, filter="data")


def _ts(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


def meta(baseline: Baseline, outcome: AgentOutcome, failure: Failure | None = None) -> dict[str, Any]:
    """The checkpoint's JSON: the baseline, the agent's outcome and how it was classified."""
    run, report = outcome.run, outcome.report
    return {
        "failure": failure.model_dump(mode="json") if failure is not None else None,
        "exchanges": [e.model_dump(mode="json") for e in outcome.exchanges],
        "before": baseline.files,
        "before_git": baseline.git_dirs,
        "run": {
            "exit_code": run.exit_code,
            "timed_out": run.timed_out,
            "oom_killed": run.oom_killed,
            "stdout": run.stdout,
            "stderr": run.stderr,
            "output_bytes": run.output_bytes,
            "truncated": run.truncated,
            "started_at": _ts(run.started_at),
            "finished_at": _ts(run.finished_at),
            "active_ms": run.active_ms,
            "image_id": run.image_id,
        },
        "report": {
            "model_calls": [c.model_dump(mode="json") for c in report.model_calls],
            "transcript": report.transcript,
            "handshake_failed": report.handshake_failed,
            "detail": report.detail,
        },
    }


def restore(data: dict[str, Any]) -> AgentOutcome:
    """The agent's outcome as ``meta`` kept it."""
    r = dict(data["run"])
    for key in ("started_at", "finished_at"):
        r[key] = datetime.fromisoformat(r[key]) if r[key] else None
    rep = data["report"]
    report = AgentReport(
        model_calls=[ModelCall.model_validate(c) for c in rep["model_calls"]],
        transcript=rep["transcript"],
        handshake_failed=rep["handshake_failed"],
        detail=rep["detail"],
    )
    exchanges = [Exchange.model_validate(e) for e in data.get("exchanges", [])]
    return AgentOutcome(run=ContainerRun(**r), report=report, exchanges=exchanges)


def baseline_of(data: dict[str, Any]) -> Baseline:
    """The work dir's manifest before the agent ran, as ``meta`` kept it."""
    return Baseline(files=dict(data["before"]), git_dirs=list(data["before_git"]))


def failure_of(data: dict[str, Any]) -> Failure | None:
    """How the checkpointed agent run was classified (None in checkpoints written before it was kept)."""
    raw = data.get("failure")
    return Failure.model_validate(raw) if raw else None
