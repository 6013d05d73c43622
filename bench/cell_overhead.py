"""Per-cell harness overhead of cab, measured against bare container runs in the same process.

Run from the repo root::

    .venv/bin/python bench/cell_overhead.py --cells 10 [--task polyglot/python-semver-sort] [--json out.json]

Per iteration (interleaved, one at a time, so the three series see the same machine state):

  (a) one cab cell (reference agent x ``scripted/noop`` x the task) through ``run_cell`` on a
      ``LocalHost`` context whose CAB_HOME is a temp dir; the context's sandbox is wrapped so that
      every ``Sandbox.run`` (agent and scorer) is timed on the host;
  (b) one bare container of the same reference image running ``python3 -c pass`` through the
      Docker SDK (create, start, wait, remove: the floor of starting that image);
  (c) one bare scorer run: ``run_tests`` (the exact scorer ContainerSpec) of the base image on a
      ``materialise``-d copy of the task's work dir plus its hidden tests; the ``Sandbox.run`` call
      is what is timed, like the scorer time of (a).

Harness overhead of a cell = run_cell wall - agent ``container`` span - scorer ``Sandbox.run`` wall.
It is everything cab does around the two containers. bench/README.md explains every number. No
assertion is made about any timing: this is a report.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import logging
import os
import platform
import shutil
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

_REPO = Path(__file__).resolve().parent.parent
for p in (str(_REPO), str(_REPO / "bench")):
    if p not in sys.path:
        sys.path.insert(0, p)

import docker  # noqa: E402,TID251 - the bench needs a raw container as the floor
import docker.errors  # noqa: E402,TID251
from _services import pct  # noqa: E402
from rich.console import Console  # noqa: E402
from rich.table import Table  # noqa: E402

from cab_core import logging as cab_logging  # noqa: E402
from cab_core.schema import CellResult, CellSpec, TaskSpec, make_cell_id  # noqa: E402
from cab_core.settings import Settings  # noqa: E402
from cab_scheduler.catalog import TaskCatalog, materialise  # noqa: E402
from cab_workers.cell.hidden_tests import run_tests  # noqa: E402
from cab_workers.cell.pipeline import run_cell  # noqa: E402
from cab_workers.composition import AGENT_NETWORK, LocalHost  # noqa: E402
from cab_workers.host.containers import parse_docker_time as _parse_ts  # noqa: E402
from cab_workers.host.sandbox import LABEL_ROLE, ContainerRun, ContainerSpec, Sandbox  # noqa: E402

TUI = "reference"
MODEL = "scripted/noop"
SWEEP_ID = "bench-cell-overhead"
TARGET_OVERHEAD_MS = 1000.0
AGENT_DEADLINE_S = 60.0
"""Cap on the agent budget so a misbehaving run cannot stall the bench (noop finishes in seconds)."""

console = Console(width=None if sys.stdout.isatty() else 120)


# -- timing the sandbox ----------------------------------------------------------------------------


@dataclass
class RunRecord:
    """One ``Sandbox.run`` call as seen from the host."""

    role: str
    name: str
    host_ms: float
    """Wall time of the whole ``Sandbox.run`` call: stale check, create, attach, start, wait, inspect,
    remove."""
    active_ms: float
    """Docker's own StartedAt -> FinishedAt of the container."""
    exit_code: int | None


class TimedSandbox(Sandbox):
    """A ``Sandbox`` on the same Docker client that records the host wall time of every ``run``."""

    def __init__(self, client: docker.DockerClient) -> None:
        super().__init__(client)
        self.records: list[RunRecord] = []

    def run(self, spec: ContainerSpec, sink=None) -> ContainerRun:  # type: ignore[no-untyped-def]
        t0 = time.perf_counter()
        result: ContainerRun | None = None
        try:
            result = super().run(spec, sink)
            return result
        finally:
            self.records.append(
                RunRecord(
                    role=spec.labels.get(LABEL_ROLE, "?"),
                    name=spec.name,
                    host_ms=(time.perf_counter() - t0) * 1000,
                    active_ms=result.active_ms if result else 0.0,
                    exit_code=result.exit_code if result else None,
                )
            )

    def take(self) -> list[RunRecord]:
        out, self.records = self.records, []
        return out


# -- the three measurements ------------------------------------------------------------------------


@dataclass
class Sample:
    """All numbers of one iteration, in milliseconds."""

    cell_wall: float
    agent_container_span: float
    agent_active: float
    scorer_run: float
    scorer_active: float
    harness_overhead: float
    bare_docker: float
    bare_docker_active: float
    bare_scorer: float
    bare_scorer_active: float
    spans: dict[str, float] = field(default_factory=dict)
    failure_class: str = ""
    failure_reason: str = ""
    test_exit_code: int | None = None
    bare_test_exit_code: int | None = None


