"""JSONL export: the stored layout of each result, one record per line."""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import TextIO

from cab_core.schema import CellResult


def export_jsonl(results: Iterable[CellResult], fp: TextIO) -> int:
    """Write one JSON record per result (the stored layout, ``pass`` not ``passed``); returns the count."""
    n = 0
    for r in results:
        fp.write(json.dumps(r.model_dump(mode="json", by_alias=True), ensure_ascii=False) + "\n")
        n += 1
    return n
