"""GPUs on this worker host: detection via ``nvidia-smi``, routing tags, Docker device requests, slots.

detect_gpus()          runs nvidia-smi (the only I/O here); [] when absent or broken
  parse_nvidia_smi()   pure: CSV text -> [GpuInfo]
gpu_tags(gpus)         ["gpu", "gpu.h100", ...] for queue routing
device_request_for()   plain dict; the sandbox turns it into ``docker.types.DeviceRequest``
GpuSlots               one running cell per GPU, thread-safe
"""

from __future__ import annotations

import contextlib
import re
import shutil
import subprocess
import threading
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import structlog

log = structlog.get_logger(__name__)

NVIDIA_SMI_ARGS = ("--query-gpu=index,uuid,name,memory.total", "--format=csv,noheader,nounits")
DETECT_TIMEOUT_S = 10.0

# Brand words and board/memory suffixes dropped when shortening a GPU name to its model.
_NOISE_WORDS = {"nvidia", "tesla", "geforce", "quadro", "pcie", "generation", "nvl", "mig", "sxm"}
_NOISE_RE = re.compile(r"^(sxm\d*|hbm\d*e?|\d+gb|pcie\d*|nvl\d*)$")
_FAMILY_PREFIXES = {"rtx", "gtx", "titan"}
_MODEL_SUFFIXES = {"ti", "super", "ada"}


@dataclass(frozen=True)
class GpuInfo:
    """One GPU as nvidia-smi reports it."""

    index: int
    """nvidia-smi's index on this host (not stable across reboots; ``uuid`` is)."""
    uuid: str
    """Stable id, e.g. ``GPU-5f3b...``; what Docker device requests name."""
    name: str
    """Marketing name, e.g. ``NVIDIA H100 80GB HBM3``."""
    memory_mb: int | None
    """Total memory in MiB; ``None`` when the driver reports ``[N/A]``."""


def parse_nvidia_smi(text: str) -> list[GpuInfo]:
    """Parse ``nvidia-smi --query-gpu=index,uuid,name,memory.total --format=csv,noheader,nounits``.

    Blank lines are skipped; any other line that does not parse raises :class:`ValueError`.
    """
    gpus = []
    for line in text.splitlines():
        if not line.strip():
            continue
        fields = [f.strip() for f in line.split(",")]
        if len(fields) < 4:
            raise ValueError(f"nvidia-smi line has {len(fields)} fields, expected 4: {line!r}")
        index, uuid, memory = fields[0], fields[1], fields[-1]
        name = ", ".join(fields[2:-1])  # a name with a comma in it survives
        if not index.isdigit() or not uuid or not name:
            raise ValueError(f"nvidia-smi line does not parse: {line!r}")
        gpus.append(GpuInfo(int(index), uuid, name, int(memory) if memory.isdigit() else None))
    return gpus


def detect_gpus(timeout_s: float = DETECT_TIMEOUT_S) -> list[GpuInfo]:
    """The GPUs on this host; ``[]`` when ``nvidia-smi`` is not on PATH, fails, hangs or prints junk."""
    exe = shutil.which("nvidia-smi")
    if exe is None:
        return []
    try:
        done = subprocess.run([exe, *NVIDIA_SMI_ARGS], capture_output=True, text=True, timeout=timeout_s)
    except subprocess.TimeoutExpired:
        log.warning("gpu_detect_failed", reason="timeout", timeout_s=timeout_s)
        return []
    except OSError as e:
        log.warning("gpu_detect_failed", reason="exec_error", error=str(e))
        return []
    if done.returncode != 0:
        detail = (done.stderr or done.stdout).strip().splitlines()
        log.warning(
            "gpu_detect_failed",
            reason="exit_code",
            exit_code=done.returncode,
            error=detail[0] if detail else "",
        )
        return []
    try:
        return parse_nvidia_smi(done.stdout)
    except ValueError as e:
        log.warning("gpu_detect_failed", reason="unparseable", error=str(e))
        return []


def gpu_type(name: str) -> str:
    """Short model name for tags: ``NVIDIA A100-SXM4-40GB`` -> ``a100``, ``RTX 4090`` -> ``rtx4090``."""
    words = [w for w in re.split(r"[\s\-_/]+", name.lower()) if w]
    words = [w for w in words if w not in _NOISE_WORDS and not _NOISE_RE.match(w)]
    if not words:
        return "unknown"
    short = words[0]
    rest = words[1:]
    if short in _FAMILY_PREFIXES and rest:
        short += rest.pop(0)
    while rest and rest[0] in _MODEL_SUFFIXES:
        short += rest.pop(0)
    return re.sub(r"[^a-z0-9]", "", short) or "unknown"


def gpu_tags(gpus: Sequence[GpuInfo]) -> list[str]:
    """Routing tags for a host: ``[]`` without GPUs, else ``"gpu"`` then one ``gpu.<type>`` per model."""
    if not gpus:
        return []
    tags = ["gpu"]
    for gpu in gpus:
        tag = f"gpu.{gpu_type(gpu.name)}"
        if tag not in tags:
            tags.append(tag)
    return tags


def device_request_for(gpu: GpuInfo) -> dict[str, Any]:
    """Keyword arguments for ``docker.types.DeviceRequest`` exposing exactly ``gpu`` to a container."""
    return {"Driver": "nvidia", "DeviceIDs": [gpu.uuid], "Capabilities": [["gpu"]]}


class GpuSlots:
    """Hands out one GPU per running cell; thread-safe. Lowest free index first."""

    def __init__(self, gpus: Sequence[GpuInfo]) -> None:
        self._all = sorted(gpus, key=lambda g: g.index)
        self._known = {g.uuid for g in self._all}
        if len(self._known) != len(self._all):
            raise ValueError("GpuSlots: duplicate GPU uuids")
        self._busy: set[str] = set()
        self._lock = threading.Lock()

    @property
    def total(self) -> int:
        return len(self._all)

    @property
    def free(self) -> int:
        with self._lock:
            return len(self._all) - len(self._busy)

    def acquire(self) -> GpuInfo | None:
        """Take a free GPU, or ``None`` when every GPU is busy (or the host has none)."""
        with self._lock:
            for gpu in self._all:
                if gpu.uuid not in self._busy:
                    self._busy.add(gpu.uuid)
                    return gpu
        return None

    def release(self, gpu: GpuInfo) -> None:
        """Give ``gpu`` back. Idempotent; a GPU that is not part of this pool raises :class:`ValueError`."""
        if gpu.uuid not in self._known:
            raise ValueError(f"GpuSlots: {gpu.uuid} is not one of this host's GPUs")
        with self._lock:
            self._busy.discard(gpu.uuid)

    @contextlib.contextmanager
    def slot(self) -> Iterator[GpuInfo | None]:
        """``with slots.slot() as gpu:``; ``gpu`` is ``None`` when none is free, else released on exit."""
        gpu = self.acquire()
        try:
            yield gpu
        finally:
            if gpu is not None:
                self.release(gpu)
