"""Build ids from real ``/v1/models`` payloads of vLLM, SGLang, llama.cpp, OpenAI and others; stable
across requests, bounded, and None (never an error) for whatever a broken server sends."""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest

from cab_workers.proxy.model_build import (
    MAX_BUILD_ID_CHARS,
    build_id_from_models,
    context_from_models,
    listed_models,
)

pytestmark = pytest.mark.unit

# vLLM 0.6+ (vllm/entrypoints/openai/protocol.py ModelCard, serving_models.show_available_models):
# `created` and the permission's id are made per request; a LoRA adapter has a parent, no max_model_len
VLLM = {
    "object": "list",
    "data": [
        {
            "id": "Qwen/Qwen2.5-7B-Instruct",
            "object": "model",
            "created": 1736156473,
            "owned_by": "vllm",
            "root": "/models/Qwen2.5-7B-Instruct",
            "parent": None,
            "max_model_len": 32768,
            "permission": [
                {
                    "id": "modelperm-5f1c8a3e2b7d4e0c9a6b1d2e3f4a5b6c",
                    "object": "model_permission",
                    "created": 1736156473,
                    "allow_create_engine": False,
                    "allow_sampling": True,
                    "allow_logprobs": True,
                    "allow_search_indices": False,
                    "allow_view": True,
                    "allow_fine_tuning": False,
                    "organization": "*",
                    "group": None,
                    "is_blocking": False,
                }
            ],
        },
        {
            "id": "sql-lora",
            "object": "model",
            "created": 1736156473,
            "owned_by": "vllm",
            "root": "/adapters/sql-lora",
            "parent": "Qwen/Qwen2.5-7B-Instruct",
            "max_model_len": None,
            "permission": [
                {"id": "modelperm-0a9b8c7d6e5f4a3b2c1d0e9f8a7b6c5d", "object": "model_permission"}
            ],
        },
    ],
}
# vLLM serving a Hugging Face name: root is that name
VLLM_HUB = {
    "object": "list",
    "data": [
        {
            "id": "meta-llama/Llama-3.1-8B-Instruct",
            "object": "model",
            "created": 1736150000,
            "owned_by": "vllm",
            "root": "meta-llama/Llama-3.1-8B-Instruct",
            "parent": None,
            "max_model_len": 131072,
            "permission": [],
        }
    ],
}
# SGLang (python/sglang/srt/entrypoints/openai/protocol.py ModelCard; root is the served name)
SGLANG = {
    "object": "list",
    "data": [
        {
            "id": "Qwen/Qwen2.5-7B-Instruct",
            "object": "model",
            "created": 1736156999,
            "owned_by": "sglang",
            "root": "Qwen/Qwen2.5-7B-Instruct",
            "parent": None,
            "max_model_len": 32768,
        }
    ],
}
# llama.cpp's llama-server, as the one on the development host answered GET /v1/models (verbatim;
# `created` is the time of the request)
LLAMACPP = json.loads(
    '{"models":[{"name":"gemma3-270m","model":"gemma3-270m","modified_at":"","size":"","digest":"",'
    '"type":"model","description":"","tags":[""],"capabilities":["completion"],"parameters":"",'
    '"details":{"parent_model":"","format":"gguf","family":"","families":[""],"parameter_size":"",'
    '"quantization_level":""}}],"object":"list","data":[{"id":"gemma3-270m","aliases":["gemma3-270m"],'
    '"tags":[],"object":"model","architecture":{"input_modalities":["text"],"output_modalities":["text"]},'
    '"created":1796529242,"owned_by":"llamacpp","meta":{"vocab_type":1,"n_vocab":262144,"n_ctx":32768,'
    '"n_ctx_train":32768,"n_embd":640,"n_params":268098176,"size":246587904,"ftype":"Q4_K - Medium"}}]}'
)
# OpenAI's API: `created` is the model's date
OPENAI = {
    "object": "list",
    "data": [
        {"id": "gpt-4o-2024-08-06", "object": "model", "created": 1722814719, "owned_by": "system"},
        {"id": "gpt-3.5-turbo", "object": "model", "created": 1677610602, "owned_by": "openai"},
    ],
}
# Ollama's OpenAI-compatible API: any other server keeps only its owner
OLLAMA = {
    "object": "list",
    "data": [{"id": "llama3.2:latest", "object": "model", "created": 1729001234, "owned_by": "library"}],
}

