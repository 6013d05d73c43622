"""The chaos harness: one sweep on a real little cluster, with or without faults, and what went wrong.

Shared by ``bench/chaos.py`` (200 cells, a report) and ``tests/cab_workers/distributed/test_chaos.py``
(40 cells, asserts). Everything is a real process: ``cab dispatcher`` and ``cab worker`` subprocesses
(each in its own process group and CAB_HOME), a ``RedisServer`` and a ``PgServer`` the caller owns,
real containers. One trial::

    new database + FLUSHALL -> dispatcher + workers up (Celery ping) -> AgentWatch -> `cab submit`
    -> poll the store every 0.5 s; at each fault's share of cells final, inject it (one at a time)
    -> all final, or give up (overall deadline, or no cell final for ``stall_s``)
    -> wait for the reapers (poll until no container of the sweep is left, or 2 reap periods + 15 s)
    -> stop every process, remove what the reapers left

Faults (``FAULTS``), in a seeded order, at evenly spaced shares of cells final (10 % .. 80 % by
default; a fault whose share passed while the previous one ran follows it at once)::

    kill9_worker          SIGKILL a worker's process group; start a replacement under a new name
    freeze_worker         SIGSTOP a worker's group for 2 lease TTLs + 2 s, then SIGCONT
                          (both hit a worker while one of its agent containers is alive)
    redis_restart_empty   stop Redis, delete its AOF/RDB, start: the broker lost everything
    redis_restart_aof     stop Redis (AOF flushed), start: it replays the AOF
    redis_outage          freeze redis-server (SIGSTOP) for ``redis_outage_s``
    pg_restart_fast       pg_ctl stop -m fast, start
    pg_restart_immediate  pg_ctl stop -m immediate (a crash), start (recovery)

Faults are synchronous: the harness does one thing at a time, so an interrupt (Ctrl-C) finds no
fault half-done in another thread; ``finally`` wakes frozen processes before it stops them.
"""

from __future__ import annotations

import math
import os
import random
import subprocess
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TypeVar

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from bench._chaos_fleet import CAB, FAULTS, INJECT, REPO, FaultContext, Fleet, HarnessError
from bench._chaos_watch import AgentWatch, Missing, Overlap, StoreProbe
from bench._services import PgServer, RedisServer

__all__ = ["FAULTS", "MAX_RERUNS", "ChaosConfig", "HarnessError", "Timings", "TrialResult", "run_trial"]

MODELS = ("scripted/oracle", "scripted/noop", "scripted/sloppy", "scripted/refuser")
"""Short cells of four kinds of outcome. No ``slow``: its cells take 16 s+ and come last in the plan;
worker faults wait for a live agent container instead (``bench/_chaos_fleet.py``)."""
TASKS = ("polyglot/python-semver-sort", "polyglot/js-query-string")
MAX_RERUNS = 100
POLL_S = 0.5
T = TypeVar("T")


@dataclass(frozen=True)
class Timings:
    """The cluster's clocks, passed to every process as CAB_* variables (short, so faults resolve fast)."""

    lease_ttl_s: float = 6.0
    reconcile_every_s: float = 3.0
    reap_every_s: float = 3.0
    restore_interval_s: int = 1
    visibility_timeout_s: int = 120
    """Above the sweep's budget (agent 40 + test 40 + setup 30 s) with ``visibility_slack_s`` 0."""
    visibility_slack_s: int = 0
    max_attempts: int = 5
    """Deliveries before a cell is poisoned; above cab's 3 because one cell may meet several faults."""

    def env(self) -> dict[str, str]:
        return {
            "CAB_LEASE_TTL_S": str(self.lease_ttl_s),
            "CAB_RECONCILE_EVERY_S": str(self.reconcile_every_s),
            "CAB_REAP_EVERY_S": str(self.reap_every_s),
            "CAB_RESTORE_INTERVAL_S": str(self.restore_interval_s),
            "CAB_VISIBILITY_TIMEOUT_S": str(self.visibility_timeout_s),
            "CAB_VISIBILITY_SLACK_S": str(self.visibility_slack_s),
            "CAB_MAX_ATTEMPTS": str(self.max_attempts),
        }


