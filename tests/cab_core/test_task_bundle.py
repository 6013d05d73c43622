"""Task folders by content: the hash, deterministic bundles, and unpacking that refuses hostile ones."""

from __future__ import annotations

import io
import os
import tarfile
from pathlib import Path

import pytest

from cab_core.errors import TaskError
from cab_core.task_bundle import HASH_CHARS, content_hash, is_hash, pack, short, unpack

pytestmark = pytest.mark.unit


def make_task(root: Path) -> Path:
    (root / "workdir" / "pkg").mkdir(parents=True)
    (root / "hidden_tests").mkdir()
    (root / "task.yaml").write_text("category: c\nslug: s\nprompt: fix it\n")
    (root / "workdir" / "pkg" / "mod.py").write_text("x = 1\n")
    (root / "hidden_tests" / "test_mod.py").write_text("def test(): pass\n")
    run = root / "workdir" / "run.sh"
    run.write_text("#!/bin/sh\n")
    run.chmod(0o755)
    os.symlink("pkg/mod.py", root / "workdir" / "alias.py")
    return root


def tar_of(*members: tuple[tarfile.TarInfo, bytes | None]) -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz") as tar:
        for info, data in members:
            if data is not None:
                info.size = len(data)
            tar.addfile(info, io.BytesIO(data) if data is not None else None)
    return buf.getvalue()


def entry(name: str, data: bytes = b"x") -> tuple[tarfile.TarInfo, bytes]:
    return tarfile.TarInfo(name), data


def link(name: str, target: str, kind: bytes = tarfile.SYMTYPE) -> tuple[tarfile.TarInfo, None]:
    info = tarfile.TarInfo(name)
    info.type, info.linkname = kind, target
    return info, None


def test_hash_is_stable_and_covers_content_mode_names_and_links(tmp_path: Path) -> None:
    task = make_task(tmp_path / "t")
    first = content_hash(task)
    assert is_hash(first) and len(first) == HASH_CHARS and short(first) == first[:12]
    assert content_hash(task) == first

    edits = [
        lambda: (task / "workdir" / "pkg" / "mod.py").write_text("x = 2\n"),
        lambda: (task / "workdir" / "run.sh").chmod(0o644),
        lambda: (task / "hidden_tests" / "test_mod.py").rename(task / "hidden_tests" / "test_b.py"),
        lambda: (
            (task / "workdir" / "alias.py").unlink(),
            os.symlink("run.sh", task / "workdir" / "alias.py"),
        ),
        lambda: (
            (task / "environment").mkdir() or (task / "environment" / "Dockerfile").write_text("FROM x\n")
        ),
    ]
    seen = {first}
    for edit in edits:
        edit()
        now = content_hash(task)
        assert now not in seen
        seen.add(now)


def test_byte_compiled_files_and_caches_are_left_out(tmp_path: Path) -> None:
    task = make_task(tmp_path / "t")
    before = content_hash(task)
    (task / "workdir" / "pkg" / "__pycache__").mkdir()
    (task / "workdir" / "pkg" / "__pycache__" / "mod.cpython-311.pyc").write_bytes(b"\0")
    (task / ".pytest_cache").mkdir()
    (task / "workdir" / "stray.pyc").write_bytes(b"\0")
    assert content_hash(task) == before


def test_equal_folders_pack_to_equal_bytes_and_unpack_to_the_same_hash(tmp_path: Path) -> None:
    a = make_task(tmp_path / "a")
    b = make_task(tmp_path / "b")
    os.utime(b / "task.yaml", (0, 0))  # mtimes do not matter
    (ha, blob_a), (hb, blob_b) = pack(a), pack(b)
    assert ha == hb and blob_a == blob_b
    out = unpack(blob_a, tmp_path / "out" / "c" / "s", ha)
    assert content_hash(out) == ha
    assert os.readlink(out / "workdir" / "alias.py") == "pkg/mod.py"
    assert os.access(out / "workdir" / "run.sh", os.X_OK)


def test_a_tampered_bundle_whose_hash_does_not_match_is_refused_and_nothing_is_written(
    tmp_path: Path,
) -> None:
    task = make_task(tmp_path / "t")
    digest, _ = pack(task)
    (task / "workdir" / "pkg" / "mod.py").write_text("import os; os.system('evil')\n")
    _, tampered = pack(task)
    dest = tmp_path / "out" / "c" / "s"
    with pytest.raises(TaskError, match=f"not the {short(digest)} it was stored as"):
        unpack(tampered, dest, digest)
    assert not dest.exists()
    assert list(dest.parent.iterdir()) == []  # no temporary folder left behind


@pytest.mark.parametrize(
    ("members", "why"),
    [
        ([entry("/etc/cab-evil")], "leaves its folder"),
        ([entry("../evil")], "leaves its folder"),
        ([entry("workdir/../../evil")], "leaves its folder"),
        ([link("workdir/l", "/etc/passwd")], "leaves its folder"),
        ([link("workdir/l", "../../outside")], "leaves its folder"),
        ([link("l", "..")], "leaves its folder"),
        # a link inside the tree, then an entry through it that escapes the real tree
        ([link("d/up", ".."), link("d/up/evil", "../..")], "goes through a link"),
        ([link("d", "."), entry("d/x")], "goes through a link"),
        ([link("workdir/h", "task.yaml", tarfile.LNKTYPE)], "neither a file nor a link"),
        ([(tarfile.TarInfo("dev"), None)], None),
        ([entry("workdir/__pycache__/m.cpython-311.pyc")], "not part of a task's content"),
        ([entry("a"), entry("a", b"y")], "given twice"),
    ],
)
def test_hostile_bundles_are_refused_before_anything_is_written(
    tmp_path: Path, members: list[tuple[tarfile.TarInfo, bytes | None]], why: str | None
) -> None:
    if why is None:  # a character device
        members[0][0].type = tarfile.CHRTYPE
        why = "neither a file nor a link"
    dest = tmp_path / "out" / "c" / "s"
    with pytest.raises(TaskError, match=why):
        unpack(tar_of(*members), dest, "0" * HASH_CHARS)
    assert not dest.exists()
    assert not (tmp_path / "evil").exists() and not (tmp_path / "outside").exists()
    assert list(dest.parent.iterdir()) == []


def test_garbage_is_unreadable_and_an_existing_destination_is_kept(tmp_path: Path) -> None:
    with pytest.raises(TaskError, match="unreadable"):
        unpack(b"not a tarball", tmp_path / "x", "0" * HASH_CHARS)
    task = make_task(tmp_path / "t")
    digest, blob = pack(task)
    with pytest.raises(TaskError, match="already exists"):
        unpack(blob, task, digest)


def test_a_task_folder_holds_only_files_and_links(tmp_path: Path) -> None:
    task = make_task(tmp_path / "t")
    os.mkfifo(task / "workdir" / "pipe")
    with pytest.raises(TaskError, match="only files and links"):
        content_hash(task)
    with pytest.raises(TaskError, match="not a task folder"):
        content_hash(tmp_path / "missing")
