"""How a TUI asks the model to act, read off one request: the tools it offers, the edit format it wants.

    ShellTool      the offered function that runs a command (``bash``, ``execute_bash``,
                   ``run_shell_command``, ``exec_command``, ``run_commands``, ...), and values for its
                   other required arguments
    FinishTool     the offered function that ends the task (``finish``, ``submit_and_exit``, ...)
    Conversation   one request as the scripted behaviours need it, from a chat completions body or a
                   Responses API body

Every action a scripted model takes carries ``MARK`` (a shell no-op ``: cab-scripted`` in commands,
a first line in text), and its finishing step carries ``FINISH_MARK``. A conversation that shows our
own mark in an assistant turn has been acted on, whatever preamble a TUI adds: aider's few-shot
examples, cline's system notes, a title-generation call.
"""

from __future__ import annotations

import base64
import json
import re
from dataclasses import dataclass
from typing import Any, Literal

MARK = "cab-scripted"
FINISH_MARK = "cab-finish"

SHELL_TOOL_NAMES = (
    "bash",
    "shell",
    "execute_bash",
    "run_shell_command",
    "exec_command",
    "run_command",
    "run_commands",
    "terminal",
    "exec",
)
"""Tool names recognised as a shell, in order of preference."""
COMMAND_ARGS = ("command", "cmd", "commands")
FINISH_TOOL_NAMES = ("finish", "submit_and_exit", "attempt_completion", "task_complete", "submit")
TEXT_ARGS = ("message", "summary", "result", "text", "final_answer", "answer")
SENTINELS = ("COMPLETE_TASK_AND_SUBMIT_FINAL_OUTPUT",)
"""Commands whose output ends a TUI's task (mini-swe-agent's)."""
ONE_COMMAND = re.compile(r"\bone (?:\w+ )?command at a time\b", re.IGNORECASE)
"""How a persistent-shell tool says it runs one command per call (OpenHands' ``execute_bash``: "You
can only execute one bash command at a time"); it refuses a multi-line script ("Cannot execute
multiple commands at once") and a ``set -e`` there would end its shell."""
LISTING_CUE = "*file listing* format"
"""How aider asks for its *whole* edit format: every changed file in full after its path."""


def _functions(tools: Any) -> list[dict[str, Any]]:
    """Function tools of a chat (``{"function": {...}}``) or Responses (``{"name": ...}``) request."""
    out: list[dict[str, Any]] = []
    for tool in tools if isinstance(tools, list) else []:
        if not isinstance(tool, dict):
            continue
        nested = tool.get("function")
        fn: dict[str, Any] = nested if isinstance(nested, dict) else tool
        if isinstance(fn.get("name"), str) and tool.get("type", "function") == "function":
            out.append(fn)
    return out


def _filler(schema: Any, text: str) -> Any:
    """A valid value for a required argument we have no use for."""
    schema = schema if isinstance(schema, dict) else {}
    if schema.get("enum"):
        return schema["enum"][0]
    kind = schema.get("type")
    return {"boolean": True, "integer": 0, "number": 0, "array": [], "object": {}}.get(str(kind), text)


def _extra(fn: dict[str, Any], skip: str, text: str) -> tuple[tuple[str, Any], ...]:
    params = fn.get("parameters") or {}
    props = params.get("properties") or {}
    required = [r for r in params.get("required") or [] if r != skip]
    return tuple((r, text if r in TEXT_ARGS else _filler(props.get(r), "cab")) for r in required)


@dataclass(frozen=True)
class ShellTool:
    """The offered function the scripted model calls to run a command."""

    name: str
    arg: str = "command"
    """Name of the command parameter."""
    kind: Literal["string", "argv", "list"] = "string"
    """``string``: the command; ``argv``: ``["bash", "-lc", cmd]``; ``list``: ``[cmd]`` (commands)."""
    extra: tuple[tuple[str, Any], ...] = ()
    """Other required arguments and the values given for them."""
    one_line: bool = False
    """The tool runs one command per call (``ONE_COMMAND``): a multi-line script goes as one line."""

    def arguments(self, command: str) -> str:
        if self.one_line and "\n" in command:
            command = _one_line(command)
        value: Any = {"argv": ["bash", "-lc", command], "list": [command]}.get(self.kind, command)
        return json.dumps({self.arg: value, **dict(self.extra)})


@dataclass(frozen=True)
class FinishTool:
    """The offered function that ends a TUI's task; every required argument gets a value."""

    name: str
    args: tuple[tuple[str, Any], ...] = ()

    def arguments(self, text: str) -> str:
        return json.dumps({k: (text if v == TEXT_PLACEHOLDER else v) for k, v in self.args})


TEXT_PLACEHOLDER = "\0text"


