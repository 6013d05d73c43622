"""What each failing test printed, read from a runner's raw output (pure, no I/O).

The parsed ``RunnerReport`` says which tests failed, not why; the mutation generator quotes the
why in its prompts. Keys are the test's own name as its runner prints it (the last part of the
pass-rate axis's ``file::name``, see ``message_for``); values are raw text, cleaned later by
``cab_scheduler.mutation.prompt``. Input is capped and never trusted: anything unreadable gives no
message rather than an error.

    pytest, junit, ctest   <failure message="..."> / <error> of each <testcase> (JUnit XML files)
    go                     the "output" events of the test in go test -json
    cargo                  the "stdout" of a libtest "failed" event
    node, tsc              the indented block under "✖ <name>" in the spec reporter's stdout
"""

from __future__ import annotations

import json
import re
import xml.etree.ElementTree as ET
from collections.abc import Mapping

__all__ = ["failure_messages", "message_for"]

_CAP = 8 << 20
_DECLARATION = re.compile(r"<!\s*(?:DOCTYPE|ENTITY)", re.IGNORECASE)
_NODE_FAIL = re.compile(r"^(?P<indent>\s*)✖ (?P<name>.+?)(?: \(\d+(?:\.\d+)?m?s\))?$")


def failure_messages(runner: str, stdout: str, xml_reports: Mapping[str, bytes]) -> dict[str, str]:
    """Test name -> what the runner printed for it, for failing tests only."""
    if runner == "go":
        return _go(stdout[:_CAP])
    if runner == "cargo":
        return _cargo(stdout[:_CAP])
    if runner in ("node", "tsc"):
        return _node(stdout[:_CAP])
    out: dict[str, str] = {}
    for name in sorted(xml_reports):
        out.update(_junit(xml_reports[name][:_CAP]))
    return out


def message_for(messages: Mapping[str, str], failed: str) -> str:
    """The message of a failed test named as the pass-rate axis names it (``file::name``, possibly
    with classes or a ``suite > test`` path), matched on its most specific part."""
    parts = failed.split("::")
    tail = parts[-1]
    suffixes = ["::".join(parts[i:]) for i in range(len(parts))]
    for key in (*suffixes, tail.split(" > ")[-1], tail.split("/")[-1]):
        if key in messages:
            return messages[key]
    return ""


def _junit(data: bytes) -> dict[str, str]:
    text = data.decode("utf-8", "replace")
    if _DECLARATION.search(text):
        return {}
    try:
        root = ET.fromstring(text)
    except ET.ParseError:
        return {}
    out = {}
    for case in root.iter("testcase"):
        for child in case:
            if child.tag in ("failure", "error"):
                body = child.get("message") or (child.text or "").strip()
                out[case.get("name", "")] = body
                break
    return out


def _json_lines(text: str) -> list[dict[str, object]]:
    out = []
    for line in text.splitlines():
        if line.startswith("{"):
            try:
                value = json.loads(line)
            except ValueError:
                continue
            if isinstance(value, dict):
                out.append(value)
    return out


def _go(stdout: str) -> dict[str, str]:
    output: dict[str, list[str]] = {}
    failed: set[str] = set()
    for event in _json_lines(stdout):
        test, action = event.get("Test"), event.get("Action")
        if not isinstance(test, str):
            continue
        if action == "output" and isinstance(event.get("Output"), str):
            output.setdefault(test, []).append(str(event["Output"]))
        elif action == "fail":
            failed.add(test)
    return {t: "".join(output.get(t, [])) for t in sorted(failed)}


def _cargo(stdout: str) -> dict[str, str]:
    out = {}
    for event in _json_lines(stdout):
        if (
            event.get("type") == "test"
            and event.get("event") == "failed"
            and isinstance(event.get("name"), str)
        ):
            out[str(event["name"])] = str(event.get("stdout") or event.get("message") or "")
    return out


def _node(stdout: str) -> dict[str, str]:
    out: dict[str, str] = {}
    lines = stdout.splitlines()
    for i, line in enumerate(lines):
        m = _NODE_FAIL.match(line)
        if m is None or m["name"] in out or m["name"] == "failing tests:":
            continue
        depth = len(m["indent"])
        body = []
        for follow in lines[i + 1 :]:
            if follow.strip() and len(follow) - len(follow.lstrip()) <= depth:
                break
            body.append(follow)
        out[m["name"]] = "\n".join(body)
    return out
