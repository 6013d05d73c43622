"""GPU detection, tags, device requests and slots. nvidia-smi is faked by scripts on a private PATH."""

from __future__ import annotations

import stat
import threading
from pathlib import Path

import pytest
from structlog.testing import capture_logs

from cab_workers.host.gpus import (
    GpuInfo,
    GpuSlots,
    detect_gpus,
    device_request_for,
    gpu_tags,
    gpu_type,
    parse_nvidia_smi,
)

pytestmark = pytest.mark.unit

# Output shaped like `nvidia-smi --query-gpu=index,uuid,name,memory.total --format=csv,noheader,nounits`.
H100_X8 = "".join(
    f"{i}, GPU-{i:08x}-4c1e-9a7b-3f2d-0c5e8a1b7d{i:02d}, NVIDIA H100 80GB HBM3, 81559\n" for i in range(8)
)
A100_X2 = (
    "0, GPU-2b7f1c3e-8d4a-4f6b-9e1c-5a3d7b9f0e21, NVIDIA A100-SXM4-40GB, 40960\n"
    "1, GPU-6c9a0e4d-1b2f-4a7c-8d3e-2f5b1c8a9d47, NVIDIA A100-SXM4-40GB, 40960\n"
)
T4 = "0, GPU-d1e2f3a4-b5c6-4d7e-8f90-a1b2c3d4e5f6, Tesla T4, 15360\n"
MIXED = (
    "0, GPU-11111111-2222-3333-4444-555555555555, NVIDIA GeForce RTX 4090, 24564\n"
    "1, GPU-66666666-7777-8888-9999-000000000000, NVIDIA L4, 23034\n"
    "2, GPU-aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee, NVIDIA GeForce RTX 4090, 24564\n"
)
NO_MEMORY = "0, GPU-0f0f0f0f-1e1e-2d2d-3c3c-4b4b4b4b4b4b, NVIDIA GH200 480GB, [N/A]\n"
CRLF = "0, GPU-12345678-abcd-ef01-2345-6789abcdef01, NVIDIA L4, 23034\r\n\r\n"
DRIVER_DOWN = (
    "NVIDIA-SMI has failed because it couldn't communicate with the NVIDIA driver. "
    "Make sure that the latest NVIDIA driver is installed and running.\n"
)


def gpu(index: int, name: str = "NVIDIA L4", memory_mb: int | None = 23034) -> GpuInfo:
    return GpuInfo(index=index, uuid=f"GPU-{index:04d}", name=name, memory_mb=memory_mb)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("", []),
        ("\n\n", []),
        (T4, [GpuInfo(0, "GPU-d1e2f3a4-b5c6-4d7e-8f90-a1b2c3d4e5f6", "Tesla T4", 15360)]),
        (
            A100_X2,
            [
                GpuInfo(0, "GPU-2b7f1c3e-8d4a-4f6b-9e1c-5a3d7b9f0e21", "NVIDIA A100-SXM4-40GB", 40960),
                GpuInfo(1, "GPU-6c9a0e4d-1b2f-4a7c-8d3e-2f5b1c8a9d47", "NVIDIA A100-SXM4-40GB", 40960),
            ],
        ),
        (NO_MEMORY, [GpuInfo(0, "GPU-0f0f0f0f-1e1e-2d2d-3c3c-4b4b4b4b4b4b", "NVIDIA GH200 480GB", None)]),
        (CRLF, [GpuInfo(0, "GPU-12345678-abcd-ef01-2345-6789abcdef01", "NVIDIA L4", 23034)]),
        ("3, GPU-x, Some, Odd Name, 1024\n", [GpuInfo(3, "GPU-x", "Some, Odd Name", 1024)]),
    ],
)
def test_parse_nvidia_smi(text: str, expected: list[GpuInfo]) -> None:
    assert parse_nvidia_smi(text) == expected


def test_parse_eight_h100s_keeps_order_and_uuids() -> None:
    gpus = parse_nvidia_smi(H100_X8)
    assert [g.index for g in gpus] == list(range(8))
    assert len({g.uuid for g in gpus}) == 8
    assert {(g.name, g.memory_mb) for g in gpus} == {("NVIDIA H100 80GB HBM3", 81559)}


@pytest.mark.parametrize(
    "text",
    [DRIVER_DOWN, "0, GPU-abc, NVIDIA L4\n", "x, GPU-abc, NVIDIA L4, 23034\n", "0, , NVIDIA L4, 23034\n"],
)
def test_parse_rejects_junk(text: str) -> None:
    with pytest.raises(ValueError, match="nvidia-smi line"):
        parse_nvidia_smi(text)


@pytest.mark.parametrize(
    ("name", "short"),
    [
        ("NVIDIA H100 80GB HBM3", "h100"),
        ("NVIDIA H100 PCIe", "h100"),
        ("NVIDIA H100 NVL", "h100"),
        ("NVIDIA H200", "h200"),
        ("NVIDIA GH200 480GB", "gh200"),
        ("NVIDIA B200", "b200"),
        ("NVIDIA A100-SXM4-40GB", "a100"),
        ("NVIDIA A100-SXM4-80GB", "a100"),
        ("NVIDIA A100 80GB PCIe", "a100"),
        ("NVIDIA A10G", "a10g"),
        ("Tesla T4", "t4"),
        ("Tesla V100-SXM2-16GB", "v100"),
        ("NVIDIA L4", "l4"),
        ("NVIDIA L40S", "l40s"),
        ("NVIDIA GeForce RTX 4090", "rtx4090"),
        ("NVIDIA GeForce RTX 3090 Ti", "rtx3090ti"),
        ("NVIDIA GeForce RTX 4070 SUPER", "rtx4070super"),
        ("NVIDIA GeForce GTX 1080 Ti", "gtx1080ti"),
        ("NVIDIA RTX A6000", "rtxa6000"),
        ("NVIDIA RTX 6000 Ada Generation", "rtx6000ada"),
        ("Quadro RTX 8000", "rtx8000"),
        ("NVIDIA TITAN RTX", "titanrtx"),
        ("NVIDIA", "unknown"),
        ("", "unknown"),
    ],
)
def test_gpu_type(name: str, short: str) -> None:
    assert gpu_type(name) == short


