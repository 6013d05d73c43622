"""Adapter for aider (PyPI ``aider-chat``; image ``images/aider``).

    aider --model openai/<model id> --openai-api-base <proxy> --edit-format whole --yes-always
          --message-file /cab/prompt.txt  (plus the switches in ``FLAGS``)        in /work

aider is a text-protocol agent: it offers no tools and asks for every changed file in full after its
path (the *whole* edit format, the one the scripted endpoint writes). ``--message-file`` sends the
prompt as one message, applies the edits and exits, always with status 0: cab classifies the run from
the proxy's record, and ``report`` from aider's output. litellm strips the ``openai/`` prefix, so the
endpoint receives the sweep's id; the key comes from ``OPENAI_API_KEY`` (never argv).

Config: ``/cab/aider/model-metadata.json`` (per cell, keyed ``openai/<id>``: context window, zero cost)
stops aider fetching litellm's price list; the image's ``/opt/aider/model-settings.yml`` turns the
openai SDK's own retries off. Update check, analytics, release notes, URL scraping, commits and the
``.gitignore`` edit are off; a git identity comes from ``GIT_CONFIG_*`` so ``.git/config`` stays
untouched. Chat, input and LLM histories go to /cab-out; the repo map's tag cache
(``.aider.tags.cache.v4/``) has no flag and stays in /work (``state_globs``).

Retries: aider retries connection errors itself with a doubling back-off up to a hard-coded 60 s
(``aider.models.RETRY_TIMEOUT``, no flag or variable): about 64 s of sleeps over 9 attempts before it
gives up, inside the cell's deadline. 404/401/400 are not retried.

Output (``--no-pretty``, ``COLUMNS=200`` so errors stay on one line): ``Tokens: 788 sent, 31 received.``
per successful call (aider's local estimate when streaming; ``1.2k``/``12k`` rounding; the fallback
reads ``sent`` as the prompt and ``received`` as the completion), ``Applied edit to <file>``, errors
as ``litellm.<Class>: ...`` (a 404 shows as ``litellm.BadRequestError``). The LLM history
(``/cab-out/aider.llm.history``) holds each reply under ``LLM RESPONSE <time>`` as ``ASSISTANT <line>``
lines: the transcript.
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
    OUT,
    TuiAdapter,
    context_overflow,
    human_count,
    last_line,
    model_limits,
    one_line,
    reported_calls,
)

METADATA = "aider/model-metadata.json"
"""Per-cell litellm model info, under /cab."""
SETTINGS = "/opt/aider/model-settings.yml"
"""Model settings for every model (``aider/extra_params``), baked into the image."""
LLM_HISTORY = "aider.llm.history"
FLAGS = (
    "--edit-format", "whole",
    "--yes-always",
    "--no-auto-commits", "--no-dirty-commits", "--no-gitignore",
    "--no-check-update", "--analytics-disable", "--no-show-release-notes", "--no-show-model-warnings",
    "--no-detect-urls", "--no-fancy-input", "--no-pretty",
    "--timeout", "300",
    "--chat-history-file", f"{OUT}/aider.chat.history.md",
    "--input-history-file", f"{OUT}/aider.input.history",
    "--llm-history-file", f"{OUT}/{LLM_HISTORY}",
    "--message-file", "/cab/prompt.txt",
)  # fmt: skip
"""Switches of every run: whole-file edits, no questions, no commits, nothing fetched, histories out
of /work."""

_N = r"[\d.,]+[kKmM]?"
TOKENS = re.compile(
    rf"^Tokens: ({_N}) sent(?:, ({_N}) cache write)?(?:, ({_N}) cache hit)?, ({_N}) received\.", re.M
)
ERROR = re.compile(r"^litellm\.(\w+): .*$", re.M)
HANDSHAKE = ("NotFoundError", "AuthenticationError", "PermissionDeniedError", "BadRequestError")
"""litellm errors that mean aider and the endpoint cannot talk at all (never retried by aider)."""


def metadata(wiring: EndpointWiring) -> dict[str, Any]:
    """model-metadata.json for one cell: litellm's model-info format, keyed by aider's model name."""
    context, output = model_limits(wiring)
    return {
        f"openai/{wiring.model}": {
            "max_tokens": output,
            "max_input_tokens": context,
            "max_output_tokens": output,
            "input_cost_per_token": 0.0,
            "output_cost_per_token": 0.0,
            "litellm_provider": "openai",
            "mode": "chat",
        }
    }


def wiring_flags(wiring: EndpointWiring) -> list[str]:
    """The flags naming this cell's model and endpoint (flags beat a work-dir ``.env``)."""
    return [
        "--model", f"openai/{wiring.model}",
        "--openai-api-base", wiring.base_url,
        "--model-settings-file", SETTINGS,
        "--model-metadata-file", f"/cab/{METADATA}",
    ]  # fmt: skip


def said(llm_history: str) -> list[str]:
    """The assistant's replies in aider's LLM history, one string per reply."""
    replies: list[list[str]] = []
    current: list[str] | None = None
    for line in llm_history.splitlines():
        if line.startswith("LLM RESPONSE "):
            current = []
            replies.append(current)
        elif line.startswith("TO LLM "):
            current = None
        elif current is not None and (line == "ASSISTANT" or line.startswith("ASSISTANT ")):
            current.append(line[len("ASSISTANT ") :])
    return [text for r in replies if (text := "\n".join(r).strip())]


class AiderAdapter(TuiAdapter):
    name = "aider"
    image_name = "aider"
    state_globs: tuple[str, ...] = (".aider*",)

    def launch(self, cell: CellSpec, wiring: EndpointWiring, image: str) -> AgentLaunch:
        return AgentLaunch(
            image=image,
            argv=[ENTRY, "aider", *wiring_flags(wiring), *FLAGS],
            env={
                "OPENAI_API_KEY": wiring.api_key,
                "LITELLM_LOCAL_MODEL_COST_MAP": "True",
                "HF_HUB_OFFLINE": "1",
                "COLUMNS": "200",
                "TERM": "dumb",
                "TMPDIR": "/tmp",
                "GIT_CONFIG_COUNT": "2",
                "GIT_CONFIG_KEY_0": "user.name",
                "GIT_CONFIG_VALUE_0": "aider",
                "GIT_CONFIG_KEY_1": "user.email",
                "GIT_CONFIG_VALUE_1": "aider@cab.invalid",
            },
            files={METADATA: json.dumps(metadata(wiring), indent=2)},
        )

    def report(self, stdout: str, stderr: str, exit_code: int | None, out_dir: Path) -> AgentReport:
        usages = [(human_count(m.group(1)), human_count(m.group(4))) for m in TOKENS.finditer(stdout)]
        history = out_dir / LLM_HISTORY
        replies = said(history.read_text(errors="replace")) if history.is_file() else []
        errors = list(ERROR.finditer(stdout + "\n" + stderr))
        handshake = not usages and any(
            m.group(1) in HANDSHAKE and not context_overflow(m.group(0)) for m in errors
        )
        detail = ""
        if exit_code not in (0, None):
            detail = f"aider exited {exit_code}: {last_line(stderr) or last_line(stdout)}"
        elif errors and not usages:
            detail = one_line(errors[-1].group(0))
        return AgentReport(
            model_calls=reported_calls(usages, model=""),
            transcript="\n\n".join(replies),
            handshake_failed=handshake,
            detail=detail,
        )


ADAPTER = AiderAdapter()
