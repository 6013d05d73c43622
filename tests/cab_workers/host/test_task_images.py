"""Task environment images: content tags, the host's build lock, failed builds, and a shared registry.

The Docker tests build on a miniature image family (a tiny ``base`` on debian:trixie-slim and a
``child`` TUI taking ``ARG BASE``) under a prefix of their own, so they take seconds; the pipeline
test (``tests/cab_workers/cell/test_environment_cells.py``) uses cab's real images.
"""

from __future__ import annotations

import subprocess
import sys
import threading
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from cab_core.errors import ImageError, InfraError
from cab_core.paths import TaskPaths
from cab_core.schema import FailureClass
from cab_workers.cell.failures import classify_exception
from cab_workers.host.images import LOG_TAIL_LINES, ImageBuilder
from cab_workers.host.task_images import (
    BuildLocks,
    lock_file_name,
    remote_ref,
    task_image_name,
)
from tests.conftest import free_port, require, wait_for

REPO = Path(__file__).resolve().parents[3]


def family(root: Path, marker: str) -> Path:
    """A tiny image family: ``base`` (debian:trixie-slim plus a marker file) and ``child`` on it."""
    images = root / "images"
    (images / "base").mkdir(parents=True)
    (images / "base" / "Dockerfile").write_text(
        f"FROM debian:trixie-slim\nRUN echo {marker} > /base-marker\nLABEL marker={marker}\n"
    )
    (images / "child").mkdir()
    (images / "child" / "Dockerfile").write_text("ARG BASE\nFROM ${BASE}\nRUN echo child > /child-marker\n")
    return images


def task(root: Path, slug: str, dockerfile: str | None, extra: str = "") -> TaskPaths:
    """A task folder with ``task.yaml`` and, when given, ``environment/Dockerfile``."""
    paths = TaskPaths(root / "tasks" / "envs" / slug)
    (paths.workdir).mkdir(parents=True)
    (paths.workdir / "a.txt").write_text("work\n")
    paths.spec.write_text(f"category: envs\nslug: {slug}\n")
    if dockerfile is not None:
        paths.environment.mkdir()
        (paths.environment / "Dockerfile").write_text(dockerfile)
        if extra:
            (paths.environment / "setup.sh").write_text(extra)
    return paths


ENV_DOCKERFILE = "ARG BASE\nFROM ${BASE}\nCOPY setup.sh /setup.sh\nRUN sh /setup.sh\n"


# -- tags (no engine) ----------------------------------------------------------------------------


class _NoDocker:
    """Tag computation needs no engine; anything else would be a bug in the test."""


@pytest.mark.unit
def test_task_tags_are_content_addressed_over_the_base_tag_and_the_environment(tmp_path: Path) -> None:
    paths = task(tmp_path, "demo", ENV_DOCKERFILE, "echo one > /env\n")
    name = task_image_name("cab", paths, "cab/base:aaaaaaaaaaaa")
    repo, _, digest = name.tag.rpartition(":")
    assert repo == name.repo == "cab/task-envs.demo" and name.name == "task-envs.demo"
    assert len(digest) == 12 and int(digest, 16) >= 0
    assert name.task_id == "envs/demo"
    assert task_image_name("cab", paths, "cab/base:aaaaaaaaaaaa") == name, "stable"
    assert task_image_name("cab", paths, "cab/base:bbbbbbbbbbbb").tag != name.tag, "a new base rebuilds"
    (paths.workdir / "a.txt").write_text("changed work\n")
    assert task_image_name("cab", paths, "cab/base:aaaaaaaaaaaa").tag == name.tag, "work dir not hashed"
    (paths.environment / "setup.sh").write_text("echo two > /env\n")
    assert task_image_name("cab", paths, "cab/base:aaaaaaaaaaaa").tag != name.tag
    assert task_image_name("other", paths, "cab/base:aaaaaaaaaaaa").repo == "other/task-envs.demo"


@pytest.mark.unit
def test_a_task_without_a_spec_is_named_by_its_folders(tmp_path: Path) -> None:
    paths = task(tmp_path, "Odd_Name", ENV_DOCKERFILE)
    paths.spec.unlink()
    assert task_image_name("cab", paths, "b").repo == "cab/task-envs.odd_name"


