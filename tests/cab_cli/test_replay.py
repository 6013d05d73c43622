"""`cab replay`: the demo sweep's deterministic cells replay with no endpoint and identical scores."""

from __future__ import annotations

from pathlib import Path

import pytest

from cab_core.store import ResultStore
from tests.cab_cli.test_cli import cab, error_line

pytestmark = [pytest.mark.docker, pytest.mark.slow]

DETERMINISTIC = ["scripted/oracle", "scripted/noop", "scripted/sloppy", "scripted/refuser"]
"""The demo sweep's models whose cells repeat exactly (``hang`` gets no answer, so nothing to replay)."""
TASKS = ["polyglot/python-semver-sort", "polyglot/rust-lifetime-fix", "integrity/unsolvable-refusal"]
SWEEP = f"""\
sweep_id: demo
tuis: [reference]
models: [{", ".join(DETERMINISTIC)}]
tasks: [{", ".join(TASKS)}]
slots: 2
timeouts: {{agent_s: 30, test_s: 180, setup_s: 60}}
"""


def test_replay_reproduces_every_per_axis_score_without_an_endpoint(tmp_path: Path, images) -> None:  # noqa: ANN001
    home = tmp_path / "home"
    sweep = tmp_path / "demo.yaml"
    sweep.write_text(SWEEP)
    done = cab("run", str(sweep), home=home)
    assert done.returncode == 0, done.stdout + done.stderr
    store = ResultStore(f"sqlite:///{home / 'cab.db'}")
    recorded = store.latest_by_cell("demo")
    assert len(recorded) == len(DETERMINISTIC) * len(TASKS)

    for cell_id, original in recorded.items():
        done = cab("replay", cell_id, home=home)
        assert done.returncode == 0, f"{cell_id}: {done.stdout}{done.stderr}"
        assert "DIFFERS" not in done.stdout
        replayed = store.get(cell_id.replace("demo/", "demo.replay/", 1))
        assert replayed is not None and replayed.axes is not None and original.axes is not None
        assert replayed.failure.failure_class == original.failure.failure_class
        assert [c.replay for c in replayed.model_calls] == ["hash"] * len(replayed.model_calls)
        outputs = {"stdout_tail", "stderr_tail"}  # test runners print their own timings
        assert replayed.axes.pass_rate.model_dump(exclude=outputs) == original.axes.pass_rate.model_dump(
            exclude=outputs
        )
        assert replayed.axes.tokens == original.axes.tokens
        assert replayed.axes.blast_radius == original.axes.blast_radius
        assert replayed.axes.refusal == original.axes.refusal
        assert replayed.axes.integrity == original.axes.integrity
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
