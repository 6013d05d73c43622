"""The endpoint as a record told apart by ``kind``, and the sweep policy as one record: every way a
sweep file may write them loads to the same records, and every bad input is refused."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import ValidationError

from cab_core.schema import (
    Budget,
    LocalEndpointSpec,
    RemoteEndpointSpec,
    ReplayEndpointSpec,
    ScriptedEndpointSpec,
    SweepPolicy,
    SweepSpec,
)

pytestmark = pytest.mark.unit

BASE: dict[str, Any] = {"sweep_id": "s", "tuis": ["reference"], "models": ["m"], "tasks": ["*"]}
URL = "https://models.example/v1"
REMOTE = RemoteEndpointSpec(url=URL, api_key_env="MY_KEY", concurrency=8)

FORMS = [
    # (what the file adds to BASE, the endpoint it loads to)
    ({}, ScriptedEndpointSpec()),
    ({"endpoint": "scripted"}, ScriptedEndpointSpec()),
    ({"endpoint": "scripted", "endpoint_concurrency": 2}, ScriptedEndpointSpec(concurrency=2)),
    ({"endpoint": {"kind": "scripted", "concurrency": 2}}, ScriptedEndpointSpec(concurrency=2)),
    ({"endpoint": "replay"}, ReplayEndpointSpec()),
    ({"endpoint": URL}, RemoteEndpointSpec(url=URL)),
    ({"endpoint": "http://127.0.0.1:8000/v1"}, RemoteEndpointSpec(url="http://127.0.0.1:8000/v1")),
    ({"endpoint": URL, "api_key_env": "MY_KEY", "endpoint_concurrency": 8}, REMOTE),
    ({"endpoint": URL, "api_key_env": None, "endpoint_concurrency": None}, RemoteEndpointSpec(url=URL)),
    ({"endpoint": {"kind": "remote", "url": URL, "api_key_env": "MY_KEY", "concurrency": 8}}, REMOTE),
    ({"policy": {"endpoint": URL}}, RemoteEndpointSpec(url=URL)),
    ({"policy": {"endpoint": REMOTE.model_dump()}}, REMOTE),
    ({"endpoint": "local"}, LocalEndpointSpec()),
    ({"endpoint": "local:m"}, LocalEndpointSpec(model="m")),
    ({"endpoint": "local:m", "endpoint_concurrency": 2}, LocalEndpointSpec(model="m", concurrency=2)),
    ({"endpoint": {"kind": "local", "model": "m"}}, LocalEndpointSpec(model="m")),
]


@pytest.mark.parametrize(("extra", "endpoint"), FORMS)
def test_every_way_of_writing_an_endpoint_loads_to_its_record(
    extra: dict[str, Any], endpoint: object
) -> None:
    spec = SweepSpec.model_validate({**BASE, **extra})
    assert spec.policy.endpoint == endpoint
    assert type(spec.policy.endpoint) is type(endpoint)


@pytest.mark.parametrize(("extra", "endpoint"), FORMS)
def test_a_stored_sweep_loads_back_equal(extra: dict[str, Any], endpoint: object) -> None:
    spec = SweepSpec.model_validate({**BASE, **extra})
    stored = spec.model_dump(mode="json", by_alias=True)
    assert stored["policy"]["endpoint"]["kind"] == spec.policy.endpoint.kind
    assert SweepSpec.model_validate(stored) == spec


def test_the_policy_keys_stay_at_the_top_level_of_a_sweep_file() -> None:
    spec = SweepSpec.model_validate(
        {**BASE, "model_concurrency": 2, "budget": {"max_tokens": 10}, "requires": {"polyglot/*": "gpu"}}
    )
    assert spec.policy == SweepPolicy(
        model_concurrency=2, budget=Budget(max_tokens=10), requires={"polyglot/*": "gpu"}
    )


BAD = [
    # (what the file adds to BASE, words of the one-line error)
    ({"endpoint": "models.example/v1"}, "http:// or https://"),
    ({"endpoint": "scripted-endpoint"}, "endpoint must be 'scripted', 'local:<model>', a base URL"),
    ({"endpoint": {"kind": "remote", "url": "models.example/v1"}}, "must start with http:// or https://"),
    ({"endpoint": {"kind": "remote"}}, "Field required"),
    ({"endpoint": {"kind": "ollama", "url": URL}}, "does not match any of the expected tags"),
    ({"endpoint": {"kind": "scripted", "api_key_env": "K"}}, "Extra inputs are not permitted"),
    ({"endpoint": {"kind": "remote", "url": URL}, "api_key_env": "K"}, "put its key variable and cap inside"),
    ({"endpoint": {"kind": "remote", "url": URL}, "endpoint_concurrency": 4}, "inside it"),
    ({"endpoint": "scripted", "api_key_env": "K"}, "the scripted endpoint takes no key"),
    ({"api_key_env": "K"}, "the scripted endpoint takes no key"),
    ({"endpoint": URL, "endpoint_concurrency": 0}, "greater than or equal to 1"),
    ({"endpoint": URL, "api_key_env": "sk-live-0123456789"}, "NAME of the environment variable"),
    ({"budget": {"max_tokens": 5}, "policy": {}}, "at the top level or under policy:, not both"),
    ({"requires": {"polyglot/*": "GPU!"}}, "tag 'GPU!' must be lowercase"),
    ({"budget": {}}, "a budget needs max_tokens or max_cost_usd"),
    ({"model_concurrency": 0}, "greater than or equal to 1"),
    ({"endpoint": "local:other"}, "endpoint local:other serves the model 'other' only, but models lists 'm'"),
    ({"endpoint": "local:Bad Name", "models": ["Bad Name"]}, "must be lowercase letters"),
    ({"endpoint": "local", "models": ["org/Model-7B"]}, "is not a local model name"),
    ({"endpoint": "local:m", "api_key_env": "K"}, "the local endpoint takes no key"),
]


@pytest.mark.parametrize(("extra", "words"), BAD)
def test_bad_endpoint_or_policy_input_is_refused(extra: dict[str, Any], words: str) -> None:
    with pytest.raises(ValidationError) as caught:
        SweepSpec.model_validate({**BASE, **extra})
    messages = [e["msg"] for e in caught.value.errors()]
    assert any(words in m for m in messages), messages


def test_a_key_pasted_as_the_variable_name_is_never_echoed() -> None:
    key = "sk-live-0123456789"
    with pytest.raises(ValidationError) as caught:
        SweepSpec.model_validate({**BASE, "endpoint": URL, "api_key_env": key})
    assert all(key not in e["msg"] for e in caught.value.errors())


def test_the_first_matching_requires_glob_gives_the_tag() -> None:
    policy = SweepPolicy(requires={"polyglot/js-*": "cpu.large", "polyglot/*": "gpu", "*": "cpu"})
    assert policy.tag_for("polyglot/js-query-string") == "cpu.large"
    assert policy.tag_for("polyglot/rust-lifetime-fix") == "gpu"
    assert policy.tag_for("mutations/x") == "cpu"
    assert SweepPolicy().tag_for("polyglot/js-query-string") is None


def test_a_policy_cannot_be_changed_in_place() -> None:
    """Every cell of a sweep holds the same policy record: changing one would change them all."""
    policy = SweepPolicy()
    with pytest.raises(ValidationError):
        policy.model_concurrency = 3  # type: ignore[misc]  # the point: frozen records refuse it
    with pytest.raises(ValidationError):
        REMOTE.url = "https://elsewhere.example/v1"  # type: ignore[misc]  # the point: frozen
