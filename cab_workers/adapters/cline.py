"""Adapter for cline (npm ``cline``, the Cline CLI; image ``images/cline``).

    cline --yolo --json "<prompt>"        in /work, stdin closed, with
    CLINE_SESSION_BACKEND_MODE=local CLINE_NO_AUTO_UPDATE=1

``--yolo`` approves every tool and trims them to ``read_files``, ``run_commands``, ``editor`` and
``submit_and_exit`` (the run ends only when the model calls it); the local backend keeps cline from
spawning its detached hub daemon. Config in ``~/.cline/data/settings/``: ``providers.json`` selects
the ``openai-compatible`` provider with the proxy's base URL and the sweep's model id (it must carry
``updatedAt`` and ``tokenSource`` or cline silently replaces it; it rewrites the file each run), the
key comes from ``OPENAI_API_KEY`` (the per-cell token, in the environment only);
``global-settings.json`` turns telemetry and auto-update off. All of cline's state (sessions, logs,
a SQLite db) lives in $HOME, none in /work. Its retries on 5xx or an unreachable endpoint are
hard-coded (6 attempts, ~65 s) and it ignores SIGTERM: the sandbox's deadline and SIGKILL bound it.

Output: one JSON event per line. ``agent_event`` with ``event.type == "usage"`` is one model call
(``inputTokens``, ``outputTokens``; the ``total*`` fields are cumulative), ``event.type == "error"``
a failure (``error.message``, e.g. ``Not Found``); ``content_end`` of ``contentType == "text"`` is
what the agent said, a ``submit_and_exit`` call its final summary. The last line, ``run_result``,
has ``finishReason`` (``completed``, ``error``, ``aborted``), ``text`` and the run's ``usage``. cline
exits 0 for aborted runs too: only ``finishReason == "completed"`` is success. Its errors carry no
HTTP status (a 404 reads ``Not Found``), so a handshake failure is left to the proxy's record.
"""

from __future__ import annotations

import json
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
    last_line,
    mapping,
    one_line,
    reported_calls,
)

PROVIDER = "openai-compatible"
KEY_VAR = "OPENAI_API_KEY"
"""The variable cline's openai-compatible provider reads its key from when providers.json has none."""
SETTINGS = ".cline/data/settings/"
SEEDED_AT = "2026-01-01T00:00:00.000Z"
FINISH_TOOL = "submit_and_exit"


def providers(wiring: EndpointWiring) -> dict[str, Any]:
    """providers.json for one cell: the proxy as the selected openai-compatible provider."""
    return {
        "version": 1,
        "lastUsedProvider": PROVIDER,
        "modes": {},
        "providers": {
            PROVIDER: {
                "settings": {"provider": PROVIDER, "model": wiring.model, "baseUrl": wiring.base_url},
                "updatedAt": SEEDED_AT,
                "tokenSource": "manual",
            }
        },
    }


GLOBAL_SETTINGS = {"telemetryOptOut": True, "autoUpdateEnabled": False}


class ClineAdapter(TuiAdapter):
    name = "cline"
    image_name = "cline"

    def launch(self, cell: CellSpec, wiring: EndpointWiring, image: str) -> AgentLaunch:
        return AgentLaunch(
            image=image,
            argv=[ENTRY, "cline", "--yolo", "--json", cell.task.prompt],
            env={
                KEY_VAR: wiring.api_key,
                "CLINE_SESSION_BACKEND_MODE": "local",
                "CLINE_NO_AUTO_UPDATE": "1",
                "TMPDIR": "/tmp",
            },
            files=dict(
                [
                    home(SETTINGS + "providers.json", json.dumps(providers(wiring), indent=2)),
                    home(SETTINGS + "global-settings.json", json.dumps(GLOBAL_SETTINGS, indent=2)),
                ]
            ),
        )

    def report(self, stdout: str, stderr: str, exit_code: int | None, out_dir: Path) -> AgentReport:
        usages, said, errors = [], [], []
        result: dict[str, Any] = {}
        for e in json_lines(stdout):
            if e.get("type") == "run_result":
                result = e
                continue
            ev = mapping(e.get("event")) if e.get("type") == "agent_event" else {}
            kind = dig(ev, "type")
            if kind == "usage":
                usages.append((as_int(ev.get("inputTokens")), as_int(ev.get("outputTokens"))))
            elif kind == "error":
                errors.append(str(dig(ev, "error", "message") or "error"))
            elif kind == "content_end" and ev.get("contentType") == "text":
                text = ev.get("text")
                if isinstance(text, str) and text.strip():
                    said.append(text)
            elif kind == "content_start" and ev.get("toolName") == FINISH_TOOL:
                summary = dig(ev, "input", "summary")
                if isinstance(summary, str) and summary.strip():
                    said.append(summary)
        if not usages and isinstance(result.get("usage"), dict):  # no per-call events: the run's total
            total = result["usage"]
            prompt, output = as_int(total.get("inputTokens")), as_int(total.get("outputTokens"))
            if prompt or output:
                usages.append((prompt, output))
        finish = result.get("finishReason")
        detail = ""
        if finish != "completed":
            why = errors[-1] if errors else result.get("text") or last_line(stderr)
            if finish:
                detail = one_line(f"cline {finish}: {why}")
            else:
                detail = one_line(f"cline exited {exit_code} without a run result: {why}")
        return AgentReport(
            model_calls=reported_calls(usages, model=""),
            transcript="\n\n".join(said),
            detail=detail,
        )


ADAPTER = ClineAdapter()
