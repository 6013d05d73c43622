"""The chaos harness's hands: the cab processes of a trial and the faults done to them and the servers.

    Fleet          `cab dispatcher` and `cab worker` subprocesses, each in its own session (process
                   group) and CAB_HOME, logging to ``<root>/<name>.log``; workers are w1, w2, ... and
                   a replacement gets the next name
    INJECT         fault name -> a function that does it, synchronously, and says what it hit

Only signals, the servers' own restart methods and the ``cab`` CLI: no cab internals but the Celery
app factory (to ping workers), no Redis key.
"""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from bench._chaos_watch import AgentWatch
from bench._services import PgServer, RedisServer

REPO = Path(__file__).resolve().parent.parent
CAB = str(Path(sys.executable).parent / "cab")

FAULTS = (
    "kill9_worker",
    "freeze_worker",
    "redis_restart_empty",
    "redis_restart_aof",
    "redis_outage",
    "pg_restart_fast",
    "pg_restart_immediate",
)
VICTIM_WAIT_S = 30.0
"""How long a worker fault waits for a worker with a live agent container before it takes any."""


class HarnessError(RuntimeError):
    """Raised when the cluster cannot be set up (a worker never answers, `cab submit` fails)."""


# -- processes -------------------------------------------------------------------------------------


@dataclass
class Proc:
    name: str
    popen: subprocess.Popen[bytes]
    log: Path


