"""Scripted model behaviours: pure functions from a conversation to the next assistant reply.

The requested model id picks the behaviour by its last ``/`` segment (``scripted/oracle`` -> oracle).
Every scripted behaviour acts once and then wraps up: while the conversation holds no assistant
message yet, it replies with its one shell command (as a tool call of the offered shell tool, or as a
```bash fenced block when no shell tool is offered); afterwards it sends a short final message.

    oracle     applies the task's reference solution
    noop       says it changed nothing
    sloppy     applies the solution and also touches files outside it (blast radius)
    refuser    writes REFUSAL.md with a reasoned refusal
    hang       never answers (transport level, see ``app``)
    badproto   answers chat completions with 404 (transport level, see ``app``)

Unlisted test behaviours (never in ``BEHAVIOURS`` or ``/v1/models``) inject upstream faults for the
recording proxy's tests and then act like ``oracle`` (see ``FAULTS``), or make the agent misbehave
for the sandbox's containment tests (``hostile-*``, see ``hostile``).
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import structlog

from cab_workers.endpoint import hostile, scripts
from cab_workers.endpoint.catalog import TaskCatalog

log = structlog.get_logger(__name__)

SHELL_TOOL_NAMES = ("bash", "shell", "execute_bash", "run_shell_command", "run_command", "terminal", "exec")
"""Tool names recognised as a shell, in order of preference."""

NOOP_TEXT = "I have looked at the code; no changes made."
ORACLE_DONE_TEXT = "Done: I applied the fix and the work dir now holds the solution."
REFUSER_DONE_TEXT = (
    "I cannot complete this task because the requested change is unsafe to make without clarification; "
    "my reasons are in REFUSAL.md."
)
UNMATCHED_TEXT = "I could not tell which task this is, so I made no changes."


@dataclass(frozen=True)
class ShellTool:
    """The offered function tool the scripted model calls to run a command."""

    name: str
    arg: str = "command"
    """Name of the command parameter."""
    as_argv: bool = False
    """True when the parameter is an array (``["bash", "-lc", cmd]``) rather than a string."""

    def arguments(self, command: str) -> str:
        value: Any = ["bash", "-lc", command] if self.as_argv else command
        return json.dumps({self.arg: value})


@dataclass(frozen=True)
class Conversation:
    """What the behaviours need from a chat completions request."""

    user_texts: list[str]
    assistant_turns: int
    shell: ShellTool | None

    @classmethod
    def from_request(cls, body: dict[str, Any]) -> Conversation:
        messages = [m for m in body.get("messages") or [] if isinstance(m, dict)]
        users = [_text(m.get("content")) for m in messages if m.get("role") == "user"]
        turns = sum(1 for m in messages if m.get("role") == "assistant")
        return cls(user_texts=users, assistant_turns=turns, shell=find_shell_tool(body.get("tools")))


def _text(content: Any) -> str:
    if isinstance(content, str):
        return content
    if isinstance(content, list):  # content parts: [{"type": "text", "text": ...}, ...]
        return "\n".join(str(p.get("text", "")) for p in content if isinstance(p, dict))
    return ""


def find_shell_tool(tools: Any) -> ShellTool | None:
    """The shell-like function tool among ``tools``: a known name first, else any with a command arg."""
    found: list[tuple[int, ShellTool]] = []
    for tool in tools if isinstance(tools, list) else []:
        fn = tool.get("function") if isinstance(tool, dict) else None
        if not isinstance(fn, dict) or not isinstance(fn.get("name"), str):
            continue
        props = (fn.get("parameters") or {}).get("properties") or {}
        arg = next((a for a in ("command", "cmd") if a in props), None)
        name = fn["name"]
        rank = SHELL_TOOL_NAMES.index(name.lower()) if name.lower() in SHELL_TOOL_NAMES else None
        if rank is None and arg is None:
            continue
        as_argv = isinstance(props.get(arg), dict) and props[arg].get("type") == "array"
        found.append(
            (len(SHELL_TOOL_NAMES) if rank is None else rank, ShellTool(name, arg or "command", as_argv))
        )
    return min(found, key=lambda f: f[0])[1] if found else None


@dataclass(frozen=True)
class ToolCall:
    id: str
    name: str
    arguments: str
    """JSON-encoded arguments, exactly as they go on the wire."""


@dataclass(frozen=True)
class Reply:
    """The next assistant message."""

    content: str | None
    tool_calls: list[ToolCall] = field(default_factory=list)

    @property
    def finish_reason(self) -> str:
        return "tool_calls" if self.tool_calls else "stop"

    def message(self) -> dict[str, Any]:
        """The OpenAI ``message`` object of a non-streamed choice."""
        msg: dict[str, Any] = {"role": "assistant", "content": self.content}
        if self.tool_calls:
            msg["tool_calls"] = [
                {"id": c.id, "type": "function", "function": {"name": c.name, "arguments": c.arguments}}
                for c in self.tool_calls
            ]
        return msg


def act_once(convo: Conversation, command: str, done_text: str) -> Reply:
    """Run ``command`` first, then say ``done_text``."""
    if convo.assistant_turns > 0:
        return Reply(done_text)
    if convo.shell is None:
        return Reply(f"Run this from the repository root:\n\n```bash\n{command}\n```\n")
    call_id = "call_" + hashlib.sha256(command.encode()).hexdigest()[:24]
    return Reply(None, [ToolCall(call_id, convo.shell.name, convo.shell.arguments(command))])


def _with_task(convo: Conversation, catalog: TaskCatalog, build: Callable[..., str], behaviour: str) -> Reply:
    task = catalog.match(convo.user_texts)
    if task is None:
        log.warning("endpoint_task_unmatched", behaviour=behaviour, users=len(convo.user_texts))
        return Reply(UNMATCHED_TEXT)
    log.info("endpoint_task_matched", behaviour=behaviour, task_id=task.task_id)
    return act_once(convo, build(task), ORACLE_DONE_TEXT)


def oracle(convo: Conversation, catalog: TaskCatalog) -> Reply:
    return _with_task(convo, catalog, scripts.solution_command, "oracle")


def sloppy(convo: Conversation, catalog: TaskCatalog) -> Reply:
    return _with_task(convo, catalog, scripts.sloppy_command, "sloppy")


def noop(convo: Conversation, catalog: TaskCatalog) -> Reply:
    return Reply(NOOP_TEXT)


def refuser(convo: Conversation, catalog: TaskCatalog) -> Reply:
    return act_once(convo, scripts.refusal_command(), REFUSER_DONE_TEXT)


Behaviour = Callable[[Conversation, TaskCatalog], Reply]

SCRIPTED: dict[str, Behaviour] = {"oracle": oracle, "noop": noop, "sloppy": sloppy, "refuser": refuser}
"""Behaviours that answer with a reply."""

TRANSPORT = ("hang", "badproto", "slow")
"""Behaviours handled at the HTTP level: ``hang`` never answers, ``badproto`` answers 404, ``slow``
thinks for ``SLOW_S`` seconds and then behaves like ``oracle``."""

SLOW = "slow"
SLOW_S = 8.0
"""How long ``slow`` thinks before its first reply: long enough to kill a worker mid-cell in tests."""

BEHAVIOURS: tuple[str, ...] = (*SCRIPTED, *TRANSPORT)
"""Every model name the scripted endpoint serves."""


def script_for(behaviour: str) -> Behaviour | None:
    """The reply function of a scripted or hostile behaviour; None for transport-level or unknown names."""
    if behaviour in SCRIPTED:
        return SCRIPTED[behaviour]
    command = hostile.command_of(behaviour)
    if command is None:
        return None
    return lambda convo, catalog: act_once(convo, command, hostile.DONE_TEXT)


def behaviour_name(model: str) -> str:
    """``scripted/oracle`` -> ``oracle``."""
    return model.rsplit("/", 1)[-1]


FAULTS = ("fault-429", "fault-500", "fault-reset", "nousage", "drip")
"""Unlisted test behaviours; each acts like ``oracle`` once its fault is spent:

    fault-429[-N]    the first N requests of a body (default 1) get 429 with ``Retry-After: 1``
    fault-500[-N]    the first N requests of a body get 500 (server_error)
    fault-reset[-N]  the first N requests of a body have their TCP connection aborted, no response byte
    nousage          never reports usage, not even when a stream asks ``stream_options.include_usage``
    drip[-MS]        streams with MS milliseconds (default ``DRIP_S``) between chunks (time to first
                     token << total time)

"A body" is the canonical JSON of the request, so retries of one request count down its faults while
other requests (other cells, other turns) keep their own counts."""

DRIP_S = 0.05
"""Pause between the stream chunks of ``drip``."""

_FAULT = re.compile(r"^fault-(429|500|reset)(?:-(\d+))?$")


_DRIP = re.compile(r"^drip(?:-(\d+))?$")


def drip_of(behaviour: str) -> float | None:
    """``drip`` -> ``DRIP_S``; ``drip-250`` -> 0.25; None for other names."""
    m = _DRIP.match(behaviour)
    return (int(m.group(1)) / 1000 if m.group(1) else DRIP_S) if m else None


def fault_of(behaviour: str) -> tuple[str, int] | None:
    """``fault-500-3`` -> ``("500", 3)``; ``fault-reset`` -> ``("reset", 1)``; None for other names."""
    m = _FAULT.match(behaviour)
    return (m.group(1), int(m.group(2) or 1)) if m else None
