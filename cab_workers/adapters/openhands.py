"""Adapter for OpenHands (PyPI ``openhands-ai`` 1.6.0; image ``images/openhands``).

    python /opt/openhands/oh_run.py --config-file ~/.openhands/config.toml -f /cab/prompt.txt

``oh_run.py`` (cab's, in the image) runs OpenHands' one-shot core (``openhands.core.main``) on its
*local* runtime: a second Python process in the same container (the action execution server) runs
the agent's commands in a tmux shell in /work; no Docker socket. The plain core always exits 0, so
the wrapper maps the end state to an exit code (0 finished, 2 limit, 3 handshake failure, 4 endpoint
unreachable, 5 runtime did not start, 1 other) and ends stdout with ``OH_RESULT {json}``: ``exit``,
``state``, ``reason``, ``calls`` ([prompt, completion] per model call, OpenHands' own count) and
``said`` (the agent's messages, thoughts and finish message).

Config ``~/.openhands/config.toml``: the LLM is ``openai/<model id>`` (litellm's provider prefix,
stripped on the wire) at the proxy's base URL, the key from ``LLM_API_KEY`` (the per-cell token, never
in the file); OpenHands' own retries are short and the openai SDK's are off
(``LLM_COMPLETION_KWARGS``: a dict cannot be given in the file), so an unreachable endpoint fails in
seconds. Browser, Jupyter and MCP are off, confirmations are off. The file store lives in $HOME;
the trajectory goes to /cab-out. OpenHands writes nothing of its own in /work; it sets its git
identity with ``git config --global`` ($HOME/.gitconfig). ``SANDBOX_ENV_<NAME>`` is exported in the
agent's shell: the image uses it to give that shell the system PATH and python3 (not OpenHands'
venv), the adapter to blank the token there.

Output: OpenHands logs to stderr; stdout holds only the ``OH_RESULT`` line. Start-up is slow (two
processes importing litellm and friends): ~30 s to the first call on one core, more under load.
The shell tool (``execute_bash``) takes one command per call: a multi-line script is refused.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from cab_core.schema import CellSpec
from cab_workers.adapters.base import AgentLaunch, AgentReport, EndpointWiring
from cab_workers.adapters.common import (
    ENTRY,
    HOME,
    OUT,
    TuiAdapter,
    as_int,
    context_overflow,
    home,
    last_line,
    one_line,
    reported_calls,
)

RESULT = "OH_RESULT "
"""Prefix of the wrapper's last stdout line."""
CONFIG = ".openhands/config.toml"
HANDSHAKE_EXIT = 3
EXITS = {
    1: "stopped",
    2: "hit a limit",
    3: "was refused by the endpoint",
    4: "could not reach the endpoint",
    5: "runtime did not start",
    64: "got no task",
}
"""oh_run.py's exit codes, in words."""


def _toml(value: object) -> str:
    return json.dumps(value) if isinstance(value, str) else str(value).lower()


def config(wiring: EndpointWiring) -> str:
    """config.toml for one cell (no key: that comes from ``LLM_API_KEY``)."""
    sections: dict[str, dict[str, object]] = {
        "core": {
            "runtime": "local",
            "workspace_base": "/work",
            "max_iterations": 100,
            "enable_browser": False,
            "file_store": "local",
            "file_store_path": f"{HOME}/.openhands/fs",
            "save_trajectory_path": f"{OUT}/trajectory.json",
        },
        "llm": {
            "model": f"openai/{wiring.model}",
            "base_url": wiring.base_url,
            "native_tool_calling": True,
            "num_retries": 2,
            "retry_min_wait": 1,
            "retry_max_wait": 5,
            "timeout": 300,
        },
        "agent": {
            "enable_browsing": False,
            "enable_jupyter": False,
            "enable_mcp": False,
            "enable_llm_editor": False,
        },
        "security": {"confirmation_mode": False},
    }
    return "".join(
        f"[{name}]\n" + "".join(f"{k} = {_toml(v)}\n" for k, v in fields.items()) + "\n"
        for name, fields in sections.items()
    )


def result_of(stdout: str) -> dict[str, Any]:
    """The wrapper's ``OH_RESULT`` object, or {} when it never printed one."""
    for line in reversed(stdout.splitlines()):
        if line.startswith(RESULT):
            try:
                obj = json.loads(line[len(RESULT) :])
            except ValueError:  # also an integer past int_max_str_digits
                return {}
            return obj if isinstance(obj, dict) else {}
    return {}


class OpenHandsAdapter(TuiAdapter):
    name = "openhands"
    image_name = "openhands"

    def launch(self, cell: CellSpec, wiring: EndpointWiring, image: str) -> AgentLaunch:
        return AgentLaunch(
            image=image,
            argv=[
                ENTRY,
                "/opt/openhands/venv/bin/python",
                "/opt/openhands/oh_run.py",
                "--config-file",
                f"{HOME}/{CONFIG}",
                "-f",
                "/cab/prompt.txt",
            ],
            env={
                "LLM_API_KEY": wiring.api_key,
                "LLM_COMPLETION_KWARGS": json.dumps({"max_retries": 0}),
                "SANDBOX_ENV_LLM_API_KEY": "",  # exported in the agent's shell: the token stays out
                "TMPDIR": "/tmp",
            },
            files=dict([home(CONFIG, config(wiring))]),
        )

    def report(self, stdout: str, stderr: str, exit_code: int | None, out_dir: Path) -> AgentReport:
        result = result_of(stdout)
        calls = [c for c in result.get("calls") or [] if isinstance(c, list) and len(c) == 2]
        said = [t for t in result.get("said") or [] if isinstance(t, str)]
        code = as_int(result.get("exit"))
        detail = ""
        if not result and exit_code not in (0, None):
            detail = f"openhands exited {exit_code}: {last_line(stderr) or last_line(stdout)}"
        elif code not in (0, None):
            detail = one_line(f"OpenHands {EXITS.get(code, 'failed')}: {result.get('reason', '')}")
        return AgentReport(
            model_calls=reported_calls([(as_int(p), as_int(c)) for p, c in calls], model=""),
            transcript="\n\n".join(said),
            handshake_failed=code == HANDSHAKE_EXIT and not context_overflow(str(result.get("reason", ""))),
            detail=detail,
        )


ADAPTER = OpenHandsAdapter()
