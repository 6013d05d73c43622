"""A sweep's policy: how every cell of the sweep is run, held once by the sweep and shared by its cells.

    SweepPolicy
      endpoint            EndpointSpec: scripted, replay, or a remote URL with its key variable and cap
      model_concurrency   most cells of one model running at once, across all worker hosts
      budget              Budget: no cell starts once the sweep's recorded spend passes it
      requires            task glob -> capability tag its cells need (first match wins)
      sampling            SamplingOverride: sampling parameters the proxy sets on every model call

A sweep file writes these keys at its top level, and a URL endpoint's key variable and cap beside it
(``api_key_env``, ``endpoint_concurrency``); :func:`lift_flat_policy` gathers them into one record.
Version-1 cell records carried the same six keys flat, with ``requires`` already resolved to a tag;
they are gathered the same way.
"""

from __future__ import annotations

from collections.abc import Mapping
from fnmatch import fnmatchcase
from typing import Any

from pydantic import Field, field_validator, model_validator

from cab_core.schema.base import SPEC_SCHEMA_VERSION, TAG, FrozenRecord
from cab_core.schema.endpoint import EndpointSpec, ScriptedEndpointSpec, endpoint_from_string

POLICY_KEYS = ("endpoint", "model_concurrency", "budget", "requires", "sampling")
"""The policy's own keys, as a sweep file writes them."""
FLAT_ENDPOINT_KEYS = ("api_key_env", "endpoint_concurrency")
"""A string endpoint's key variable and cap, written beside it (the record form holds them inside)."""


class Budget(FrozenRecord):
    """Spend after which a sweep's remaining cells are not started (cells running then finish)."""

    max_tokens: int | None = Field(
        None, ge=1, description="Recorded tokens (prompt + completion), all attempts."
    )
    max_cost_usd: float | None = Field(
        None,
        gt=0,
        description="Recorded cost under the price table, all attempts; every model needs a price.",
    )

    @model_validator(mode="after")
    def _some_limit(self) -> Budget:
        if self.max_tokens is None and self.max_cost_usd is None:
            raise ValueError("a budget needs max_tokens or max_cost_usd")
        return self


_INT64 = 2**63
"""Seeds are signed 64-bit integers on every server that takes one (vLLM, llama.cpp, OpenAI)."""


class SamplingOverride(FrozenRecord):
    """Sampling parameters the proxy sets on every model call of the sweep, replacing what the TUI sent.

    Each call records what its agent sent (``ModelCall.sampling``) and what cab set in its place
    (``ModelCall.sampling_forced``); the request hash stays that of the agent's own body. ``max_tokens``
    goes out under the name of the agent's dialect (``max_completion_tokens`` when the agent used that,
    ``max_output_tokens`` on the Responses API). ``top_k`` and ``seed`` are not in every API: an endpoint
    that refuses them answers 400, recorded like any other answer.
    """

    temperature: float | None = Field(
        None, ge=0, le=2, strict=True, allow_inf_nan=False, description="0 (greedy) to 2."
    )
    top_p: float | None = Field(
        None, gt=0, le=1, strict=True, allow_inf_nan=False, description="Nucleus mass, above 0 up to 1."
    )
    top_k: int | None = Field(None, ge=1, strict=True, description="Most likely tokens sampled from.")
    seed: int | None = Field(None, ge=-_INT64, lt=_INT64, strict=True, description="Sampler seed (int64).")
    max_tokens: int | None = Field(None, ge=1, strict=True, description="Most tokens the model may answer.")

    @model_validator(mode="after")
    def _some_value(self) -> SamplingOverride:
        if not self.params():
            raise ValueError("sampling needs at least one of " + ", ".join(type(self).model_fields))
        return self

    def params(self) -> dict[str, float | int]:
        """The parameters set, by name (unset ones left out)."""
        return {k: v for k, v in self if v is not None}


