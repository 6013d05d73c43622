"""`cab replay`: the demo sweep's deterministic cells replay with no endpoint and identical scores."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from cab_core.schema import CellResult
from cab_core.store import ResultStore
from tests.cab_cli.test_cli import cab, error_line

pytestmark = [pytest.mark.docker, pytest.mark.slow]

DEMO = Path(__file__).resolve().parents[2] / "examples" / "demo.yaml"
NOT_REPLAYABLE = {"scripted/hang"}
"""``hang`` never answers, so its cells have nothing to replay; every other demo model repeats exactly."""


def assert_same_scores(original: CellResult, replayed: CellResult | None) -> None:
    assert replayed is not None and replayed.axes is not None and original.axes is not None
    assert replayed.failure.failure_class == original.failure.failure_class
    assert [c.replay for c in replayed.model_calls] == ["hash"] * len(original.model_calls)
    outputs = {"stdout_tail", "stderr_tail"}  # test runners print their own timings
    assert replayed.axes.pass_rate.model_dump(exclude=outputs) == original.axes.pass_rate.model_dump(
        exclude=outputs
    )
    assert replayed.axes.tokens == original.axes.tokens
    assert replayed.axes.blast_radius == original.axes.blast_radius
    assert replayed.axes.refusal == original.axes.refusal
    assert replayed.axes.integrity == original.axes.integrity


def test_replay_of_the_demo_sweep_reproduces_every_per_axis_score_without_an_endpoint(
    tmp_path: Path,
    images,  # noqa: ANN001
) -> None:
    home = tmp_path / "home"
    spec = yaml.safe_load(DEMO.read_text())
    spec["models"] = [m for m in spec["models"] if m not in NOT_REPLAYABLE]
    sweep = tmp_path / "demo.yaml"
    sweep.write_text(yaml.safe_dump(spec))
    done = cab("run", str(sweep), home=home)
    assert done.returncode == 0, done.stdout + done.stderr
    store = ResultStore(f"sqlite:///{home / 'cab.db'}")
    recorded = store.latest_by_cell("demo")
    assert len(recorded) == len(spec["models"]) * len(spec["tasks"]) >= 4 * 8

    done = cab("replay", "demo", home=home)
    assert done.returncode == 0, done.stdout + done.stderr
    assert f"{len(recorded)} of {len(recorded)} replays repeat every per-axis score" in done.stdout
    for cell_id, original in recorded.items():
        assert_same_scores(original, store.get(cell_id.replace("demo/", "demo.replay/", 1)))

    one = next(c for c in recorded if "/scripted/oracle/" in c)
    done = cab("replay", one, home=home)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "DIFFERS" not in done.stdout and "same" in done.stdout
    again = store.get(one.replace("demo/", "demo.replay/", 1))
    assert again is not None and again.identity.attempt == 2
    assert_same_scores(recorded[one], again)
    store.close()


@pytest.mark.unit
def test_replay_of_an_unknown_cell_is_one_line_and_changes_nothing(tmp_path: Path) -> None:
    home = tmp_path / "home"
    done = cab("replay", "demo/reference/scripted/oracle/polyglot/nope", home=home)
    assert done.returncode == 2
    assert "no result for cell" in error_line(done)
    store = ResultStore(f"sqlite:///{home / 'cab.db'}")
    store.create_schema()
    assert store.sweeps() == [] and store.latest_by_cell("demo.replay") == {}
    store.close()
