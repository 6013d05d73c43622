"""How fast cab fans a sweep out to the broker, and how long a queued cell waits for its container.

Run from the repo root::

    .venv/bin/python bench/dispatch.py --cells 10000 [--also 100000] [--latency-runs 10]

Part 1, fan-out throughput (per N, all in one run, on a private redis-server and a scratch
PostgreSQL database):

  (a) cab's path: N no-op cells from ``expand()`` of a synthetic sweep (one real task x many
      ``scripted/noop-*`` models x 100 reruns); ``record_plan`` into PostgreSQL, then
      ``dispatch_once(max_queued=N)`` repeated until nothing is pending (it sends at most ``batch``
      = 2000 cells per queue per call). ``plan.pending``, ``app.send_task``, ``plan.mark_enqueued``
      are wrapped with timers to show where the time goes;
  (b) a naive loop: ``app.send_task(TASK_RUN_CELL, kwargs=...)`` one by one without a shared
      producer, same N, same payloads (``cell_message``), no store;
  (c) the deployed ``Dispatcher`` loop (``run`` in a thread, max_queued=N) over the same plan
      reset to pending: what a real fan-out of N takes with the loop's own pacing;
  (d) ``cab submit`` on an N-cell sweep file, as a subprocess (the laptop side: validate, expand,
      record), next to the same ``submit()`` in-process with its phases timed.

Part 2, dispatch latency: a real ``cab worker --tags cpu --slots 1`` subprocess; single-cell
sweeps of reference x scripted/noop are submitted one at a time (each waits for its result).
Phase A dispatches with ``dispatch_once`` in this process (no dispatcher running): latency is
measured from the instant just before ``send_task``. Phase B runs ``cab dispatcher`` as a
subprocess: latency is measured from the return of ``submit()``. The "container start" is the
stored result's ``container`` span ``started_at`` (just before the container is created) and the
Docker ``start`` event of the agent container (after create, network attach and start).

bench/README.md explains every number. Nothing here asserts on a timing: this is a report.
"""

from __future__ import annotations

import argparse
import math
import os
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

_REPO = Path(__file__).resolve().parent.parent
for p in (str(_REPO), str(_REPO / "bench")):
    if p not in sys.path:
        sys.path.insert(0, p)

import redis  # noqa: E402
import yaml  # noqa: E402
from _services import PG_ADMIN_URL, pct, private_redis, scratch_database  # noqa: E402
from rich.console import Console  # noqa: E402
from rich.table import Table  # noqa: E402

import cab_scheduler.submit as submit_mod  # noqa: E402
from cab_core.schema import CellResult, SweepSpec  # noqa: E402
from cab_core.settings import BrokerSettings, DispatcherSettings, Settings  # noqa: E402
from cab_core.store import ResultStore  # noqa: E402
from cab_core.store import planned as plan  # noqa: E402
from cab_scheduler.catalog import TaskCatalog  # noqa: E402
from cab_scheduler.celery_app import TASK_RUN_CELL, make_celery, queue_for  # noqa: E402
from cab_scheduler.dispatch import Dispatcher  # noqa: E402
from cab_scheduler.fanout import cell_message, dispatch_once  # noqa: E402
from cab_scheduler.sweep import expand  # noqa: E402
from cab_workers.adapters import ADAPTERS  # noqa: E402

TASK = "polyglot/python-semver-sort"
TARGET_CELLS, TARGET_DISPATCH_S = 10_000, 3.0
TARGET_LATENCY_P50_MS = 200.0
CAB = str(_REPO / ".venv" / "bin" / "cab")
RESULT_WAIT_S = 180.0
"""Most a single latency cell may take before the bench gives up on it."""

console = Console(width=None if sys.stdout.isatty() else 130)


# -- timers ----------------------------------------------------------------------------------------