@dataclass(frozen=True)
class ChaosConfig:
    cells: int = 200
    """Wanted cells; the sweep has the next multiple of len(MODELS) x len(TASKS) (reruns fill it)."""
    seed: int = 1
    workers: int = 3
    slots: int = 1
    faults: tuple[str, ...] = FAULTS
    timings: Timings = field(default_factory=Timings)
    redis_outage_s: float = 10.0
    fault_window: tuple[float, float] = (0.1, 0.8)
    """Shares of cells final at which the first and the last fault are injected."""
    timeout_s: float | None = None
    """Give up on a sweep after this long; None: 300 s + 10 s per cell per slot."""
    stall_s: float = 240.0
    """Give up when no cell became final for this long (outside a fault)."""

    @property
    def reruns(self) -> int:
        return math.ceil(self.cells / (len(MODELS) * len(TASKS)))

    @property
    def planned(self) -> int:
        return self.reruns * len(MODELS) * len(TASKS)

    @property
    def deadline_s(self) -> float:
        return self.timeout_s or 300 + 10 * self.planned / (self.workers * self.slots)

    def fault_plan(self) -> list[tuple[float, str]]:
        """(share of cells final, fault) in a seeded order, evenly spaced over ``fault_window``."""
        order = random.Random(self.seed).sample(list(self.faults), len(self.faults))
        lo, hi = self.fault_window
        step = (hi - lo) / (len(order) - 1) if len(order) > 1 else 0.0
        return [(lo + step * i, f) for i, f in enumerate(order)]


@dataclass(frozen=True)
class FaultRecord:
    kind: str
    at_s: float
    """Seconds after the submit."""
    final_at: int
    """Cells final when it was injected."""
    took_s: float
    detail: str


@dataclass
class TrialResult:
    label: str
    sweep_id: str
    planned: int
    final: int
    wall_s: float
    """Submit -> every cell final (or -> giving up)."""
    gave_up: str | None
    """Why the harness stopped waiting (timeout, stall); None when every cell is final."""
    missing: list[Missing]
    overlaps: list[Overlap]
    duplicate_finals: dict[str, int]
    orphans: list[str]
    by_class: dict[str, int]
    agent_starts: int
    faults: list[FaultRecord]
    not_injected: list[str]
    exited: dict[str, int | None]
    """Processes that ended without the harness killing them: name -> exit code."""
    watch_error: str | None
    """Why the Docker event stream ended early (the overlap figure is then incomplete); None if it did not."""
    log_dir: Path

    @property
    def ok(self) -> bool:
        """The correctness figures: every cell final, no concurrent duplicate, one final row, no orphan."""
        complete = self.final == self.planned and self.watch_error is None
        return complete and not self.overlaps and not self.duplicate_finals and not self.orphans

    def summary(self) -> str:
        lines = [
            f"{self.label}: {self.final}/{self.planned} final in {self.wall_s:.0f} s"
            + (f" (gave up: {self.gave_up})" if self.gave_up else ""),
            f"  >1 agent at once: {[(o.cell_id, o.most_at_once, sorted(o.workers)) for o in self.overlaps]}",
            f"  duplicate final rows: {self.duplicate_finals}",
            f"  orphans: {self.orphans}",
            f"  missing ({len(self.missing)}): {[(m.cell_id, m.latest) for m in self.missing[:10]]}",
            "  faults: " + "; ".join(f"{f.kind} @{f.at_s:.0f}s ({f.detail})" for f in self.faults),
            f"  not injected: {self.not_injected}",
            f"  exited on their own: {self.exited}",
            f"  docker event stream: {self.watch_error or 'ok'}",
            f"  logs: {self.log_dir}",
        ]
        return "\n".join(lines)


# -- one trial -------------------------------------------------------------------------------------


def sweep_yaml(sweep_id: str, cfg: ChaosConfig) -> str:
    return (
        f"sweep_id: {sweep_id}\ntuis: [reference]\nmodels: [{', '.join(MODELS)}]\n"
        f"tasks: [{', '.join(TASKS)}]\nreruns: {cfg.reruns}\n"
        "timeouts: {agent_s: 40, test_s: 40, setup_s: 30}\n"
    )