def _span_ms(result: CellResult) -> dict[str, float]:
    """Span durations keyed by kind (task_setup, adapter_run, container, scoring, cleanup); the
    ``tool_call`` span named ``applied_plugins`` is keyed by its name."""
    out: dict[str, float] = {}
    for s in result.spans:
        key = s.name if s.kind == "tool_call" else s.kind
        out[key] = out.get(key, 0.0) + s.duration_ms
    return out


def run_cab_cell(
    ctx: Any, sandbox: TimedSandbox, task: TaskSpec, i: int
) -> tuple[float, CellResult, list[RunRecord]]:
    task = task.model_copy(
        update={
            "timeouts": task.timeouts.model_copy(
                update={"agent_s": min(task.timeouts.agent_s, AGENT_DEADLINE_S)}
            )
        }
    )
    cell = CellSpec(
        cell_id=make_cell_id(SWEEP_ID, TUI, MODEL, task.task_id, i + 1),
        sweep_id=SWEEP_ID,
        tui=TUI,
        model=MODEL,
        task=task,
        run=i + 1,
    )
    sandbox.take()
    t0 = time.perf_counter()
    result = run_cell(cell, ctx, attempt=1)
    wall = (time.perf_counter() - t0) * 1000
    return wall, result, sandbox.take()


def run_bare_docker(client: docker.DockerClient, image: str, i: int) -> tuple[float, float]:
    """``docker run --rm IMAGE python3 -c pass`` through the SDK; returns (host ms, active ms)."""
    name = f"cab-bench-bare-{os.getpid()}-{i}"
    t0 = time.perf_counter()
    container = client.containers.create(
        image,
        entrypoint=["python3", "-c", "pass"],
        command=[],
        name=name,
        labels={"cab.bench": "cell_overhead"},
    )
    try:
        container.start()
        container.wait(timeout=60)
        container.reload()
    finally:
        container.remove(force=True, v=True)
    host_ms = (time.perf_counter() - t0) * 1000
    state = container.attrs.get("State", {})
    return host_ms, _active_ms(state.get("StartedAt"), state.get("FinishedAt"))


def _active_ms(started: str | None, finished: str | None) -> float:
    a, b = _parse_ts(started), _parse_ts(finished)
    # Docker's timestamps of a ~5 ms process can come out a hair inverted; clamp at 0.
    return max(0.0, (b - a).total_seconds() * 1000) if a and b else 0.0


def run_bare_scorer(
    sandbox: TimedSandbox, catalog: TaskCatalog, task: TaskSpec, image: str, scratch: Path, i: int
) -> RunRecord:
    work = scratch / f"score-{i}"
    materialise(catalog.paths(task.task_id), work, with_solution=False, with_hidden_tests=True)
    sandbox.take()
    try:
        run_tests(
            task,
            sandbox,
            image,
            work,
            name=f"cab-bench-score-{os.getpid()}-{i}",
            labels=sandbox.labels_for(f"{SWEEP_ID}/bare-scorer/{i}", 1, "scorer"),
        )
    finally:
        shutil.rmtree(work, ignore_errors=True)
    (rec,) = sandbox.take()
    return rec


def measure(n: int, task_id: str, warmup: int) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="cab-bench-") as tmp:
        tmp_path = Path(tmp)
        settings = Settings(home=tmp_path / "home")
        cab_logging.configure(settings.cab_home.logs / "cab.log", console_level=logging.ERROR)
        catalog = TaskCatalog(settings.tasks_dir)
        task = catalog.load(task_id)
        client = Sandbox().client
        had_network = bool(client.networks.list(names=[AGENT_NETWORK]))

        t0 = time.perf_counter()
        host = LocalHost(settings, progress=lambda m: console.print(f"  [dim]{m}[/]"))
        with host:
            setup_ms = (time.perf_counter() - t0) * 1000
            assert host.ctx is not None and host.sandbox is not None
            sandbox = TimedSandbox(host.sandbox.client)
            ctx = dataclasses.replace(host.ctx, sandbox=sandbox)
            agent_image = host.agent_image(TUI)
            scorer_image = host.scorer_image
            console.print(
                f"[bold]cell_overhead[/]: {n} cells + {warmup} warm-up, task {task_id}, "
                f"agent image {agent_image}, scorer image {scorer_image}, host setup "
                f"{setup_ms:.0f} ms (once, not per cell)"
            )
            scratch = tmp_path / "bare"
            scratch.mkdir()
            samples: list[Sample] = []
            try:
                for i in range(warmup + n):
                    sample = _one_iteration(
                        ctx, sandbox, client, catalog, task, agent_image, scorer_image, scratch, i
                    )
                    tag = "warm-up" if i < warmup else f"{i - warmup + 1}/{n}"
                    console.print(
                        f"  [dim]{tag}: cell {sample.cell_wall:.0f} ms (overhead "
                        f"{sample.harness_overhead:.0f} ms, {sample.failure_class}), bare docker "
                        f"{sample.bare_docker:.0f} ms, bare scorer {sample.bare_scorer:.0f} ms[/]"
                    )
                    if i >= warmup:
                        samples.append(sample)
            finally:
                leftover = sandbox.reap(owner_pid=os.getpid())
                if leftover:
                    console.print(f"[yellow]removed leftover containers: {leftover}[/]")
        if not had_network:
            _remove_network(client)
        logging.getLogger().handlers.clear()
        return {
            "task": task_id,
            "cells": n,
            "warmup": warmup,
            "host_setup_ms": setup_ms,
            "agent_image": agent_image,
            "scorer_image": scorer_image,
            "samples": samples,
        }