BUILD_IDS = {
    "vllm": (
        VLLM,
        "Qwen/Qwen2.5-7B-Instruct",
        "vllm:Qwen/Qwen2.5-7B-Instruct root=/models/Qwen2.5-7B-Instruct max_model_len=32768",
    ),
    "vllm_lora": (
        VLLM,
        "sql-lora",
        "vllm:sql-lora root=/adapters/sql-lora parent=Qwen/Qwen2.5-7B-Instruct",
    ),
    "vllm_hub_name": (
        VLLM_HUB,
        "meta-llama/Llama-3.1-8B-Instruct",
        "vllm:meta-llama/Llama-3.1-8B-Instruct max_model_len=131072",
    ),
    "sglang": (SGLANG, "Qwen/Qwen2.5-7B-Instruct", "sglang:Qwen/Qwen2.5-7B-Instruct max_model_len=32768"),
    "llamacpp": (
        LLAMACPP,
        "gemma3-270m",
        'llamacpp:gemma3-270m ftype="Q4_K - Medium" n_params=268098176 size=246587904 '
        "n_ctx_train=32768 n_ctx=32768 n_vocab=262144",
    ),
    "openai_system": (
        OPENAI,
        "gpt-4o-2024-08-06",
        "openai:gpt-4o-2024-08-06 owned_by=system created=1722814719",
    ),
    "openai_openai": (OPENAI, "gpt-3.5-turbo", "openai:gpt-3.5-turbo owned_by=openai created=1677610602"),
    "other_server": (OLLAMA, "llama3.2:latest", "remote:llama3.2:latest owned_by=library"),
    "no_owner": ({"data": [{"id": "m", "created": 5}]}, "m", "remote:m"),
}


@pytest.mark.parametrize("case", sorted(BUILD_IDS))
def test_build_id_of_each_server(case: str) -> None:
    payload, model, expected = BUILD_IDS[case]
    assert build_id_from_models(payload, model) == expected


def _per_request_fields_changed(payload: dict[str, Any]) -> dict[str, Any]:
    """``payload`` as the same server would answer a second later: new ``created``, new permission ids,
    and its keys in another order."""
    again = copy.deepcopy(payload)
    for entry in again["data"]:
        entry["created"] = entry.get("created", 0) + 7
        for perm in entry.get("permission") or []:
            perm["id"] = "modelperm-ffffffffffffffffffffffffffffffff"
            perm["created"] = perm.get("created", 0) + 7
    again["data"] = [dict(reversed(list(e.items()))) for e in again["data"]]
    return dict(reversed(list(again.items())))


@pytest.mark.parametrize("case", ["vllm", "vllm_lora", "sglang", "llamacpp"])
def test_a_self_hosted_build_id_does_not_change_between_requests(case: str) -> None:
    payload, model, expected = BUILD_IDS[case]
    assert build_id_from_models(_per_request_fields_changed(payload), model) == expected


@pytest.mark.parametrize("case", sorted(BUILD_IDS))
def test_the_build_id_tells_weights_apart(case: str) -> None:
    """Another quantisation, path or context length is another build (OpenAI: another date)."""
    payload, model, expected = BUILD_IDS[case]
    other = copy.deepcopy(payload)
    entry = next(e for e in other["data"] if e["id"] == model)
    if "meta" in entry:
        entry["meta"]["ftype"] = "Q8_0"
    elif entry.get("root") not in (None, model):
        entry["root"] += "-awq"
    elif "max_model_len" in entry:
        entry["max_model_len"] = 8192
    elif entry.get("owned_by") in ("system", "openai"):
        entry["created"] += 1
    else:
        entry["owned_by"] = "someone-else"
    assert build_id_from_models(other, model) not in (None, expected)


MALFORMED: dict[str, Any] = {
    "none": None,
    "a_list": [{"id": "m"}],
    "a_string": "m",
    "no_data": {"object": "list"},
    "data_not_a_list": {"data": {"id": "m"}},
    "entries_not_objects": {"data": [1, None, "m", ["m"]]},
    "id_not_a_string": {"data": [{"id": 5}, {"id": None}, {"id": ["m"]}]},
    "not_listed": VLLM,
    "other_case": {"data": [{"id": "M", "owned_by": "vllm"}]},
}


@pytest.mark.parametrize("case", sorted(MALFORMED))
def test_no_build_id_for_a_malformed_payload_or_an_unlisted_model(case: str) -> None:
    assert build_id_from_models(MALFORMED[case], "m") is None


