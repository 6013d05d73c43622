"""`cab results --by` and `cab export --format csv|parquet` over a store of hand-made results: what is
printed and exported equals the numbers worked out by hand (the arithmetic is in the comments).

The sweep ``agg``:
    aider x m/a   p/x pass, pass, fail; p/y fail, fail; q/z pass, then a cell lost to infra
                  (every graded aider cell costs $0.002 and records 4,143 tokens)
    codex x m/a   p/x pass, pass (run 2 failed at attempt 1, passed at attempt 2); tokens never recorded
"""

from __future__ import annotations

import csv
import io
import json
import os
import stat
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from cab_cli.render.tabular import CELL_COLUMNS
from cab_cli.results_cmd import write_atomically
from cab_core.schema import CellResult, FailureClass
from cab_core.store import ResultStore
from tests.cab_cli.test_cli import cab, error_line
from tests.cab_core.store.factories import make_result

pytestmark = pytest.mark.unit

SWEEP = "agg"
INJECTION = '=HYPERLINK("http://evil.example")'
"""A failure reason a spreadsheet would run as a formula."""


def _cell(
    tui: str, task: str, run: int, *, passed: int = 1, attempt: int = 1, infra: bool = False
) -> CellResult:
    if infra:
        return make_result(
            sweep_id=SWEEP,
            tui=tui,
            model="m/a",
            task_id=task,
            run=run,
            attempt=attempt,
            failure_class=FailureClass.infra,
            scored=False,
            reason=INJECTION,
        )
    result = make_result(
        sweep_id=SWEEP,
        tui=tui,
        model="m/a",
        task_id=task,
        run=run,
        attempt=attempt,
        passed=passed,
        tokens=tui == "aider",
    )
    if tui != "aider":
        return result
    assert result.axes is not None
    tokens = result.axes.tokens.model_copy(update={"cost_usd": 0.002})
    return result.model_copy(update={"axes": result.axes.model_copy(update={"tokens": tokens})})


RESULTS = [
    _cell("aider", "p/x", 1),
    _cell("aider", "p/x", 2),
    _cell("aider", "p/x", 3, passed=0),
    _cell("aider", "p/y", 1, passed=0),
    _cell("aider", "p/y", 2, passed=0),
    _cell("aider", "q/z", 1),
    _cell("aider", "q/z", 2, infra=True),
    _cell("codex", "p/x", 1),
    _cell("codex", "p/x", 2, passed=0),
    _cell("codex", "p/x", 2, attempt=2),
]


@pytest.fixture(scope="module")
def home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    home = tmp_path_factory.mktemp("results") / "home"
    home.mkdir()
    with ResultStore(f"sqlite:///{home / 'cab.db'}") as store:
        store.create_schema()
        for r in RESULTS:
            store.upsert_result(r)
    return home


def _ok(*args: str, home: Path) -> str:
    done = cab(*args, home=home)
    assert done.returncode == 0, done.stderr
    return done.stdout


def _rows(table: str) -> dict[str, list[str]]:
    """The body rows of a printed table, keyed by their first cell."""
    rows = [[c.strip() for c in line.split("│")[1:-1]] for line in table.splitlines() if line.startswith("│")]
    return {r[0]: r for r in rows}


def test_results_by_tui_and_model(home: Path) -> None:
    rows = _rows(_ok("results", SWEEP, "--by", "tui,model", home=home))
    # 7 cells, 1 infra: 3 of 6 graded passed. Wilson 3/6: centre .5, half 1.96*sqrt(.041667+.026677)/1.640243
    # = .312384. Composite per task: p/x (2*.96218+.31)/3=.744786, p/y .31, q/z .96218 -> mean .672322;
    # with 3 tasks each extreme has a 1/27 > 2.5 % chance per resample: the interval is [.310, .962].
    # k = 1 (q/z has one graded run); pass@1 = mean(2/3, 0, 1) = 55.6 %; p/x and p/y reran, p/y agrees.
    # tokens 6 * 4,143 / 3 solved = 8,286; cost 6 * .002 / 3 = .004; the infra cell is 1 of 7 = 14 %.
    assert rows["aider"] == [
        *("aider", "m/a", "7", "3/6", "50.0% [18.8%-81.2%]", "0.672 [0.310-0.962]", "3", "1"),
        *("55.6%", "55.6%", "50% of 2", "8,286", "$0.0040", "11.7", "1 (14%)"),
    ]
    # Wilson 2/2: scale 2.920729, centre .671191, half .328810 -> low .342381. One task, so the composite
    # interval is the single value; both reruns of p/x (latest attempts) pass: pass@2 = pass^2 = 1.
    assert rows["codex"] == [
        *("codex", "m/a", "2", "2/2", "100.0% [34.2%-100.0%]", "0.962 [0.962-0.962]", "1", "2"),
        *("100.0%", "100.0%", "100% of 1", "unknown", "unknown", "11.7", "0"),
    ]


