"""Pure parts of the scripted endpoint: catalog matching, shell tool choice, scripts, wire format."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
from structlog.testing import capture_logs

import cab_endpoint as endpoint_pkg
from cab_endpoint import behaviour_name
from cab_endpoint.behaviours import Reply, ToolCall, noop, oracle
from cab_endpoint.chat import chunks, count_tokens
from cab_endpoint.dialects import (
    MARK,
    Conversation,
    FinishTool,
    ShellTool,
    find_finish_tool,
    find_shell_tool,
)
from cab_endpoint.scripts import _safe_rel, sloppy_command, solution_command
from cab_endpoint.task_index import TaskCatalog, TaskEntry

pytestmark = pytest.mark.unit


def test_public_api_is_pinned() -> None:
    assert sorted(endpoint_pkg.__all__) == ["BEHAVIOURS", "ScriptedEndpoint", "behaviour_name", "create_app"]
    assert endpoint_pkg.BEHAVIOURS == ("oracle", "noop", "sloppy", "refuser", "hang", "badproto", "slow")


@pytest.mark.parametrize(
    ("model", "behaviour"),
    [("scripted/oracle", "oracle"), ("a/b/noop", "noop"), ("hang", "hang"), ("x/", "")],
)
def test_behaviour_is_the_last_model_segment(model: str, behaviour: str) -> None:
    assert behaviour_name(model) == behaviour


def test_catalog_prefers_the_longest_matching_prompt(tmp_path: Path) -> None:
    for slug, prompt in (("short", "Fix the bug."), ("long", "Fix the bug. Then add a test.")):
        (tmp_path / "cat" / slug).mkdir(parents=True)
        (tmp_path / "cat" / slug / "task.yaml").write_text(f"prompt: {prompt!r}\n")
    (tmp_path / "cat" / "broken").mkdir()
    (tmp_path / "cat" / "broken" / "task.yaml").write_text("prompt: [unclosed\n")
    catalog = TaskCatalog(tmp_path)
    with capture_logs() as logs:
        hit = catalog.match(["Please: Fix the bug.\n  Then add\ta test. Thanks"])
    assert hit is not None and hit.task_id == "cat/long"
    assert catalog.match(["Fix the bug!"]) is None
    assert {"endpoint_tasks_loaded", "endpoint_task_unreadable"} <= {e["event"] for e in logs}


def test_conversation_reads_content_parts_and_knows_only_its_own_mark_as_acted() -> None:
    messages = [
        {"role": "user", "content": [{"type": "text", "text": "a"}, {"type": "image_url"}]},
        {"role": "assistant", "content": "ok"},  # a TUI's few-shot example, not ours
        {"role": "user", "content": "b"},
    ]
    convo = Conversation.from_request({"messages": messages})
    assert convo.user_texts == ["a\n", "b"] and not convo.acted and convo.shell is None
    ours = {"role": "assistant", "content": None, "tool_calls": [{"function": {"arguments": f": {MARK}"}}]}
    assert Conversation.from_request({"messages": [*messages, ours]}).acted


def _fn(name: str, **props: dict[str, str]) -> dict[str, object]:
    return {"type": "function", "function": {"name": name, "parameters": {"properties": props}}}


def test_find_shell_tool_prefers_known_names_then_command_args() -> None:
    assert find_shell_tool([_fn("run", cmd={"type": "string"}), _fn("bash")]) == ShellTool("bash")
    assert find_shell_tool([_fn("runner", cmd={"type": "string"})]) == ShellTool("runner", "cmd")
    assert find_shell_tool([_fn("read", path={})]) is None
    assert find_shell_tool("nonsense") is None


def _tool(name: str, props: dict, required: list[str], flat: bool = False) -> dict:
    fn = {"name": name, "parameters": {"type": "object", "properties": props, "required": required}}
    return {"type": "function", **fn} if flat else {"type": "function", "function": fn}


@pytest.mark.parametrize(
    ("tool", "arguments"),
    [
        # OpenHands: a required enum besides the command
        (
            _tool(
                "execute_bash",
                {"command": {"type": "string"}, "security_risk": {"enum": ["LOW", "HIGH"]}},
                ["command", "security_risk"],
            ),
            {"command": "ls", "security_risk": "LOW"},
        ),
        # cline: a list of commands
        (_tool("run_commands", {"commands": {"type": "array"}}, ["commands"]), {"commands": ["ls"]}),
        # codex, Responses API (flat tool)
        (
            _tool("exec_command", {"cmd": {"type": "string"}, "workdir": {}}, ["cmd"], flat=True),
            {"cmd": "ls"},
        ),
        # qwen-code
        (
            _tool("run_shell_command", {"command": {"type": "string"}, "description": {}}, ["command"]),
            {"command": "ls"},
        ),
    ],
)
def test_every_shell_dialect_gets_valid_arguments(tool: dict, arguments: dict) -> None:
    shell = find_shell_tool([tool])
    assert shell is not None and json.loads(shell.arguments("ls")) == arguments


def test_finish_tools_get_every_required_argument() -> None:
    cline = _tool(
        "submit_and_exit",
        {"summary": {"type": "string"}, "verified": {"type": "boolean"}},
        ["summary", "verified"],
    )
    found = find_finish_tool([cline, _tool("bash", {"command": {}}, ["command"])])
    assert found == FinishTool("submit_and_exit", (("summary", "\0text"), ("verified", True)))
    assert json.loads(found.arguments("all done")) == {"summary": "all done", "verified": True}


def test_noop_finishes_the_way_the_tui_expects() -> None:
    mini = Conversation(["t"], shell=ShellTool("bash"), sentinel="COMPLETE_TASK_AND_SUBMIT_FINAL_OUTPUT")
    (call,) = noop(mini, None).tool_calls  # type: ignore[arg-type]
    assert json.loads(call.arguments)["command"].endswith("echo COMPLETE_TASK_AND_SUBMIT_FINAL_OUTPUT")
    openhands = Conversation(
        ["t"], shell=ShellTool("execute_bash"), finish=FinishTool("finish", (("message", "\0text"),))
    )
    assert noop(openhands, None).tool_calls[0].name == "finish"  # type: ignore[arg-type]
    assert noop(Conversation(["t"]), None).content and not noop(Conversation(["t"]), None).tool_calls  # type: ignore[arg-type]


def test_oracle_writes_whole_files_for_aider(greet_task: Path) -> None:
    convo = Conversation([(greet_task / "task.yaml").read_text()], listing=True)
    reply = oracle(convo, TaskCatalog(greet_task.parent.parent))
    assert reply.content and reply.content.startswith(MARK) and not reply.tool_calls
    assert "greet.py\n```\n" in reply.content
    again = Conversation(convo.user_texts, acted=True, listing=True)
    assert not oracle(again, TaskCatalog(greet_task.parent.parent)).tool_calls


def test_unsafe_task_paths_are_refused() -> None:
    for bad in ("../escape", "/etc/passwd", "a/../../b"):
        with pytest.raises(ValueError):
            _safe_rel(bad)
    assert _safe_rel("a/b c.txt") == "a/b c.txt"


def _entry(greet_task: Path) -> TaskEntry:
    entry = TaskCatalog(greet_task.parent.parent).match(["Fix greet() in greet.py"])
    assert entry is None  # a partial prompt never matches
    hit = TaskCatalog(greet_task.parent.parent).match([(greet_task / "task.yaml").read_text()])
    assert hit is not None and hit.task_id == "demo/greet"
    return hit


def test_solution_command_is_idempotent(greet_task, greet_workdir, greet_solved, tree_of, bash) -> None:
    command = solution_command(_entry(greet_task))
    assert command.startswith("set -e\n")
    for _ in range(2):
        assert bash(command, greet_workdir).returncode == 0
    assert tree_of(greet_workdir) == greet_solved


def test_sloppy_never_touches_protected_paths(greet_task: Path) -> None:
    command = sloppy_command(_entry(greet_task))
    assert "test_visible.py" not in command and "README.md" in command


def test_usage_tokens_are_a_quarter_of_canonical_json() -> None:
    assert count_tokens([]) == 1
    assert count_tokens({"a": "x" * 100}) == 27  # {"a":"xxx..."} is 108 chars


def test_stream_chunks_split_tool_arguments() -> None:
    reply = Reply(None, [ToolCall("call_1", "bash", '{"command": "' + "x" * 200 + '"}')])
    body = {"messages": [], "stream_options": {"include_usage": True}}
    out = list(chunks(body, "m", reply, 0))
    args = "".join(
        tc["function"].get("arguments", "")
        for c in out
        for ch in c["choices"]
        for tc in ch["delta"].get("tool_calls", [])
    )
    assert args == reply.tool_calls[0].arguments
    assert out[-2]["choices"][0]["finish_reason"] == "tool_calls" and out[-1]["usage"]["total_tokens"] > 0


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_module_entry_serves_until_interrupted(fixture_tasks: Path) -> None:
    port = _free_port()
    argv = [sys.executable, "-m", "cab_endpoint", "--tasks", str(fixture_tasks), "--port", str(port)]
    proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 20
        while True:
            try:
                models = httpx.get(f"http://127.0.0.1:{port}/v1/models", timeout=2)
                break
            except httpx.TransportError:
                assert proc.poll() is None and time.monotonic() < deadline, "entry point never came up"
                time.sleep(0.05)
        assert models.status_code == 200 and len(models.json()["data"]) == 7
    finally:
        os.kill(proc.pid, signal.SIGINT)
        proc.communicate(timeout=20)
    assert proc.returncode == 0


@pytest.mark.parametrize(
    ("name", "want"), [("drip", 0.05), ("drip-250", 0.25), ("dripping", None), ("oracle", None)]
)
def test_drip_pacing_names(name: str, want: float | None) -> None:
    from cab_endpoint.behaviours import drip_of

    assert drip_of(name) == want


def test_hostile_models_ask_for_their_one_command_then_finish() -> None:
    from cab_endpoint import hostile
    from cab_endpoint.behaviours import script_for

    assert script_for("hostile-nope") is None and script_for("hang") is None
    for kind, command in hostile.COMMANDS.items():
        script = script_for(f"hostile-{kind}")
        assert script is not None
        first = script(Conversation(["do the task"], shell=ShellTool("bash")), None)  # type: ignore[arg-type]
        assert first.tool_calls and json.loads(first.tool_calls[0].arguments) == {
            "command": f": {MARK}\n{command}"
        }
        after = Conversation(["do the task"], acted=True, shell=ShellTool("bash"))
        assert script(after, None).content == hostile.DONE_TEXT  # type: ignore[arg-type]


def test_a_prompt_quoted_as_a_json_string_still_matches(greet_task: Path) -> None:
    """opencode sends a prompt containing quotes as one JSON string literal, raw newlines inside."""
    prompt = (greet_task / "task.yaml").read_text()
    quoted = json.dumps(prompt).replace("\\n", "\n")
    assert TaskCatalog(greet_task.parent.parent).match([quoted]) is not None


def test_a_one_command_shell_gets_a_script_as_one_line_that_still_runs(tmp_path: Path) -> None:
    """OpenHands' execute_bash refuses several lines ("Cannot execute multiple commands at once")."""
    tool = _tool("execute_bash", {"command": {"type": "string"}}, ["command"])
    tool["function"]["description"] = (
        "Execute a bash command. You can only execute one bash command at a time."
    )
    shell = find_shell_tool([tool])
    assert shell is not None and shell.one_line
    command = json.loads(shell.arguments(f": {MARK}\nset -e\necho one > a\necho two > b"))["command"]
    assert "\n" not in command and command.startswith(f": {MARK}; ")
    done = subprocess.run(["bash", "-c", command], cwd=tmp_path, capture_output=True, text=True)
    assert done.returncode == 0 and (tmp_path / "b").read_text() == "two\n"
    assert not find_shell_tool([_tool("bash", {"command": {"type": "string"}}, ["command"])]).one_line  # type: ignore[union-attr]
