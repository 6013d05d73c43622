"""`cab worker`: a Celery worker on a benchmark host, consuming the queues its tags allow.

One process per host: a thread pool with one thread per slot (the pipeline is thread-safe and the
host context, model proxy and Docker client are shared; the scripted endpoint starts on the first
cell that asks for it). Settings are read once by the `cab worker` command and passed in. At start
and every ``reap_every_s`` the reaper removes this host's cab containers whose cell has no live
lease (in the store) held by this worker. Every ``announce_every_s`` the worker announces itself
and its queues in Redis for ``cab status``.
``--dispatcher`` adds the dispatch loop as a thread (the fan-out then runs next to the broker).
Draining is Celery's warm shutdown: SIGTERM stops consuming and waits for running cells.
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import os
import signal
import socket
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import redis
import structlog
from celery import Celery

from cab_core import keys
from cab_core.errors import CabError
from cab_core.settings import Settings
from cab_core.store import ResultStore, leases
from cab_core.store.checkpoints import StoreCheckpoints
from cab_scheduler.celery_app import TASK_RUN_CELL, make_celery, queue_for
from cab_scheduler.dispatch import Dispatcher
from cab_workers.composition import LocalHost
from cab_workers.distributed.execute import WorkerHost, execute_cell
from cab_workers.host.gpus import GpuInfo, GpuSlots, detect_gpus
from cab_workers.host.sandbox import LABEL_WORKER, Sandbox

log = structlog.get_logger(__name__)

MODEL_IDLE_STOP_S = 300.0
"""A local model server (``endpoint: local``) no cell of this worker used for this long is stopped; the
next cell that needs it starts it again (seconds: the image is cached)."""


@dataclass
class WorkerOptions:
    """Who this worker process is, from `cab worker`'s flags; every configured value is in ``Settings``."""

    tags: list[str]
    """Capabilities this host offers (cpu, gpu, gpu.<type>): one queue each."""
    slots: int
    """Cells at once (one thread each)."""
    dispatcher: bool = False
    """Also run the dispatch loop in this process."""
    name: str = ""
    """Unique worker name (Celery hostname and lease holder); derived from tags, pid and host if empty."""

    def __post_init__(self) -> None:
        if not self.name:
            self.name = f"cab-{'-'.join(self.tags) or 'dispatch'}-{os.getpid()}@{socket.gethostname()}"

    @property
    def queues(self) -> list[str]:
        return [queue_for(t) for t in self.tags]


def register_tasks(app: Celery, host_ref: dict[str, WorkerHost]) -> None:
    """The thin task: validate nothing itself, call the plain function, return its JSON outcome."""

    @app.task(name=TASK_RUN_CELL, ignore_result=True)  # type: ignore[untyped-decorator]  # celery ships no types
    def run_cell_task(payload: dict[str, Any]) -> dict[str, Any]:
        return execute_cell(payload, host_ref["host"])


class CeleryWorker(Protocol):
    """The part of Celery's ``WorkController`` cab uses (celery ships no types)."""

    def start(self) -> None: ...


def celery_worker(app: Celery, *, queues: list[str], slots: int, name: str) -> CeleryWorker:
    """The Celery worker of a cab host: one thread per slot, no mingle, no gossip (n^2 chatter
    between workers; Flower reads events, not gossip), heartbeats on, fair scheduling."""
    worker: CeleryWorker = app.Worker(
        queues=queues,
        pool="threads",
        concurrency=slots,
        hostname=name,
        loglevel="INFO",
        without_mingle=True,
        without_gossip=True,
        without_heartbeat=False,
        optimization="fair",
    )
    return worker


def reap_orphans(sandbox: Sandbox, store: ResultStore, worker: str) -> list[str]:
    """Remove this host's cab containers whose owner process is gone, or whose cell has no live
    lease held by this worker in the store (the cell was lost, cancelled, or moved to another host)."""
    removed = sandbox.reap()
    by_cell = sandbox.containers_by_cell(worker)
    if not by_cell:
        return removed
    try:
        holders = leases.live_holders(store, list(by_cell))
    except CabError:
        return removed  # without the store we cannot tell; dead owners were still reaped
    for cell_id, names in by_cell.items():
        if holders.get(cell_id) == worker:
            continue
        for name in names:
            if name.startswith("cab-validate-") or name.startswith("cab-test-"):
                continue
            sandbox.remove(name)
            removed.append(name)
            log.info("reaped_leaseless_container", container=name, cell_id=cell_id)
    return removed