def run_trial(
    cfg: ChaosConfig,
    *,
    label: str,
    inject: bool,
    redis: RedisServer,
    pg: PgServer,
    root: Path,
    console: Console | None = None,
) -> TrialResult:
    """One sweep of ``cfg.planned`` cells on a fresh database, with the faults when ``inject``."""
    sweep_id = f"chaos-{label}-s{cfg.seed}-{uuid.uuid4().hex[:6]}"
    log_dir = root / label
    log_dir.mkdir(parents=True)
    with redis.client() as c:
        c.flushall()
    database = f"chaos_{label}_{uuid.uuid4().hex[:6]}"
    store_url = pg.create_database(database)
    env = {k: v for k, v in os.environ.items() if not k.startswith("CAB_")}
    env |= {"CAB_BROKER_URL": redis.url, "CAB_STORE_URL": store_url}
    env |= {"COLUMNS": "200", **cfg.timings.env()}
    fleet = Fleet(log_dir, env)
    watch: AgentWatch | None = None
    try:
        fleet.dispatcher()
        fleet.wait_ready([fleet.worker(cfg.slots) for _ in range(cfg.workers)], redis.url)
        watch = AgentWatch(sweep_id)
        probe = StoreProbe(pg.libpq(database), sweep_id)
        spec = log_dir / "sweep.yaml"
        spec.write_text(sweep_yaml(sweep_id, cfg))
        t0 = time.monotonic()
        submitted = subprocess.run(
            [CAB, "submit", str(spec)],
            cwd=REPO,
            env={**env, "CAB_HOME": str(log_dir / "home-cli")},
            capture_output=True,
            text=True,
            timeout=120,
        )
        if submitted.returncode != 0:
            raise HarnessError(f"cab submit failed: {submitted.stderr or submitted.stdout}")
        ctx = FaultContext(
            fleet=fleet,
            watch=watch,
            redis=redis,
            pg=pg,
            rng=random.Random(cfg.seed),
            slots=cfg.slots,
            freeze_s=2 * cfg.timings.lease_ttl_s + 2,
            redis_outage_s=cfg.redis_outage_s,
        )
        plan = cfg.fault_plan() if inject else []
        final, gave_up, done_faults = _drive(cfg, label, probe, ctx, plan, t0, console)
        wall_s = time.monotonic() - t0
        missing = _with_agents(_answer(probe.missing), watch) if final < cfg.planned else []
        orphans = _await_reapers(watch, cfg)
        return TrialResult(
            label=label,
            sweep_id=sweep_id,
            planned=cfg.planned,
            final=final,
            wall_s=wall_s,
            gave_up=gave_up,
            missing=missing,
            overlaps=watch.overlaps(),
            duplicate_finals=_answer(probe.duplicate_finals),
            orphans=orphans,
            by_class=_answer(probe.final_by_class),
            agent_starts=watch.started,
            faults=done_faults,
            not_injected=[f for _, f in plan[len(done_faults) :]],
            exited=fleet.exited(),
            watch_error=watch.error,
            log_dir=log_dir,
        )
    finally:
        fleet.close()
        if watch is not None:
            watch.remove_all()
            watch.close()


def _drive(
    cfg: ChaosConfig,
    label: str,
    probe: StoreProbe,
    ctx: FaultContext,
    plan: list[tuple[float, str]],
    t0: float,
    console: Console | None,
) -> tuple[int, str | None, list[FaultRecord]]:
    """Poll until every cell is final, injecting the planned faults on the way; (final, gave up, faults)."""
    done: list[FaultRecord] = []
    final, last_change = 0, time.monotonic()
    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
    with Progress(*columns, console=console, disable=console is None, transient=True) as bar:
        task = bar.add_task(f"{label}: cells final", total=cfg.planned)
        while True:
            seen = probe.final_count()
            if seen is not None and seen != final:
                final, last_change = seen, time.monotonic()
            bar.update(task, completed=final)
            if final >= cfg.planned:
                return final, None, done
            if time.monotonic() - t0 > cfg.deadline_s:
                return final, f"timeout after {cfg.deadline_s:.0f} s", done
            if time.monotonic() - last_change > cfg.stall_s:
                return final, f"stalled: no cell final for {cfg.stall_s:.0f} s", done
            if len(done) < len(plan) and final >= plan[len(done)][0] * cfg.planned:
                kind = plan[len(done)][1]
                bar.update(task, description=f"{label}: {kind} ({len(done) + 1}/{len(plan)})")
                at = time.monotonic()
                detail = INJECT[kind](ctx)
                done.append(FaultRecord(kind, at - t0, final, time.monotonic() - at, detail))
                last_change = time.monotonic()  # the stall clock starts after the fault
                bar.update(task, description=f"{label}: cells final")
                continue
            time.sleep(POLL_S)


def _answer(query: Callable[[], T | None], timeout_s: float = 60.0) -> T:
    """The store's answer, polled while the server is not answering (a fault left it restarting)."""
    deadline = time.monotonic() + timeout_s
    while (found := query()) is None:
        if time.monotonic() > deadline:
            raise HarnessError(f"the store did not answer {query.__name__} for {timeout_s:g} s")
        time.sleep(POLL_S)
    return found


def _with_agents(missing: list[Missing], watch: AgentWatch) -> list[Missing]:
    """Each missing cell's latest row, plus the workers with an agent container of it alive now."""
    out = []
    for m in missing:
        alive = watch.alive(m.cell_id)
        out.append(replace(m, latest=f"{m.latest}; agent alive on {', '.join(alive)}") if alive else m)
    return out


def _await_reapers(watch: AgentWatch, cfg: ChaosConfig) -> list[str]:
    """Containers of the sweep still present once the reapers had two periods (+15 s) to act."""
    deadline = time.monotonic() + 2 * cfg.timings.reap_every_s + 15
    while True:
        left = watch.containers()
        if not left or time.monotonic() > deadline:
            return left
        time.sleep(POLL_S)
