"""Adapter for qwen-code (npm ``@qwen-code/qwen-code``; image ``images/qwen-code``).

    qwen --yolo -o stream-json "<prompt>"          in /work, stdin closed

``--yolo`` is mandatory: in any other approval mode a non-interactive run is not offered the edit,
write and shell tools at all. A positional prompt with no TTY runs one task and exits.

Endpoint: auth type ``openai`` (Chat Completions, ``{OPENAI_BASE_URL}/chat/completions``, always
streamed); the per-cell token is ``OPENAI_API_KEY``, the proxy ``OPENAI_BASE_URL``, the model
``OPENAI_MODEL`` (all in the environment). Settings ``~/.qwen/settings.json`` select that auth
type; turn off usage statistics (its only start-up contact), telemetry, auto-update, the IDE link
and managed auto-memory (a background model call after the task that writes notes into $HOME); and
set the SDK's own retries to 0 (the proxy retries upstream faults; qwen's outer retry of 429/5xx,
~90 s, has no setting). ``$version`` keeps qwen from migrating (rewriting) the file.
``QWEN_CODE_NO_RELAUNCH`` stops it re-executing itself in a second node. All of its state (chat
recording, debug log) lives in ``~/.qwen``, none in /work.

Output (``stream-json``: the objects ``-o json`` prints as one array, one per line, so a killed run
still leaves what it said): ``assistant`` messages with ``content`` parts ``text`` / ``tool_use``
and that model call's ``usage {input_tokens, output_tokens, ...}``, ``user`` tool results, and a
last ``result`` whose usage sums every call (also qwen's own background ones, which no assistant
message shows). An API failure leaves the exit code at 0: it is an assistant text and a ``result``
reading ``[API Error: 404 ...]`` (or ``Connection error``) with zero usage.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from cab_core.schema import CellSpec
from cab_workers.adapters.base import AgentLaunch, AgentReport, EndpointWiring
from cab_workers.adapters.common import (
    ENTRY,
    TuiAdapter,
    as_int,
    dig,
    home,
    json_lines,
    mapping,
)

REQUEST_TIMEOUT_MS = 300_000
"""The SDK's per-request timeout (until the response starts)."""
API_ERROR = "[API Error:"
_STATUS = re.compile(r"^\[API Error: (\d{3})\b")


def settings(wiring: EndpointWiring) -> dict[str, Any]:
    """settings.json for one cell."""
    return {
        "security": {"auth": {"selectedType": "openai"}},
        "model": {
            "name": wiring.model,
            "generationConfig": {"timeout": REQUEST_TIMEOUT_MS, "maxRetries": 0},
        },
        "privacy": {"usageStatisticsEnabled": False},
        "telemetry": {"enabled": False},
        "general": {"enableAutoUpdate": False},
        "ide": {"enabled": False},
        "memory": {"enableManagedAutoMemory": False},
        "$version": 4,
    }


def events(stdout: str) -> list[dict[str, Any]]:
    """stream-json lines, or the one array ``-o json`` prints."""
    text = stdout.strip()
    if text.startswith("["):
        try:
            items = json.loads(text)
        except ValueError:  # also an integer past int_max_str_digits
            items = None
        if isinstance(items, list):
            return [i for i in items if isinstance(i, dict)]
    return list(json_lines(stdout))


def _usage(usage: Any) -> tuple[int | None, int | None]:
    usage = usage if isinstance(usage, dict) else {}
    return as_int(usage.get("input_tokens")), as_int(usage.get("output_tokens"))


def _remainder(
    total: tuple[int | None, int | None], calls: list[tuple[int | None, int | None]]
) -> list[tuple[int | None, int | None]]:
    """One more call for what the result's sum counts beyond the assistant messages (qwen's own
    background calls), so the reported total is qwen's."""
    prompt = (total[0] or 0) - sum(c[0] or 0 for c in calls)
    completion = (total[1] or 0) - sum(c[1] or 0 for c in calls)
    return [(prompt, completion)] if prompt > 0 or completion > 0 else []


class QwenCodeAdapter(TuiAdapter):
    name = "qwen-code"
    image_name = "qwen-code"

    def launch(self, cell: CellSpec, wiring: EndpointWiring, image: str) -> AgentLaunch:
        return AgentLaunch(
            image=image,
            argv=[ENTRY, "qwen", "--yolo", "-o", "stream-json", cell.task.prompt],
            env={
                "OPENAI_API_KEY": wiring.api_key,
                "OPENAI_BASE_URL": wiring.base_url,
                "OPENAI_MODEL": wiring.model,
                "QWEN_CODE_NO_RELAUNCH": "1",
                "TMPDIR": "/tmp",
            },
            files=dict([home(".qwen/settings.json", json.dumps(settings(wiring), indent=2))]),
        )

    def report(self, stdout: str, stderr: str, exit_code: int | None, out_dir: Path) -> AgentReport:
        usages: list[tuple[int | None, int | None]] = []
        said: list[str] = []
        errors: list[str] = []
        total: tuple[int | None, int | None] | None = None
        for e in events(stdout):
            kind = e.get("type")
            if kind == "assistant":
                message = mapping(e.get("message"))
                texts = [
                    p["text"]
                    for p in message.get("content") or []
                    if isinstance(p, dict) and p.get("type") == "text" and isinstance(p.get("text"), str)
                ]
                failed = [t for t in texts if t.startswith(API_ERROR)]
                errors.extend(failed)
                said.extend(t for t in texts if not t.startswith(API_ERROR))
                if not failed:
                    usages.append(_usage(message.get("usage")))
            elif kind == "result":
                result = str(e.get("result") or "")
                if result.startswith(API_ERROR) or e.get("is_error"):
                    if result not in errors:  # an API error repeats the assistant's last text
                        errors.append(result or str(dig(e, "error", "message") or "error"))
                else:
                    total = _usage(e.get("usage"))
        if total is not None:
            usages.extend(_remainder(total, usages))
        status = next((int(m.group(1)) for err in errors if (m := _STATUS.match(err))), None)
        return self.read_back(
            usages=usages, said=said, errors=errors, exit_code=exit_code, stderr=stderr, status=status
        )


ADAPTER = QwenCodeAdapter()