@dataclass
class Timers:
    """Accumulated wall seconds and call counts per label."""

    seconds: dict[str, float] = field(default_factory=dict)
    calls: dict[str, int] = field(default_factory=dict)

    def wrap(self, label: str, fn: Callable[..., Any]) -> Callable[..., Any]:
        def timed(*args: Any, **kwargs: Any) -> Any:
            t0 = time.perf_counter()
            try:
                return fn(*args, **kwargs)
            finally:
                self.seconds[label] = self.seconds.get(label, 0.0) + time.perf_counter() - t0
                self.calls[label] = self.calls.get(label, 0) + 1

        return timed


@contextmanager
def patched(obj: Any, name: str, wrapper: Callable[[Any], Any]) -> Iterator[None]:
    """Temporarily replace ``obj.name`` with ``wrapper(original)`` (bench instrumentation only)."""
    original = getattr(obj, name)
    setattr(obj, name, wrapper(original))
    try:
        yield
    finally:
        setattr(obj, name, original)


# -- part 1: fan-out throughput --------------------------------------------------------------------


def synthetic_sweep(sweep_id: str, n: int) -> SweepSpec:
    """A sweep of one real task x ceil(n/100) scripted models x 100 reruns (>= n cells)."""
    reruns = min(100, n)
    return SweepSpec(
        sweep_id=sweep_id,
        tuis=["reference"],
        models=[f"scripted/noop-{i:05d}" for i in range(math.ceil(n / reruns))],
        tasks=[TASK],
        reruns=reruns,
    )


def clear_queue(client: redis.Redis, sweep_id: str) -> None:
    client.delete(queue_for("cpu"), f"cab:queued:{sweep_id}")