def _one_line(script: str) -> str:
    """``script`` as one command: a leading ``: mark`` line stays readable, the rest is piped,
    base64-encoded, to a child bash (so its ``set -e`` cannot end the tool's shell)."""
    head, _, rest = script.partition("\n")
    if not head.startswith(": "):
        head, rest = "", script
    payload = base64.b64encode(rest.encode()).decode("ascii")
    return f"{head + '; ' if head else ''}printf '%s' {payload} | base64 -d | bash"


def find_shell_tool(tools: Any) -> ShellTool | None:
    """The shell-like function among ``tools``: a known name first, else any with a command argument."""
    found: list[tuple[int, ShellTool]] = []
    for fn in _functions(tools):
        props = (fn.get("parameters") or {}).get("properties") or {}
        arg = next((a for a in COMMAND_ARGS if a in props), None)
        name = fn["name"]
        rank = SHELL_TOOL_NAMES.index(name.lower()) if name.lower() in SHELL_TOOL_NAMES else None
        if rank is None and arg is None:
            continue
        arg = arg or "command"
        is_array = isinstance(props.get(arg), dict) and props[arg].get("type") == "array"
        kind: Literal["string", "argv", "list"] = (
            ("list" if arg == "commands" else "argv") if is_array else "string"
        )
        said = f"{fn.get('description') or ''} {(props.get(arg) or {}).get('description') or ''}"
        tool = ShellTool(name, arg, kind, _extra(fn, arg, "cab"), one_line=bool(ONE_COMMAND.search(said)))
        found.append((len(SHELL_TOOL_NAMES) if rank is None else rank, tool))
    return min(found, key=lambda f: f[0])[1] if found else None


def find_finish_tool(tools: Any) -> FinishTool | None:
    for fn in _functions(tools):
        if fn["name"].lower() in FINISH_TOOL_NAMES:
            params = fn.get("parameters") or {}
            props = params.get("properties") or {}
            args = [
                (r, TEXT_PLACEHOLDER if r in TEXT_ARGS else _filler(props.get(r), "cab"))
                for r in params.get("required") or []
            ]
            return FinishTool(fn["name"], tuple(args))
    return None


def text_of(content: Any) -> str:
    """Text of a message's content: a string, or parts (``text`` / ``input_text`` / ``output_text``)."""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return "\n".join(str(p.get("text", "")) for p in content if isinstance(p, dict))
    return ""


@dataclass(frozen=True)
class Conversation:
    """What the behaviours need from one request."""

    user_texts: list[str]
    acted: bool = False
    """An earlier reply of ours already made the change (our ``MARK`` is in an assistant turn)."""
    finished: bool = False
    """An earlier reply of ours already sent the finishing step."""
    shell: ShellTool | None = None
    finish: FinishTool | None = None
    listing: bool = False
    """The TUI wants edits as whole-file listings (aider), not commands."""
    sentinel: str | None = None
    """A command output that ends the task, when the TUI's instructions name one."""

    @classmethod
    def from_request(cls, body: dict[str, Any]) -> Conversation:
        """From a chat completions body."""
        messages = [m for m in body.get("messages") or [] if isinstance(m, dict)]
        ours = " ".join(json.dumps(m) for m in messages if m.get("role") == "assistant")
        texts = [text_of(m.get("content")) for m in messages]
        users = [text_of(m.get("content")) for m in messages if m.get("role") == "user"]
        return cls._make(users, ours, texts, body.get("tools"))

    @classmethod
    def from_responses(cls, body: dict[str, Any]) -> Conversation:
        """From a Responses API body (``input`` items; the developer message is the system prompt)."""
        raw = body.get("input")
        items = [{"type": "message", "role": "user", "content": raw}] if isinstance(raw, str) else raw or []
        items = [i for i in items if isinstance(i, dict)]
        messages = [i for i in items if i.get("type", "message") == "message"]
        ours = " ".join(
            json.dumps(i) for i in items if i.get("type") == "function_call" or i.get("role") == "assistant"
        )
        texts = [text_of(m.get("content")) for m in messages] + [str(body.get("instructions") or "")]
        users = [text_of(m.get("content")) for m in messages if m.get("role") == "user"]
        return cls._make(users, ours, texts, body.get("tools"))

    @classmethod
    def _make(cls, users: list[str], ours: str, texts: list[str], tools: Any) -> Conversation:
        everything = "\n".join(texts)
        return cls(
            user_texts=users,
            acted=MARK in ours,
            finished=FINISH_MARK in ours,
            shell=find_shell_tool(tools),
            finish=find_finish_tool(tools),
            listing=LISTING_CUE in everything,
            sentinel=next((s for s in SENTINELS if s in everything), None),
        )
