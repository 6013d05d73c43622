"""The sandbox against a real Docker engine and cab's base image."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from cab_core.errors import ImageError
from cab_workers.host.sandbox import LABEL_OWNER_PID, ContainerSpec, Mount

pytestmark = pytest.mark.docker


def spec(images: dict[str, str], name: str, argv: list[str], sandbox, **kw) -> ContainerSpec:  # noqa: ANN001
    return ContainerSpec(
        name=f"cab-test-{name}-{os.getpid()}",
        image=images["base"],
        argv=argv,
        deadline_s=kw.pop("deadline_s", 30),
        labels=sandbox.labels_for(f"test/{name}", 1, "test"),
        **kw,
    )


def test_exit_code_and_output_are_captured(sandbox, images, no_leftover_containers) -> None:  # noqa: ANN001
    run = sandbox.run(spec(images, "exit", ["bash", "-c", "echo out; echo err >&2; exit 7"], sandbox))
    assert run.exit_code == 7
    assert run.stdout == "out\n" and run.stderr == "err\n"
    assert not run.timed_out and not run.oom_killed
    assert run.active_ms > 0 and run.image_id and run.image_id.startswith("sha256:")


def test_deadline_kills_the_container(sandbox, images, no_leftover_containers) -> None:  # noqa: ANN001
    run = sandbox.run(spec(images, "deadline", ["sleep", "600"], sandbox, deadline_s=2))
    assert run.timed_out
    assert run.active_ms < 60_000


def test_process_ignoring_sigterm_is_still_killed(sandbox, images, no_leftover_containers) -> None:  # noqa: ANN001
    run = sandbox.run(
        spec(images, "sigterm", ["bash", "-c", "trap '' TERM; sleep 600"], sandbox, deadline_s=2)
    )
    assert run.timed_out


def test_output_cap_keeps_the_tail(sandbox, images, no_leftover_containers) -> None:  # noqa: ANN001
    script = "head -c 3000000 /dev/zero | tr '\\0' x; echo; echo THE-END"
    run = sandbox.run(spec(images, "cap", ["bash", "-c", script], sandbox, output_cap_bytes=64 * 1024))
    assert run.truncated
    assert run.output_bytes > 3_000_000
    assert len(run.stdout) <= 64 * 1024
    assert run.stdout.rstrip().endswith("THE-END")


def test_runs_unprivileged_without_capabilities_or_network(sandbox, images, no_leftover_containers) -> None:  # noqa: ANN001
    script = "id -u; grep CapEff /proc/self/status; (getent hosts example.com && echo NET) || echo NONET"
    run = sandbox.run(spec(images, "priv", ["bash", "-c", script], sandbox))
    lines = run.stdout.split()
    assert lines[0] == "1000"
    assert "0000000000000000" in run.stdout
    assert "NONET" in run.stdout


def test_memory_limit_is_enforced(sandbox, images, no_leftover_containers) -> None:  # noqa: ANN001
    hog = "python3 -c \"b=[bytearray(1<<20) for _ in range(400)]; print('survived')\""
    run = sandbox.run(spec(images, "mem", ["bash", "-c", hog], sandbox, memory_mb=128))
    assert "survived" not in run.stdout
    assert run.oom_killed or run.exit_code != 0


def test_pids_limit_contains_a_fork_bomb(sandbox, images, no_leftover_containers) -> None:  # noqa: ANN001
    bomb = "for i in $(seq 200); do sleep 30 & done 2>/dev/null; jobs -r | wc -l"
    run = sandbox.run(spec(images, "pids", ["bash", "-c", bomb], sandbox, pids=32, deadline_s=10))
    started = int(run.stdout.split()[-1]) if run.stdout.split() else 0
    assert started < 200


def test_work_dir_mount_is_writable_by_the_agent_user(
    sandbox,
    images,
    tmp_path: Path,  # noqa: ANN001
    no_leftover_containers,
) -> None:
    work = tmp_path / "w"
    work.mkdir()
    if os.geteuid() == 0:
        os.chown(work, 1000, 1000)
    run = sandbox.run(
        spec(
            images,
            "mount",
            ["bash", "-c", "echo hi > /work/f && cat /work/f"],
            sandbox,
            mounts=(Mount(str(work), "/work"),),
            user="1000:1000" if os.geteuid() == 0 else f"{os.getuid()}:{os.getgid()}",
        )
    )
    assert run.exit_code == 0
    assert (work / "f").read_text() == "hi\n"


def test_missing_image_is_an_image_error(sandbox, no_leftover_containers) -> None:  # noqa: ANN001
    with pytest.raises(ImageError, match="cab images build"):
        sandbox.run(
            ContainerSpec(
                name=f"cab-test-noimage-{os.getpid()}",
                image="cab/does-not-exist:0",
                argv=["true"],
                deadline_s=5,
            )
        )


def test_reap_removes_containers_of_dead_owners_only(sandbox, images) -> None:  # noqa: ANN001
    """A container whose owner process died (kill -9) is reaped; a live owner's is kept."""
    child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(600)"])
    try:
        labels = {**sandbox.labels_for("test/reap", 1, "test"), LABEL_OWNER_PID: str(child.pid)}
        orphan = sandbox.client.containers.run(
            images["base"],
            ["sleep", "600"],
            detach=True,
            labels=labels,
            name=f"cab-test-orphan-{os.getpid()}",
        )
        live = sandbox.client.containers.run(
            images["base"],
            ["sleep", "600"],
            detach=True,
            labels=sandbox.labels_for("test/live", 1, "test"),
            name=f"cab-test-live-{os.getpid()}",
        )
        try:
            assert orphan.name not in sandbox.reap()  # owner still alive
            child.kill()
            child.wait(timeout=10)
            removed = sandbox.reap()
            assert orphan.name in removed
            assert live.name not in removed
            assert orphan.name not in sandbox.managed_containers()
        finally:
            sandbox.reap(owner_pid=os.getpid())
        assert live.name not in sandbox.managed_containers()
    finally:
        child.kill()
        child.wait(timeout=10)


def test_labels_name_the_sweep_cell_attempt_host_and_owner(sandbox) -> None:  # noqa: ANN001
    labels = sandbox.labels_for("sw/reference/m/polyglot/t#run2", 3, "agent")
    assert labels["cab.sweep_id"] == "sw"
    assert labels["cab.cell_id"] == "sw/reference/m/polyglot/t#run2"
    assert labels["cab.attempt"] == "3" and labels["cab.role"] == "agent"
    assert labels["cab.host"] and labels["cab.owner_pid"] == str(os.getpid())


def test_a_network_is_found_by_its_exact_name_and_a_raced_duplicate_is_dropped(sandbox) -> None:  # noqa: ANN001
    """Docker allows two networks of one name (two processes creating it at once) and its name filter
    matches longer names too: cab takes the exact name, the oldest, and removes an unused duplicate."""
    name = f"cab-test-net-{os.getpid()}"
    client = sandbox.client
    try:
        longer = client.networks.create(f"{name}-published", driver="bridge")
        first = sandbox.ensure_network(name, internal=True)
        twin = client.networks.create(
            name, driver="bridge", internal=True, options={"com.docker.network.bridge.enable_icc": "false"}
        )
        assert len([n for n in client.networks.list(names=[name]) if n.name == name]) == 2
        again = sandbox.ensure_network(name, internal=True)
        assert again.id == first.id != longer.id
        assert [n.id for n in client.networks.list(names=[name]) if n.name == name] == [first.id]
        assert twin.id != first.id
    finally:
        for n in client.networks.list(names=[name]):
            n.remove()