WRONG_TYPES = {
    "string_length": ({"owned_by": "vllm", "max_model_len": "32768"}, "vllm:m"),
    "bool_length": ({"owned_by": "vllm", "max_model_len": True}, "vllm:m"),
    "negative_length": ({"owned_by": "vllm", "max_model_len": -1}, "vllm:m"),
    "float_length": ({"owned_by": "vllm", "max_model_len": 4096.0}, "vllm:m"),
    "huge_length": ({"owned_by": "sglang", "max_model_len": 10**5000}, "sglang:m"),
    "root_not_a_string": ({"owned_by": "vllm", "root": {"path": "/x"}}, "vllm:m"),
    "empty_root": ({"owned_by": "vllm", "root": ""}, "vllm:m"),
    "meta_not_an_object": ({"owned_by": "llamacpp", "meta": "Q4_K"}, "llamacpp:m"),
    "owner_not_a_string": ({"owned_by": ["vllm"], "created": 1}, "remote:m"),
    "root_with_spaces": ({"owned_by": "vllm", "root": "/my models/q"}, 'vllm:m root="/my models/q"'),
    "root_with_equals": ({"owned_by": "vllm", "root": "/q=1"}, 'vllm:m root="/q=1"'),
    "control_characters": ({"owned_by": "vllm", "root": "/q\x1b[31m\n"}, "vllm:m root=/q[31m"),
    "root_with_quote": ({"owned_by": "vllm", "root": '/q"x'}, 'vllm:m root="/q\\"x"'),
}


@pytest.mark.parametrize("case", sorted(WRONG_TYPES))
def test_a_field_of_the_wrong_type_is_left_out_and_odd_text_is_quoted(case: str) -> None:
    fields, expected = WRONG_TYPES[case]
    assert build_id_from_models({"data": [{"id": "m", **fields}]}, "m") == expected


def test_a_long_build_id_is_cut_with_a_digest_of_the_whole() -> None:
    def build_id(parent: str) -> str | None:
        entry = {
            "id": "m" * 200,
            "owned_by": "vllm",
            "root": "/r" * 100,
            "parent": parent,
            "max_model_len": 1,
        }
        return build_id_from_models({"data": [entry]}, "m" * 200)

    one, two = build_id("p" * 100 + "1"), build_id("p" * 100 + "2")  # they differ past the cut
    assert one is not None and two is not None
    assert len(one) == len(two) == MAX_BUILD_ID_CHARS
    assert one[:-13] == two[:-13] and one[-13] == "~" and one != two
    assert one.startswith("vllm:" + "m" * 120 + " root=/r/r")  # each value is cut at 120 first
    assert build_id("p" * 120 + "1") == build_id("p" * 120 + "2")


def test_the_first_entry_of_a_model_listed_twice_wins() -> None:
    payload = {
        "data": [{"id": "m", "owned_by": "vllm", "root": "/a"}, {"id": "m", "owned_by": "vllm", "root": "/b"}]
    }
    assert build_id_from_models(payload, "m") == "vllm:m root=/a"


def test_listed_models_in_the_server_order() -> None:
    assert listed_models(VLLM) == ("Qwen/Qwen2.5-7B-Instruct", "sql-lora")
    assert listed_models(LLAMACPP) == ("gemma3-270m",)
    assert listed_models(MALFORMED["id_not_a_string"]) == ()
    assert listed_models(None) == ()


CONTEXTS = {
    "vllm": (VLLM, "Qwen/Qwen2.5-7B-Instruct", 32768),
    "vllm_lora": (VLLM, "sql-lora", None),  # an adapter says no max_model_len
    "vllm_hub_name": (VLLM_HUB, "meta-llama/Llama-3.1-8B-Instruct", 131072),
    "sglang": (SGLANG, "Qwen/Qwen2.5-7B-Instruct", 32768),
    "llamacpp": (LLAMACPP, "gemma3-270m", 32768),  # meta.n_ctx: one slot's, not the training context
    "openai": (OPENAI, "gpt-4o-2024-08-06", None),
    "other_server": (OLLAMA, "llama3.2:latest", None),
    "unlisted": (VLLM, "not/listed", None),
}


@pytest.mark.parametrize("case", sorted(CONTEXTS))
def test_the_context_a_server_serves_a_model_with_is_what_its_listing_says(case: str) -> None:
    payload, model, context = CONTEXTS[case]
    assert context_from_models(payload, model) == context


@pytest.mark.parametrize("bad", [0, -1, True, 2**70, "32768", 1.5, None, [32768]])
def test_a_context_that_is_no_positive_int_is_unknown(bad: Any) -> None:
    vllm = {"data": [{"id": "m", "owned_by": "vllm", "max_model_len": bad}]}
    llamacpp = {"data": [{"id": "m", "owned_by": "llamacpp", "meta": {"n_ctx": bad}}]}
    assert context_from_models(vllm, "m") is None and context_from_models(llamacpp, "m") is None
    assert context_from_models({"data": [{"id": "m", "owned_by": "llamacpp", "meta": "x"}]}, "m") is None