@pytest.mark.unit
def test_a_tui_on_a_task_image_is_its_own_repo_with_a_hash_over_that_parent(tmp_path: Path) -> None:
    builder = ImageBuilder(_NoDocker(), family(tmp_path, "m"), prefix="t")  # type: ignore[arg-type]  # no engine
    own = builder.tag("child")
    on_a, on_b = builder.tag("child", "t/task-envs.a:111111111111"), builder.tag("child", "t/task-envs.b:2")
    assert own.startswith("t/child:") and on_a.startswith("t/child:") and on_b.startswith("t/child:")
    assert len({own, on_a, on_b}) == 3
    assert builder.tag("child", builder.tag("base")) == own, "its own parent gives its own tag"


@pytest.mark.unit
def test_registry_names_and_lock_files() -> None:
    assert remote_ref("127.0.0.1:5000", "cab/task-a.b:0123456789ab") == (
        "127.0.0.1:5000/cab/task-a.b",
        "0123456789ab",
    )
    assert remote_ref("reg.example/team", "cab/base:1") == ("reg.example/team/cab/base", "1")
    assert lock_file_name("cab/task-a.b:0123") == "cab_task-a.b_0123.lock"


@pytest.mark.unit
def test_the_build_lock_serialises_threads(tmp_path: Path) -> None:
    locks = BuildLocks(tmp_path / "locks")
    inside, release, second_in = threading.Event(), threading.Event(), threading.Event()

    def first() -> None:
        with locks.hold("cab/x:1"):
            inside.set()
            release.wait(10)

    def second() -> None:
        with locks.hold("cab/x:1"):
            second_in.set()

    t1 = threading.Thread(target=first)
    t1.start()
    assert inside.wait(10)
    t2 = threading.Thread(target=second)
    t2.start()
    assert not second_in.wait(0.3), "the second thread got in while the first held the lock"
    with locks.hold("cab/other:1"):
        pass  # another tag is not blocked
    release.set()
    t1.join(10)
    t2.join(10)
    assert second_in.is_set()
    assert (tmp_path / "locks" / "cab_x_1.lock").is_file()


@pytest.mark.unit
def test_the_build_lock_holds_off_other_processes(tmp_path: Path) -> None:
    """A worker process sharing $CAB_HOME waits: here a second process finds the file lock taken."""
    locks = BuildLocks(tmp_path / "locks")
    probe = (
        "import fcntl, sys\n"
        "fp = open(sys.argv[1], 'a')\n"
        "try:\n    fcntl.flock(fp, fcntl.LOCK_EX | fcntl.LOCK_NB)\n    print('free')\n"
        "except BlockingIOError:\n    print('held')\n"
    )
    lock_path = str(tmp_path / "locks" / lock_file_name("cab/y:1"))
    with locks.hold("cab/y:1"):
        held = subprocess.run([sys.executable, "-c", probe, lock_path], capture_output=True, text=True)
    after = subprocess.run([sys.executable, "-c", probe, lock_path], capture_output=True, text=True)
    assert (held.stdout.strip(), after.stdout.strip()) == ("held", "free")


# -- building (Docker) ---------------------------------------------------------------------------


@pytest.fixture
def prefix(sandbox) -> Iterator[str]:  # noqa: ANN001
    """An image prefix of this test's own; every image under it is removed afterwards."""
    prefix = f"cab-test-{uuid.uuid4().hex[:8]}"
    yield prefix
    for image in sandbox.client.images.list():
        for tag in image.tags:
            if tag.startswith(f"{prefix}/") or f"/{prefix}/" in tag:
                try:
                    sandbox.client.images.remove(tag, force=True)
                except Exception:  # noqa: BLE001 - best-effort cleanup of test images
                    pass