@pytest.mark.parametrize(
    ("text", "tags"),
    [
        ("", []),
        (T4, ["gpu", "gpu.t4"]),
        (H100_X8, ["gpu", "gpu.h100"]),
        (A100_X2, ["gpu", "gpu.a100"]),
        (MIXED, ["gpu", "gpu.rtx4090", "gpu.l4"]),
    ],
)
def test_gpu_tags(text: str, tags: list[str]) -> None:
    assert gpu_tags(parse_nvidia_smi(text)) == tags


def test_device_request_names_exactly_one_gpu() -> None:
    (t4,) = parse_nvidia_smi(T4)
    assert device_request_for(t4) == {
        "Driver": "nvidia",
        "DeviceIDs": ["GPU-d1e2f3a4-b5c6-4d7e-8f90-a1b2c3d4e5f6"],
        "Capabilities": [["gpu"]],
    }


def fake_nvidia_smi(bin_dir: Path, body: str) -> None:
    bin_dir.mkdir(exist_ok=True)
    exe = bin_dir / "nvidia-smi"
    exe.write_text(f"#!/bin/sh\n{body}\n")
    exe.chmod(exe.stat().st_mode | stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH)


def test_detect_gpus_without_nvidia_smi_is_empty(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))
    with capture_logs() as logs:
        assert detect_gpus() == []
    assert logs == []  # a CPU-only host is normal, not a warning


def test_detect_gpus_runs_the_query(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    args_file = tmp_path / "args"
    fake_nvidia_smi(tmp_path / "bin", f"echo \"$@\" > {args_file}\nprintf '%s' '{MIXED}'")
    monkeypatch.setenv("PATH", str(tmp_path / "bin"))
    assert detect_gpus() == parse_nvidia_smi(MIXED)
    assert args_file.read_text().split() == [
        "--query-gpu=index,uuid,name,memory.total",
        "--format=csv,noheader,nounits",
    ]


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        (f'echo "{DRIVER_DOWN.strip()}"\nexit 9', "exit_code"),
        (f'echo "{DRIVER_DOWN.strip()}"', "unparseable"),
        ("exec sleep 30", "timeout"),
    ],
)
def test_detect_gpus_failures_are_empty_with_a_warning(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, body: str, reason: str
) -> None:
    fake_nvidia_smi(tmp_path / "bin", body)
    monkeypatch.setenv("PATH", f"{tmp_path / 'bin'}:/usr/bin:/bin")
    with capture_logs() as logs:
        assert detect_gpus(timeout_s=0.5) == []
    assert [(e["event"], e["log_level"], e["reason"]) for e in logs] == [
        ("gpu_detect_failed", "warning", reason)
    ]


def test_slots_hand_out_each_gpu_once_then_none() -> None:
    slots = GpuSlots([gpu(1), gpu(0)])
    assert (slots.total, slots.free) == (2, 2)
    first, second = slots.acquire(), slots.acquire()
    assert (first, second) == (gpu(0), gpu(1))
    assert slots.acquire() is None
    slots.release(first)
    assert slots.free == 1
    assert slots.acquire() == gpu(0)


def test_slots_on_a_cpu_host_are_always_none() -> None:
    slots = GpuSlots([])
    assert slots.acquire() is None
    with slots.slot() as got:
        assert got is None


def test_slot_release_is_idempotent_and_rejects_foreign_gpus() -> None:
    slots = GpuSlots([gpu(0)])
    g = slots.acquire()
    assert g is not None
    slots.release(g)
    slots.release(g)
    assert slots.free == 1
    with pytest.raises(ValueError, match="not one of"):
        slots.release(gpu(7))


def test_slot_context_manager_releases_on_error() -> None:
    slots = GpuSlots([gpu(0)])
    with pytest.raises(RuntimeError), slots.slot() as got:
        assert got == gpu(0) and slots.free == 0
        raise RuntimeError("cell crashed")
    assert slots.free == 1


def test_duplicate_uuids_are_rejected() -> None:
    with pytest.raises(ValueError, match="duplicate"):
        GpuSlots([gpu(0), gpu(0)])


def test_slots_are_exclusive_under_threads() -> None:
    slots = GpuSlots([gpu(i) for i in range(4)])
    lock = threading.Lock()
    in_use: set[str] = set()
    overlaps: list[str] = []
    got_one = 0
    start = threading.Barrier(16)

    def worker() -> None:
        nonlocal got_one
        start.wait(timeout=10)
        for _ in range(200):
            with slots.slot() as g:
                if g is None:
                    continue
                with lock:
                    if g.uuid in in_use:
                        overlaps.append(g.uuid)
                    in_use.add(g.uuid)
                    got_one += 1
                with lock:
                    in_use.discard(g.uuid)

    threads = [threading.Thread(target=worker) for _ in range(16)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    assert overlaps == []
    assert got_one > 0
    assert slots.free == 4