def fanout(n: int, redis_url: str, store: ResultStore, catalog: TaskCatalog) -> dict[str, Any]:
    client = redis.Redis.from_url(redis_url)
    app = make_celery(BrokerSettings(url=redis_url))
    queue = queue_for("cpu")
    out: dict[str, Any] = {"n": n}
    sweep_id = f"bench-fanout-{n}"
    spec = synthetic_sweep(sweep_id, n)
    t0 = time.perf_counter()
    cells = expand(spec, catalog, sorted(ADAPTERS))[:n]
    out["expand_s"] = time.perf_counter() - t0

    # (a) cab: record the plan, then dispatch_once until nothing is pending.
    t0 = time.perf_counter()
    plan.record_plan(store, spec, cells)
    out["record_s"] = time.perf_counter() - t0
    timers = Timers()
    rounds = 0
    with (
        patched(plan, "pending", lambda f: timers.wrap("plan.pending (PG read + CellSpec validate)", f)),
        patched(plan, "mark_enqueued", lambda f: timers.wrap("plan.mark_enqueued (PG update)", f)),
        patched(app, "send_task", lambda f: timers.wrap("app.send_task (build + publish)", f)),
    ):
        t0 = time.perf_counter()
        for rounds in range(1, n // 2000 + 10):  # noqa: B007 - bounded; read after the loop
            report = dispatch_once(
                sweep_id, store=store, app=app, client=client, settings=DispatcherSettings(max_queued=n)
            )
            if report.pending == 0:
                break
        out["dispatch_s"] = time.perf_counter() - t0
    out["dispatch_rounds"] = rounds
    out["dispatch_parts"] = timers
    out["queued_after_dispatch"] = client.llen(queue)
    sample = client.lindex(queue, 0)
    out["message_bytes"] = len(sample) if sample else 0
    clear_queue(client, sweep_id)

    # (b) naive: send_task one by one, no shared producer, same payloads.
    kwargs = [cell_message(c)["kwargs"] for c in cells]
    t0 = time.perf_counter()
    for kw in kwargs:
        app.send_task(TASK_RUN_CELL, queue=queue, kwargs=kw)
    out["naive_s"] = time.perf_counter() - t0
    out["queued_after_naive"] = client.llen(queue)
    clear_queue(client, sweep_id)

    # (c) the deployed Dispatcher loop over the same plan, reset to pending.
    plan.reset(store, [c.cell_id for c in cells])
    stop = threading.Event()
    dispatcher = Dispatcher(store=store, app=app, client=client, settings=DispatcherSettings(max_queued=n))
    thread = threading.Thread(target=dispatcher.run, args=(stop,), daemon=True)
    t0 = time.perf_counter()
    thread.start()
    deadline = time.monotonic() + 60 + n / 500
    while client.llen(queue) < n and time.monotonic() < deadline:
        time.sleep(0.01)
    out["loop_s"] = time.perf_counter() - t0
    out["queued_after_loop"] = client.llen(queue)
    stop.set()
    dispatcher.wake()
    thread.join(timeout=30)
    clear_queue(client, sweep_id)
    client.delete("cab:dispatcher")

    # (e) what-if: the same dispatch_once without Celery's per-message task-sent event.
    plan.reset(store, [c.cell_id for c in cells])
    quiet = make_celery(BrokerSettings(url=redis_url))
    quiet.conf.task_send_sent_event = False
    t0 = time.perf_counter()
    for _ in range(n // 2000 + 10):
        if (
            dispatch_once(
                sweep_id, store=store, app=quiet, client=client, settings=DispatcherSettings(max_queued=n)
            ).pending
            == 0
        ):
            break
    out["no_event_s"] = time.perf_counter() - t0
    out["queued_after_no_event"] = client.llen(queue)
    clear_queue(client, sweep_id)
    client.close()
    return out


def submit_wall(n: int, redis_url: str, store_url: str, catalog: TaskCatalog, tmp: Path) -> dict[str, Any]:
    """``cab submit`` of an n-cell sweep file as a subprocess, then ``submit()`` in-process by phase."""
    out: dict[str, Any] = {}
    env = {
        **os.environ,
        "CAB_HOME": str(tmp / "home"),
        "CAB_BROKER_URL": redis_url,
        "CAB_STORE_URL": store_url,
    }
    t0 = time.perf_counter()
    subprocess.run([CAB, "--help"], env=env, capture_output=True, check=True, timeout=120)
    out["cli_floor_s"] = time.perf_counter() - t0

    def sweep_file(sweep_id: str) -> Path:
        spec = synthetic_sweep(sweep_id, n)
        path = tmp / f"{sweep_id}.yaml"
        path.write_text(yaml.safe_dump(spec.model_dump(mode="json", exclude_none=True)))
        return path

    path = sweep_file(f"bench-submit-cli-{n}")
    t0 = time.perf_counter()
    proc = subprocess.run([CAB, "submit", str(path)], env=env, capture_output=True, text=True, timeout=600)
    out["cli_s"] = time.perf_counter() - t0
    out["cli_ok"] = proc.returncode == 0
    if proc.returncode != 0:
        console.print(f"[red]cab submit failed:[/] {proc.stdout[-400:]} {proc.stderr[-400:]}")

    timers = Timers()
    store = ResultStore(store_url)
    client = redis.Redis.from_url(redis_url)
    broker = Settings().broker
    path = sweep_file(f"bench-submit-lib-{n}")
    with (
        patched(submit_mod, "load_sweep", lambda f: timers.wrap("load_sweep (YAML + validate)", f)),
        patched(submit_mod, "expand", lambda f: timers.wrap("expand (catalog + CellSpecs)", f)),
        patched(submit_mod, "check_budgets", lambda f: timers.wrap("check_budgets", f)),
        patched(submit_mod.plan, "record_plan", lambda f: timers.wrap("record_plan (one transaction)", f)),
    ):
        t0 = time.perf_counter()
        submit_mod.submit(
            path,
            catalog=catalog,
            known_tuis=sorted(ADAPTERS),
            store=store,
            client=client,
            broker_url=redis_url,
            visibility_timeout_s=broker.visibility_timeout_s,
            slack_s=broker.visibility_slack_s,
        )
        out["lib_s"] = time.perf_counter() - t0
    out["lib_parts"] = timers
    store.close()
    client.close()
    return out


def report_fanout(r: dict[str, Any], sub: dict[str, Any] | None) -> None:
    n = r["n"]
    t = Table(title=f"fan-out of {n:,} cells (message {r['message_bytes']:,} B each)")
    for c, j in (("path", "left"), ("seconds", "right"), ("cells/s", "right"), ("queued", "right")):
        t.add_column(c, justify=j)  # type: ignore[arg-type]
    t.add_row("expand() (build CellSpecs, not timed in the paths below)", f"{r['expand_s']:.2f}", "", "")
    t.add_row("(a) cab record_plan -> PostgreSQL", f"{r['record_s']:.2f}", f"{n / r['record_s']:,.0f}", "")
    t.add_row(
        f"(a) cab dispatch_once x{r['dispatch_rounds']} (max_queued=N)",
        f"{r['dispatch_s']:.2f}",
        f"{n / r['dispatch_s']:,.0f}",
        f"{r['queued_after_dispatch']:,}",
    )
    parts: Timers = r["dispatch_parts"]
    for label, s in parts.seconds.items():
        t.add_row(f"    {label} [{parts.calls[label]:,} calls]", f"{s:.2f}", "", "")
    other = r["dispatch_s"] - sum(parts.seconds.values())
    t.add_row("    rest (queue depth, SADD queued set, pending_count)", f"{other:.2f}", "", "")
    rd = r["record_s"] + r["dispatch_s"]
    t.add_row("(a) cab record + dispatch", f"{rd:.2f}", f"{n / rd:,.0f}", "")
    t.add_row(
        "(b) naive send_task loop",
        f"{r['naive_s']:.2f}",
        f"{n / r['naive_s']:,.0f}",
        f"{r['queued_after_naive']:,}",
    )
    t.add_row(
        "(c) Dispatcher.run loop as deployed (max_queued=N)",
        f"{r['loop_s']:.2f}",
        f"{n / r['loop_s']:,.0f}",
        f"{r['queued_after_loop']:,}",
    )
    t.add_row(
        "(e) what-if: dispatch_once, task_send_sent_event=False",
        f"{r['no_event_s']:.2f}",
        f"{n / r['no_event_s']:,.0f}",
        f"{r['queued_after_no_event']:,}",
    )
    if sub:
        t.add_row("(d) `cab --help` (CLI start-up floor)", f"{sub['cli_floor_s']:.2f}", "", "")
        t.add_row(
            f"(d) `cab submit` subprocess ({'ok' if sub['cli_ok'] else 'FAILED'})",
            f"{sub['cli_s']:.2f}",
            f"{n / sub['cli_s']:,.0f}",
            "",
        )
        t.add_row("(d) submit() in-process", f"{sub['lib_s']:.2f}", f"{n / sub['lib_s']:,.0f}", "")
        lp: Timers = sub["lib_parts"]
        for label, s in lp.seconds.items():
            t.add_row(f"    {label}", f"{s:.2f}", "", "")
    console.print(t)
    console.print(
        f"ratio  cab dispatch cells/s / naive cells/s = {r['naive_s'] / r['dispatch_s']:.2f}x   "
        f"(cab record+dispatch vs naive: {r['naive_s'] / rd:.2f}x)"
    )
    if n == TARGET_CELLS:
        ok = r["dispatch_s"] < TARGET_DISPATCH_S
        console.print(
            f"verdict: {n:,} cells dispatched in {r['dispatch_s']:.2f} s "
            f"{'<' if ok else '>='} {TARGET_DISPATCH_S:g} s -> "
            f"{'[green]MEETS[/]' if ok else '[red]MISSES[/]'} the target "
            f"(the deployed loop took {r['loop_s']:.2f} s; record_plan {r['record_s']:.2f} s "
            "is paid at submit time)"
        )


# -- part 2: latency -------------------------------------------------------------------------------


class DockerStarts:
    """Docker ``start`` events of cab agent containers, by cell id (host clock, seconds)."""

    def __init__(self) -> None:
        import docker  # noqa: TID251 - the bench reads the engine's own event stream

        self._client = docker.from_env()
        self.starts: dict[str, float] = {}
        self._stream = self._client.events(
            decode=True, filters={"type": "container", "event": "start", "label": ["cab.role=agent"]}
        )
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        try:
            for ev in self._stream:
                cell = ev.get("Actor", {}).get("Attributes", {}).get("cab.cell_id")
                if cell and cell not in self.starts:
                    self.starts[cell] = ev["timeNano"] / 1e9
        except Exception:  # noqa: BLE001,S110 - the stream ends with an error when closed
            pass

    def close(self) -> None:
        self._stream.close()
        self._client.close()


@dataclass
class LatencySample:
    t0: float
    """Reference instant: just before send_task (phase A) or submit() returned (phase B)."""
    submit_s: float
    result: CellResult
    docker_start: float | None

    def ms(self, ts: datetime | float | None) -> float:
        if ts is None:
            return float("nan")
        t = ts.timestamp() if isinstance(ts, datetime) else ts
        return (t - self.t0) * 1000

    @property
    def container_span(self) -> datetime | None:
        return next((s.started_at for s in self.result.spans if s.kind == "container"), None)


def _single_cell_sweep(tmp: Path, sweep_id: str) -> Path:
    path = tmp / f"{sweep_id}.yaml"
    path.write_text(
        yaml.safe_dump(
            {
                "sweep_id": sweep_id,
                "tuis": ["reference"],
                "models": ["scripted/noop"],
                "tasks": [TASK],
                "reruns": 1,
            }
        )
    )
    return path


def _wait_result(store: ResultStore, cell_id: str, proc: subprocess.Popen[bytes]) -> CellResult:
    deadline = time.monotonic() + RESULT_WAIT_S
    while time.monotonic() < deadline:
        got = store.get(cell_id)
        if got is not None:
            return got
        if proc.poll() is not None:
            raise SystemExit(f"the worker exited ({proc.returncode}); see its log")
        time.sleep(0.05)
    raise SystemExit(f"no result for {cell_id} within {RESULT_WAIT_S:g} s")


def _start(argv: list[str], env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    fh = log.open("wb")
    return subprocess.Popen(argv, env=env, stdout=fh, stderr=subprocess.STDOUT, start_new_session=True)


def _stop(proc: subprocess.Popen[bytes], timeout_s: float = 60.0) -> None:
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout=timeout_s)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=10)


def _wait_for(pred: Callable[[], bool], timeout_s: float, what: str) -> None:
    deadline = time.monotonic() + timeout_s
    while not pred():
        if time.monotonic() > deadline:
            raise SystemExit(f"timed out waiting for {what}")
        time.sleep(0.1)


def latency(k: int, redis_url: str, store_url: str, catalog: TaskCatalog, tmp: Path) -> dict[str, Any]:
    env = {
        **os.environ,
        "CAB_HOME": str(tmp / "home"),
        "CAB_BROKER_URL": redis_url,
        "CAB_STORE_URL": store_url,
    }
    client = redis.Redis.from_url(redis_url)
    client.flushdb()  # our own server: drop the fan-out sweeps so no dispatcher sees them
    store = ResultStore(store_url)
    store.create_schema()
    app = make_celery(BrokerSettings(url=redis_url))
    broker = Settings().broker
    events = DockerStarts()
    worker = _start([CAB, "worker", "--tags", "cpu", "--slots", "1"], env, tmp / "worker.log")
    dispatcher: subprocess.Popen[bytes] | None = None
    samples: dict[str, list[LatencySample]] = {"A": [], "B": []}
    t_worker = time.perf_counter()
    try:
        _wait_for(
            lambda: (tmp / "home" / "worker.pid").exists() or worker.poll() is not None,
            300,
            "the worker to start",
        )
        console.print(f"  [dim]worker up after {time.perf_counter() - t_worker:.1f} s[/]")

        def one(phase: str, i: int) -> LatencySample:
            sweep_id = f"bench-latency-{phase.lower()}-{i}"
            path = _single_cell_sweep(tmp, sweep_id)
            sent: list[float] = []
            t_sub = time.perf_counter()
            done = submit_mod.submit(
                path,
                catalog=catalog,
                known_tuis=sorted(ADAPTERS),
                store=store,
                client=client,
                broker_url=redis_url,
                visibility_timeout_s=broker.visibility_timeout_s,
                slack_s=broker.visibility_slack_s,
            )
            t_ret = time.time()
            submit_s = time.perf_counter() - t_sub
            if phase == "A":

                def mark(f: Callable[..., Any]) -> Callable[..., Any]:
                    def send(*a: Any, **kw: Any) -> Any:
                        sent.append(time.time())
                        return f(*a, **kw)

                    return send

                with patched(app, "send_task", mark):
                    dispatch_once(
                        sweep_id, store=store, app=app, client=client, settings=DispatcherSettings()
                    )
            cell_id = next(iter(plan.planned_cells(store, done.sweep_id)))
            result = _wait_result(store, cell_id, worker)
            # the docker event may trail the stored result by a few ms in the stream
            t_end = time.monotonic() + 2
            while cell_id not in events.starts and time.monotonic() < t_end:
                time.sleep(0.02)
            return LatencySample(sent[0] if sent else t_ret, submit_s, result, events.starts.get(cell_id))

        for phase in ("A", "B"):
            if phase == "B":
                dispatcher = _start([CAB, "dispatcher"], env, tmp / "dispatcher.log")
                _wait_for(
                    lambda: (
                        b"dispatcher running" in (tmp / "dispatcher.log").read_bytes()
                        or dispatcher.poll() is not None  # noqa: B023 - called in this iteration
                    ),
                    120,
                    "the dispatcher to start",
                )
            warm = one(phase, 0)
            console.print(f"  [dim]phase {phase} warm-up cell: {warm.result.failure.failure_class.value}[/]")
            for i in range(1, k + 1):
                s = one(phase, i)
                samples[phase].append(s)
                console.print(
                    f"  [dim]phase {phase} {i}/{k}: container span +{s.ms(s.container_span):.0f} ms, "
                    f"docker start +{s.ms(s.docker_start):.0f} ms, "
                    f"{s.result.failure.failure_class.value}[/]"
                )
    finally:
        if dispatcher is not None:
            _stop(dispatcher)
        _stop(worker)
        events.close()
        store.close()
        client.close()
    return samples


def report_latency(samples: dict[str, list[LatencySample]]) -> None:
    def rows(ss: list[LatencySample]) -> dict[str, list[float]]:
        def span(s: LatencySample, kind: str) -> float:
            return sum(x.duration_ms for x in s.result.spans if x.kind == kind)

        return {
            "-> run_cell start (broker, Celery, execute_cell checks + lease)": [
                s.ms(s.result.timing.started_at) for s in ss
            ],
            "-> container span start (the measured latency)": [s.ms(s.container_span) for s in ss],
            "-> Docker 'start' event of the agent container": [s.ms(s.docker_start) for s in ss],
            "   run_cell start -> container span (image lookup, task_setup, launch)": [
                s.ms(s.container_span) - s.ms(s.result.timing.started_at) for s in ss
            ],
            "     of which task_setup span (copy, git snapshot, manifest)": [
                span(s, "task_setup") for s in ss
            ],
            "   container span -> Docker start (create, network attach, start)": [
                s.ms(s.docker_start) - s.ms(s.container_span) for s in ss
            ],
            "submit() call itself (validate, record, wake)": [s.submit_s * 1000 for s in ss],
        }

    titles = {
        "A": "phase A: dispatch_once here, latency from just before send_task",
        "B": "phase B: `cab dispatcher` subprocess, latency from submit() return",
    }
    for phase, ss in samples.items():
        if not ss:
            continue
        t = Table(title=f"{titles[phase]} ({len(ss)} cells, ms)")
        t.add_column("from the reference instant", justify="left")
        for c in ("p50", "p99", "min", "max"):
            t.add_column(c, justify="right")
        for name, xs in rows(ss).items():
            t.add_row(name, *(f"{v:.0f}" for v in (pct(xs, 50), pct(xs, 99), min(xs), max(xs))))
        console.print(t)
    a = [s.ms(s.container_span) for s in samples["A"]]
    b = [s.ms(s.container_span) for s in samples["B"]]
    for label, xs in (("publish -> container span", a), ("submit return -> container span", b)):
        if xs:
            ok = pct(xs, 50) < TARGET_LATENCY_P50_MS
            console.print(
                f"verdict: {label} p50 {pct(xs, 50):.0f} ms {'<' if ok else '>='} "
                f"{TARGET_LATENCY_P50_MS:.0f} ms -> {'[green]MEETS[/]' if ok else '[red]MISSES[/]'}"
            )
    bad = {s.result.failure.failure_class.value for ss in samples.values() for s in ss} - {"none", "agent"}
    if bad:
        console.print(f"[yellow]note: some latency cells failed with {sorted(bad)}[/]")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--cells", type=int, default=TARGET_CELLS, help="cells to fan out (default %(default)s)")
    ap.add_argument("--also", type=int, action="append", default=[], help="another N to fan out (repeatable)")
    ap.add_argument("--latency-runs", type=int, default=10, help="latency cells per phase; 0 skips part 2")
    ap.add_argument("--no-submit", action="store_true", help="skip the `cab submit` wall-time rows")
    ap.add_argument("--redis-port", type=int, default=6397, help="port of the private redis-server")
    ap.add_argument("--pg", default=PG_ADMIN_URL, help="PostgreSQL server (a scratch database is created)")
    args = ap.parse_args(argv)
    if args.cells < 1 or any(n < 1 for n in args.also) or args.latency_runs < 0:
        ap.error("cell counts must be >= 1 and --latency-runs >= 0")
    import logging

    import structlog

    logging.getLogger().setLevel(logging.WARNING)
    structlog.configure(wrapper_class=structlog.make_filtering_bound_logger(logging.WARNING))
    catalog = TaskCatalog(Settings().tasks_dir)
    with (
        tempfile.TemporaryDirectory(prefix="cab-bench-dispatch-") as tmp_s,
        private_redis(args.redis_port) as redis_url,
        scratch_database(args.pg, "dispatch") as store_url,
    ):
        tmp = Path(tmp_s)
        store = ResultStore(store_url)
        store.create_schema()
        console.print(
            f"[bold]dispatch[/]: redis {redis_url}, store {store!r}, task {TASK}, "
            f"{os.cpu_count()} CPUs, {datetime.now(UTC):%Y-%m-%d %H:%M} UTC"
        )
        for n in [args.cells, *args.also]:
            r = fanout(n, redis_url, store, catalog)
            sub = None if args.no_submit else submit_wall(n, redis_url, store_url, catalog, tmp)
            report_fanout(r, sub)
        store.close()
        if args.latency_runs:
            console.print(
                f"\n[bold]dispatch latency[/]: real `cab worker --tags cpu --slots 1`, "
                f"{args.latency_runs} cells per phase, reference x scripted/noop x {TASK}"
            )
            report_latency(latency(args.latency_runs, redis_url, store_url, catalog, tmp))
    return 0


if __name__ == "__main__":
    sys.exit(main())
