"""Adapter for opencode (npm ``opencode-ai``; image ``images/opencode``).

    opencode run --auto --format json "<prompt>"        in /work, stdin closed

Config ``~/.config/opencode/opencode.json``: one OpenAI-compatible provider ``cab`` whose base URL is
the proxy and whose key is ``{env:CAB_API_KEY}`` (the per-cell token); the model reference is
``cab/<model id>`` (opencode splits at the first ``/``, so the endpoint receives the sweep's id).
Title generation is off (one call fewer, none without tools), permissions are all granted, the
shadow-git snapshot and sharing are off. All of opencode's state lives in $HOME, none in /work.

Output: one JSON event per line; ``step_finish`` carries ``part.tokens {input, output, reasoning,
cache {read, write}}`` per model step, ``text`` the assistant's words, ``error`` a failure with
``error.data.statusCode``.
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
    mapping,
    model_limits,
)

PROVIDER = "cab"


def config(wiring: EndpointWiring) -> dict[str, Any]:
    """opencode.json for one cell."""
    return {
        "$schema": "https://opencode.ai/config.json",
        "provider": {
            PROVIDER: {
                "npm": "@ai-sdk/openai-compatible",
                "name": "cab model proxy",
                "options": {
                    "baseURL": wiring.base_url,
                    "apiKey": "{env:CAB_API_KEY}",
                    "timeout": 600_000,
                    "headerTimeout": 300_000,
                    "chunkTimeout": 300_000,
                },
                "models": {
                    wiring.model: {
                        "name": wiring.model,
                        "tool_call": True,
                        "limit": dict(zip(("context", "output"), model_limits(wiring), strict=True)),
                    }
                },
            }
        },
        "model": f"{PROVIDER}/{wiring.model}",
        "small_model": f"{PROVIDER}/{wiring.model}",
        "agent": {"title": {"disable": True}},
        "permission": {"*": "allow"},
        "autoupdate": False,
        "share": "disabled",
        "snapshot": False,
    }


class OpencodeAdapter(TuiAdapter):
    name = "opencode"
    image_name = "opencode"

    def launch(self, cell: CellSpec, wiring: EndpointWiring, image: str) -> AgentLaunch:
        return AgentLaunch(
            image=image,
            argv=[ENTRY, "opencode", "run", "--auto", "--format", "json", cell.task.prompt],
            env={
                "CAB_API_KEY": wiring.api_key,
                "OPENCODE_DISABLE_MODELS_FETCH": "1",
                "OPENCODE_DISABLE_AUTOUPDATE": "1",
                "TMPDIR": "/tmp",
            },
            files=dict([home(".config/opencode/opencode.json", json.dumps(config(wiring), indent=2))]),
        )

    def report(self, stdout: str, stderr: str, exit_code: int | None, out_dir: Path) -> AgentReport:
        events = list(json_lines(stdout))
        usages, said, errors = [], [], []
        for e in events:
            part = mapping(e.get("part"))
            if e.get("type") == "step_finish":
                tokens = part.get("tokens") or {}
                cached = as_int(dig(tokens, "cache", "read")) or 0
                prompt = as_int(tokens.get("input"))
                usages.append((prompt + cached if prompt is not None else None, as_int(tokens.get("output"))))
            elif e.get("type") == "text" and isinstance(part.get("text"), str):
                said.append(part["text"])
            elif e.get("type") == "error":
                errors.append(e.get("error") or {})
        return self.read_back(
            usages=usages,
            said=said,
            errors=[
                f"{e.get('name', 'error')}: {dig(e, 'data', 'message') or e.get('message', '')}"
                for e in errors
            ],
            exit_code=exit_code,
            stderr=stderr,
            status=next((as_int(dig(err, "data", "statusCode")) for err in errors), None),
        )


ADAPTER = OpencodeAdapter()
