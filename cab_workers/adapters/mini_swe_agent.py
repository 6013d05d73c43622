"""Adapter for mini-swe-agent (PyPI ``mini-swe-agent``, command ``mini``; image ``images/mini-swe-agent``).

    mini -m openai/<model id> -c mini.yaml -c /cab/cab-overlay.yaml -c /cab/task.yaml
         --yolo --exit-immediately -o /cab-out/mini.traj.json          in /work, stdin /dev/null

``-c`` replaces the built-in config, so ``mini.yaml`` (the default: one ``bash`` tool, every step a
tool call, the task ends when a command prints ``COMPLETE_TASK_AND_SUBMIT_FINAL_OUTPUT``) comes first;
``cab-overlay.yaml`` (``OVERLAY``) and ``task.yaml`` (``run.task``: the prompt, no argv quoting) are
merged on top. litellm strips the ``openai/`` prefix, so the endpoint receives the sweep's id; the
base URL and key come from ``OPENAI_API_BASE`` / ``OPENAI_API_KEY`` (a key in the config would be
copied into the trajectory). ``MSWEA_CONFIGURED`` skips the first-run wizard, cost tracking ignores
unknown models, ``MSWEA_MODEL_RETRY_STOP_AFTER_ATTEMPT=1`` and ``max_retries: 0`` make a model error
final at once (the proxy retries the upstream itself). mini's own config dir is in $HOME; nothing of
mini's lands in /work (commands run with ``/bin/sh`` in /work, each in a fresh shell).

Output: the trajectory JSON (saved after every step, also after a crash): ``info.exit_status``
(``Submitted``, ``LimitsExceeded``, ``RepeatedFormatError``, or an exception's class name such as
``NotFoundError``), ``messages[]`` with ``role`` / ``content`` / ``extra``; the server's ``usage`` of
each call is in ``extra.response.usage`` of the assistant message (of the next ``user`` message for
a reply mini could not parse); an ``exit`` message's ``content`` is the exception's text. stdout
prints no token counts; the exit status is 1 when an exception ended the run.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import yaml

from cab_core.schema import CellSpec
from cab_workers.adapters.base import AgentLaunch, AgentReport, EndpointWiring
from cab_workers.adapters.common import (
    ENTRY,
    HOME,
    OUT,
    TuiAdapter,
    as_int,
    context_overflow,
    dig,
    last_line,
    one_line,
    reported_calls,
)

TRAJECTORY = "mini.traj.json"
"""Written to /cab-out; ``report`` reads it from ``out_dir``."""
OVERLAY = """\
# cab's overlay on mini.yaml: no confirmations, no cost limit (cab keeps its own budgets),
# no retries inside the openai SDK.
agent:
  mode: yolo
  confirm_exit: false
  cost_limit: 0
environment:
  timeout: 120  # per command, seconds (mini's default is 30)
model:
  cost_tracking: ignore_errors
  model_kwargs:
    drop_params: true
    timeout: 300  # per request, seconds
    max_retries: 0
"""
ARGS = (
    "-c", "mini.yaml", "-c", "/cab/cab-overlay.yaml", "-c", "/cab/task.yaml",
    "--yolo", "--exit-immediately",
    "-o", f"{OUT}/{TRAJECTORY}",
)  # fmt: skip
"""Everything after the model: the built-in config plus cab's files, no questions, the trajectory."""
HANDSHAKE = {"NotFoundError", "AuthenticationError", "PermissionDeniedError", "BadRequestError"}
"""Exit statuses meaning mini and the endpoint cannot talk at all (mini never retries them)."""
FINISHED = {"Submitted", "LimitsExceeded", "RepeatedFormatError", "TimeExceeded", ""}
"""Exit statuses that are the agent's own ending, not an error to explain."""


def task_config(prompt: str) -> str:
    """task.yaml: the prompt as ``run.task``."""
    return yaml.safe_dump({"run": {"task": prompt}}, allow_unicode=True, width=1_000_000)


def load_trajectory(path: Path) -> dict[str, Any]:
    try:
        data = json.loads(path.read_text(errors="replace"))
    except (OSError, ValueError):  # ValueError: bad JSON, or an integer past int_max_str_digits
        return {}
    return data if isinstance(data, dict) else {}


class MiniSweAgentAdapter(TuiAdapter):
    name = "mini-swe-agent"
    image_name = "mini-swe-agent"

    def launch(self, cell: CellSpec, wiring: EndpointWiring, image: str) -> AgentLaunch:
        return AgentLaunch(
            image=image,
            argv=[ENTRY, "mini", "-m", f"openai/{wiring.model}", *ARGS],
            env={
                "OPENAI_API_BASE": wiring.base_url,
                "OPENAI_API_KEY": wiring.api_key,
                "MSWEA_CONFIGURED": "true",
                "MSWEA_SILENT_STARTUP": "1",
                "MSWEA_COST_TRACKING": "ignore_errors",
                "MSWEA_MODEL_RETRY_STOP_AFTER_ATTEMPT": "1",
                "MSWEA_GLOBAL_CONFIG_DIR": f"{HOME}/.config/mini-swe-agent",
                "LITELLM_LOCAL_MODEL_COST_MAP": "True",
                "HF_HUB_OFFLINE": "1",
                "COLUMNS": "200",
                "TERM": "dumb",
                "TMPDIR": "/tmp",
            },
            files={"cab-overlay.yaml": OVERLAY, "task.yaml": task_config(cell.task.prompt)},
        )

    def report(self, stdout: str, stderr: str, exit_code: int | None, out_dir: Path) -> AgentReport:
        traj = load_trajectory(out_dir / TRAJECTORY)
        messages = [m for m in traj.get("messages") or [] if isinstance(m, dict)]
        usages, said = [], []
        for m in messages:
            usage = dig(m, "extra", "response", "usage")
            if isinstance(usage, dict):
                usages.append((as_int(usage.get("prompt_tokens")), as_int(usage.get("completion_tokens"))))
            if m.get("role") == "assistant" and isinstance(m.get("content"), str) and m["content"].strip():
                said.append(m["content"].strip())
        status = str(dig(traj, "info", "exit_status") or "")
        exit_text = next((m.get("content") for m in reversed(messages) if m.get("role") == "exit"), "")
        detail = ""
        if status not in FINISHED:
            detail = one_line(f"{status}: {exit_text}" if exit_text else status)
        elif exit_code not in (0, None):
            detail = f"mini exited {exit_code}: {last_line(stderr) or last_line(stdout)}"
        return AgentReport(
            model_calls=reported_calls(usages, model=""),
            transcript="\n\n".join(said),
            handshake_failed=status in HANDSHAKE and not usages and not context_overflow(str(exit_text)),
            detail=detail,
        )


ADAPTER = MiniSweAgentAdapter()
