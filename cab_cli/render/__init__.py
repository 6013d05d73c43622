"""Pure renderers: nothing here prints or reads the store; callers hand in records and print what comes
back. Unknown values read ``unknown (not recorded)``, never 0; secret-looking values are masked.

    redact      masking of secret-looking values (keys, tokens, URL passwords)
    values      unknowns, UTC times, a cell's tokens and cost
    cell_page   one cell as a page (`cab show`)
    rerun       "run it yourself": the image, the command, a one-cell sweep
    tables      the results table, one row per cell (`cab run`, `cab results`)
    aggregate   the aggregate per group with its intervals (`cab results --by`)
    status      the progress table of a distributed sweep (`cab status`), and the notice of a sweep
                whose results mix versions of a task (`cab status`, `cab results`, `cab run`)
    tabular     flat rows of cells or groups, with typed columns (`cab export --format csv|parquet`)
    export      JSONL records, CSV and Parquet files (`cab export`)
"""

from __future__ import annotations

from cab_cli.render.aggregate import render_aggregate_table
from cab_cli.render.cell_page import render_cell
from cab_cli.render.export import export_jsonl
from cab_cli.render.status import render_status_table, render_task_mix
from cab_cli.render.tables import render_results_table
from cab_site.present.redact import MASK, redact
from cab_site.present.rerun import image_ref, run_it_yourself
from cab_site.present.values import UNKNOWN, token_total

__all__ = [
    "MASK",
    "UNKNOWN",
    "export_jsonl",
    "image_ref",
    "redact",
    "render_aggregate_table",
    "render_cell",
    "render_results_table",
    "render_status_table",
    "render_task_mix",
    "run_it_yourself",
    "token_total",
]