def test_results_by_task_pools_every_agent(home: Path) -> None:
    rows = _rows(_ok("results", SWEEP, "--by", "task", home=home))
    # p/x: 5 graded, 4 passed. Wilson 4/5: centre .669654, half .294121. k = 5: pass@5 = 1 - C(1,5)/C(5,5)
    # = 1, pass^5 = C(4,5)/C(5,5) = 0. Tokens known for the 3 aider cells: 12,429 / 4 solved = 3,107.
    assert rows["p/x"][1:5] == ["5", "4/5", "80.0% [37.6%-96.4%]", "0.832 [0.832-0.832]"]
    assert rows["p/x"][6:] == [
        "5",
        "100.0%",
        "0.0%",
        "0% of 1",
        "3,107 (3 of 5)",
        "$0.0015 (3 of 5)",
        "11.7",
        "0",
    ]
    assert rows["p/y"][3] == "0.0% [0.0%-65.8%]" and rows["p/y"][10:12] == ["-", "-"]  # nothing solved
    assert rows["q/z"][1:3] == ["2", "1/1"] and rows["q/z"][-1] == "1 (50%)"


def test_results_without_by_is_the_cell_table(home: Path) -> None:
    out = _ok("results", SWEEP, home=home)
    assert "q/z" in out and "infra" in out and "stays" not in out
    assert sum(1 for line in out.splitlines() if line.startswith("│")) == 9  # latest attempts only


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (
            ("results", SWEEP, "--by", "tui,colour"),
            "unknown group field 'colour'; group by any of tui, model",
        ),
        (("results", SWEEP, "--by", "tui,tui"), "group field 'tui' given twice"),
        (("results", "nosuch"), "no results for sweep 'nosuch'"),
    ],
)
def test_results_bad_input_is_one_line(home: Path, args: tuple[str, ...], needle: str) -> None:
    done = cab(*args, home=home)
    assert done.returncode == 2 and needle in error_line(done)
    assert done.stdout == ""


def test_export_cells_as_csv(home: Path, tmp_path: Path) -> None:
    out = tmp_path / "cells.csv"
    done = cab("export", SWEEP, "--format", "csv", "-o", str(out), home=home)
    assert done.returncode == 0 and f"wrote 9 records to {out}" in done.stderr
    text = out.read_text()
    assert _ok("export", SWEEP, "--format", "csv", home=home) == text  # stdout: the same bytes
    reader = csv.DictReader(io.StringIO(text))
    assert reader.fieldnames == [name for name, _ in CELL_COLUMNS]
    rows = {r["cell_id"]: r for r in reader}
    assert len(rows) == 9
    first = rows["agg/aider/m/a/p/x"]
    assert (first["passed"], first["composite"], first["total_tokens"], first["cost_usd"]) == (
        "true",
        "0.9621796428558476",
        "4143",
        "0.002",
    )
    assert (first["prompt_tokens"], first["completion_tokens"], first["token_source"]) == (
        "3900",
        "243",
        "proxy",
    )
    assert (first["tests_passed"], first["tests_total"], first["partial_score"]) == ("3", "3", "1.0")
    codex = rows["agg/codex/m/a/p/x#run2"]
    assert (codex["attempt"], codex["passed"], codex["total_tokens"], codex["token_source"]) == (
        "2",
        "true",
        "",
        "none",
    )  # unknown tokens are empty, never 0
    lost = rows["agg/aider/m/a/q/z#run2"]
    assert (lost["infra"], lost["failure_class"], lost["composite"], lost["blast_radius"]) == (
        "true",
        "infra",
        "",
        "",
    )
    assert lost["failure_reason"] == "'" + INJECTION  # never a live formula
    assert (lost["total_tokens"], lost["token_source"]) == ("4143", "model_calls")


