"""Adapter for cab's reference agent (``images/reference/agent.py``).

The agent prints one JSON object per line on stdout; this adapter reads them back:

    {"event": "model_call", "seq", "ts", "request_sha256", "prompt_tokens", "completion_tokens",
     "latency_ms", "finish_reason", "http_status", "model"}     one per HTTP attempt
    {"event": "assistant", "content"}                            assistant text
    {"event": "tool", "command", "exit_code"}                    one per command run
    {"event": "error", "kind": "config"|"handshake"|"endpoint", "detail"}
    {"event": "done", "turns", "reason"}

Exit codes: 0 done, 2 bad configuration, 3 handshake failure, 4 endpoint error after retries.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from cab_core.paths import CONTAINER_AGENT
from cab_core.schema import CellSpec, ModelCall, TokenSource
from cab_workers.adapters.base import AgentLaunch, AgentReport, EndpointWiring
from cab_workers.adapters.common import as_int, as_ms, context_overflow, json_lines

AGENT_PATH = "/opt/cab/agent.py"
EXIT_OK, EXIT_CONFIG, EXIT_HANDSHAKE, EXIT_ENDPOINT = 0, 2, 3, 4
_EXIT_MEANING = {
    EXIT_CONFIG: "bad configuration",
    EXIT_HANDSHAKE: "handshake failure",
    EXIT_ENDPOINT: "endpoint error",
}


def parse_events(stdout: str) -> list[dict[str, Any]]:
    """Every stdout line that is a JSON object with an ``event`` key; anything else is ignored."""
    return [e for e in json_lines(stdout) if isinstance(e.get("event"), str)]


def _timestamp(value: Any, fallback: datetime) -> datetime:
    if isinstance(value, str):
        try:
            ts = datetime.fromisoformat(value)
            return ts if ts.tzinfo else ts.replace(tzinfo=UTC)
        except ValueError:
            pass
    return fallback


def _model_call(event: dict[str, Any], index: int, now: datetime) -> ModelCall:
    """One ``model_call`` event; a number that is not a finite one >= 0 (NaN, -1...) is unknown."""
    seq = as_int(event.get("seq"))
    return ModelCall(
        seq=seq if seq is not None else index,
        timestamp=_timestamp(event.get("ts"), now),
        request_hash=str(event.get("request_sha256") or ""),
        model=str(event.get("model") or ""),
        prompt_tokens=as_int(event.get("prompt_tokens")),
        completion_tokens=as_int(event.get("completion_tokens")),
        latency_ms=as_ms(event.get("latency_ms")),
        finish_reason=event["finish_reason"] if isinstance(event.get("finish_reason"), str) else None,
        http_status=as_int(event.get("http_status")),
        source=TokenSource.tui_stdout,
    )


def _one_line(text: str, limit: int = 300) -> str:
    return " ".join(text.split())[:limit]


class ReferenceAdapter:
    """cab's own minimal agent: one bash tool, JSON lines on stdout."""

    name = "reference"
    image_name = "reference"
    state_globs: tuple[str, ...] = ()
    read_only_root = True
    scratch_dirs: tuple[str, ...] = ("/tmp", "/home/agent")

    def launch(self, cell: CellSpec, wiring: EndpointWiring, image: str) -> AgentLaunch:
        # argv names the program explicitly; the agent ignores arguments, so this is also safe when a
        # sandbox appends argv to the image's ENTRYPOINT instead of replacing it.
        return AgentLaunch(
            image=image,
            argv=["python3", AGENT_PATH],
            env={
                "CAB_BASE_URL": wiring.base_url,
                "CAB_API_KEY": wiring.api_key,
                "CAB_MODEL": wiring.model,
                "CAB_PROMPT_FILE": f"{CONTAINER_AGENT}/prompt.txt",
                "PYTHONUNBUFFERED": "1",
            },
        )

    def report(self, stdout: str, stderr: str, exit_code: int | None, out_dir: Path) -> AgentReport:
        events = parse_events(stdout)
        now = datetime.now(UTC)
        calls = [
            _model_call(e, i, now) for i, e in enumerate(e for e in events if e["event"] == "model_call")
        ]
        said = [
            e["content"] for e in events if e["event"] == "assistant" and isinstance(e.get("content"), str)
        ]
        errors = [e for e in events if e["event"] == "error"]
        handshake = exit_code == EXIT_HANDSHAKE or any(e.get("kind") == "handshake" for e in errors)
        handshake = handshake and not any(context_overflow(str(e.get("detail", ""))) for e in errors)
        detail = ""
        if errors:
            last = errors[-1]
            detail = _one_line(f"{last.get('kind', 'error')}: {last.get('detail', '')}")
        elif exit_code is None:
            detail = "agent did not exit on its own (killed or timed out)"
        elif exit_code != EXIT_OK:
            tail = stderr.strip().splitlines()[-1:] or [""]
            meaning = _EXIT_MEANING.get(exit_code, "crashed")
            detail = _one_line(f"agent exited {exit_code} ({meaning}) {tail[0]}".strip())
        return AgentReport(
            model_calls=calls, transcript="\n\n".join(said), handshake_failed=handshake, detail=detail
        )


ADAPTER = ReferenceAdapter()
