"""Local model servers (``endpoint: local``): the image's contract read into a server's settings, and a
real llama-server started, shared, restarted, stopped when idle, reaped when its owner dies, and out of
the agents' reach."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from cab_core.errors import ConfigError
from cab_workers.host.containers import ContainerSpec
from cab_workers.host.gpus import GpuInfo
from cab_workers.host.images import ImageBuilder
from cab_workers.host.local_models import (
    MODELS_NETWORK,
    LocalModels,
    build_id,
    device_requests,
    image_name,
    server_env,
)
from cab_workers.host.services import Services
from tests.conftest import LOCAL_MODEL, wait_for

REPO = Path(__file__).resolve().parents[3]
GPU = GpuInfo(index=0, uuid="GPU-1", name="NVIDIA L4", memory_mb=24000)


# -- the contract, pure --------------------------------------------------------------------------


@pytest.mark.unit
def test_the_build_id_names_the_weights_and_template_by_digest_and_the_server_by_its_build() -> None:
    w = "ab" * 32
    got = build_id("gemma3-270m", w, "llama.cpp b11669-Debian", "cd" * 32)
    assert got == f"gemma3-270m (sha256:{w}; template sha256:cdcdcdcdcdcd; server llama.cpp b11669-Debian)"
    # an image on the weights' own template: no template part
    assert build_id("gemma3-270m", w, "llama.cpp b1") == f"gemma3-270m (sha256:{w}; server llama.cpp b1)"
    assert build_id("m", None, None) == "m (weights unknown; server unknown)"


@pytest.mark.unit
def test_each_cell_slot_gets_a_server_slot_with_the_full_context() -> None:
    assert server_env(3, 32768) == {"LLAMA_ARG_N_PARALLEL": "3", "LLAMA_ARG_CTX_SIZE": "98304"}
    assert image_name("gemma3-270m") == "model-gemma3-270m"


@pytest.mark.unit
@pytest.mark.parametrize(
    ("backend", "gpus", "want"),
    [
        ("vulkan", [], ()),  # a CPU host: no device request, the CPU backend runs
        ("none", [GPU], ()),  # a CPU-only image on a GPU host: nothing to hand it
        (None, [GPU], ()),
        (
            "vulkan",
            [GPU],
            (
                {
                    "Driver": "nvidia",
                    "DeviceIDs": ["GPU-1"],
                    "Capabilities": [["gpu", "compute", "utility", "graphics"]],
                },
            ),
        ),
        (
            "cuda",
            [GPU, GpuInfo(index=1, uuid="GPU-2", name="NVIDIA L4", memory_mb=24000)],
            (
                {
                    "Driver": "nvidia",
                    "DeviceIDs": ["GPU-1", "GPU-2"],
                    "Capabilities": [["gpu", "compute", "utility"]],
                },
            ),
        ),
    ],
)
def test_a_gpu_host_hands_its_gpus_to_a_server_built_for_them(
    backend: str | None, gpus: list[GpuInfo], want: tuple[dict[str, object], ...]
) -> None:
    assert device_requests(backend, gpus) == want


# -- a real server ---------------------------------------------------------------------------------


@pytest.fixture
def models(sandbox, model_image: str) -> Iterator[LocalModels]:  # noqa: ANN001
    builder = ImageBuilder(sandbox, REPO / "images")
    with LocalModels(builder, slots=1, idle_stop_s=1.0) as lm:
        yield lm


def _chat(base_url: str) -> httpx.Response:
    body = {"model": LOCAL_MODEL, "messages": [{"role": "user", "content": "Say hi."}], "max_tokens": 4}
    return httpx.post(f"{base_url}/chat/completions", json=body, timeout=120)


@pytest.mark.docker
@pytest.mark.slow
def test_one_server_is_shared_answers_with_usage_and_stops_when_idle(models: LocalModels) -> None:
    first = models.acquire(LOCAL_MODEL)
    second = models.acquire(LOCAL_MODEL)
    assert second == first
    assert "sha256:" in first.build_id and "llama.cpp b" in first.build_id
    assert first.context_tokens == 32768  # one slot's, as the server reports it: what the agents are told
    answer = _chat(first.base_url)
    assert answer.status_code == 200
    assert answer.json()["usage"]["prompt_tokens"] > 0
    services = models.services
    models.release(LOCAL_MODEL)
    assert services.state(first.container) == "running"  # one cell still uses it
    models.release(LOCAL_MODEL)
    wait_for(lambda: services.state(first.container) is None, 30, "the idle server to be stopped")


@pytest.mark.docker
@pytest.mark.slow
def test_a_server_that_died_is_started_again_for_the_next_cell(models: LocalModels) -> None:
    first = models.acquire(LOCAL_MODEL)
    models.services.remove(first.container)
    again = models.acquire(LOCAL_MODEL)
    assert again.container != first.container
    assert _chat(again.base_url).status_code == 200
    models.release(LOCAL_MODEL)
    models.release(LOCAL_MODEL)


@pytest.mark.docker
def test_an_unknown_local_model_is_one_line_naming_the_known_ones(sandbox) -> None:  # noqa: ANN001
    with LocalModels(ImageBuilder(sandbox, REPO / "images")) as lm, pytest.raises(ConfigError) as caught:
        lm.acquire("no-such-model")
    assert "images/model-no-such-model/Dockerfile is missing" in str(caught.value)
    assert LOCAL_MODEL in str(caught.value)


@pytest.mark.docker
@pytest.mark.slow
def test_agents_cannot_reach_the_model_server(models: LocalModels, sandbox, images) -> None:  # noqa: ANN001
    """The server has no key: only the host's proxy may talk to it, never an agent container."""
    from cab_workers.composition import AGENT_NETWORK

    server = models.acquire(LOCAL_MODEL)
    address = server.base_url.removeprefix("http://").split("/")[0]
    host, port = address.split(":")
    sandbox.ensure_network(AGENT_NETWORK, internal=True)
    probe = f"timeout 5 bash -c 'exec 3<>/dev/tcp/{host}/{port}' && echo REACHED || echo BLOCKED"
    run = sandbox.run(
        ContainerSpec(
            name=f"cab-test-model-reach-{os.getpid()}",
            image=images["base"],
            argv=["bash", "-c", probe],
            deadline_s=30,
            network=AGENT_NETWORK,
        )
    )
    assert "BLOCKED" in run.stdout and "REACHED" not in run.stdout, run.stdout + run.stderr
    assert _chat(server.base_url).status_code == 200  # while the host reaches it
    models.release(LOCAL_MODEL)


