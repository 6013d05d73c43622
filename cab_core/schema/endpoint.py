"""Where a cell's model calls go: one record per kind of endpoint, told apart by ``kind``.

    kind: scripted   cab's scripted endpoint (cab_endpoint), started by the host that runs the cell
    kind: replay     a recorded cell's answers (``cab replay``): no endpoint, no key, nothing spent
    kind: remote     an OpenAI-compatible base URL; its key is read on the worker host from ``api_key_env``
    kind: local      a real inference server cab builds and starts itself (``images/model-<name>/``), once
                     per worker host, shared by that host's cells and stopped when they are done

Readers match on ``kind`` (or on the record's class). A new kind is one more record with its own
``kind`` literal, added to :data:`EndpointSpec`. A sweep may still name its endpoint by a string
(``endpoint: scripted``, ``endpoint: https://...``, ``endpoint: local:gemma3-270m``):
:func:`endpoint_from_string` reads it.
"""

from __future__ import annotations

import re
from typing import Annotated, Any, Literal

from pydantic import Field, field_validator

from cab_core.schema.base import FrozenRecord

_ENV_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")

_CONCURRENCY = (
    "Most model calls in flight to the endpoint at once, across all worker hosts (each host's proxy "
    "takes a slot per call; the rest wait). None: no cap."
)


class ScriptedEndpointSpec(FrozenRecord):
    """cab's scripted endpoint: deterministic 'models' (``scripted/oracle``, ...) for offline runs."""

    kind: Literal["scripted"] = "scripted"
    concurrency: int | None = Field(None, ge=1, description=_CONCURRENCY)
    profile: Literal["openai", "llama-server"] = Field(
        "openai",
        description="Which real server the scripted endpoint sounds like on the wire "
        "(cab_endpoint/profiles.py): ``openai``, or ``llama-server`` (llama.cpp's usage, timings, "
        "tool-call chunks and errors; docs/llama-server.md). Not the TUI's dialect.",
    )


class ReplayEndpointSpec(FrozenRecord):
    """The recorded answers of the cell being replayed; the host is handed them by ``cab replay``."""

    kind: Literal["replay"] = "replay"


class RemoteEndpointSpec(FrozenRecord):
    """An OpenAI-compatible endpoint outside cab; only the worker host's proxy ever holds its key."""

    kind: Literal["remote"] = "remote"
    url: str = Field(description="Base URL, http:// or https:// (usually ending in /v1).")
    api_key_env: str | None = Field(
        None,
        description="Name of the environment variable holding the key on each worker host (never the "
        "key itself). None: the endpoint needs no key.",
    )
    concurrency: int | None = Field(None, ge=1, description=_CONCURRENCY)

    @field_validator("url")
    @classmethod
    def _http_url(cls, v: str) -> str:
        if not v.startswith(("http://", "https://")):
            raise ValueError(
                "endpoint url must start with http:// or https:// (an OpenAI-compatible base URL)"
            )
        return v

    @field_validator("api_key_env")
    @classmethod
    def _env_name(cls, v: str | None) -> str | None:
        if v is not None and not _ENV_NAME.match(v):
            # never echo the value: it may be the key itself, pasted by mistake
            raise ValueError(
                "api_key_env is the NAME of the environment variable holding the key (like "
                "OPENAI_API_KEY): letters, digits and '_', never the key itself"
            )
        return v


LOCAL_MODEL = re.compile(r"^[a-z0-9][a-z0-9._-]{0,62}$")
"""A local model's name: its image folder is ``images/model-<name>/``."""


class LocalEndpointSpec(FrozenRecord):
    """A real model server cab starts on each worker host from ``images/model-<name>/`` (llama.cpp's
    ``llama-server`` with a GGUF, by default): built when missing, health-checked, shared by the host's
    cells, stopped when they are done. Only that host's proxy can reach it."""

    kind: Literal["local"] = "local"
    model: str | None = Field(
        None,
        description="The local model serving every cell (``local:<name>``); None: each cell's own model "
        "names its image (``models: [gemma3-270m]`` -> ``images/model-gemma3-270m/``).",
    )
    concurrency: int | None = Field(None, ge=1, description=_CONCURRENCY)

    @field_validator("model")
    @classmethod
    def _model_name(cls, v: str | None) -> str | None:
        if v is not None and not LOCAL_MODEL.match(v):
            raise ValueError(
                f"local model {v!r} must be lowercase letters, digits, '.', '_' or '-' (the name of "
                "an images/model-<name>/ folder)"
            )
        return v


EndpointSpec = Annotated[
    ScriptedEndpointSpec | ReplayEndpointSpec | RemoteEndpointSpec | LocalEndpointSpec,
    Field(discriminator="kind"),
]
"""Any endpoint record; pydantic picks the class from ``kind``."""


def endpoint_from_string(value: str) -> dict[str, Any]:
    """The record a string endpoint stands for: ``scripted``, ``replay`` or an http(s) base URL."""
    if value in ("scripted", "replay", "local"):
        return {"kind": value}
    if value.startswith("local:"):
        return {"kind": "local", "model": value.removeprefix("local:")}
    if value.startswith(("http://", "https://")):
        return {"kind": "remote", "url": value}
    # the value is not echoed: a key pasted into the wrong field must not reach a log
    raise ValueError(
        "endpoint must be 'scripted', 'local:<model>', a base URL starting with http:// or https://, "
        "or a record "
        "like {kind: remote, url: ..., api_key_env: ..., concurrency: ...}"
    )
