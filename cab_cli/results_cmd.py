"""`cab results` and `cab export`: a sweep's results read back, as a table or as a file.

``cab results SWEEP`` prints one row per cell; ``--by tui,model`` (or ``task``, ``tui,model,category``
...) prints the aggregate instead: pass rate and composite with 95 % intervals, pass@k, rerun agreement,
tokens and cost per solved task, infra cells apart. ``cab export`` writes the stored records as JSONL,
or the flat cell table or the aggregate as CSV or Parquet. Bad flags are one line and exit 2 before the
store is opened; a file is written to a temporary name beside it and renamed, so a failed export never
leaves half a file.
"""

from __future__ import annotations

import os
import sys
import tempfile
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import Annotated, TextIO

import typer

from cab_cli.common import console, err_console, fail, load_settings, store_for, wide_console
from cab_cli.render import export_jsonl, render_results_table, render_task_mix
from cab_cli.render.aggregate import render_aggregate_table
from cab_cli.render.export import rows_csv, rows_jsonl, rows_parquet
from cab_cli.render.tabular import CELL_COLUMNS, Column, Row, aggregate_columns, aggregate_row, cell_row
from cab_core.aggregate import aggregate, check_by, facts
from cab_core.errors import CabError, ConfigError
from cab_core.schema import CellResult

FORMATS = ("jsonl", "csv", "parquet")
TABLES = ("cells", "aggregate")
DEFAULT_BY = ("tui", "model")

ByOpt = Annotated[
    str | None,
    typer.Option(
        "--by",
        help="Group the aggregate by fields joined by commas: tui, model, task, category, sweep "
        "(e.g. tui,model or task).",
        show_default=False,
    ),
]


def parse_by(text: str) -> tuple[str, ...]:
    """``"tui,model"`` -> ``("tui", "model")``; a ``ConfigError`` for an unknown or repeated field."""
    return check_by([part.strip() for part in text.split(",")])


def _latest(sweep_id: str) -> list[CellResult]:
    """The latest attempt of every cell of the sweep, in the store's order."""
    try:
        return list(store_for(load_settings()).latest_by_cell(sweep_id).values())
    except CabError as e:
        fail(e)


def print_task_mix(results: list[CellResult]) -> None:
    """Say which tasks' results in the table ran more than one version of the task."""
    from cab_scheduler.status import results_task_mix

    for line in render_task_mix(results_task_mix(results)):
        console.print(line, soft_wrap=True)


def results(sweep_id: Annotated[str, typer.Argument(help="Sweep id.")], by: ByOpt = None) -> None:
    """A sweep's results table (latest attempt of every cell), or with --by its aggregate per group."""
    try:
        fields = None if by is None else parse_by(by)
    except CabError as e:
        fail(e)
    rows = _latest(sweep_id)
    if not rows:
        fail(CabError(f"no results for sweep {sweep_id!r}; run it with `cab run SWEEP.yaml`"))
    if fields is None:
        wide_console().print(render_results_table(sorted(rows, key=lambda r: r.identity.cell_id)))
    else:
        groups = aggregate([facts(r) for r in rows], fields)
        table, out = render_aggregate_table(groups, fields), wide_console()
        whole = out.measure(table, options=out.options.update_width(1000)).maximum
        out.width = max(out.width, whole)  # every column whole: no "pass…"
        out.print(table)
    print_task_mix(rows)


def _check_export(fmt: str, table: str, by: str | None, output: Path | None) -> tuple[str, ...]:
    """The grouping of the aggregate, after every flag is checked; a ``ConfigError`` for a bad one."""
    if fmt not in FORMATS:
        raise ConfigError(f"unknown format {fmt!r}; use --format jsonl, csv or parquet")
    if table not in TABLES:
        raise ConfigError(f"unknown table {table!r}; use --table cells or --table aggregate")
    if by is not None and table != "aggregate":
        raise ConfigError("--by groups the aggregate; add --table aggregate")
    if fmt == "parquet" and output is None:
        raise ConfigError("parquet is binary; write it to a file with -o FILE")
    return DEFAULT_BY if by is None else parse_by(by)


def _flat(results: list[CellResult], table: str, by: tuple[str, ...]) -> tuple[list[Column], list[Row]]:
    if table == "cells":
        return CELL_COLUMNS, [cell_row(r) for r in sorted(results, key=lambda r: r.identity.cell_id)]
    groups = aggregate([facts(r) for r in results], by)
    return aggregate_columns(by, groups), [aggregate_row(g) for g in groups]


def export(
    sweep_id: Annotated[str, typer.Argument(help="Sweep id.")],
    fmt: Annotated[str, typer.Option("--format", help="jsonl, csv or parquet (parquet needs -o).")] = "jsonl",
    table: Annotated[
        str, typer.Option("--table", help="cells (one row per cell) or aggregate (one row per group).")
    ] = "cells",
    by: ByOpt = None,
    output: Annotated[Path | None, typer.Option("-o", "--output", help="File; default stdout.")] = None,
) -> None:
    """Write a sweep's results: JSONL records, or the cell table or aggregate (--by, default tui,model)
    as CSV or Parquet."""
    try:
        fields = _check_export(fmt, table, by, output)
    except CabError as e:
        fail(e)
    results = _latest(sweep_id)
    text, to_path = _writers(fmt, table, fields, results)
    if output is None:
        assert text is not None  # parquet without -o was refused above
        text(sys.stdout)
        return
    try:
        n = write_atomically(output, to_path)
    except CabError as e:
        fail(e)
    err_console.print(f"wrote {n} records to {output}")


def _writers(
    fmt: str, table: str, by: tuple[str, ...], results: list[CellResult]
) -> tuple[Callable[[TextIO], int] | None, Callable[[Path], int]]:
    """What writes the export to an open text file (None: a binary format) and to a path."""
    if fmt == "jsonl" and table == "cells":
        text: Callable[[TextIO], int] = partial(export_jsonl, results)
    else:
        columns, rows = _flat(results, table, by)
        if fmt == "parquet":
            return None, partial(rows_parquet, columns, rows)
        text = partial(rows_jsonl if fmt == "jsonl" else rows_csv, columns, rows)
    return text, partial(_to_text_file, write=text)


def _to_text_file(path: Path, write: Callable[[TextIO], int]) -> int:
    with path.open("w", encoding="utf-8", newline="") as fp:
        return write(fp)


def write_atomically(output: Path, write: Callable[[Path], int]) -> int:
    """Run ``write`` on a temporary file beside ``output``, then rename it into place: a failure leaves
    ``output`` as it was. The file gets the permissions a plain ``open`` would give it."""
    try:
        fd, name = tempfile.mkstemp(dir=output.parent, prefix=f".{output.name}.", suffix=".tmp")
    except OSError as e:
        raise ConfigError(f"cannot write {output}: {e.strerror}; give -o a file in a writable folder") from e
    os.close(fd)
    tmp = Path(name)
    try:
        umask = os.umask(0)
        os.umask(umask)
        tmp.chmod(0o666 & ~umask)
        n = write(tmp)
        os.replace(tmp, output)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return n


def register(app: typer.Typer) -> None:
    app.command()(results)
    app.command()(export)
