"""Reading an attempt's artifacts off the worker's disk (``cell.artifacts``): the agent's diff against
the task's own files, with links never followed, FIFOs never opened for a blocking read and huge files
never read; the cast capped to its header and whole event lines."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from cab_core.schema import ArtifactName
from cab_workers.cell.artifacts import Absent, cap_cast, cast_artifact, diff_artifact, read_side
from cab_workers.scoring.diff import WorkdirDiff
from cab_workers.scoring.patch import Content, Link, Oversized, Unreadable

pytestmark = pytest.mark.unit


def tree(root: Path, files: dict[str, str | bytes]) -> Path:
    for rel, data in files.items():
        p = root / rel
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_bytes(data.encode() if isinstance(data, str) else data)
    return root


@pytest.fixture
def trees(tmp_path: Path) -> tuple[Path, Path]:
    """The task's work dir and the agent's, after a hostile run."""
    original = tree(
        tmp_path / "task", {"src/lib.py": "a = 1\nb = 2\n", "README": "hi\n", "logo.bin": b"\0\1"}
    )
    work = tree(tmp_path / "work", {"src/lib.py": "a = 1\nb = 3\n", "new.py": "print('x')\n"})
    tree(work, {"logo.bin": b"\0\2"})
    (work / "etc-link").symlink_to("/etc")
    (work / "passwd").symlink_to("/etc/passwd")
    os.mkfifo(work / "pipe")
    with (work / "huge.log").open("wb") as fp:
        fp.truncate(10 * 1024**3)  # sparse: 10 GiB that must never be read
    return original, work


def test_the_diff_is_against_the_task_files_and_reads_nothing_it_must_not(trees: tuple[Path, Path]) -> None:
    original, work = trees
    change = WorkdirDiff(
        added=("new.py", "passwd", "pipe", "huge.log", "etc-link/passwd"),
        removed=("README",),
        modified=("src/lib.py", "logo.bin"),
    )
    artifact = diff_artifact(original, work, change)
    assert artifact.name == ArtifactName.diff and artifact.media_type == "text/x-diff"
    assert not artifact.truncated and artifact.original_bytes == len(artifact.body) and artifact.intact()
    assert artifact.text() == (
        "--- a/README\n+++ /dev/null\n@@ -1 +0,0 @@\n-hi\n"
        "File etc-link/passwd not shown: under a symbolic link\n"
        "File huge.log differs: over the 262144-byte per-file limit "
        "(before: absent, after: 10737418240 bytes)\n"
        "Binary file logo.bin differs\n"
        "--- /dev/null\n+++ b/new.py\n@@ -0,0 +1 @@\n+print('x')\n"
        "--- /dev/null\n+++ b/passwd\n@@ -0,0 +1 @@\n+symlink to /etc/passwd\n"
        "File pipe not shown: not a regular file\n"
        "--- a/src/lib.py\n+++ b/src/lib.py\n@@ -1,2 +1,2 @@\n a = 1\n-b = 2\n+b = 3\n"
    )


@pytest.mark.parametrize(
    ("rel", "want"),
    [
        ("src/lib.py", Content(b"a = 1\nb = 3\n")),
        ("missing.py", Absent()),
        ("src/lib.py/below-a-file", Absent()),
        ("passwd", Link("/etc/passwd")),
        ("etc-link/passwd", Unreadable("under a symbolic link")),
        ("../task/README", Unreadable("not a relative path inside the work dir")),
        ("pipe", Unreadable("not a regular file")),
        ("src", Unreadable("not a regular file")),
        ("huge.log", Oversized(10 * 1024**3)),
    ],
)
def test_read_side(trees: tuple[Path, Path], rel: str, want: object) -> None:
    assert read_side(trees[1], rel) == want


def test_a_file_that_grew_past_the_limit_after_its_stat_is_cut_off(tmp_path: Path) -> None:
    tree(tmp_path, {"f": "x" * 11})
    assert read_side(tmp_path, "f", limit_bytes=10) == Oversized(11)
    assert read_side(tmp_path, "f", limit_bytes=11) == Content(b"x" * 11)


HEADER = b'{"version": 2, "width": 120, "height": 40}\n'
EVENT = b'[0.5, "o", "hi\\r\\n"]\n'  # 21 bytes


@pytest.mark.parametrize(
    ("data", "max_bytes", "want"),
    [
        pytest.param(HEADER + EVENT * 2, 1000, (HEADER + EVENT * 2, False), id="whole"),
        pytest.param(HEADER + EVENT * 2, len(HEADER) + 30, (HEADER + EVENT, True), id="cut-at-a-line"),
        pytest.param(HEADER + EVENT * 2, len(HEADER) + 20, (HEADER, True), id="header-only"),
        pytest.param(
            HEADER + EVENT + b'[1.0, "o", "par', 1000, (HEADER + EVENT, True), id="partial-last-line"
        ),
        pytest.param(HEADER, len(HEADER) - 1, None, id="not-even-the-header"),
    ],
)
def test_cap_cast(data: bytes, max_bytes: int, want: tuple[bytes, bool] | None) -> None:
    assert cap_cast(data[: max_bytes + 1], len(data), max_bytes=max_bytes) == want


def test_a_long_recording_is_kept_as_a_valid_asciicast(tmp_path: Path) -> None:
    path = tmp_path / "cell.cast"
    path.write_bytes(HEADER + EVENT * 1000)
    artifact = cast_artifact(path, max_bytes=len(HEADER) + 21 * 10 + 5)
    assert artifact is not None and artifact.name == ArtifactName.terminal
    assert artifact.media_type == "application/x-asciicast"
    assert (artifact.body, artifact.truncated, artifact.original_bytes) == (
        HEADER + EVENT * 10,
        True,
        len(HEADER) + 21 * 1000,
    )
    header, *events = [json.loads(line) for line in artifact.text().splitlines()]
    assert header["version"] == 2 and events == [[0.5, "o", "hi\r\n"]] * 10


def test_no_recording_no_artifact(tmp_path: Path) -> None:
    assert cast_artifact(tmp_path / "never-written.cast") is None
    (tmp_path / "link.cast").symlink_to(tmp_path / "elsewhere.cast")
    (tmp_path / "elsewhere.cast").write_bytes(HEADER)
    with pytest.raises(OSError):  # a link is refused (the caller logs and goes on)
        cast_artifact(tmp_path / "link.cast")