class SweepPolicy(FrozenRecord):
    """What applies to every cell of a sweep, whatever its TUI, model or task."""

    endpoint: EndpointSpec = Field(
        default_factory=ScriptedEndpointSpec,
        description="Where model calls go; a string names one too: 'scripted' (the default) or a "
        "base URL (a remote endpoint).",
    )
    model_concurrency: int | None = Field(
        None, ge=1, description="Most cells of one model running at once across all worker hosts."
    )
    budget: Budget | None = Field(None, description="Stop starting cells once recorded spend passes it.")
    requires: dict[str, str] = Field(
        default_factory=dict,
        description="Task glob -> capability tag its cells need (cpu, gpu, gpu.h100, or a custom tag like "
        "cpu.large); first match wins; unmatched tasks use their own resources.",
    )
    sampling: SamplingOverride | None = Field(
        None,
        description="Sampling parameters (temperature, top_p, top_k, seed, max_tokens) the proxy sets on "
        "every model call of the sweep, replacing what the TUI sent; None: calls go as the TUI wrote them.",
    )

    @field_validator("endpoint", mode="before")
    @classmethod
    def _endpoint_string(cls, v: Any) -> Any:
        return endpoint_from_string(v) if isinstance(v, str) else v

    @field_validator("requires")
    @classmethod
    def _requires(cls, v: dict[str, str]) -> dict[str, str]:
        for glob, tag in v.items():
            if not TAG.match(tag):
                raise ValueError(
                    f"requires[{glob!r}]: tag {tag!r} must be lowercase letters, digits, '.', '_', '-'"
                )
        return v

    def tag_for(self, task_id: str) -> str | None:
        """The capability tag ``requires`` gives ``task_id`` (its first matching glob), or None."""
        for glob, tag in self.requires.items():
            if fnmatchcase(task_id, glob):
                return tag
        return None


def lift_flat_policy(data: Any, *, requires_is_tag: bool = False) -> Any:
    """``data`` (a record's raw input) with its flat policy keys gathered into ``policy``.

    Input without flat keys is returned as it is. ``requires_is_tag``: a version-1 cell, whose
    ``requires`` is the tag already resolved for its task (or None). Raises ``ValueError`` (one line)
    when the flat keys come with a ``policy`` too.
    """
    if not isinstance(data, Mapping):
        return data
    flat = {k: data[k] for k in (*POLICY_KEYS, *FLAT_ENDPOINT_KEYS) if k in data}
    if not flat:
        return data
    if "policy" in data:
        raise ValueError(f"give {', '.join(flat)} at the top level or under policy:, not both")
    if requires_is_tag:
        tag = flat.pop("requires", None)
        flat["requires"] = {"*": tag} if tag else {}
    rest = {k: v for k, v in data.items() if k not in flat}
    return {**rest, "policy": policy_from_flat(flat), "schema_version": SPEC_SCHEMA_VERSION}


def policy_from_flat(flat: Mapping[str, Any]) -> dict[str, Any]:
    """The ``SweepPolicy`` input for flat keys: a string endpoint and its ``api_key_env`` /
    ``endpoint_concurrency`` become one endpoint record (None values count as absent)."""
    policy = {k: flat[k] for k in POLICY_KEYS if k in flat}
    key_env, cap = flat.get("api_key_env"), flat.get("endpoint_concurrency")
    if key_env is None and cap is None:
        return policy
    endpoint = policy.get("endpoint", "scripted")
    if not isinstance(endpoint, str):
        raise ValueError(
            "with an endpoint record, put its key variable and cap inside it (endpoint: {kind: remote, "
            "url: ..., api_key_env: ..., concurrency: ...}), not beside it as api_key_env / "
            "endpoint_concurrency"
        )
    record = endpoint_from_string(endpoint)
    if key_env is not None:
        if record["kind"] != "remote":
            raise ValueError(
                f"api_key_env is for an endpoint URL; the {record['kind']} endpoint takes no key"
            )
        record["api_key_env"] = key_env
    if cap is not None and record["kind"] != "replay":  # a replay calls no endpoint: nothing to cap
        record["concurrency"] = cap
    policy["endpoint"] = record
    return policy
