"""Exports of a sweep: JSONL (the stored layout of each result, one record per line), and flat tables
(``tabular``) as CSV or Parquet. Writers take an open text file or a path; choosing where the bytes land
(stdout, or a temporary file renamed into place) is the command's job."""

from __future__ import annotations

import csv
import json
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import TextIO

from cab_cli.render.tabular import Column, Row, Value
from cab_core.schema import CellResult


def export_jsonl(results: Iterable[CellResult], fp: TextIO) -> int:
    """Write one JSON record per result (the stored layout, ``pass`` not ``passed``); returns the count."""
    n = 0
    for r in results:
        fp.write(json.dumps(r.model_dump(mode="json", by_alias=True), ensure_ascii=False) + "\n")
        n += 1
    return n


def rows_jsonl(columns: Sequence[Column], rows: Sequence[Row], fp: TextIO) -> int:
    """Write each flat row as one JSON object with every column (missing ones null); returns the count."""
    for row in rows:
        fp.write(json.dumps({name: row.get(name) for name, _ in columns}, ensure_ascii=False) + "\n")
    return len(rows)


FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
"""A spreadsheet runs a field that starts with one of these as a formula; a failure reason can quote
what an agent printed, so such text fields get a leading ``'`` (OWASP's advice on CSV injection)."""


def _csv_value(value: Value) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return "'" + value if value.startswith(FORMULA_STARTS) else value
    return str(value)  # numbers: the shortest text that reads back as the same number


def rows_csv(columns: Sequence[Column], rows: Sequence[Row], fp: TextIO) -> int:
    """Write a header and one line per row (None as an empty field, booleans as true/false); returns
    the number of rows."""
    writer = csv.writer(fp, lineterminator="\n")
    writer.writerow([name for name, _ in columns])
    for row in rows:
        writer.writerow([_csv_value(row.get(name)) for name, _ in columns])
    return len(rows)


def rows_parquet(columns: Sequence[Column], rows: Sequence[Row], path: Path) -> int:
    """Write the rows as a Parquet file with a typed column each (None as null); returns the count."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    types = {"str": pa.string(), "int": pa.int64(), "float": pa.float64(), "bool": pa.bool_()}
    schema = pa.schema([(name, types[kind]) for name, kind in columns])
    data = {name: [row.get(name) for row in rows] for name, _ in columns}
    pq.write_table(pa.Table.from_pydict(data, schema=schema), path)
    return len(rows)
