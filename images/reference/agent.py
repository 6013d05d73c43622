#!/usr/bin/env python3
"""cab reference agent: the smallest honest coding agent, standard library only.

It sends the task prompt to an OpenAI-compatible endpoint with one ``bash`` tool, runs every
command the model asks for in the work dir (the current directory) and feeds the output back,
until the model answers without a tool call or the turn budget runs out.

Environment:
    CAB_BASE_URL       endpoint base URL ending in /v1 (required)
    CAB_MODEL          model id (required)
    CAB_API_KEY        bearer token (optional)
    CAB_PROMPT_FILE    task prompt (default /cab/prompt.txt)
    CAB_MAX_TURNS      model calls allowed (default 30)
    CAB_CMD_TIMEOUT_S  seconds per command (default 120)
    CAB_HTTP_TIMEOUT_S seconds per model request (default 600)

Stdout carries one JSON object per line: ``model_call`` (every HTTP attempt), ``assistant``,
``tool``, ``error`` and finally ``done``. Exit codes: 0 done, 2 bad configuration, 3 handshake
failure (the first call got a 4xx or a body that is not a chat completion), 4 any other endpoint
error once retries are spent. Command line arguments are ignored.
"""

import datetime
import hashlib
import json
import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request

EXIT_OK, EXIT_CONFIG, EXIT_HANDSHAKE, EXIT_ENDPOINT = 0, 2, 3, 4
RETRIES = 3
BACKOFF_S = 0.5
OUTPUT_TAIL = 4000

SYSTEM = (
    "You are a careful coding agent. The current directory is the repository to work on. "
    "Use the bash tool to inspect files, make the change the user asks for and check it. "
    "Change only what the task needs. When you are finished, reply with a short summary and no tool call."
)
TOOLS = [
    {
        "type": "function",
        "function": {
            "name": "bash",
            "description": "Run a bash command in the repository and return its output and exit code.",
            "parameters": {
                "type": "object",
                "properties": {"command": {"type": "string", "description": "The command to run."}},
                "required": ["command"],
            },
        },
    }
]


class EndpointError(Exception):
    def __init__(self, kind, detail):
        super().__init__(detail)
        self.kind, self.detail = kind, detail


def emit(event, **fields):
    print(json.dumps({"event": event, **fields}), flush=True)


def one_line(text, limit=300):
    return " ".join(str(text).split())[:limit]


def load_config():
    env = os.environ
    missing = [k for k in ("CAB_BASE_URL", "CAB_MODEL") if not env.get(k)]
    if missing:
        raise ValueError("missing " + ", ".join(missing))
    prompt_file = env.get("CAB_PROMPT_FILE", "/cab/prompt.txt")
    try:
        with open(prompt_file, encoding="utf-8") as f:
            prompt = f.read()
        max_turns = int(env.get("CAB_MAX_TURNS", "30"))
        cmd_timeout = float(env.get("CAB_CMD_TIMEOUT_S", "120"))
        http_timeout = float(env.get("CAB_HTTP_TIMEOUT_S", "600"))
    except (OSError, ValueError) as exc:
        raise ValueError(str(exc)) from exc
    if not prompt.strip() or max_turns < 1 or cmd_timeout <= 0 or http_timeout <= 0:
        raise ValueError("empty prompt or non-positive CAB_MAX_TURNS / timeouts")
    return {
        "url": env["CAB_BASE_URL"].rstrip("/") + "/chat/completions",
        "key": env.get("CAB_API_KEY", ""),
        "model": env["CAB_MODEL"],
        "prompt": prompt,
        "max_turns": max_turns,
        "cmd_timeout": cmd_timeout,
        "http_timeout": http_timeout,
    }


def post(cfg, data):
    """One HTTP attempt: (status, body text); connection problems raise OSError."""
    headers = {"Content-Type": "application/json"}
    if cfg["key"]:
        headers["Authorization"] = "Bearer " + cfg["key"]
    req = urllib.request.Request(cfg["url"], data=data, headers=headers, method="POST")
    try:
        with urllib.request.urlopen(req, timeout=cfg["http_timeout"]) as resp:
            return resp.status, resp.read().decode("utf-8", "replace")
    except urllib.error.HTTPError as err:
        return err.code, err.read().decode("utf-8", "replace")