class Fleet:
    """The cab processes of one trial, each in its own session (process group) and CAB_HOME."""

    def __init__(self, root: Path, env: dict[str, str]) -> None:
        self.root, self.env = root, env
        self.procs: dict[str, Proc] = {}
        self.frozen: set[str] = set()
        self.killed: set[str] = set()
        self._next = 1

    def _spawn(self, name: str, args: list[str]) -> Proc:
        log = self.root / f"{name}.log"
        with log.open("wb") as out:
            popen = subprocess.Popen(
                [CAB, *args],
                cwd=REPO,
                env={**self.env, "CAB_HOME": str(self.root / f"home-{name}")},
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        self.procs[name] = Proc(name, popen, log)
        return self.procs[name]

    def dispatcher(self) -> None:
        self._spawn("dispatcher", ["dispatcher"])

    def worker(self, slots: int) -> str:
        name = f"w{self._next}"
        self._next += 1
        self._spawn(name, ["worker", "--tags", "cpu", "--slots", str(slots), "--name", name])
        return name

    def workers(self) -> list[str]:
        """Live, unfrozen workers, by name."""
        live = [n for n, p in self.procs.items() if n != "dispatcher" and p.popen.poll() is None]
        return sorted(n for n in live if n not in self.frozen)

    def wait_ready(self, names: list[str], broker_url: str, timeout_s: float = 120) -> None:
        """Until every named worker answers a Celery ping (a dead one fails at once, with its log)."""
        from cab_core.settings import BrokerSettings
        from cab_scheduler.celery_app import make_celery

        app = make_celery(BrokerSettings(url=broker_url))
        try:
            deadline = time.monotonic() + timeout_s
            waiting = set(names)
            while waiting:
                for n in list(waiting):
                    if self.procs[n].popen.poll() is not None:
                        raise HarnessError(f"worker {n} exited: {self.tail(n)}")
                replies = app.control.ping(timeout=0.5)
                waiting -= {n for n in waiting for reply in replies for key in reply if key.endswith(f"@{n}")}
                if waiting and time.monotonic() > deadline:
                    raise HarnessError(f"workers {sorted(waiting)} did not answer a ping in {timeout_s:g}s")
        finally:
            app.close()

    def exited(self) -> dict[str, int | None]:
        """Processes that ended without the harness killing them: name -> exit code."""
        return {
            n: p.popen.poll()
            for n, p in self.procs.items()
            if n not in self.killed and p.popen.poll() is not None
        }

    def tail(self, name: str, chars: int = 1500) -> str:
        return self.procs[name].log.read_text(errors="replace")[-chars:]

    def signal_group(self, name: str, sig: signal.Signals) -> None:
        try:
            os.killpg(self.procs[name].popen.pid, sig)
        except ProcessLookupError:
            pass

    def close(self) -> None:
        """Wake what is frozen, SIGTERM every group (Celery's warm shutdown), SIGKILL after 30 s."""
        for name, p in self.procs.items():
            if p.popen.poll() is None:
                self.signal_group(name, signal.SIGCONT)
                self.signal_group(name, signal.SIGTERM)
        deadline = time.monotonic() + 30
        for name, p in self.procs.items():
            try:
                p.popen.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                self.signal_group(name, signal.SIGKILL)
                p.popen.wait(timeout=10)


# -- faults ----------------------------------------------------------------------------------------


@dataclass
class FaultContext:
    """What a fault may touch, and its knobs."""

    fleet: Fleet
    watch: AgentWatch
    redis: RedisServer
    pg: PgServer
    rng: random.Random
    """Seeded: which worker a worker fault hits."""
    slots: int
    """Slots of a replacement worker."""
    freeze_s: float
    """How long ``freeze_worker`` keeps a worker stopped: longer than the lease TTL."""
    redis_outage_s: float


def _victim(ctx: FaultContext) -> tuple[str, str]:
    """A worker with an agent container alive right now (waiting up to ``VICTIM_WAIT_S`` for one), so
    the fault meets a cell mid-run; any live worker after that. (name, what it was running)."""
    deadline = time.monotonic() + VICTIM_WAIT_S
    while time.monotonic() < deadline:
        busy = sorted(set(ctx.fleet.workers()) & ctx.watch.busy_workers())
        if busy:
            return ctx.rng.choice(busy), "with a live agent"
        time.sleep(0.02)
    live = ctx.fleet.workers()
    if not live:
        raise HarnessError("no live worker to inject a worker fault into")
    return ctx.rng.choice(live), f"no live agent within {VICTIM_WAIT_S:g} s"


def _kill9(ctx: FaultContext) -> str:
    victim, busy = _victim(ctx)
    ctx.fleet.killed.add(victim)
    ctx.fleet.signal_group(victim, signal.SIGKILL)
    ctx.fleet.procs[victim].popen.wait(timeout=10)
    return f"{victim} ({busy}) killed, {ctx.fleet.worker(ctx.slots)} started"


def _freeze(ctx: FaultContext) -> str:
    victim, busy = _victim(ctx)
    pause_s = ctx.freeze_s
    ctx.fleet.frozen.add(victim)
    ctx.fleet.signal_group(victim, signal.SIGSTOP)
    try:
        time.sleep(pause_s)  # the fault itself: longer than the lease TTL
    finally:
        ctx.fleet.signal_group(victim, signal.SIGCONT)
        ctx.fleet.frozen.discard(victim)
    return f"{victim} ({busy}) stopped for {pause_s:g} s"


def _redis_empty(ctx: FaultContext) -> str:
    ctx.redis.restart(keep=False)
    return "AOF and RDB deleted"


def _redis_aof(ctx: FaultContext) -> str:
    ctx.redis.restart(keep=True)
    return "AOF replayed"


def _redis_outage(ctx: FaultContext) -> str:
    ctx.redis.unreachable(ctx.redis_outage_s)
    return f"redis-server stopped (SIGSTOP) for {ctx.redis_outage_s:g} s"


def _pg(mode: str) -> Callable[[FaultContext], str]:
    def restart(ctx: FaultContext) -> str:
        ctx.pg.restart("fast" if mode == "fast" else "immediate")
        return f"pg_ctl stop -m {mode}; start"

    return restart


INJECT: dict[str, Callable[[FaultContext], str]] = {
    "kill9_worker": _kill9,
    "freeze_worker": _freeze,
    "redis_restart_empty": _redis_empty,
    "redis_restart_aof": _redis_aof,
    "redis_outage": _redis_outage,
    "pg_restart_fast": _pg("fast"),
    "pg_restart_immediate": _pg("immediate"),
}
