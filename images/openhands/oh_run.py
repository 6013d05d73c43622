#!/usr/bin/env python3
"""cab's headless runner for OpenHands (openhands-ai 1.6.0, the V0 core): one task, a real exit code.

    python /opt/openhands/oh_run.py --config-file CONFIG -f /cab/prompt.txt

Takes the arguments of ``python -m openhands.core.main`` and runs its ``run_controller`` the same
way (the auto-continue reply when the agent waits for the user). What differs:

  * the exit code tells how the run ended (``core.main`` always exits 0):
      0  finished (the agent called ``finish``)
      1  any other end (stopped, rejected, an error not listed below)
      2  a limit ended it (max iterations, budget)
      3  handshake failure: the endpoint answered 4xx (not found, auth, bad request)
      4  the endpoint was unreachable, timed out or answered 5xx / 429
      5  the runtime (the action execution server) did not start
      64 no task was given
  * the Jupyter plugin is dropped: CodeActAgent always asks for it, even with enable_jupyter off,
    and its kernel gateway costs ~15 s at start-up and outlives the run;
  * the last line on stdout is ``OH_RESULT {json}``: ``exit``, ``state``, ``reason`` (the last error),
    ``calls`` ([prompt, completion] tokens per model call, OpenHands' own count) and ``said`` (the
    agent's words: its messages, thoughts and finish message).
"""

import asyncio
import json
import sys

LIMIT = ("maximum iteration", "budget")
HANDSHAKE = ("notfound", "authentication", "permissiondenied", "badrequest")
UNREACHABLE = ("connection", "timeout", "internalserver", "serviceunavailable", "ratelimit")
"""Words of ``state.last_error`` (lower case, ``_`` removed), e.g. ``NotFoundError: litellm...`` or
``STATUS$ERROR_LLM_INTERNAL_SERVER_ERROR``, checked in this order."""


def exit_code(finished: bool, reason: str) -> int:
    """The exit code of a run that ended finished or not, with ``reason`` (its last error)."""
    if finished:
        return 0
    low = reason.lower().replace("_", "")
    for code, keys in ((2, LIMIT), (3, HANDSHAKE), (4, UNREACHABLE)):
        if any(k in low for k in keys):
            return code
    return 1


def said(state) -> list[str]:
    """What the agent wrote: messages, thoughts, the finish message (no tool output)."""
    from openhands.events.action import AgentFinishAction, MessageAction
    from openhands.events.event import EventSource

    out = []
    for event in state.history:
        if getattr(event, "source", None) != EventSource.AGENT:
            continue
        texts = [getattr(event, "thought", "")]
        if isinstance(event, MessageAction):
            texts.append(event.content)
        if isinstance(event, AgentFinishAction):
            texts.append(event.final_thought)
        out += [t for t in texts if isinstance(t, str) and t.strip()]
    return out


def run(config, task: str) -> dict:
    """Run the task to its end; the ``OH_RESULT`` fields."""
    from openhands.core.main import auto_continue_response, run_controller
    from openhands.core.schema import AgentState
    from openhands.events.action import MessageAction

    try:
        state = asyncio.run(
            run_controller(
                config=config,
                initial_user_action=MessageAction(content=task),
                fake_user_response_fn=auto_continue_response,
            )
        )
    except Exception as e:  # the runtime failing to start surfaces here
        return {"exit": 5, "reason": f"{type(e).__name__}: {e}"}
    if state is None:
        return {"exit": 5, "reason": "no final state: the runtime or the controller did not start"}
    finished = state.agent_state == AgentState.FINISHED
    reason = (state.last_error or "").strip() or ("" if finished else f"ended as {state.agent_state.value}")
    usages = state.conversation_stats.get_combined_metrics().token_usages
    return {
        "exit": exit_code(finished, reason),
        "state": state.agent_state.value,
        "reason": reason,
        "calls": [[u.prompt_tokens, u.completion_tokens] for u in usages],
        "said": said(state),
    }


def main() -> int:
    from openhands.agenthub.codeact_agent.codeact_agent import CodeActAgent
    from openhands.core.config import parse_arguments, setup_config_from_args
    from openhands.io import read_task
    from openhands.runtime.plugins import JupyterRequirement

    CodeActAgent.sandbox_plugins = [
        p for p in CodeActAgent.sandbox_plugins if not isinstance(p, JupyterRequirement)
    ]
    args = parse_arguments()
    config = setup_config_from_args(args)
    task = read_task(args, config.cli_multiline_input)
    result = run(config, task) if task else {"exit": 64, "reason": "no task (-t or -f)"}
    result = {"state": None, "calls": [], "said": [], **result, "reason": result["reason"][:500]}
    print("OH_RESULT " + json.dumps(result), flush=True)
    return result["exit"]


if __name__ == "__main__":
    sys.exit(main())