def _remove_network(client: docker.DockerClient) -> None:
    for net in client.networks.list(names=[AGENT_NETWORK]):
        net.reload()
        if not net.attrs.get("Containers"):
            try:
                net.remove()
            except docker.errors.APIError:
                pass


def _one_iteration(
    ctx: Any,
    sandbox: TimedSandbox,
    client: docker.DockerClient,
    catalog: TaskCatalog,
    task: TaskSpec,
    agent_image: str,
    scorer_image: str,
    scratch: Path,
    i: int,
) -> Sample:
    wall, result, records = run_cab_cell(ctx, sandbox, task, i)
    spans = _span_ms(result)
    agent = [r for r in records if r.role == "agent"]
    scorer = [r for r in records if r.role == "scorer"]
    scorer_ms = sum(r.host_ms for r in scorer)
    container_span = spans.get("container", 0.0)
    bare_ms, bare_active = run_bare_docker(client, agent_image, i)
    bare_score = run_bare_scorer(sandbox, catalog, task, scorer_image, scratch, i)
    return Sample(
        cell_wall=wall,
        agent_container_span=container_span,
        agent_active=sum(r.active_ms for r in agent),
        scorer_run=scorer_ms,
        scorer_active=sum(r.active_ms for r in scorer),
        harness_overhead=wall - container_span - scorer_ms,
        bare_docker=bare_ms,
        bare_docker_active=bare_active,
        bare_scorer=bare_score.host_ms,
        bare_scorer_active=bare_score.active_ms,
        spans={**spans, "agent_sandbox_run": sum(r.host_ms for r in agent)},
        failure_class=str(result.failure.failure_class),
        failure_reason=result.failure.reason or "",
        test_exit_code=scorer[0].exit_code if scorer else None,
        bare_test_exit_code=bare_score.exit_code,
    )


# -- report ----------------------------------------------------------------------------------------


def _series(samples: list[Sample]) -> dict[str, list[float]]:
    def col(f) -> list[float]:  # type: ignore[no-untyped-def]
        return [f(s) for s in samples]

    return {
        "cab cell wall": col(lambda s: s.cell_wall),
        "agent container (span)": col(lambda s: s.agent_container_span),
        "scorer run (Sandbox.run)": col(lambda s: s.scorer_run),
        "harness overhead": col(lambda s: s.harness_overhead),
        "bare docker run": col(lambda s: s.bare_docker),
        "bare scorer run": col(lambda s: s.bare_scorer),
    }


def _breakdown(samples: list[Sample]) -> dict[str, list[float]]:
    """Where the harness overhead goes, from the cell's spans (each row is part of the overhead)."""

    def sp(s: Sample, k: str) -> float:
        return s.spans.get(k, 0.0)

    def unspanned(s: Sample) -> float:
        top = sum(sp(s, k) for k in ("task_setup", "adapter_run", "scoring", "cleanup"))
        return s.cell_wall - top

    return {
        "task_setup (copy, git snapshot, manifest)": [sp(s, "task_setup") for s in samples],
        "adapter_run - container (launch, config files, chown, report)": [
            sp(s, "adapter_run") - sp(s, "container") for s in samples
        ],
        "  of which applied_plugins": [sp(s, "applied_plugins") for s in samples],
        "container span - agent Sandbox.run (asciicast file)": [
            sp(s, "container") - sp(s, "agent_sandbox_run") for s in samples
        ],
        "scoring - scorer Sandbox.run (manifest, diff, copies, chown, score)": [
            sp(s, "scoring") - s.scorer_run for s in samples
        ],
        "cleanup (rmtree of the cell folder)": [sp(s, "cleanup") for s in samples],
        "outside spans (adapter/image lookup, result)": [unspanned(s) for s in samples],
    }


