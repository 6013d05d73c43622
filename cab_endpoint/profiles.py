"""Server profiles: which real server the scripted endpoint sounds like on the wire.

    openai        OpenAI's API (the default): ``chat``, ``responses``
    llama-server  llama.cpp's server as it was seen to answer (``llama_server``; docs/llama-server.md):
                  usage only on a last chunk with empty choices and only when asked for, ``timings``,
                  ``system_fingerprint``, tool calls one argument token per chunk, its error bodies
                  and its refusals (context size, ``max_tokens``)

Not to be confused with dialects (``dialects``: how a TUI asks): a profile is how the server answers,
whatever the behaviour decided. Each request picks its profile with the ``x-cab-server-profile``
header (cab's proxy sets it from the sweep's ``endpoint: {kind: scripted, profile: ...}``), else the
endpoint's default (``cab endpoint --profile``): one endpoint per host serves every profile.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from cab_core.errors import ConfigError
from cab_endpoint import chat, llama_server, responses
from cab_endpoint.behaviours import Reply

PROFILE_HEADER = "x-cab-server-profile"
DEFAULT_PROFILE = "openai"

Frame = Callable[[dict[str, Any], str, Reply, int], dict[str, Any]]
"""(request body, model, reply, created) -> one answer object."""
Frames = Callable[[dict[str, Any], str, Reply, int], Iterator[dict[str, Any]]]
"""(request body, model, reply, created) -> the stream's objects, in order."""


def _no_refusal(body: dict[str, Any], prompt: Any) -> tuple[int, dict[str, Any]] | None:
    return None


def _openai_error(status: int, message: str, type_: str, code: str | None) -> dict[str, Any]:
    return chat.error_body(message, type_, code)


def _llama_error(status: int, message: str, type_: str, code: str | None) -> dict[str, Any]:
    return llama_server.error_body(status, message)


@dataclass(frozen=True)
class ServerProfile:
    """How one kind of server frames its answers."""

    name: str
    error_body: Callable[[int, str, str, str | None], dict[str, Any]]
    """(status, message, OpenAI type, OpenAI code) -> the error body this server would send."""
    completion: Frame
    chunks: Frames
    response: Frame
    """A non-streamed Responses API answer."""
    events: Frames
    """The Responses API stream's events."""
    refuse: Callable[[dict[str, Any], Any], tuple[int, dict[str, Any]] | None] = _no_refusal
    """(body, prompt) -> (status, error body) for a request this server refuses before generating."""


PROFILES: dict[str, ServerProfile] = {
    "openai": ServerProfile(
        "openai", _openai_error, chat.completion, chat.chunks, responses.response, responses.events
    ),
    "llama-server": ServerProfile(
        "llama-server",
        _llama_error,
        llama_server.completion,
        llama_server.chunks,
        llama_server.response,
        llama_server.events,
        llama_server.refuse,
    ),
}


def profile(name: str) -> ServerProfile:
    """The profile called ``name``; ``ConfigError`` naming the known ones otherwise."""
    found = PROFILES.get(name)
    if found is None:
        raise ConfigError(f"unknown server profile {name!r}; use one of: {', '.join(PROFILES)}")
    return found
