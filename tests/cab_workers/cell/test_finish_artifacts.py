"""The result ``finish`` builds carries the attempt's artifacts: the diff the score phase made and the
terminal recording, those that exist; a recording that cannot be read costs the cell nothing."""

from __future__ import annotations

from pathlib import Path

import pytest
import structlog
from structlog.testing import capture_logs

from cab_core.paths import CabHome
from cab_core.schema import Artifact, ArtifactName
from cab_workers.cell.phase_finish import cell_result
from cab_workers.cell.run_record import CellRun
from tests.cab_workers.cell.test_phases import CELL

pytestmark = pytest.mark.unit

CAST = b'{"version": 2, "width": 120, "height": 40}\n[0.1, "o", "$ "]\n'
DIFF = Artifact.of(ArtifactName.diff, b"+x\n", original_bytes=3, truncated=False)


def begin(tmp_path: Path) -> CellRun:
    return CellRun.begin(CELL, CabHome(tmp_path), 1, structlog.get_logger("test"))


def test_the_diff_and_the_recording_travel_in_the_result(tmp_path: Path) -> None:
    run = begin(tmp_path)
    run.diff = DIFF
    run.recording = tmp_path / "cell.cast"
    run.recording.write_bytes(CAST)
    r = cell_result(run, "host-a")
    assert [a.name for a in r.artifacts] == [ArtifactName.diff, ArtifactName.terminal]
    assert r.artifacts[0] == DIFF
    assert (r.artifacts[1].body, r.artifacts[1].truncated, r.artifacts[1].original_bytes) == (
        CAST,
        False,
        len(CAST),
    )
    assert r.recording_path == str(run.recording)


def test_a_cell_that_failed_before_its_agent_has_no_artifacts(tmp_path: Path) -> None:
    assert cell_result(begin(tmp_path), "").artifacts == []


def test_a_recording_that_cannot_be_read_is_logged_and_left_out(tmp_path: Path) -> None:
    run = begin(tmp_path)
    run.diff = DIFF
    (tmp_path / "elsewhere.cast").write_bytes(CAST)
    run.recording = tmp_path / "cell.cast"
    run.recording.symlink_to(tmp_path / "elsewhere.cast")  # never followed
    with capture_logs() as logs:
        r = cell_result(run, "")
    assert r.artifacts == [DIFF]
    assert [e["event"] for e in logs] == ["recording_unreadable"]
