"""A model's build id, from what an OpenAI-compatible server's ``GET /v1/models`` says about it. Pure.

A model name (``Qwen/Qwen2.5-7B-Instruct``) says little about what answered: the same name can be
served from other weights, another quantisation or another context length. The build id records
what the server reports for that name, as one line::

    <server>:<id>[ <key>=<value>...]

    vllm:Qwen/Qwen2.5-7B-Instruct root=/models/qwen max_model_len=32768
    vllm:sql-lora root=/adapters/sql-lora parent=meta-llama/Llama-3.1-8B-Instruct
    sglang:Qwen/Qwen2.5-7B-Instruct max_model_len=32768
    llamacpp:gemma3-270m ftype="Q4_K - Medium" n_params=268098176 size=246587904 n_ctx_train=32768
        n_ctx=32768 n_vocab=262144                                        (one line)
    openai:gpt-4o-2024-08-06 owned_by=system created=1722814719
    remote:llama3.2:latest owned_by=library

``<server>`` comes from the entry's ``owned_by`` and picks the keys, always in this order:

    vllm        root, parent, max_model_len      (a LoRA adapter has a parent and no max_model_len)
    sglang      root, parent, max_model_len      (for both: root is left out when it equals the id)
    llamacpp    meta: ftype, n_params, size, n_ctx_train, n_ctx, n_vocab
    openai      owned_by, created                (owned_by openai, system or openai-internal)
    remote      owned_by                         (any other server)

Stable: only what describes the model is kept. ``created`` is kept for OpenAI alone: vLLM, SGLang
and llama.cpp (and some hosted APIs) stamp it with the time of the request, so it would change between
two cells. vLLM's ``permission`` (a random id per request), llama.cpp's router ``status`` and anything
not named above are left out. Bounded: each value is cut at 120 characters and the whole id at 300
(a longer one keeps its first 287 characters, then ``~`` and 12 hex digits of the sha256 of the
whole). A string value is quoted (JSON) when it holds a space, ``"`` or ``=``; control characters are
dropped. A number is kept only when it is an int in [0, 2**63). No key: the payload is what the server
answered, with the endpoint key masked by the fetch (``models_listing.fetch_models``).

Malformed input (not a listing, the model not listed, an entry that is not an object, an id that is
not the name) gives None, never an error: a buggy or hostile server cannot crash the caller.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Mapping
from typing import Any

MAX_VALUE_CHARS = 120
"""Longest value kept in a build id; longer ones are cut (before quoting)."""
MAX_BUILD_ID_CHARS = 300
"""Longest build id; a longer one is cut and ends in ``~`` and a digest of the whole."""
_DIGEST_CHARS = 12

OPENAI_OWNERS = frozenset({"openai", "system", "openai-internal"})
"""``owned_by`` values of OpenAI's own API, whose ``created`` is the model's date, not the request's."""

_KEYS: dict[str, tuple[str, ...]] = {
    "vllm": ("root", "parent", "max_model_len"),
    "sglang": ("root", "parent", "max_model_len"),
    "llamacpp": ("ftype", "n_params", "size", "n_ctx_train", "n_ctx", "n_vocab"),
    "openai": ("owned_by", "created"),
    "remote": ("owned_by",),
}
"""Server -> the keys its build id keeps, in order (llama.cpp's come from the entry's ``meta``)."""
_NUMBERS = frozenset({"max_model_len", "n_params", "size", "n_ctx_train", "n_ctx", "n_vocab", "created"})
"""Keys whose value must be an int in [0, ``_MAX_NUMBER``) (anything else is left out)."""
_MAX_NUMBER = 2**63

_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]")
_NEEDS_QUOTES = re.compile(r'[\s"=]')


def listed_models(payload: Any) -> tuple[str, ...]:
    """The model ids a ``/models`` payload lists, in its order (entries without a string id skipped);
    empty when the payload is not an OpenAI model list."""
    return tuple(e["id"] for e in _entries(payload) if isinstance(e.get("id"), str))


