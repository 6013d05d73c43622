from __future__ import annotations

import pytest

from cab_workers.scoring.blast_radius import score_blast_radius
from cab_workers.scoring.diff import WorkdirDiff

pytestmark = pytest.mark.unit

AIDER_GLOBS = (".aider*",)


@pytest.mark.parametrize(
    ("diff", "expected", "globs", "blast", "unexpected", "total"),
    [
        (WorkdirDiff(), ["src/lib.rs"], (), 0.0, [], 0),
        (WorkdirDiff(modified=("src/lib.rs",)), ["src/lib.rs"], (), 0.0, [], 1),
        (WorkdirDiff(modified=("src/lib.rs", "Cargo.toml")), ["src/lib.rs"], (), 0.5, ["Cargo.toml"], 2),
        (
            WorkdirDiff(added=("notes.md",), removed=("README.md",), modified=("src/lib.rs",)),
            ["src/lib.rs"],
            (),
            2 / 3,
            ["README.md", "notes.md"],
            3,
        ),
        (WorkdirDiff(modified=("src/a.rs", "src/b.rs")), ["src/*.rs"], (), 0.0, [], 2),
        (WorkdirDiff(added=(".aider.chat.history.md",)), [], AIDER_GLOBS, 0.0, [], 0),
    ],
)
def test_score_blast_radius(
    diff: WorkdirDiff,
    expected: list[str],
    globs: tuple[str, ...],
    blast: float,
    unexpected: list[str],
    total: int,
) -> None:
    axis = score_blast_radius(diff, expected_changes=expected, state_globs=globs)
    assert axis.blast_radius == pytest.approx(blast)
    assert axis.unexpected_changes == unexpected
    assert axis.total_changes == total
    assert len(axis.expected_changes) + len(axis.unexpected_changes) == total


def test_tui_state_files_not_counted_aider() -> None:
    """A correct aider run leaves its chat history and tag cache behind: reported, never blast."""
    diff = WorkdirDiff(
        added=(".aider.chat.history.md", ".aider.tags.cache.v3/cache.db", ".aider.input.history"),
        modified=("src/lib.rs",),
    )
    axis = score_blast_radius(diff, expected_changes=["src/lib.rs"], state_globs=AIDER_GLOBS)
    assert axis.blast_radius == 0.0
    assert axis.total_changes == 1
    assert axis.added == []
    assert axis.modified == ["src/lib.rs"]
    assert axis.unexpected_changes == []
    assert axis.expected_changes == ["src/lib.rs"]
    assert axis.tui_state_files == [
        ".aider.chat.history.md",
        ".aider.input.history",
        ".aider.tags.cache.v3/cache.db",
    ]


def test_extra_git_dir_flagged() -> None:
    diff = WorkdirDiff(added=("sub/.git/HEAD",), new_git_dirs=("sub/.git",))
    axis = score_blast_radius(diff, expected_changes=[], state_globs=())
    assert axis.extra_git_dir is True
    assert axis.blast_radius == 1.0