def test_export_aggregate_as_parquet(home: Path, tmp_path: Path) -> None:
    out = tmp_path / "agg.parquet"
    _ok("export", SWEEP, "--format", "parquet", "--table", "aggregate", "-o", str(out), home=home)
    table = pq.read_table(out)
    assert table.schema.field("tui").type == pa.string()
    assert table.schema.field("k").type == pa.int64()
    assert table.schema.field("pass_ci_low").type == pa.float64()
    assert table.schema.field("mean_tokens").type == pa.float64()
    aider, codex = table.to_pylist()
    assert (aider["tui"], aider["model"], aider["cells"], aider["graded"], aider["infra"]) == (
        "aider",
        "m/a",
        7,
        6,
        1,
    )
    assert (round(aider["pass_ci_low"], 4), round(aider["pass_ci_high"], 4)) == (0.1876, 0.8124)
    assert aider["pass_at_1"] == pytest.approx(5 / 9) and aider["pass_at_2"] is None  # aider's k is 1
    assert (aider["tokens_per_solved"], aider["cost_per_solved"]) == (8286.0, pytest.approx(0.004))
    assert (codex["pass_at_2"], codex["pass_hat_2"], codex["k"]) == (1.0, 1.0, 2)
    assert (codex["tokens_known"], codex["mean_tokens"], codex["tokens_per_solved"]) == (0, None, None)
    assert codex["composite_ci_low"] == codex["composite_ci_high"] == pytest.approx(0.9621796428558476)


def test_export_cells_as_parquet_keeps_types_and_nulls(home: Path, tmp_path: Path) -> None:
    out = tmp_path / "cells.parquet"
    _ok("export", SWEEP, "--format", "parquet", "-o", str(out), home=home)
    table = pq.read_table(out)
    assert table.column_names == [name for name, _ in CELL_COLUMNS]
    assert table.schema.field("total_tokens").type == pa.int64()
    assert table.schema.field("passed").type == pa.bool_()
    rows = {r["cell_id"]: r for r in table.to_pylist()}
    assert rows["agg/codex/m/a/p/x"]["total_tokens"] is None
    assert rows["agg/aider/m/a/q/z#run2"]["composite"] is None
    assert rows["agg/aider/m/a/p/y"]["composite"] == 0.31


def test_export_jsonl_stays_the_stored_records_and_the_aggregate_is_flat(home: Path) -> None:
    records = [json.loads(line) for line in _ok("export", SWEEP, home=home).splitlines()]
    assert len(records) == 9 and all(CellResult.model_validate(r) for r in records)
    groups = [
        json.loads(line)
        for line in _ok("export", SWEEP, "--table", "aggregate", "--by", "task", home=home).splitlines()
    ]
    assert [g["task"] for g in groups] == ["p/x", "p/y", "q/z"]
    assert groups[1]["pass_at_2"] == 0.0 and groups[1]["pass_at_3"] is None  # p/y reran twice; p/x five times


BAD_EXPORTS = {
    "format": (("--format", "xml"), "unknown format 'xml'; use --format jsonl, csv or parquet"),
    "table": (("--format", "csv", "--table", "rows"), "unknown table 'rows'; use --table cells"),
    "by_without_aggregate": (("--format", "csv", "--by", "tui"), "--by groups the aggregate"),
    "by": (("--format", "csv", "--table", "aggregate", "--by", "tui,colour"), "unknown group field 'colour'"),
}


@pytest.mark.parametrize("case", sorted(BAD_EXPORTS))
def test_bad_export_is_one_line_and_writes_nothing(home: Path, tmp_path: Path, case: str) -> None:
    args, needle = BAD_EXPORTS[case]
    out = tmp_path / "kept.csv"
    out.write_text("earlier export\n")
    done = cab("export", SWEEP, *args, "-o", str(out), home=home)
    assert done.returncode == 2 and needle in error_line(done)
    assert out.read_text() == "earlier export\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["kept.csv"]


def test_parquet_needs_a_file_and_a_missing_folder_is_one_line(home: Path, tmp_path: Path) -> None:
    done = cab("export", SWEEP, "--format", "parquet", home=home)
    assert done.returncode == 2 and "parquet is binary; write it to a file with -o FILE" in error_line(done)
    assert done.stdout == ""
    missing = tmp_path / "nope" / "x.csv"
    done = cab("export", SWEEP, "--format", "csv", "-o", str(missing), home=home)
    assert done.returncode == 2 and f"cannot write {missing}" in error_line(done)
    assert not missing.parent.exists()


def test_a_failed_write_leaves_the_file_as_it_was(tmp_path: Path) -> None:
    out = tmp_path / "out.csv"
    out.write_text("old\n")

    def half_then_fail(path: Path) -> int:
        path.write_text("half a fi")
        raise RuntimeError("disk full")

    with pytest.raises(RuntimeError, match="disk full"):
        write_atomically(out, half_then_fail)
    assert out.read_text() == "old\n"
    assert [p.name for p in tmp_path.iterdir()] == ["out.csv"]

    assert write_atomically(out, lambda path: path.write_text("new\n") and 1) == 1
    assert out.read_text() == "new\n"
    umask = os.umask(0)
    os.umask(umask)
    assert stat.S_IMODE(out.stat().st_mode) == 0o666 & ~umask  # as a plain open() would make it