def announce(client: redis.Redis, name: str, queues: list[str], slots: int, ttl_s: float) -> None:
    """Say in Redis that this worker is alive and which queues it takes (``cab status`` reads it)."""
    value = json.dumps({"queues": queues, "slots": slots, "pid": os.getpid(), "host": socket.gethostname()})
    client.set(keys.worker(name), value, px=int(ttl_s * 1000))


def run_worker(settings: Settings, opts: WorkerOptions, *, ready: threading.Event | None = None) -> None:
    """Start the worker; returns after a warm shutdown (SIGTERM / `cab worker --drain`)."""
    app = make_celery(settings.broker)
    store = ResultStore(settings.resolved_store_url)
    store.create_schema()
    client = redis.Redis.from_url(settings.broker.url, socket_timeout=30, socket_connect_timeout=5)
    host_ref: dict[str, WorkerHost] = {}
    register_tasks(app, host_ref)
    stop = threading.Event()
    pidfile = settings.cab_home.ensure().root / "worker.pid"
    gpus = detect_gpus()
    with LocalHost(
        settings, shared_caps=True, model_slots=opts.slots, model_idle_stop_s=MODEL_IDLE_STOP_S, gpus=gpus
    ) as local:
        host = host_ref["host"] = _worker_host(local, settings, opts, store, client, gpus)
        reap_orphans(host.ctx.sandbox, store, opts.name)
        for chore in _chores(settings, opts, host, app, stop):
            chore.start()
        pidfile.write_text(str(os.getpid()))
        try:
            worker = celery_worker(app, queues=opts.queues, slots=opts.slots, name=opts.name)
            if ready is not None:
                ready.set()
            worker.start()
        finally:
            stop.set()
            pidfile.unlink(missing_ok=True)
            with contextlib.suppress(redis.RedisError):
                client.delete(keys.worker(opts.name))
            store.close()


def _worker_host(
    local: LocalHost,
    settings: Settings,
    opts: WorkerOptions,
    store: ResultStore,
    client: redis.Redis,
    gpus: list[GpuInfo],
) -> WorkerHost:
    """What every delivery on this process shares: the host's context under this worker's name and
    labels, with its GPUs and the store's checkpoints."""
    assert local.ctx is not None
    local.ctx.sandbox.extra_labels[LABEL_WORKER] = opts.name
    ctx = dataclasses.replace(
        local.ctx,
        host=opts.name,
        gpu_slots=GpuSlots(gpus) if gpus else None,
        checkpoints=StoreCheckpoints(store),
    )
    return WorkerHost(ctx=ctx, store=store, redis=client, worker=opts.name, settings=settings.worker)


def _chores(
    settings: Settings, opts: WorkerOptions, host: WorkerHost, app: Celery, stop: threading.Event
) -> list[threading.Thread]:
    """The threads beside the Celery worker: the reaper, the liveness announcement and, with
    ``--dispatcher``, the dispatch loop. Announces once now, so ``cab status`` sees the worker at once."""
    every_s = settings.worker.announce_every_s
    announcement = (host.redis, opts.name, opts.queues, opts.slots, 3 * every_s)
    with contextlib.suppress(redis.RedisError):
        announce(*announcement)
    reap = (host.ctx.sandbox, host.store, opts.name)
    threads = [
        threading.Thread(
            target=_every, args=(settings.worker.reap_every_s, stop, reap_orphans, *reap), name="reaper"
        ),
        threading.Thread(target=_every, args=(every_s, stop, announce, *announcement), name="announce"),
    ]
    if opts.dispatcher:
        dispatcher = Dispatcher(store=host.store, app=app, client=host.redis, settings=settings.dispatcher)
        threads.append(threading.Thread(target=dispatcher.run, args=(stop,), name="dispatcher"))
    for thread in threads:
        thread.daemon = True
    return threads


def _every(interval_s: float, stop: threading.Event, fn: Callable[..., object], *args: object) -> None:
    while not stop.wait(interval_s):
        try:
            fn(*args)
        except Exception as e:  # noqa: BLE001 - a periodic chore must not die with one failure
            log.warning("periodic_failed", fn=getattr(fn, "__name__", str(fn)), error=str(e)[:200])


def drain(home: Path, *, timeout_s: float = 24 * 3600, poll_s: float = 1.0) -> int | None:
    """Ask this host's worker to stop taking cells and exit after the running ones; wait for it."""
    pidfile = home / "worker.pid"
    if not pidfile.exists():
        return None
    pid = int(pidfile.read_text().strip())
    try:
        os.kill(pid, signal.SIGTERM)
    except ProcessLookupError:
        pidfile.unlink(missing_ok=True)
        return None
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return pid
        time.sleep(poll_s)
    return pid
