"""The scorer container: hidden tests run in a fresh container of the toolchain base image, with no
network, as the unprivileged user, read-only but for /work and an in-memory /tmp, under the task's
test budget and disk and output limits. Shared by grading and validation."""

from __future__ import annotations

import os
from pathlib import Path

from cab_core.paths import CONTAINER_WORK
from cab_core.schema import TaskSpec
from cab_workers.sandbox import ContainerRun, ContainerSpec, Mount, Sandbox

AGENT_UID = 1000
"""uid of the ``agent`` user in cab's images."""

SCORER_ENV = {
    "HOME": "/tmp",
    "CARGO_HOME": "/tmp/cargo",
    "CARGO_TARGET_DIR": "/tmp/target",
    "GOCACHE": "/tmp/gocache",
    "GOPATH": "/tmp/go",
    "PYTHONDONTWRITEBYTECODE": "1",
}
"""Caches and build output go to /tmp so they never show up in the graded tree."""


def container_user() -> str:
    """Root hosts chown cell folders to the image's ``agent`` user; others run as themselves."""
    return f"{AGENT_UID}:{AGENT_UID}" if os.geteuid() == 0 else f"{os.getuid()}:{os.getgid()}"


def chown_tree(root: Path, uid: int = AGENT_UID) -> None:
    """Hand a folder to the container user (no-op unless we are root)."""
    if os.geteuid() != 0:
        return
    for dirpath, dirnames, filenames in os.walk(root):
        os.lchown(dirpath, uid, uid)
        for name in dirnames + filenames:
            os.lchown(os.path.join(dirpath, name), uid, uid)


def run_tests(
    task: TaskSpec, sandbox: Sandbox, image: str, work: Path, *, name: str, labels: dict[str, str]
) -> ContainerRun:
    """Run ``task.test_command`` in ``work`` (mounted at /work) and return what happened."""
    chown_tree(work)
    res = task.resources
    return sandbox.run(
        ContainerSpec(
            name=name[:200],
            image=image,
            argv=list(task.test_command),
            deadline_s=task.timeouts.test_s,
            env=dict(SCORER_ENV),
            user=container_user(),
            cpus=max(res.cpus, 1.0),
            memory_mb=max(res.memory_mb, 1024),
            pids=max(res.pids, 256),
            network=None,
            mounts=(Mount(str(work), CONTAINER_WORK),),
            labels=labels,
            # the tests run the agent's code: same containment as the agent (writes only to /work,
            # watched, and to an in-memory /tmp bounded by the memory limit)
            read_only_root=True,
            tmpfs=("/tmp",),
            tmpfs_mb=max(res.memory_mb, 1024),
            disk_limit_mb=res.disk_mb,
            watch_dirs=(str(work),),
            output_limit_bytes=res.output_mb << 20,
        )
    )
