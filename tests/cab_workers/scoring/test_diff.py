from __future__ import annotations

import pytest

from cab_workers.scoring.diff import WorkdirDiff, diff_snapshots, path_matches

pytestmark = pytest.mark.unit


@pytest.mark.parametrize(
    ("path", "patterns", "want"),
    [
        (".aider.chat.history.md", [".aider*"], True),
        (".aider.tags.cache.v3/cache.db", [".aider*"], True),
        ("src/.aider.x", [".aider*"], False),
        ("tests/test_x.py", ["tests"], True),
        ("tests/test_x.py", ["tests/"], True),
        ("tests/test_x.py", ["./tests/test_x.py"], True),
        ("src/lib.rs", ["*.rs"], True),
        ("src/lib.rs", ["src/main.rs"], False),
        ("src/lib.rs", [], False),
        ("README.md", ["readme.md"], False),
    ],
)
def test_path_matches(path: str, patterns: list[str], want: bool) -> None:
    assert path_matches(path, patterns) is want


def test_workdir_diff_normalises_paths() -> None:
    diff = WorkdirDiff(added=("./b", "a", "a"), modified=("src\\lib.rs",), new_git_dirs=("vendor/x/.git/",))
    assert diff.added == ("a", "b")
    assert diff.modified == ("src/lib.rs",)
    assert diff.new_git_dirs == ("vendor/x/.git",)
    assert diff.changed == ("a", "b", "src/lib.rs")
    assert diff.written == ("a", "b", "src/lib.rs")


@pytest.mark.parametrize("bad", ["/etc/passwd", "../x", "a/../../x", ""])
def test_workdir_diff_rejects_paths_outside(bad: str) -> None:
    with pytest.raises(ValueError):
        WorkdirDiff(added=(bad,))


def test_diff_snapshots() -> None:
    before = {"src/lib.rs": "h1", "tests/t.rs": "h2", "old.txt": "h3", ".git/HEAD": "g"}
    after = {
        "src/lib.rs": "h9",
        "tests/t.rs": "h2",
        "new.txt": "h4",
        ".git/HEAD": "g2",
        "vendor/dep/.git/HEAD": "x",
        "vendor/dep/lib.rs": "y",
    }
    diff = diff_snapshots(before, after)
    assert diff.added == ("new.txt", "vendor/dep/.git/HEAD", "vendor/dep/lib.rs")
    assert diff.removed == ("old.txt",)
    assert diff.modified == (".git/HEAD", "src/lib.rs")
    assert diff.new_git_dirs == ("vendor/dep/.git",)
