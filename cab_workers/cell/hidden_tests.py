"""The scorer container: hidden tests run in a fresh container of the toolchain base image, with no
network, as the unprivileged user, under the task's test budget and output limit.

The graded tree is mounted READ-ONLY at /work, so code under test cannot rewrite the hidden tests,
the harness or anything else it is graded by while the tests run. Writable are an in-memory /tmp
(build output and caches go there, see ``SCORER_ENV``) and ``/cab-report``, an empty folder where
the runner writes its structured report (collected by cab after the container exits; a disk
watchdog bounds it). ``/cab-harness`` holds cab's own support files, read-only. The environment is
cab's alone: nothing in /work is read to build it. Shared by grading and validation."""

from __future__ import annotations

import os
from pathlib import Path

from cab_core.paths import CONTAINER_WORK
from cab_core.schema import TaskSpec
from cab_workers.host.sandbox import ContainerRun, ContainerSpec, Mount, Sandbox

AGENT_UID = 1000
"""uid of the ``agent`` user in cab's images."""

SCORER_ENV = {
    "HOME": "/tmp",
    "TMPDIR": "/tmp",
    "CARGO_HOME": "/tmp/cargo",
    "CARGO_TARGET_DIR": "/tmp/target",
    "GOCACHE": "/tmp/gocache",
    "GOPATH": "/tmp/go",
    "GOENV": "off",
    "GOWORK": "off",
    "GOTOOLCHAIN": "local",
    "GOFLAGS": "",
    "PYTHONDONTWRITEBYTECODE": "1",
    "PYTHONNOUSERSITE": "1",
    "PYTHONPYCACHEPREFIX": "/tmp/pycache",
    "NODE_OPTIONS": "",
    "NODE_PATH": "",
    "RUSTFLAGS": "",
}
"""Fixed by cab for every scorer run (runner flags are added per runner by ``grading.runners``):
caches and build output go to /tmp, a planted ``.pyc`` is never read (bytecode lives under
``PYTHONPYCACHEPREFIX``), ``go.work`` and ``go env`` files are ignored, and no variable a test
tool reads is left to the image or the host."""

REPORT_DIR = "/cab-report"
"""Where the runner writes its structured report inside the scorer container."""

SUPPORT_DIR = "/cab-harness"
"""cab's own read-only files inside the scorer container (e.g. a runner preload)."""


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
    task: TaskSpec,
    sandbox: Sandbox,
    image: str,
    work: Path,
    *,
    name: str,
    labels: dict[str, str],
    argv: list[str] | None = None,
    env: dict[str, str] | None = None,
    report_dir: Path | None = None,
    support_dir: Path | None = None,
) -> ContainerRun:
    """Run ``argv`` (default ``task.test_command``) in ``work`` (mounted read-only at /work), with
    ``env`` over ``SCORER_ENV``; ``report_dir`` is mounted writable at ``REPORT_DIR`` and
    ``support_dir`` read-only at ``SUPPORT_DIR``."""
    res = task.resources
    mounts = [Mount(str(work), CONTAINER_WORK, True)]
    if report_dir is not None:
        chown_tree(report_dir)
        mounts.append(Mount(str(report_dir), REPORT_DIR))
    if support_dir is not None:
        mounts.append(Mount(str(support_dir), SUPPORT_DIR, True))
    return sandbox.run(
        ContainerSpec(
            name=name[:200],
            image=image,
            argv=list(argv or task.test_command),
            deadline_s=task.timeouts.test_s,
            env={**SCORER_ENV, **(env or {})},
            user=container_user(),
            cpus=max(res.cpus, 1.0),
            memory_mb=max(res.memory_mb, 1024),
            pids=max(res.pids, 256),
            network=None,
            mounts=tuple(mounts),
            labels=labels,
            # the tests run the agent's code: same containment as the agent, and nothing it is
            # graded by is writable (the report folder is bounded by the disk watchdog)
            read_only_root=True,
            tmpfs=("/tmp",),
            tmpfs_mb=max(res.memory_mb, 1024),
            disk_limit_mb=res.disk_mb,
            watch_dirs=(str(report_dir),) if report_dir is not None else (),
            output_limit_bytes=res.output_mb << 20,
        )
    )
