"""What a per-task environment costs: its image's build time, cold and cached, for every task of the
catalogue that has one, and what it adds to each cell against the shared base image, in one run.

Run from the repo root (cab's base and reference images are built first when missing; not counted)::

    .venv/bin/python bench/task_env.py [--tasks 'polyglot/*'] [--cells 5]
                                       [--overhead-task polyglot/python-semver-sort] [--json out.json]

Part 1, per task with ``environment/Dockerfile`` (``tasks/*/*/environment``):

* **cold**: ``docker build --no-cache`` of the environment on the present base image, under a
  throwaway tag: every step runs, no layer is reused from Docker's layer cache (whatever built it
  before), and every package is downloaded again (apt, pip, npm); only the base image and the
  network's and mirror's own caches are warm. This is what the first host that needs the image
  pays when no registry has it;
* **cached**: ``ImageBuilder.ensure_task_image`` when the content tag exists: hashing the
  environment folder and asking Docker for the tag; what every later cell of that task pays;
* **TUI layer**: cold and cached for the reference agent's layer on the task image (the agent image
  of the task's cells);
* **size**: what the environment adds to the base image.

Part 2, the same task content run both ways: ``--overhead-task`` copied twice into a temp catalogue,
once as it is (shared base) and once with an environment that installs one Debian package (``jq``),
``--cells`` oracle cells of each, interleaved (base, env, base, env, ...) on one host set up like
``cab run``; the env variant's images are built before the measurement. Per cell: the whole cell
(``timing.duration_s``) and its ``task_setup`` span (where the images are resolved). The ratio is env
over base, medians. Nothing is asserted.
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from cab_core.logging import configure  # noqa: E402
from cab_core.paths import TaskPaths  # noqa: E402
from cab_core.schema import CellResult, CellSpec, make_cell_id  # noqa: E402
from cab_core.settings import Settings  # noqa: E402
from cab_scheduler.catalog import TaskCatalog  # noqa: E402
from cab_workers.cell.pipeline import run_cell  # noqa: E402
from cab_workers.composition import LocalHost  # noqa: E402
from cab_workers.host.build_context import context_tar  # noqa: E402
from cab_workers.host.images import ImageBuilder  # noqa: E402
from cab_workers.host.sandbox import Sandbox  # noqa: E402
from cab_workers.host.task_images import environment_tasks, task_image_name  # noqa: E402

ENV_DOCKERFILE = """\
ARG BASE=cab/base:latest
FROM ${BASE}
USER root
RUN apt-get update && apt-get install -y --no-install-recommends jq && rm -rf /var/lib/apt/lists/*
USER agent
WORKDIR /work
"""
"""The environment the overhead variant gets: one small Debian package, the shape most tasks use."""


def timed(fn: Any, *args: Any, **kw: Any) -> tuple[Any, float]:
    t0 = time.perf_counter()
    out = fn(*args, **kw)
    return out, time.perf_counter() - t0


def size_mb(sandbox: Sandbox, tag: str) -> float:
    return float(sandbox.client.images.get(tag).attrs["Size"]) / 1e6


def cold_build(builder: ImageBuilder, paths: TaskPaths, base: str, tag: str, lines: list[str]) -> float:
    """Seconds of a ``--no-cache`` build of the environment as ``tag`` (a throwaway tag)."""
    context = context_tar("bench", paths.environment, [], ca_bundle=builder.ca_bundle, wheelhouse=None)
    _, seconds = timed(
        builder.run_build,
        "bench",
        tag,
        context,
        {"BASE": base},
        {"cab.bench": "1"},
        lines.append,
        nocache=True,
    )
    return seconds


def cold_tui(builder: ImageBuilder, parent: str, tag: str) -> float:
    folder = builder.folder("reference")  # the context ensure_on builds from (no extra entries)
    context = context_tar("reference", folder, [], ca_bundle=builder.ca_bundle, wheelhouse=None)
    _, seconds = timed(
        builder.run_build,
        "bench",
        tag,
        context,
        {"BASE": parent},
        {"cab.bench": "1"},
        lambda _: None,
        nocache=True,
    )
    return seconds


def build_times(builder: ImageBuilder, sandbox: Sandbox, tasks: list[TaskPaths]) -> list[dict[str, Any]]:
    """Part 1: per task environment, cold (no layer cache) and cached, and its reference layer."""
    base = builder.ensure(["base"])[-1].tag
    base_mb = size_mb(sandbox, base)
    rows = []
    for paths in tasks:
        name = task_image_name(builder.prefix, paths, base)
        row: dict[str, Any] = {"task": name.task_id, "tag": name.tag}
        lines: list[str] = []
        throwaway = f"cab-bench/{name.name}:cold"
        try:
            row["cold_s"] = cold_build(builder, paths, base, throwaway, lines)
            row["added_mb"] = size_mb(sandbox, throwaway) - base_mb
            row["tui_cold_s"] = cold_tui(builder, throwaway, "cab-bench/reference-on-task:cold")
        except Exception as e:  # noqa: BLE001 - a report: one failed task is a row, not the end
            row["error"] = str(e).splitlines()[0][:200]
            rows.append(row)
            print(f"{name.task_id}: {row['error']}", file=sys.stderr, flush=True)
            continue
        finally:
            for tag in ("cab-bench/reference-on-task:cold", throwaway):
                if sandbox.image_id(tag):
                    sandbox.client.images.remove(tag, force=True)
        ref = builder.ensure_task_image(paths)  # the real tag (built now if nobody had it: not counted)
        assert ref is not None
        builder.ensure_on("reference", ref.tag)
        cached = [timed(builder.ensure_task_image, paths)[1] for _ in range(5)]
        tui_cached = [timed(builder.ensure_on, "reference", ref.tag)[1] for _ in range(5)]
        row.update(
            cached_ms=statistics.median(cached) * 1000,
            tui_cached_ms=statistics.median(tui_cached) * 1000,
            steps=sum(": Step " in line for line in lines),
            reused=sum("Using cache" in line for line in lines),
        )
        rows.append(row)
        print(f"{name.task_id}: {row}", file=sys.stderr, flush=True)
    return rows


def overhead_catalogue(task_id: str) -> Path:
    """A temp catalogue holding ``task_id`` twice: ``bench/base`` as it is, ``bench/env`` plus an
    environment. Same work dir, hidden tests and solution."""
    root = Path(tempfile.mkdtemp(prefix="cab-bench-tasks-"))
    source = TaskCatalog(REPO / "tasks").paths(task_id).root
    for slug in ("base", "env"):
        dest = root / "bench" / slug
        shutil.copytree(source, dest, ignore=shutil.ignore_patterns("environment"))
        spec = (dest / "task.yaml").read_text().splitlines()
        spec = ["category: bench" if s.startswith("category:") else s for s in spec]
        spec = [f"slug: {slug}" if s.startswith("slug:") else s for s in spec]
        (dest / "task.yaml").write_text("\n".join(spec) + "\n")
    (root / "bench" / "env" / "environment").mkdir()
    (root / "bench" / "env" / "environment" / "Dockerfile").write_text(ENV_DOCKERFILE)
    return root


def measure(result: CellResult) -> dict[str, Any]:
    setup = next(s for s in result.spans if s.kind == "task_setup")
    return {
        "passed": bool(result.axes and result.axes.pass_rate.passed),
        "failure": result.failure.failure_class.value,
        "cell_s": result.timing.duration_s,
        "setup_ms": setup.duration_ms,
        "task_image": result.identity.task_image,
    }


def overhead(task_id: str, cells: int) -> dict[str, list[dict[str, Any]]]:
    """Part 2: oracle cells of the same task content, shared base vs its own environment."""
    root = overhead_catalogue(task_id)
    settings = Settings(home=Path(tempfile.mkdtemp(prefix="cab-bench-")), tasks_dir=root)
    configure(settings.cab_home.ensure().logs / "cab.log")  # as in `cab run`: logs to a file, not stdout
    catalog = TaskCatalog(root)
    rows: dict[str, list[dict[str, Any]]] = {"base": [], "env": []}
    with LocalHost(settings, progress=lambda m: None) as host:
        assert host.ctx is not None
        env_ref = host.image_builder.ensure_task_image(catalog.paths("bench/env"))  # outside the measurement
        assert env_ref is not None
        host.image_builder.ensure_on("reference", env_ref.tag)
        for run in range(0, cells + 1):  # run 0 is a warm-up of both, not counted
            for variant in ("base", "env"):
                task = catalog.load(f"bench/{variant}")
                cell = CellSpec(
                    cell_id=make_cell_id("bench", "reference", "scripted/oracle", task.task_id, run + 1),
                    sweep_id="bench",
                    tui="reference",
                    model="scripted/oracle",
                    task=task,
                    run=run + 1,
                )
                row = measure(run_cell(cell, host.ctx))
                if run:
                    rows[variant].append(row)
                print(f"{variant} #{run}: {row}", file=sys.stderr, flush=True)
    shutil.rmtree(root, ignore_errors=True)
    return rows


def med(rows: list[dict[str, Any]], key: str) -> float | None:
    values = [r[key] for r in rows if r.get(key) is not None]
    return statistics.median(values) if values else None


def fmt(value: float | None, spec: str = "{:.1f}") -> str:
    return "-" if value is None else spec.format(value)


def report(builds: list[dict[str, Any]], cells: dict[str, list[dict[str, Any]]], task_id: str) -> None:
    print("\nTask environment images: build time (cold = --no-cache on the present base image)\n")
    print("| task | cold build | cached ensure | + reference layer, cold | cached | adds to base | steps |")
    print("|---|---|---|---|---|---|---|")
    for r in builds:
        if "error" in r:
            print(f"| {r['task']} | failed: {r['error']} | | | | | |")
            continue
        print(
            f"| {r['task']} | {r['cold_s']:.1f} s | {r['cached_ms']:.0f} ms | {r['tui_cold_s']:.1f} s | "
            f"{r['tui_cached_ms']:.0f} ms | {r['added_mb']:.0f} MB | {r['steps']} ({r['reused']} cached) |"
        )
    n = len(cells["base"])
    print(f"\nPer-cell overhead of a task environment ({task_id}, oracle, median of {n} cells each)\n")
    print("| | shared base | own environment | env / base |")
    print("|---|---|---|---|")
    for key, label, unit, spec in (
        ("cell_s", "whole cell", "s", "{:.2f}"),
        ("setup_ms", "task_setup", "ms", "{:.0f}"),
    ):
        b, e = med(cells["base"], key), med(cells["env"], key)
        ratio = e / b if b and e is not None else None
        print(f"| {label} | {fmt(b, spec)} {unit} | {fmt(e, spec)} {unit} | {fmt(ratio, '{:.2f}')} |")
    passed = {v: f"{sum(r['passed'] for r in rows)}/{len(rows)}" for v, rows in cells.items()}
    print(f"| passed | {passed['base']} | {passed['env']} | |")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--tasks", default="*", help="selector of catalogue tasks (only those with an environment)"
    )
    parser.add_argument("--cells", type=int, default=5)
    parser.add_argument("--overhead-task", default="polyglot/python-semver-sort")
    parser.add_argument("--json", type=Path, default=None)
    args = parser.parse_args(argv)
    settings = Settings()
    sandbox = Sandbox()
    builder = ImageBuilder(
        sandbox, settings.images_dir, prefix=settings.image_prefix, ca_bundle=settings.ca_bundle,
        lock_dir=settings.cab_home.root / "locks",
    )  # fmt: skip
    catalog = TaskCatalog(REPO / "tasks")
    wanted = {t.task_id for t in catalog.resolve(args.tasks.split(","))}
    tasks = [p for p in environment_tasks(REPO / "tasks") if f"{p.root.parent.name}/{p.root.name}" in wanted]
    t0 = time.perf_counter()
    builds = build_times(builder, sandbox, tasks)
    cells = overhead(args.overhead_task, args.cells)
    report(builds, cells, args.overhead_task)
    print(f"\n(bench wall time {time.perf_counter() - t0:.0f} s)")
    if args.json:
        args.json.write_text(json.dumps({"builds": builds, "cells": cells}, indent=2))


if __name__ == "__main__":
    main()