@pytest.mark.docker
@pytest.mark.slow
def test_the_server_of_a_killed_host_process_is_reaped(sandbox, model_image: str) -> None:  # noqa: ANN001
    script = textwrap.dedent(
        f"""
        import sys, threading
        from pathlib import Path
        from cab_workers.host.images import ImageBuilder
        from cab_workers.host.local_models import LocalModels
        from cab_workers.host.sandbox import Sandbox
        lm = LocalModels(ImageBuilder(Sandbox(), Path({str(REPO / "images")!r})), slots=1).__enter__()
        print("CONTAINER=" + lm.acquire({LOCAL_MODEL!r}).container, flush=True)
        threading.Event().wait()
        """
    )
    proc = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True, cwd=REPO)
    assert proc.stdout is not None
    try:
        lines = iter(proc.stdout.readline, "")  # the host's log lines come first
        container = next((ln.strip()[10:] for ln in lines if ln.startswith("CONTAINER=")), "")
    finally:
        os.kill(proc.pid, signal.SIGKILL)  # no __exit__: the server is an orphan now
        proc.wait(timeout=30)
        proc.stdout.close()
    services = Services(sandbox)
    assert container and services.state(container) == "running"
    removed = sandbox.reap()
    assert container in removed
    assert services.state(container) is None


@pytest.mark.unit
def test_the_models_network_is_its_own() -> None:
    from cab_workers.composition import AGENT_NETWORK

    assert MODELS_NETWORK != AGENT_NETWORK


_BASH_TOOL = {
    "type": "function",
    "function": {
        "name": "bash",
        "description": "Run a bash command and return its output.",
        "parameters": {"type": "object", "properties": {"command": {"type": "string"}}},
    },
}
_LS_CALL = {"id": "c1", "type": "function", "function": {"name": "bash", "arguments": '{"command": "ls"}'}}
_TOOL_ROUND_TRIP = [
    {"role": "system", "content": "You are a coding agent."},
    {"role": "user", "content": "List the files in the current directory."},
    {"role": "assistant", "content": None, "tool_calls": [_LS_CALL]},
    {"role": "tool", "tool_call_id": "c1", "content": "main.py\nREADME.md"},
]
_RENDERED = [  # the round trip in Gemma's turns, the tools in the (folded) system part
    "<start_of_turn>user\nYou are a coding agent.\n\n# Tools\n",
    '<tools>\n{"type": "function", "function": {"name": "bash", ',
    "</tools>",
    "List the files in the current directory.<end_of_turn>\n<start_of_turn>model\n<tool_call>\n",
    '{"name": "bash", "arguments": {"command": "ls"}}\n</tool_call><end_of_turn>\n',
    "<start_of_turn>user\n<tool_response>\nmain.py\nREADME.md\n</tool_response><end_of_turn>\n",
]


@pytest.mark.docker
@pytest.mark.slow
def test_the_server_takes_tools_and_renders_a_tool_result_turn(models: LocalModels) -> None:
    """The GGUF carries no chat template: without cab's, llama-server fell back to ChatML and ignored
    ``tools``. The tiny model's answer is not asserted (it rarely ends its turn after a call), only
    that the tools reach the prompt in Gemma's turns and a whole tool round trip is answered."""
    server = models.acquire(LOCAL_MODEL)
    root = server.base_url.removesuffix("/v1")
    try:
        assert "; template sha256:" in server.build_id
        caps = httpx.get(f"{root}/props", timeout=30).json()["chat_template_caps"]
        assert caps["supports_tools"] and caps["supports_tool_calls"], caps
        body = {"model": LOCAL_MODEL, "messages": _TOOL_ROUND_TRIP, "tools": [_BASH_TOOL]}
        prompt = httpx.post(f"{root}/apply-template", json=body, timeout=60).json()["prompt"]
        assert prompt.startswith(_RENDERED[0]) and prompt.endswith("<start_of_turn>model\n"), prompt
        assert all(part in prompt for part in _RENDERED), prompt
        answer = httpx.post(
            f"{server.base_url}/chat/completions",
            json={**body, "max_tokens": 32, "temperature": 0, "seed": 1},
            timeout=300,
        )
        assert answer.status_code == 200, answer.text
        choice = answer.json()["choices"][0]
        assert choice["finish_reason"] in ("stop", "length", "tool_calls")
        assert choice["message"]["role"] == "assistant"
        for call in choice["message"].get("tool_calls") or []:  # whatever it called, the call is whole
            assert call["function"]["name"] and isinstance(call["function"]["arguments"], str)
    finally:
        models.release(LOCAL_MODEL)
