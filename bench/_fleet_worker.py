"""One SIMULATED cab worker process for bench/fleet.py: real Celery, lease and store; no containers.

It is ``cab worker`` minus Docker: the app comes from ``make_celery`` (json, acks_late, prefetch 1),
the task is the real thin task from ``register_tasks``, and every delivery goes through the real
``execute_cell`` (budget check, the store lease with its tries and its watch,
the fenced ``leases.finish``). Only the pipeline is replaced: instead of
``run_cell`` starting containers, the cell sleeps for the duration written in its model name
(``sim/sleep-<ms>ms``) and hands a minimal ``CellResult`` (no failure, no axes) to the sink.

Per delivery one JSON line is appended to ``--out``: the task's start and end (around
``execute_cell``), the sleep's start and end, and the outcome. Host clock, seconds since the epoch.

    python bench/_fleet_worker.py --broker URL --store URL --name NAME --slots 2 --out F --ready F
"""

from __future__ import annotations

import argparse
import json
import logging
import re
import sys
import threading
import time
from datetime import UTC, datetime
from pathlib import Path
from types import SimpleNamespace
from typing import Any

_REPO = Path(__file__).resolve().parent.parent
if str(_REPO) not in sys.path:
    sys.path.insert(0, str(_REPO))

import redis  # noqa: E402
import structlog  # noqa: E402
from celery import signals  # noqa: E402

import cab_workers.distributed.execute as execute_mod  # noqa: E402
import cab_workers.distributed.worker as worker_mod  # noqa: E402
from cab_core.schema import CellResult, CellSpec, Failure, Timing  # noqa: E402
from cab_core.settings import BrokerSettings, WorkerSettings  # noqa: E402
from cab_core.store import ResultStore  # noqa: E402
from cab_scheduler.celery_app import make_celery, queue_for  # noqa: E402

_SLEEP = re.compile(r"sleep-(\d+)ms")


def sim_model(duration_s: float) -> str:
    """The model id that tells a simulated worker how long the cell 'runs'."""
    return f"sim/sleep-{round(duration_s * 1000)}ms"


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--broker", required=True)
    ap.add_argument("--store", required=True)
    ap.add_argument("--name", required=True)
    ap.add_argument("--slots", type=int, default=1)
    ap.add_argument("--out", type=Path, required=True)
    ap.add_argument("--ready", type=Path, required=True)
    args = ap.parse_args()
    logging.getLogger().setLevel(logging.WARNING)
    structlog.configure(wrapper_class=structlog.make_filtering_bound_logger(logging.WARNING))

    out = args.out.open("a", buffering=1)
    lock = threading.Lock()
    sleeps: dict[str, tuple[float, float]] = {}

    def sim_run_cell(cell: CellSpec, ctx: Any, *, attempt: int = 1, sink: Any = None) -> CellResult:
        m = _SLEEP.search(cell.model)
        duration_s = int(m.group(1)) / 1000 if m else 0.0
        started = datetime.now(UTC)
        s0 = time.time()
        time.sleep(duration_s)
        s1 = time.time()
        result = CellResult(
            identity=cell.identity(attempt, container_image="sim", host=ctx.host),
            timing=Timing(started_at=started, ended_at=datetime.now(UTC), duration_s=s1 - s0),
            failure=Failure(),
        )
        if sink is not None:
            sink(result)
        sleeps[cell.cell_id] = (s0, s1)
        return result

    real_execute = execute_mod.execute_cell

    def timed_execute(payload: dict[str, Any], host: Any) -> dict[str, Any]:
        t0 = time.time()
        outcome = real_execute(payload, host)
        t1 = time.time()
        cell_id = outcome.get("cell_id", "")
        s0, s1 = sleeps.pop(cell_id, (None, None))
        line = json.dumps(
            {
                "cell": cell_id,
                "w": args.name,
                "t0": t0,
                "t1": t1,
                "s0": s0,
                "s1": s1,
                "status": outcome.get("status"),
            }
        )
        with lock:
            out.write(line + "\n")
        return outcome

    execute_mod.run_cell = sim_run_cell  # the one substitution: no containers
    worker_mod.execute_cell = timed_execute  # timing wrapper around the real function

    app = make_celery(BrokerSettings(url=args.broker))
    store = ResultStore(args.store)
    client = redis.Redis.from_url(args.broker, socket_timeout=30, socket_connect_timeout=5)
    ctx = SimpleNamespace(host=args.name, sandbox=SimpleNamespace(stop_cell=lambda *_: None))
    host = execute_mod.WorkerHost(
        ctx=ctx,  # type: ignore[arg-type]  # a stand-in HostContext: run_cell is simulated
        store=store,
        redis=client,
        worker=args.name,
        settings=WorkerSettings(),  # the defaults, as `cab worker` has them without CAB_* overrides
    )
    host_ref = {"host": host}
    worker_mod.register_tasks(app, host_ref)

    @signals.worker_ready.connect(weak=False)
    def _ready(**_: Any) -> None:
        args.ready.write_text(str(time.time()))

    try:
        worker_mod.celery_worker(
            app, queues=[queue_for("cpu")], slots=args.slots, name=args.name, loglevel="WARNING"
        ).start()
    finally:
        out.close()
        store.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
