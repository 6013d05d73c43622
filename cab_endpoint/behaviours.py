"""Scripted model behaviours: pure functions from a conversation to the next assistant reply.

The requested model id picks the behaviour by its last ``/`` segment (``scripted/oracle`` -> oracle).
Every scripted behaviour acts once and then wraps up, in the dialect the TUI's request shows (see
``dialects``): until its own mark appears in an assistant turn it makes its change (a call of the
offered shell tool, aider's whole-file listing, or a ```bash block); then it finishes the way the TUI
expects (its finish tool, its sentinel command, or a short final message).

    oracle     applies the task's reference solution
    noop       says it changed nothing
    sloppy     applies the solution and also touches files outside it (blast radius)
    refuser    writes REFUSAL.md with a reasoned refusal
    hang       never answers (transport level, see ``app``)
    badproto   answers chat completions with 404 (transport level, see ``app``)

Unlisted test behaviours (never in ``BEHAVIOURS`` or ``/v1/models``) inject upstream faults for the
recording proxy's tests and then act like ``oracle`` (see ``FAULTS``), make the agent misbehave
for the sandbox's containment tests (``hostile-*``, see ``hostile``), or try to forge a pass on the
matched task without solving it (``forge-<entry>``, one per entry of the exploit ledger, see
``ledger``; on a task the entry does not apply to it changes nothing).
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import structlog

from cab_endpoint import hostile, ledger, scripts
from cab_endpoint.dialects import FINISH_MARK, MARK, Conversation
from cab_endpoint.task_index import TaskCatalog, TaskEntry

log = structlog.get_logger(__name__)

NOOP_TEXT = "I have looked at the code; no changes made."
ORACLE_DONE_TEXT = "Done: I applied the fix and the work dir now holds the solution."
REFUSER_DONE_TEXT = (
    "I cannot complete this task because the requested change is unsafe to make without clarification; "
    "my reasons are in REFUSAL.md."
)
UNMATCHED_TEXT = "I could not tell which task this is, so I made no changes."
FORGE_SKIP_TEXT = "This trick does not apply to this task, so I made no changes."


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


def _call(name: str, arguments: str) -> Reply:
    call_id = "call_" + hashlib.sha256(arguments.encode()).hexdigest()[:24]
    return Reply(None, [ToolCall(call_id, name, arguments)])


def finish(convo: Conversation, done_text: str) -> Reply:
    """End the task the way the TUI expects: its finish tool, its sentinel command, or a final message."""
    if convo.finish is not None:
        return _call(convo.finish.name, convo.finish.arguments(f"{FINISH_MARK}: {done_text}"))
    if convo.sentinel and convo.shell is not None:
        return _call(convo.shell.name, convo.shell.arguments(f": {FINISH_MARK}\necho {convo.sentinel}"))
    return Reply(done_text)


def act(
    convo: Conversation,
    done_text: str,
    *,
    plan: scripts.Plan | None = None,
    command: str | None = None,
    workdir: Path | None = None,
) -> Reply:
    """Make the change once (``plan``, or a raw ``command``), in the TUI's dialect; then finish.

    Dialects: a shell tool call; aider's whole-file listing (plans only); else a ```bash block.
    """
    if convo.finished:
        return Reply(done_text)
    if convo.acted:
        return finish(convo, done_text)
    if convo.listing:
        if plan is None:
            return Reply(done_text)  # a raw command cannot be written as file listings
        return Reply(f"{MARK}: every changed file follows in full.\n\n" + plan.listing(workdir))
    marked = f": {MARK}\n" + (command if command is not None else plan.command() if plan else "true")
    if convo.shell is None:
        return Reply(f"{MARK}: run this from the repository root:\n\n```bash\n{marked}\n```\n")
    return _call(convo.shell.name, convo.shell.arguments(marked))


def _with_task(
    convo: Conversation,
    catalog: TaskCatalog,
    build: Callable[[TaskEntry], scripts.Plan],
    behaviour: str,
    done_text: str = ORACLE_DONE_TEXT,
) -> Reply:
    if convo.acted:
        return finish(convo, done_text) if not convo.finished else Reply(done_text)
    task = catalog.match(convo.user_texts)
    if task is None:
        log.warning("endpoint_task_unmatched", behaviour=behaviour, users=len(convo.user_texts))
        return Reply(UNMATCHED_TEXT)
    log.info("endpoint_task_matched", behaviour=behaviour, task_id=task.task_id)
    return act(convo, done_text, plan=build(task), workdir=task.paths.workdir)


def oracle(convo: Conversation, catalog: TaskCatalog) -> Reply:
    return _with_task(convo, catalog, scripts.solution_plan, "oracle")


def sloppy(convo: Conversation, catalog: TaskCatalog) -> Reply:
    return _with_task(convo, catalog, scripts.sloppy_plan, "sloppy")


def noop(convo: Conversation, catalog: TaskCatalog) -> Reply:
    return Reply(NOOP_TEXT) if convo.finished else finish(convo, NOOP_TEXT)


def refuser(convo: Conversation, catalog: TaskCatalog) -> Reply:
    return act(convo, REFUSER_DONE_TEXT, plan=scripts.refusal_plan())


Behaviour = Callable[[Conversation, TaskCatalog], Reply]


def forge(exploit: ledger.Exploit) -> Behaviour:
    """The ``forge-<entry>`` behaviour: the entry's plan for the matched task once, then "done"."""
    behaviour = ledger.PREFIX + exploit.name

    def reply(convo: Conversation, catalog: TaskCatalog) -> Reply:
        if not convo.acted:
            task = catalog.match(convo.user_texts)
            if task is not None and not exploit.applies(task):
                log.warning("endpoint_forge_not_applicable", behaviour=behaviour, task_id=task.task_id)
                return Reply(FORGE_SKIP_TEXT) if convo.finished else finish(convo, FORGE_SKIP_TEXT)
        return _with_task(convo, catalog, exploit.plan, behaviour, hostile.DONE_TEXT)

    return reply


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
    """The reply function of a scripted, hostile or forge behaviour; None for transport-level or unknown
    names."""
    if behaviour in SCRIPTED:
        return SCRIPTED[behaviour]
    if behaviour.startswith(ledger.PREFIX):
        exploit = ledger.by_name(behaviour[len(ledger.PREFIX) :])
        return forge(exploit) if exploit is not None else None
    command = hostile.command_of(behaviour)
    if command is None:
        return None
    return lambda convo, catalog: act(convo, hostile.DONE_TEXT, command=command)


def behaviour_name(model: str) -> str:
    """``scripted/oracle`` -> ``oracle``."""
    return model.rsplit("/", 1)[-1]


FAULTS = ("fault-429", "fault-500", "fault-reset", "nousage", "drip")
"""Unlisted test behaviours; each acts like ``oracle`` once its fault is spent:

    fault-429[-N]    the first N requests of a body (default 1) get 429 with ``Retry-After: 1``
    fault-500[-N]    the first N requests of a body get 500 (server_error)
    fault-reset[-N]  the first N requests of a body have their TCP connection aborted, no response byte
    nousage          never reports usage, not even when a stream asks ``stream_options.include_usage``
    drip[-MS]        streams its chunks MS milliseconds apart (default ``DRIP_S``) on a fixed schedule,
                     chunk k at start + k * MS (time to first token << total time)

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
