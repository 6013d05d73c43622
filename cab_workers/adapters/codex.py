"""Adapter for codex (npm ``@openai/codex``; image ``images/codex``).

    codex exec --skip-git-repo-check --dangerously-bypass-approvals-and-sandbox --ephemeral --json
        "<prompt>"                                    in /work, stdin closed

``--dangerously-bypass-approvals-and-sandbox`` means approval ``never`` and sandbox
``danger-full-access``: the container is the sandbox (codex's own bubblewrap cannot run in it, and
its default read-only sandbox would fail every command and still exit 0). ``--skip-git-repo-check``
lets it run whatever /work holds; ``--ephemeral`` keeps no session rollout.

Config ``~/.codex/config.toml``: one provider ``cab`` with the proxy as ``base_url``, the per-cell
token read from ``CAB_API_KEY`` (``env_key``) and the Responses API (codex 0.171 speaks nothing
else; it POSTs to ``{base_url}/responses``). Codex's own retries are off (the proxy retries
upstream faults) and so are ``unbounded_connection_retries`` (else an unreachable endpoint makes
it wait for the network forever), plugin sync, analytics, OTLP export and web search: with them
off codex contacts nothing but the endpoint. All of codex's state lives in ``~/.codex``, none in
/work.

Output (``--json``): one JSON event per line. ``item.completed`` items of type ``agent_message``
hold the assistant's words (``text``); ``turn.completed`` carries ``usage {input_tokens,
cached_input_tokens, output_tokens, ...}`` summed over the turn's model calls; a failure is an
``error`` event and ``turn.failed`` whose message reads ``unexpected status 404 Not Found: ...``.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

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

PROVIDER = "cab"
STREAM_IDLE_MS = 300_000
"""How long codex waits for the next SSE event once a response has started (a slow model thinks)."""

_STATUS = re.compile(r"unexpected status (\d{3})")


def _toml(value: str) -> str:
    """A TOML basic string (JSON's escapes are valid TOML)."""
    return json.dumps(value)


def config(wiring: EndpointWiring) -> str:
    """config.toml for one cell (``model_context_window`` only when the server says what it serves:
    codex knows nothing of other models and sets no window)."""
    window = f"model_context_window = {wiring.context_tokens}\n" if wiring.context_tokens else ""
    return f"""\
model = {_toml(wiring.model)}
{window}model_provider = "{PROVIDER}"
approval_policy = "never"
sandbox_mode = "danger-full-access"
check_for_update_on_startup = false
web_search = "disabled"

[history]
persistence = "none"

[analytics]
enabled = false

[otel]
exporter = "none"
metrics_exporter = "none"
trace_exporter = "none"

[features]
plugins = false
apps = false
remote_plugin = false
unbounded_connection_retries = false

[model_providers.{PROVIDER}]
name = "cab model proxy"
base_url = {_toml(wiring.base_url)}
env_key = "CAB_API_KEY"
wire_api = "responses"
request_max_retries = 0
stream_max_retries = 0
stream_idle_timeout_ms = {STREAM_IDLE_MS}
"""


class CodexAdapter(TuiAdapter):
    name = "codex"
    image_name = "codex"

    def launch(self, cell: CellSpec, wiring: EndpointWiring, image: str) -> AgentLaunch:
        return AgentLaunch(
            image=image,
            argv=[
                ENTRY,
                "codex",
                "exec",
                "--skip-git-repo-check",
                "--dangerously-bypass-approvals-and-sandbox",
                "--ephemeral",
                "--json",
                cell.task.prompt,
            ],
            env={"CAB_API_KEY": wiring.api_key, "TMPDIR": "/tmp"},
            files=dict([home(".codex/config.toml", config(wiring))]),
        )

    def report(self, stdout: str, stderr: str, exit_code: int | None, out_dir: Path) -> AgentReport:
        usages, said, errors = [], [], []
        for e in json_lines(stdout):
            kind = e.get("type")
            item = mapping(e.get("item"))
            if kind == "turn.completed":
                usage = e.get("usage") or {}
                usages.append((as_int(usage.get("input_tokens")), as_int(usage.get("output_tokens"))))
            elif kind == "item.completed" and item.get("type") == "agent_message":
                if isinstance(item.get("text"), str):
                    said.append(item["text"])
            elif kind == "turn.failed":
                errors.append(str(dig(e, "error", "message") or ""))
            elif kind == "error":
                errors.append(str(e.get("message") or ""))
        status = next((int(m.group(1)) for err in errors if (m := _STATUS.search(err))), None)
        return self.read_back(
            usages=usages, said=said, errors=errors, exit_code=exit_code, stderr=stderr, status=status
        )


ADAPTER = CodexAdapter()