def call_model(cfg, body, seq, first):
    """POST one chat completion with retries; returns (response, next seq) or raises EndpointError."""
    data = json.dumps(body, sort_keys=True, separators=(",", ":")).encode()
    digest = hashlib.sha256(data).hexdigest()
    for attempt in range(RETRIES + 1):
        ts = datetime.datetime.now(datetime.UTC).isoformat()
        start = time.monotonic()
        status, text, reply = None, "", None
        try:
            status, text = post(cfg, data)
            reply = json.loads(text) if status < 400 else None
        except (OSError, ValueError) as exc:  # URLError, timeouts, resets, bad JSON
            text = repr(exc)
        latency_ms = round((time.monotonic() - start) * 1000, 1)
        ok = isinstance(reply, dict) and isinstance(reply.get("choices"), list) and reply["choices"]
        ok = (
            ok
            and isinstance(reply["choices"][0], dict)
            and isinstance(reply["choices"][0].get("message"), dict)
        )
        usage = (reply.get("usage") if isinstance(reply, dict) else None) or {}
        choice = reply["choices"][0] if ok else {}
        emit(
            "model_call",
            seq=seq,
            ts=ts,
            request_sha256=digest,
            prompt_tokens=usage.get("prompt_tokens"),
            completion_tokens=usage.get("completion_tokens"),
            latency_ms=latency_ms,
            finish_reason=choice.get("finish_reason"),
            http_status=status,
            model=(reply.get("model") if isinstance(reply, dict) else None) or cfg["model"],
        )
        seq += 1
        if ok:
            return reply, seq
        detail = f"HTTP {status}: {one_line(text)}" if status is not None else one_line(text)
        retryable = status is None or status == 429 or status >= 500
        if not retryable:  # a 4xx, or a 2xx whose body is not a chat completion
            raise EndpointError("handshake" if first else "endpoint", detail)
        if attempt < RETRIES:
            time.sleep(BACKOFF_S * 2**attempt)
    raise EndpointError("endpoint", f"gave up after {RETRIES + 1} attempts: {detail}")


def run_command(command, timeout_s):
    """Run one command with bash in the work dir; returns (exit code, combined output)."""
    proc = subprocess.Popen(
        ["bash", "-lc", command],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    try:
        out, _ = proc.communicate(timeout=timeout_s)
        code = proc.returncode
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)  # the whole group: background children hold the pipe too
        out, _ = proc.communicate()
        code, out = 124, out + f"\n[command timed out after {timeout_s:g}s]".encode()
    return code, out.decode("utf-8", "replace")


def tool_result(call, cmd_timeout):
    """Execute one tool call and return the tool message for it."""
    fn = call.get("function") or {}
    try:
        command = json.loads(fn.get("arguments") or "{}")["command"]
        if fn.get("name") != "bash" or not isinstance(command, str):
            raise ValueError
    except (ValueError, KeyError, TypeError):
        content = 'error: call the "bash" tool with JSON arguments {"command": "<string>"}'
    else:
        code, output = run_command(command, cmd_timeout)
        emit("tool", command=command, exit_code=code)
        if len(output) > OUTPUT_TAIL:
            output = f"[... {len(output) - OUTPUT_TAIL} earlier characters cut]\n" + output[-OUTPUT_TAIL:]
        content = f"exit code: {code}\n{output}"
    return {"role": "tool", "tool_call_id": call.get("id", ""), "content": content}


def main():
    try:
        cfg = load_config()
    except ValueError as exc:
        emit("error", kind="config", detail=one_line(exc))
        return EXIT_CONFIG
    messages = [{"role": "system", "content": SYSTEM}, {"role": "user", "content": cfg["prompt"]}]
    seq, turns, reason = 0, 0, "max_turns"
    while turns < cfg["max_turns"]:
        body = {"model": cfg["model"], "messages": messages, "tools": TOOLS, "tool_choice": "auto"}
        try:
            reply, seq = call_model(cfg, body, seq, first=turns == 0)
        except EndpointError as exc:
            emit("error", kind=exc.kind, detail=exc.detail)
            return EXIT_HANDSHAKE if exc.kind == "handshake" else EXIT_ENDPOINT
        turns += 1
        message = reply["choices"][0]["message"]
        content = message.get("content")
        if isinstance(content, str) and content.strip():
            emit("assistant", content=content)
        calls = [c for c in message.get("tool_calls") or [] if isinstance(c, dict)]
        messages.append(
            {
                "role": "assistant",
                "content": content if isinstance(content, str) else None,
                **({"tool_calls": calls} if calls else {}),
            }
        )
        if not calls:
            reason = "answered"
            break
        messages.extend(tool_result(call, cfg["cmd_timeout"]) for call in calls)
    emit("done", turns=turns, reason=reason)
    return EXIT_OK


if __name__ == "__main__":
    sys.exit(main())