def builder_for(sandbox, tmp_path: Path, prefix: str, home: str = "home", **kw: object) -> ImageBuilder:  # noqa: ANN001
    images = tmp_path / "images"
    if not images.is_dir():
        family(tmp_path, prefix)
    return ImageBuilder(sandbox, images, prefix=prefix, lock_dir=tmp_path / home / "locks", **kw)  # type: ignore[arg-type]  # test kwargs


@pytest.mark.docker
def test_a_task_image_builds_on_the_base_and_then_is_a_cache_hit(
    sandbox, tmp_path: Path, prefix: str
) -> None:  # noqa: ANN001
    builder = builder_for(sandbox, tmp_path, prefix)
    assert builder.ensure_task_image(task(tmp_path, "plain", None)) is None, "no environment: no image"
    paths = task(tmp_path, "demo", ENV_DOCKERFILE, "echo from-env > /env-marker\n")
    lines: list[str] = []
    ref = builder.ensure_task_image(paths, lines.append)
    assert ref is not None and ref.source == "built" and ref.build_s > 0
    assert ref.tag == task_image_name(prefix, paths, builder.tag("base")).tag
    assert ref.image_id == sandbox.image_id(ref.tag)
    assert sandbox.image_label(ref.tag, "cab.task") == "envs/demo"
    assert sandbox.image_label(ref.tag, "cab.image") == "task-envs.demo"
    out = sandbox.client.containers.run(ref.tag, ["cat", "/base-marker", "/env-marker"], remove=True)
    assert out.decode().split() == [prefix, "from-env"], "built FROM the base tag given as BASE"
    again: list[str] = []
    cached = builder.ensure_task_image(paths, again.append)
    assert cached is not None and (cached.source, cached.build_s, cached.tag) == ("cached", 0.0, ref.tag)
    assert not any("building" in m for m in again)
    assert builder.task_ref(paths) == cached

    tui = builder.ensure_on("child", ref.tag)
    assert tui.source == "built" and tui.tag == builder.tag("child", ref.tag) != builder.tag("child")
    out = sandbox.client.containers.run(tui.tag, ["cat", "/env-marker", "/child-marker"], remove=True)
    assert out.decode().split() == ["from-env", "child"]
    assert sandbox.image_id(f"{prefix}/child:latest") is None, ":latest does not move for a TUI on a task"
    assert builder.ensure_on("child", ref.tag).source == "cached"