def _lifecycle(samples: list[Sample]) -> dict[str, list[float]]:
    """Container cost beyond the process's own run time: host wall - Docker's StartedAt->FinishedAt."""
    return {
        "agent container active (Docker StartedAt->FinishedAt)": [s.agent_active for s in samples],
        "agent Sandbox.run - active": [
            s.spans.get("agent_sandbox_run", 0.0) - s.agent_active for s in samples
        ],
        "scorer container active": [s.scorer_active for s in samples],
        "scorer Sandbox.run - active": [s.scorer_run - s.scorer_active for s in samples],
        "bare docker active": [s.bare_docker_active for s in samples],
        "bare docker host - active": [s.bare_docker - s.bare_docker_active for s in samples],
        "bare scorer active": [s.bare_scorer_active for s in samples],
        "bare scorer Sandbox.run - active": [s.bare_scorer - s.bare_scorer_active for s in samples],
    }


def _table(title: str, rows: dict[str, list[float]]) -> Table:
    console.print(f"\n[bold]{title}[/]")
    t = Table()
    t.add_column("ms", style="bold")
    for c in ("median", "p90", "min", "max"):
        t.add_column(c, justify="right")
    for name, xs in rows.items():
        t.add_row(name, *(f"{v:.0f}" for v in (statistics.median(xs), pct(xs, 90), min(xs), max(xs))))
    return t


def summarise(samples: list[Sample]) -> dict[str, Any]:
    med = {k: statistics.median(v) for k, v in _series(samples).items()}
    return {
        "median_ms": med,
        "p90_ms": {k: pct(v, 90) for k, v in _series(samples).items()},
        "ratio_cell_wall_over_bare_docker_plus_bare_scorer": med["cab cell wall"]
        / (med["bare docker run"] + med["bare scorer run"]),
        "ratio_harness_overhead_over_bare_docker": med["harness overhead"] / med["bare docker run"],
        "target_median_harness_overhead_ms": TARGET_OVERHEAD_MS,
        "meets_target": med["harness overhead"] < TARGET_OVERHEAD_MS,
    }


def report(data: dict[str, Any]) -> dict[str, Any]:
    samples: list[Sample] = data["samples"]
    title = f"cab cell vs bare containers ({len(samples)} cells, {data['task']}, {TUI} x {MODEL})"
    console.print(_table(title, _series(samples)))
    console.print(_table("where the harness overhead goes (cab cell spans)", _breakdown(samples)))
    console.print(_table("container lifecycle (host wall vs Docker active time)", _lifecycle(samples)))
    summary = summarise(samples)
    med = summary["median_ms"]
    console.print(
        f"ratio  cab cell wall / (bare docker run + bare scorer run) = "
        f"{med['cab cell wall']:.0f} / ({med['bare docker run']:.0f} + "
        f"{med['bare scorer run']:.0f}) "
        f"= [bold]{summary['ratio_cell_wall_over_bare_docker_plus_bare_scorer']:.2f}x[/]"
    )
    console.print(
        f"ratio  harness overhead / bare docker run = {med['harness overhead']:.0f} / "
        f"{med['bare docker run']:.0f} = "
        f"[bold]{summary['ratio_harness_overhead_over_bare_docker']:.2f}x[/]"
    )
    ok = summary["meets_target"]
    console.print(
        f"verdict: median harness overhead {med['harness overhead']:.0f} ms "
        f"{'<' if ok else '>='} {TARGET_OVERHEAD_MS:.0f} ms per cell -> "
        f"{'[green]MEETS[/]' if ok else '[red]MISSES[/]'} the target"
    )
    failed = sorted({(s.failure_class, s.failure_reason) for s in samples if s.failure_class != "none"})
    if failed:
        console.print(
            f"[yellow]note: some cells did not finish cleanly (timings may not be comparable): {failed}[/]"
        )
    return summary


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--cells", type=int, default=10, help="measured iterations (default 10)")
    ap.add_argument("--task", default="polyglot/python-semver-sort", help="task id (default %(default)s)")
    ap.add_argument("--warmup", type=int, default=1, help="unmeasured iterations first (default 1)")
    ap.add_argument("--json", type=Path, help="write raw per-iteration numbers and the summary here")
    args = ap.parse_args(argv)
    if args.cells < 1 or args.warmup < 0:
        ap.error("--cells must be >= 1 and --warmup >= 0")

    data = measure(args.cells, args.task, args.warmup)
    summary = report(data)
    if args.json:
        dump = {
            "task": data["task"],
            "tui": TUI,
            "model": MODEL,
            "cells": data["cells"],
            "warmup": data["warmup"],
            "agent_image": data["agent_image"],
            "scorer_image": data["scorer_image"],
            "host_setup_ms": data["host_setup_ms"],
            "machine": {
                "cpus": os.cpu_count(),
                "platform": platform.platform(),
                "python": platform.python_version(),
            },
            "summary": summary,
            "samples": [dataclasses.asdict(s) for s in data["samples"]],
        }
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(dump, indent=2, default=str) + "\n")
        console.print(f"raw numbers: {args.json}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
