"""Adapter for pi (npm ``@mariozechner/pi-coding-agent``; image ``images/pi``).

    pi --mode json -p --no-session "<prompt>"        in /work, stdin closed

Config in ``~/.pi/agent/``: ``models.json`` declares one custom provider ``cab`` speaking
``openai-completions`` to the proxy (``baseUrl`` is literal, so it is written per cell; ``apiKey``
names the environment variable that holds the per-cell token, ``CAB_API_KEY``) with the sweep's
model id; ``settings.json`` makes it the default, switches the install ping off and turns pi's own
retries off (one failed call ends the run at once instead of after ~21 s of back-off). The start-up
version check and update checks are off by environment. ``--no-session`` keeps pi from writing a
session file; what it does write (``auth.json``, a settings lock) lives in $HOME, none in /work.

Output: one JSON event per line. ``message_end`` with ``message.role == "assistant"`` carries one
model call's ``usage {input, output, cacheRead, cacheWrite}`` and its ``content`` parts (``text``
is what the agent said). The same message is repeated in ``turn_end`` and ``agent_end``, which are
not counted. pi exits 0 even when a call failed: the failing assistant message has
``stopReason == "error"`` and ``errorMessage`` such as ``404 Not Found`` or ``Connection error.``.
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
    model_limits,
)

PROVIDER = "cab"
KEY_VAR = "CAB_API_KEY"
_STATUS = re.compile(r"^(\d{3})\b")


def models(wiring: EndpointWiring) -> dict[str, Any]:
    """models.json for one cell: the proxy as the only custom provider."""
    context, output = model_limits(wiring)
    return {
        "providers": {
            PROVIDER: {
                "baseUrl": wiring.base_url,
                "api": "openai-completions",
                "apiKey": KEY_VAR,
                "compat": {"supportsDeveloperRole": False, "supportsReasoningEffort": False},
                "models": [
                    {
                        "id": wiring.model,
                        "name": wiring.model,
                        "reasoning": False,
                        "input": ["text"],
                        "contextWindow": context,
                        "maxTokens": output,
                    }
                ],
            }
        }
    }


def settings(wiring: EndpointWiring) -> dict[str, Any]:
    """settings.json for one cell: the proxy's model by default, no telemetry, no retries."""
    return {
        "defaultProvider": PROVIDER,
        "defaultModel": wiring.model,
        "quietStartup": True,
        "enableInstallTelemetry": False,
        "retry": {"enabled": False, "provider": {"maxRetries": 0, "timeoutMs": 600_000}},
    }


class PiAdapter(TuiAdapter):
    name = "pi"
    image_name = "pi"

    def launch(self, cell: CellSpec, wiring: EndpointWiring, image: str) -> AgentLaunch:
        return AgentLaunch(
            image=image,
            argv=[ENTRY, "pi", "--mode", "json", "-p", "--no-session", cell.task.prompt],
            env={
                KEY_VAR: wiring.api_key,
                "PI_OFFLINE": "1",
                "PI_SKIP_VERSION_CHECK": "1",
                "PI_TELEMETRY": "0",
                "TMPDIR": "/tmp",
            },
            files=dict(
                [
                    home(".pi/agent/models.json", json.dumps(models(wiring), indent=2)),
                    home(".pi/agent/settings.json", json.dumps(settings(wiring), indent=2)),
                ]
            ),
        )

    def report(self, stdout: str, stderr: str, exit_code: int | None, out_dir: Path) -> AgentReport:
        usages, said, errors = [], [], []
        for e in json_lines(stdout):
            msg = e.get("message")
            if e.get("type") != "message_end" or not isinstance(msg, dict) or msg.get("role") != "assistant":
                continue
            if msg.get("stopReason") == "error":
                errors.append(str(msg.get("errorMessage") or "error"))
            usage = mapping(msg.get("usage"))
            prompt = as_int(usage.get("input"))
            output = as_int(usage.get("output"))
            if prompt is not None and output is not None and (prompt or output):
                cached = (as_int(usage.get("cacheRead")) or 0) + (as_int(usage.get("cacheWrite")) or 0)
                usages.append((prompt + cached, output))
            for part in msg.get("content") or []:
                if dig(part, "type") == "text" and isinstance(part.get("text"), str) and part["text"].strip():
                    said.append(part["text"])
        m = _STATUS.match(errors[-1]) if errors else None
        return self.read_back(
            usages=usages,
            said=said,
            errors=errors,
            exit_code=exit_code,
            stderr=stderr,
            status=int(m.group(1)) if m else None,
        )


ADAPTER = PiAdapter()
