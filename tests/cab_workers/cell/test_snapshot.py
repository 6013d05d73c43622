"""Work-dir snapshots: manifests, diffs, nested .git detection, ignored build output."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from cab_core.schema import DEFAULT_IGNORED_CHANGES
from cab_workers.cell.snapshot import diff, git_snapshot, manifest, read_texts, without_ignored

pytestmark = pytest.mark.unit


def tree(root: Path, files: dict[str, str]) -> Path:
    for rel, text in files.items():
        p = root / rel
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text(text)
    return root


def test_added_removed_modified(tmp_path: Path) -> None:
    root = tree(tmp_path, {"a.py": "1", "b.py": "2", "src/c.py": "3"})
    before, bg = manifest(root)
    (root / "a.py").write_text("changed")
    (root / "b.py").unlink()
    tree(root, {"src/new.py": "4"})
    change = diff(before, bg, *manifest(root))
    assert change.added == ("src/new.py",)
    assert change.removed == ("b.py",)
    assert change.modified == ("a.py",)
    assert change.new_git_dirs == ()


def test_top_level_git_is_bookkeeping_but_a_new_nested_git_is_reported(tmp_path: Path) -> None:
    root = tree(tmp_path, {"a.py": "1"})
    git_snapshot(root)
    before, bg = manifest(root)
    assert ".git" not in {p.split("/")[0] for p in before}
    subprocess.run(["git", "init", "-q", str(root / "vendor" / "lib")], check=True)
    (root / "vendor" / "lib" / "x.txt").write_text("x")
    change = diff(before, bg, *manifest(root))
    assert change.new_git_dirs == ("vendor/lib/.git",)
    assert change.added == ("vendor/lib/x.txt",), "nested .git contents are not listed file by file"


def test_rewriting_git_history_does_not_hide_a_change(tmp_path: Path) -> None:
    root = tree(tmp_path, {"a.py": "1"})
    git_snapshot(root)
    before, bg = manifest(root)
    (root / "a.py").write_text("2")
    env = {
        "GIT_AUTHOR_NAME": "x",
        "GIT_AUTHOR_EMAIL": "x@x",
        "GIT_COMMITTER_NAME": "x",
        "GIT_COMMITTER_EMAIL": "x@x",
        "PATH": "/usr/bin:/bin",
    }
    subprocess.run(["git", "commit", "-qam", "amend", "--amend"], cwd=root, check=True, env=env)
    assert diff(before, bg, *manifest(root)).modified == ("a.py",)


def test_git_snapshot_commits_the_tree(tmp_path: Path) -> None:
    root = tree(tmp_path, {"a.py": "1", "d/b.txt": "2"})
    git_snapshot(root)
    listed = subprocess.run(["git", "ls-files"], cwd=root, capture_output=True, text=True, check=True).stdout
    assert listed.split() == ["a.py", "d/b.txt"]
    status = subprocess.run(["git", "status", "--porcelain"], cwd=root, capture_output=True, text=True).stdout
    assert status == ""


def test_symlink_out_of_the_work_dir_is_hashed_not_followed(tmp_path: Path) -> None:
    outside = tree(tmp_path / "outside", {"secret.txt": "s"})
    root = tree(tmp_path / "w", {"a.py": "1"})
    (root / "link").symlink_to(outside)
    files, _ = manifest(root)
    assert files["link"].startswith("link:")
    assert not any(p.startswith("link/") for p in files)


@pytest.mark.parametrize(
    ("path", "ignored"),
    [
        ("target/debug/deps/x", True),
        ("__pycache__/m.cpython-311.pyc", True),
        ("pkg/__pycache__/m.pyc", True),
        (".pytest_cache/v/cache", True),
        ("node_modules/left-pad/index.js", True),
        ("src/target.rs", False),
        ("src/lib.rs", False),
        ("notes/scratch.txt", False),
    ],
)
def test_build_output_is_ignored_by_default(path: str, ignored: bool) -> None:
    from cab_workers.scoring.diff import WorkdirDiff

    change, dropped = without_ignored(WorkdirDiff(added=(path,)), list(DEFAULT_IGNORED_CHANGES))
    assert (dropped == [path]) is ignored
    assert (change.added == ()) is ignored


def test_read_texts_skips_binary_and_huge_files(tmp_path: Path) -> None:
    root = tree(tmp_path, {"a.md": "hello"})
    (root / "bin").write_bytes(b"\x00\x01")
    (root / "big").write_text("x" * 300_000)
    assert read_texts(root, ["a.md", "bin", "big", "missing"]) == {"a.md": "hello"}
