"""Chaos, small and seeded: 48 cells on 3 real workers while every fault of bench/_chaos.py happens once
(kill -9 and SIGSTOP of a worker, Redis restarted empty and from its AOF, Redis frozen, PostgreSQL
restarted fast and immediate). The harness is the bench's (``bench/chaos.py`` runs it at 200 cells)."""

from __future__ import annotations

from pathlib import Path

import pytest

from bench._chaos import ChaosConfig, run_trial
from bench._services import PgServer, RedisServer

pytestmark = [pytest.mark.docker, pytest.mark.redis, pytest.mark.postgres, pytest.mark.slow]

CONFIG = ChaosConfig(
    cells=48, seed=7, workers=3, slots=1, fault_window=(0.05, 0.6), timeout_s=600, stall_s=150
)
"""Faults early (5 % .. 60 %) so all seven land before the sweep ends (at 40 cells the last one came at
31/40 on a 2-core machine: 48 leave room on a faster one)."""


@pytest.mark.timeout(900)
def test_every_fault_once_leaves_every_cell_final_once_and_no_orphan(
    redis_server: RedisServer,
    pg_server: PgServer,
    images,  # noqa: ANN001 - built images, so no cell pays for a build
    tmp_path: Path,
) -> None:
    result = run_trial(CONFIG, label="faults", inject=True, redis=redis_server, pg=pg_server, root=tmp_path)
    report = result.summary()
    assert result.final == result.planned, report
    assert result.overlaps == [], f"more than one agent container of a cell alive at once\n{report}"
    assert result.duplicate_finals == {}, f"more than one final row for a cell\n{report}"
    assert result.orphans == [], f"containers left after the reapers\n{report}"
    assert result.not_injected == [], f"the sweep ended before every fault\n{report}"
