"""Distributed mode: `cab submit | worker | dispatcher | status | cancel | retry`."""

from __future__ import annotations

import time
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.live import Live

from cab_cli.common import (
    BrokerOpt,
    EndpointCheckOpt,
    StoreOpt,
    connection,
    console,
    err_console,
    fail,
    load_settings,
    wide_console,
)
from cab_cli.render import render_status_table
from cab_core.errors import CabError, InfraError
from cab_core.settings import Settings

if TYPE_CHECKING:
    import redis

    from cab_core.store import ResultStore


def _conn(settings: Settings) -> tuple[redis.Redis, ResultStore]:
    """The broker's Redis client and the result store, both from ``settings`` (flags applied)."""
    import redis

    from cab_core.store import ResultStore

    client = redis.Redis.from_url(settings.broker.url, socket_timeout=10, socket_connect_timeout=3)
    return client, ResultStore(settings.resolved_store_url)


def submit(
    sweep_file: Annotated[Path, typer.Argument(help="Sweep YAML.")],
    broker: BrokerOpt = None,
    store: StoreOpt = None,
    replace: Annotated[
        bool,
        typer.Option(
            help="The sweep id exists with another spec: stop what changed, drop removed cells, re-plan."
        ),
    ] = False,
    endpoint_check: EndpointCheckOpt = True,
) -> None:
    """Validate and record a sweep, wake the dispatcher, and return at once with the sweep id.

    The same sweep again changes nothing, except that cells whose task changed run again; a
    different spec under a known sweep id is refused unless --replace."""
    import os

    from cab_cli.endpoint_check import preflight
    from cab_core.pricing import PriceTable
    from cab_scheduler.catalog import TaskCatalog
    from cab_scheduler.submit import submit as do_submit
    from cab_workers.adapters import ADAPTERS

    settings = load_settings(connection(broker, store))
    try:
        client, result_store = _conn(settings)
        done = do_submit(
            sweep_file,
            catalog=TaskCatalog(settings.tasks_dir),
            known_tuis=sorted(ADAPTERS),
            store=result_store,
            client=client,
            broker_url=settings.broker.url,
            visibility_timeout_s=settings.broker.visibility_timeout_s,
            prices=PriceTable.load(settings.price_table),
            slack_s=settings.broker.visibility_slack_s,
            replace=replace,
            preflight=lambda spec: preflight(
                spec,
                os.environ,
                ca_bundle=settings.ca_bundle,
                images_dir=settings.images_dir,
                reach=endpoint_check,
            ),
        )
    except CabError as e:
        fail(e)
    queues = ", ".join(f"{n} {q}" for q, n in sorted(done.queues.items()))
    if done.diff.new_sweep:
        console.print(f"submitted [bold]{done.sweep_id}[/]: {done.cells} cells ({queues})")
    elif done.diff.same:
        console.print(f"{done.sweep_id} was already submitted with this spec: nothing changed")
    elif not done.diff.sweep_changed:  # only task content changed: not a changed sweep
        console.print(f"resubmitted [bold]{done.sweep_id}[/]: {done.diff.summary()}", soft_wrap=True)
    else:
        console.print(
            f"replaced [bold]{done.sweep_id}[/]: {done.diff.summary()}; {done.cells} cells ({queues})"
        )
    console.print(f"watch it:  cab status {done.sweep_id} --watch", soft_wrap=True)


def worker(
    tags: Annotated[
        str, typer.Option(help="Capabilities this host offers: cpu, gpu, gpu.<type> (comma list).")
    ] = "",
    slots: Annotated[int | None, typer.Option(help="Cells at once (default: 1 per GPU, else 2).")] = None,
    dispatcher: Annotated[
        bool, typer.Option(help="Also run the dispatch loop (next to the broker).")
    ] = False,
    drain: Annotated[
        bool, typer.Option(help="Tell this host's running worker to finish its cells and exit.")
    ] = False,
    name: Annotated[str | None, typer.Option(help="Worker name (default: tags, pid and host).")] = None,
    broker: BrokerOpt = None,
    store: StoreOpt = None,
) -> None:
    """Run a worker that pulls cells matching its tags; GPUs are detected and tagged automatically."""
    from cab_workers.distributed.worker import WorkerOptions, run_worker
    from cab_workers.distributed.worker import drain as do_drain
    from cab_workers.host.gpus import detect_gpus, gpu_tags

    settings = load_settings(connection(broker, store))
    if drain:
        pid = do_drain(settings.cab_home.root)
        if pid is None:
            fail(CabError(f"no running worker under {settings.cab_home.root} (no worker.pid)"), code=1)
        console.print(f"worker {pid} drained and stopped")
        return
    gpus = detect_gpus()
    wanted = [t.strip() for t in tags.split(",") if t.strip()]
    if not wanted and not dispatcher:
        fail(CabError("give --tags (e.g. --tags cpu) or --dispatcher"))
    if any(t.startswith("gpu") for t in wanted) and not gpus:
        fail(CabError("--tags asks for gpu but no GPU was detected (nvidia-smi not found or no device)"))
    all_tags = sorted(
        set(wanted) | (set(gpu_tags(gpus)) if any(t.startswith("gpu") for t in wanted) else set())
    )
    opts = WorkerOptions(
        tags=all_tags,
        slots=slots or (len(gpus) if gpus and all_tags != ["cpu"] else 2),
        dispatcher=dispatcher,
        name=name or "",
    )
    err_console.print(
        f"worker {opts.name}: queues {', '.join(opts.queues) or '-'}, {opts.slots} slots"
        + (", dispatcher" if dispatcher else "")
    )
    try:
        run_worker(settings, opts)
    except CabError as e:
        fail(e)