@pytest.mark.docker
def test_two_cells_asking_at_once_build_once(sandbox, tmp_path: Path, prefix: str) -> None:  # noqa: ANN001
    builder = builder_for(sandbox, tmp_path, prefix)
    builder.ensure(["base"])
    paths = task(tmp_path, "race", ENV_DOCKERFILE, "echo race > /env-marker\n")
    lines: list[str] = []
    refs, errors = [], []
    start = threading.Barrier(2)

    def ask() -> None:
        start.wait(10)
        try:
            refs.append(builder.ensure_task_image(paths, lines.append))
        except Exception as e:  # noqa: BLE001 - reported below
            errors.append(e)

    threads = [threading.Thread(target=ask) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    assert errors == []
    assert sum(m.startswith("task-envs.race: building") for m in lines) == 1, lines
    assert sorted(r.source for r in refs) == ["built", "cached"]
    assert len({r.image_id for r in refs}) == 1


@pytest.mark.docker
def test_a_broken_environment_is_an_infra_failure_carrying_the_log_tail(
    sandbox,  # noqa: ANN001
    tmp_path: Path,
    prefix: str,
) -> None:
    builder = builder_for(sandbox, tmp_path, prefix)
    script = "".join(f"echo build-line-{i:02d}\n" for i in range(1, 31)) + "exit 3\n"
    paths = task(tmp_path, "broken", ENV_DOCKERFILE, script)
    with pytest.raises(ImageError) as raised:
        builder.ensure_task_image(paths)
    message = str(raised.value)
    assert isinstance(raised.value, InfraError)
    assert message.startswith("building task-envs.broken failed:") and "non-zero code: 3" in message
    assert "build-line-30" in message and "build-line-01" not in message, "the tail, not the head"
    assert len(message.splitlines()) <= LOG_TAIL_LINES + 2
    failure = classify_exception(raised.value)
    assert failure.failure_class == FailureClass.infra and failure.retryable
    assert "build-line-30" in failure.reason, "the cell's failure keeps the tail"
    assert builder.task_ref(paths) is not None and not builder.task_ref(paths).built  # type: ignore[union-attr]


# -- a registry shared by two hosts ---------------------------------------------------------------

REGISTRY_BIN = Path("/usr/bin/docker-registry")


@pytest.fixture
def registry(tmp_path: Path) -> Iterator[str]:
    """Debian's docker-registry serving on a free loopback port with its own storage; ``host:port``."""
    require(REGISTRY_BIN.is_file(), "docker-registry (apt-get install docker-registry)")
    port = free_port()
    config = tmp_path / "registry.yml"
    config.write_text(
        "version: 0.1\nlog:\n  level: warn\nstorage:\n  filesystem:\n"
        f"    rootdirectory: {tmp_path / 'registry-data'}\n  delete:\n    enabled: true\n"
        f"http:\n  addr: 127.0.0.1:{port}\n"
    )
    log = (tmp_path / "registry.log").open("wb")
    proc = subprocess.Popen([str(REGISTRY_BIN), "serve", str(config)], stdout=log, stderr=log)
    try:
        import urllib.request

        def up() -> bool:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/v2/", timeout=1) as r:
                    return bool(r.status == 200)
            except OSError:
                return proc.poll() is not None  # a dead registry ends the wait; asserted below

        wait_for(up, 30, "docker-registry to answer")
        assert proc.poll() is None, (tmp_path / "registry.log").read_text()
        yield f"127.0.0.1:{port}"
    finally:
        proc.terminate()
        proc.wait(10)
        log.close()


@pytest.mark.docker
def test_a_second_host_pulls_what_the_first_pushed_instead_of_building(
    sandbox,  # noqa: ANN001
    tmp_path: Path,
    prefix: str,
    registry: str,
) -> None:
    first = builder_for(sandbox, tmp_path, prefix, home="home-a", registry=registry)
    paths = task(tmp_path, "shared", ENV_DOCKERFILE, "echo shared > /env-marker\n")
    lines_a: list[str] = []
    built = first.ensure_task_image(paths, lines_a.append)
    assert built is not None and built.source == "built"
    tui = first.ensure_on("child", built.tag, lines_a.append)
    assert any(m.endswith(f"pushed to {registry}") for m in lines_a), lines_a
    assert sum("pushed to" in m for m in lines_a) >= 3, "base, the task image and the TUI on it"
    for tag in (tui.tag, built.tag):  # the second host has neither
        sandbox.client.images.remove(tag)
    assert sandbox.image_id(built.tag) is None

    second = builder_for(sandbox, tmp_path, prefix, home="home-b", registry=registry)
    lines_b: list[str] = []
    pulled = second.ensure_task_image(paths, lines_b.append)
    assert pulled is not None and pulled.source == "pulled" and pulled.tag == built.tag
    assert pulled.image_id == built.image_id, "the same image, not a rebuild"
    assert not any(": building" in m for m in lines_b), lines_b
    tui_b = second.ensure_on("child", pulled.tag, lines_b.append)
    assert tui_b.source == "pulled" and tui_b.image_id == tui.image_id
    remote = f"{registry}/{built.tag}"
    assert sandbox.image_id(remote) is None, "only the local tag is kept after a pull"
    out = sandbox.client.containers.run(tui_b.tag, ["cat", "/env-marker"], remove=True)
    assert out.decode().strip() == "shared"


@pytest.mark.docker
def test_an_unreachable_registry_falls_back_to_building(sandbox, tmp_path: Path, prefix: str) -> None:  # noqa: ANN001
    builder = builder_for(sandbox, tmp_path, prefix, registry=f"127.0.0.1:{free_port()}")
    lines: list[str] = []
    ref = builder.ensure_task_image(task(tmp_path, "offline", ENV_DOCKERFILE, "true\n"), lines.append)
    assert ref is not None and ref.source == "built"
    assert any("pull failed" in m for m in lines) and any("push to" in m and "failed" in m for m in lines)
