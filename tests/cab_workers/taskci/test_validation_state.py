"""Validation state: one rule (valid / INVALID / stale / never) and the records under CAB_HOME."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Literal

import pytest

from cab_workers.taskci.task_env import parse_apt_output
from cab_workers.taskci.validation_state import ValidationLog, ValidationRecord, ValidationState, state_of

pytestmark = pytest.mark.unit

H1, H2 = "a" * 64, "b" * 64


def record(result: Literal["valid", "invalid"] = "valid", task_hash: str = H1) -> ValidationRecord:
    return ValidationRecord(
        task_id="polyglot/x",
        task_hash=task_hash,
        result=result,
        flake_rate=0.0,
        flake_runs=5,
        checks=["tests", "flake x5"],
        validated_at=datetime(2026, 12, 1, tzinfo=UTC),
        cab_version="0.1.0",
    )


# name -> (record or None, current hash, state)
STATES: dict[str, tuple[ValidationRecord | None, str, ValidationState]] = {
    "no_record": (None, H1, ValidationState.never),
    "valid_same_content": (record("valid"), H1, ValidationState.valid),
    "invalid_same_content": (record("invalid"), H1, ValidationState.invalid),
    "valid_then_changed": (record("valid"), H2, ValidationState.stale),
    "invalid_then_changed": (record("invalid"), H2, ValidationState.stale),
}


@pytest.mark.parametrize("case", sorted(STATES))
def test_state_of(case: str) -> None:
    rec, current, expected = STATES[case]
    assert state_of(rec, current) is expected


def test_states_print_as_the_list_shows_them() -> None:
    assert [s.value for s in ValidationState] == ["valid", "INVALID", "stale", "never"]


def test_records_round_trip_under_category_and_slug(tmp_path: Path) -> None:
    log = ValidationLog(tmp_path / "validation")
    path = log.save(record())
    assert path == tmp_path / "validation" / "polyglot" / "x.json"
    assert log.load("polyglot/x") == record()
    assert log.load("polyglot/other") is None
    assert not list(path.parent.glob("*.tmp"))


@pytest.mark.parametrize("text", ["", "{not json", '{"task_id": "polyglot/x"}', "[]"])
def test_an_unreadable_record_counts_as_never(tmp_path: Path, text: str) -> None:
    log = ValidationLog(tmp_path)
    log.path("polyglot/x").parent.mkdir(parents=True)
    log.path("polyglot/x").write_text(text)
    assert state_of(log.load("polyglot/x"), H1) is ValidationState.never


# name -> (stdout, exit code, release, missing, error substring or None)
APT_OUTPUTS: dict[str, tuple[str, int | None, str, tuple[str, ...], str | None]] = {
    "all_found": ("RELEASE trixie\n", 0, "trixie", (), None),
    "two_missing": (
        "RELEASE trixie\nMISSING libfoo-dev\nMISSING junit4x\n",
        0,
        "trixie",
        ("libfoo-dev", "junit4x"),
        None,
    ),
    "update_failed": (
        "RELEASE trixie\nUPDATE-FAILED E: could not resolve deb.debian.org\n",
        3,
        "trixie",
        (),
        "resolve",
    ),
    "crashed": ("", 137, "unknown", (), "exit 137"),
}


@pytest.mark.parametrize("case", sorted(APT_OUTPUTS))
def test_parse_apt_output(case: str) -> None:
    stdout, code, release, missing, error = APT_OUTPUTS[case]
    got = parse_apt_output(stdout, code)
    assert (got.release, got.missing) == (release, missing)
    assert (got.error is None) if error is None else (error in (got.error or ""))