def dispatcher(
    broker: BrokerOpt = None,
    store: StoreOpt = None,
    max_queued: Annotated[
        int | None,
        typer.Option(
            help="Most cells waiting per queue (default: CAB_MAX_QUEUED, 1000).", show_default=False
        ),
    ] = None,
) -> None:
    """Run only the dispatch loop (fan-out with admission control, and the reconciler)."""
    import signal
    import threading

    from cab_scheduler.celery_app import make_celery
    from cab_scheduler.dispatch import Dispatcher

    settings = load_settings({**connection(broker, store), "dispatcher.max_queued": max_queued})
    client, result_store = _conn(settings)
    result_store.create_schema()
    app = make_celery(settings.broker)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    err_console.print("dispatcher running; Ctrl-C to stop")
    Dispatcher(store=result_store, app=app, client=client, settings=settings.dispatcher).run(stop)


def status(
    sweep_id: Annotated[str, typer.Argument(help="Sweep id.")],
    broker: BrokerOpt = None,
    store: StoreOpt = None,
    watch: Annotated[bool, typer.Option(help="Refresh until the sweep finishes.")] = False,
    interval_s: Annotated[float, typer.Option(help="Refresh period with --watch.")] = 2.0,
) -> None:
    """Live progress: done / running / queued / failed by class, per TUI and model, with an ETA, or
    why the sweep is stalled."""
    from cab_scheduler.status import SweepStatus, sweep_status

    settings = load_settings(connection(broker, store))
    try:
        client, result_store = _conn(settings)

        def read() -> SweepStatus | None:
            return sweep_status(
                result_store, client, sweep_id, stall_after_s=settings.dispatcher.stall_after_s
            )

        current = read()
        if current is None:
            fail(CabError(f"no submitted sweep {sweep_id!r}; submit one with `cab submit SWEEP.yaml`"))
        if not watch:
            wide_console().print(render_status_table(current))
            return
        with Live(render_status_table(current), console=wide_console(), refresh_per_second=2) as live:
            while not current.finished:
                time.sleep(interval_s)
                current = read() or current
                live.update(render_status_table(current))
    except CabError as e:
        fail(e)
    except Exception as e:  # redis errors: one line
        fail(InfraError(f"status unavailable: {e}"))


def cancel(
    sweep_id: Annotated[str, typer.Argument(help="Sweep id.")],
    broker: BrokerOpt = None,
    store: StoreOpt = None,
) -> None:
    """Stop a sweep: nothing more is dispatched, queued cells are dropped, running ones are killed."""
    from cab_core.store import planned as plan

    settings = load_settings(connection(broker, store))
    try:
        client, result_store = _conn(settings)
        if plan.sweep_state(result_store, sweep_id) is None:
            fail(CabError(f"no submitted sweep {sweep_id!r}"))
        n = plan.cancel(result_store, sweep_id)
    except CabError as e:
        fail(e)
    _wake(client, sweep_id)
    console.print(f"cancelled {sweep_id}: {n} open cells; running ones stop at their next lease renewal")


def _wake(client: redis.Redis, sweep_id: str) -> None:
    import redis

    from cab_scheduler.celery_app import WAKE_CHANNEL

    try:
        client.publish(WAKE_CHANNEL, sweep_id)
    except redis.RedisError:
        pass  # the store has it: the dispatcher acts on its next round


def retry(
    sweep_id: Annotated[str, typer.Argument(help="Sweep id.")],
    failed: Annotated[str, typer.Option(help="Failure class to rerun: infra, agent or scorer.")] = "infra",
    broker: BrokerOpt = None,
    store: StoreOpt = None,
) -> None:
    """Rerun the cells whose latest attempt failed with the given class (poison cells are infra
    failures); only those run, each with a fresh budget of tries, even in a cancelled sweep."""
    from cab_core.store import planned as plan

    if failed not in ("infra", "agent", "scorer"):
        fail(CabError(f"--failed {failed!r}: use infra, agent or scorer"))
    settings = load_settings(connection(broker, store))
    try:
        client, result_store = _conn(settings)
        if plan.sweep_state(result_store, sweep_id) is None:
            fail(CabError(f"no submitted sweep {sweep_id!r}"))
        latest = result_store.latest_by_cell(sweep_id)
        chosen = {c: r.identity.attempt for c, r in latest.items() if r.failure.failure_class.value == failed}
        if not chosen:
            console.print(f"no {failed} failures in {sweep_id}")
            return
        n = plan.retry(result_store, sweep_id, chosen)
    except CabError as e:
        fail(e)
    _wake(client, sweep_id)
    running = len(chosen) - n
    console.print(
        f"retrying {n} {failed} failures of {sweep_id}"
        + (f" ({running} running now, left alone)" if running else "")
    )


def register(app: typer.Typer) -> None:
    for fn in (submit, worker, dispatcher, status, cancel, retry):
        app.command()(fn)