def build_id_from_models(payload: Any, model: str) -> str | None:
    """The build id of ``model`` in a ``/models`` payload (the module docstring has the format), or
    None when the payload is not a model list or does not list ``model``."""
    entry = _entry(payload, model)
    if entry is None:
        return None
    server = server_of(entry)
    source = entry.get("meta") if server == "llamacpp" else entry
    fields = source if isinstance(source, Mapping) else {}
    parts = [f"{server}:{_text(model)}"]
    for key in _KEYS[server]:
        value = _value(key, fields.get(key))
        if value is None or (key == "root" and fields.get(key) == model):
            continue
        parts.append(f"{key}={value}")
    return _bounded(" ".join(parts))


def context_from_models(payload: Any, model: str) -> int | None:
    """The context ``model`` is served with, as a ``/models`` payload reports it: vLLM's and SGLang's
    ``max_model_len``, llama.cpp's ``meta.n_ctx`` (one slot's); None when the server does not say."""
    entry = _entry(payload, model)
    if entry is None:
        return None
    server = server_of(entry)
    if server in ("vllm", "sglang"):
        raw = entry.get("max_model_len")
    elif server == "llamacpp":
        meta = entry.get("meta")
        raw = meta.get("n_ctx") if isinstance(meta, Mapping) else None
    else:
        return None
    return as_context(raw)


def as_context(raw: Any) -> int | None:
    """``raw`` when it is a context size (an int in [1, 2**63)), else None (unknown): what a server,
    its ``/props`` or a recorded span says is never trusted further."""
    return raw if isinstance(raw, int) and not isinstance(raw, bool) and 0 < raw < _MAX_NUMBER else None


def server_of(entry: Mapping[str, Any]) -> str:
    """Which kind of server listed ``entry``: vllm, sglang, llamacpp, openai or remote."""
    owner = entry.get("owned_by")
    if not isinstance(owner, str):  # (a list or an object is not hashable either)
        return "remote"
    if owner in ("vllm", "sglang", "llamacpp"):
        return owner
    if owner in OPENAI_OWNERS:
        return "openai"
    return "remote"


def _entry(payload: Any, model: str) -> Mapping[str, Any] | None:
    """The entry listing ``model`` in a ``/models`` payload, or None."""
    return next((e for e in _entries(payload) if e.get("id") == model), None)


def _entries(payload: Any) -> list[Mapping[str, Any]]:
    """The object entries of ``payload["data"]``; empty for anything else."""
    data = payload.get("data") if isinstance(payload, Mapping) else None
    if not isinstance(data, list):
        return []
    return [e for e in data if isinstance(e, Mapping)]


def _value(key: str, raw: Any) -> str | None:
    """``raw`` as it goes into the build id, or None when it is absent or of the wrong type."""
    if key in _NUMBERS:
        if isinstance(raw, bool) or not isinstance(raw, int) or not 0 <= raw < _MAX_NUMBER:
            return None  # (an int of 4300+ digits cannot even be printed)
        return str(raw)
    if not isinstance(raw, str):
        return None
    text = _text(raw)
    if not text:
        return None
    return json.dumps(text) if _NEEDS_QUOTES.search(text) else text


def _text(raw: str) -> str:
    """``raw`` without control characters, cut at ``MAX_VALUE_CHARS``."""
    return _CONTROL.sub("", raw)[:MAX_VALUE_CHARS]


def _bounded(build_id: str) -> str:
    if len(build_id) <= MAX_BUILD_ID_CHARS:
        return build_id
    digest = hashlib.sha256(build_id.encode("utf-8", "replace")).hexdigest()[:_DIGEST_CHARS]
    return f"{build_id[: MAX_BUILD_ID_CHARS - _DIGEST_CHARS - 1]}~{digest}"
