"""``cab show``: each model call's sampling parameters, cab's forced values marked, and the cell's
distinct sets in its run identity, read from the store by the real command."""

from __future__ import annotations

from pathlib import Path

import pytest

from cab_core.store import ResultStore
from tests.cab_cli.test_cli import cab
from tests.cab_core.store.factories import make_result

pytestmark = pytest.mark.unit


def test_cab_show_prints_the_sampling_of_every_call(tmp_path: Path) -> None:
    home = tmp_path / "home"
    home.mkdir()
    result = make_result(calls=2)
    sent = {"temperature": 0.7, "top_p": 0.95, "stop": ["\x1b[2J"]}
    calls = [
        c.model_copy(update={"sampling": sent, "sampling_forced": {"seed": 7}}) for c in result.model_calls
    ]
    result = result.model_copy(update={"model_calls": calls})
    with ResultStore(f"sqlite:///{home / 'cab.db'}") as store:
        store.create_schema()
        store.upsert_result(result)
    done = cab("show", result.identity.cell_id, home=home, env={"COLUMNS": "240"})
    assert done.returncode == 0, done.stderr
    identity = done.stdout.split("Run identity", 1)[1].split("Timing", 1)[0]
    rows = {line.split("  ", 1)[0]: line.split("  ", 1)[1].strip() for line in identity.strip().splitlines()}
    assert rows["sampling sent"] == 'temperature=0.7 top_p=0.95 stop=["\\u001b[2J"] (2 calls)'
    assert rows["sampling set by cab"] == "seed=7 (2 calls)"
    table = done.stdout.split("Model calls (2)", 1)[1]
    assert "Sampling" in table and table.count("agent sent") == 2
    assert "\x1b[2J" not in done.stdout  # the agent's escape sequence is shown, never obeyed
