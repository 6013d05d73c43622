"""The `cab` command as a user runs it: a real subprocess, real Docker, real stores."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

from cab_core.schema import FailureClass
from cab_core.store import ResultStore

REPO = Path(__file__).resolve().parents[2]
CAB = str(Path(sys.executable).parent / "cab")

SMALL_SWEEP = """\
sweep_id: clitest
tuis: [reference]
models: [scripted/oracle, scripted/noop]
tasks: [polyglot/python-semver-sort, polyglot/js-query-string]
slots: 2
timeouts: {agent_s: 30, test_s: 120, setup_s: 30}
"""


def cab(
    *args: str, home: Path, env: dict[str, str] | None = None, timeout: float = 600
) -> subprocess.CompletedProcess:
    full_env = {k: v for k, v in os.environ.items() if k != "CAB_STORE_URL"}
    full_env.update({"CAB_HOME": str(home), "COLUMNS": "200", **(env or {})})
    return subprocess.run(
        [CAB, *args], cwd=REPO, env=full_env, capture_output=True, text=True, timeout=timeout
    )


def error_line(done: subprocess.CompletedProcess) -> str:
    lines = [ln for ln in done.stderr.splitlines() if ln.strip()]
    assert len(lines) == 1, f"expected one error line, got: {done.stderr!r}"
    assert lines[0].startswith("error: ")
    return lines[0]


# --- bad input: one line, nothing changed --------------------------------------------------------

BAD_SWEEPS = {
    "unknown_tui": (SMALL_SWEEP.replace("[reference]", "[nosuchtui]"), "unknown TUI 'nosuchtui'"),
    "unknown_task": (SMALL_SWEEP.replace("polyglot/js-query-string", "polyglot/nope"), "polyglot/nope"),
    "missing_field": ("sweep_id: x\ntuis: [reference]\ntasks: ['*']\n", "models"),
    "bad_yaml": ("sweep_id: [unclosed\n", "not valid YAML"),
    "bad_reruns": (SMALL_SWEEP + "reruns: 0\n", "reruns"),
    "bad_sweep_id": (SMALL_SWEEP.replace("clitest", "Bad Id!"), "sweep_id"),
    "cost_budget_unpriced_model": (
        SMALL_SWEEP.replace("scripted/noop]", "vendor/unpriced]") + "budget: {max_cost_usd: 5}\n",
        "model 'vendor/unpriced' has no price",
    ),
    "empty_budget": (SMALL_SWEEP + "budget: {}\n", "a budget needs max_tokens or max_cost_usd"),
}


@pytest.mark.unit
@pytest.mark.parametrize("case", sorted(BAD_SWEEPS))
def test_bad_sweep_gives_one_line_and_changes_nothing(case: str, tmp_path: Path) -> None:
    text, needle = BAD_SWEEPS[case]
    sweep = tmp_path / "sweep.yaml"
    sweep.write_text(text)
    home = tmp_path / "home"
    done = cab("run", str(sweep), home=home)
    assert done.returncode == 2
    assert needle in error_line(done)
    assert not (home / "cab.db").exists(), "bad input must not create or touch the store"
    assert not (home / "cells").exists()


@pytest.mark.docker
def test_a_spent_token_budget_stops_starting_cells(images, tmp_path: Path) -> None:  # noqa: ANN001
    sweep = tmp_path / "sweep.yaml"
    sweep.write_text(SMALL_SWEEP.replace("slots: 2", "slots: 1") + "budget: {max_tokens: 1}\n")
    home = tmp_path / "home"
    done = cab("run", str(sweep), home=home)
    assert done.returncode == 0, done.stderr
    assert "budget: token budget spent" in done.stdout and "3 cells not started" in done.stdout
    with ResultStore(f"sqlite:///{home / 'cab.db'}") as store:
        assert len(store.latest_by_cell("clitest")) == 1  # the first ran; nothing was stored for the rest
        assert store.sweep_spend("clitest").tokens > 1


@pytest.mark.unit
def test_missing_sweep_file_is_one_line(tmp_path: Path) -> None:
    done = cab("run", str(tmp_path / "nope.yaml"), home=tmp_path / "home")
    assert done.returncode == 2
    assert "no such sweep file" in error_line(done)


@pytest.mark.unit
def test_show_unknown_cell_is_one_line(tmp_path: Path) -> None:
    done = cab("show", "x/reference/m/polyglot/t", home=tmp_path / "home")
    assert done.returncode == 2
    assert "no result for cell" in error_line(done)


# --- a small sweep, end to end ------------------------------------------------------------------


@pytest.fixture(scope="module")
def ran(
    images, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[Path, Path, subprocess.CompletedProcess]]:  # noqa: ANN001
    root = tmp_path_factory.mktemp("cli")
    sweep = root / "sweep.yaml"
    sweep.write_text(SMALL_SWEEP)
    home = root / "home"
    done = cab("run", str(sweep), home=home)
    yield sweep, home, done


@pytest.mark.docker
def test_run_prints_table_and_how_to_look_at_a_cell(ran) -> None:  # noqa: ANN001
    _, home, done = ran
    assert done.returncode == 0, done.stderr
    assert "4 cells, 0 already final, 4 to run" in done.stdout
    assert "cab show 'clitest/reference/scripted/oracle/" in done.stdout
    with ResultStore(f"sqlite:///{home / 'cab.db'}") as store:
        results = store.latest_by_cell("clitest")
    assert len(results) == 4
    by_model = {(r.model, r.task_id): r for r in (x.identity for x in results.values())}
    assert len(by_model) == 4
    for r in results.values():
        assert r.failure.failure_class == FailureClass.none, r.failure.reason
        assert r.axes is not None
        assert r.axes.pass_rate.passed == (1 if r.identity.model.endswith("oracle") else 0)
    assert not any((home / "cells").iterdir())


@pytest.mark.docker
def test_rerun_resumes_and_reruns_only_infra_failures(ran) -> None:  # noqa: ANN001
    sweep, home, _ = ran
    again = cab("run", str(sweep), home=home)
    assert again.returncode == 0, again.stderr
    assert "4 cells, 4 already final, 0 to run" in again.stdout

    with ResultStore(f"sqlite:///{home / 'cab.db'}") as store:
        victim = sorted(store.latest_by_cell("clitest").values(), key=lambda r: r.identity.cell_id)[0]
        infra = victim.model_copy(
            update={
                "identity": victim.identity.model_copy(update={"attempt": victim.identity.attempt + 1}),
                "failure": victim.failure.model_copy(
                    update={"failure_class": FailureClass.infra, "reason": "test: docker died"}
                ),
            }
        )
        store.upsert_result(infra)
        third = cab("run", str(sweep), home=home)
        assert third.returncode == 0, third.stderr
        assert "4 cells, 3 already final, 1 to run" in third.stdout
        latest = store.get(victim.identity.cell_id)
    assert latest is not None
    assert latest.identity.attempt == infra.identity.attempt + 1
    assert latest.failure.failure_class == FailureClass.none


@pytest.mark.docker
def test_show_results_and_export(ran, tmp_path: Path) -> None:  # noqa: ANN001
    _, home, _ = ran
    cell_id = "clitest/reference/scripted/oracle/polyglot/python-semver-sort"
    shown = cab("show", cell_id, home=home)
    assert shown.returncode == 0, shown.stderr
    for section in (
        "Per-axis scores",
        "Run identity",
        "Timing",
        "Scorer breakdown",
        "Trace spans",
        "Model calls",
        "Run it yourself",
    ):
        assert section in shown.stdout
    assert cell_id in shown.stdout
    assert "not recorded" not in shown.stdout.split("Model calls")[0].split("Timing")[1]

    table = cab("results", "clitest", home=home)
    assert table.returncode == 0 and "python-semver-sort" in table.stdout

    out = tmp_path / "cells.jsonl"
    exported = cab("export", "clitest", "--format", "jsonl", "-o", str(out), home=home)
    assert exported.returncode == 0, exported.stderr
    records = [json.loads(line) for line in out.read_text().splitlines()]
    assert len(records) == 4
    assert all("pass" in r["axes"]["pass_rate"] for r in records)

    bad = cab("export", "clitest", "--format", "xml", home=home)
    assert bad.returncode == 2 and "jsonl" in error_line(bad)


# --- PostgreSQL as the result store ---------------------------------------------------------------


@pytest.mark.docker
@pytest.mark.postgres
def test_run_against_postgresql(images, pg_url: str, tmp_path: Path) -> None:  # noqa: ANN001
    sweep = tmp_path / "pg.yaml"
    sweep.write_text(
        SMALL_SWEEP.replace("clitest", "pgtest")
        .replace(", scripted/noop", "")
        .replace(", polyglot/js-query-string", "")
    )
    done = cab("run", str(sweep), home=tmp_path / "home", env={"CAB_STORE_URL": pg_url})
    assert done.returncode == 0, done.stderr
    assert not (tmp_path / "home" / "cab.db").exists()
    with ResultStore(pg_url) as store:
        results = store.latest_by_cell("pgtest")
    assert len(results) == 1
    (only,) = results.values()
    assert only.axes is not None and only.axes.pass_rate.passed == 1
    kinds = [s.kind for s in only.spans]
    assert kinds == ["task_setup", "endpoint", "adapter_run", "tool_call", "container", "scoring", "cleanup"]
    assert only.model_calls


# --- tasks and doctor ----------------------------------------------------------------------------


LEDGER_CASES = (
    "polyglot/python-semver-sort",  # pytest
    "polyglot/go-lru-eviction",  # go
    "polyglot/rust-lifetime-fix",  # cargo
    "polyglot/js-query-string",  # node
    "polyglot/ts-shell-words",  # tsc, own environment
    "polyglot/java-invoice-rounding",  # junit, own environment
    "polyglot/cpp-ini-quoted-values",  # ctest, own environment
    "integrity/unsolvable-refusal",  # script
)
"""One task per runner: the exploit ledger x task matrix CI runs (the full matrix is `cab tasks validate`)."""


@pytest.mark.docker
@pytest.mark.slow
def test_every_shipped_task_validates(images, tmp_path: Path) -> None:  # noqa: ANN001
    """The whole catalogue: every environment builds and passes its static checks, the hidden tests fail
    on the work dir and pass with the solution, the diff is the expected one. Without the ledger, the
    flake reruns and the pipeline sweep, which multiply the time on 2 cores: the ledger runs on one task
    per runner below, flakes and the pipeline in tests/cab_cli/test_tasks_cmd.py, and the whole of it is
    `cab tasks validate` (README)."""
    args = ("tasks", "validate", "--flake", "1", "--no-pipeline", "--no-ledger")
    done = cab(*args, home=tmp_path / "home", timeout=3000)
    assert done.returncode == 0, done.stdout + done.stderr
    count = len(list((REPO / "tasks").glob("*/*/task.yaml")))
    assert count >= 30
    assert f"all {count} tasks valid" in done.stdout


@pytest.mark.docker
@pytest.mark.slow
def test_the_exploit_ledger_holds_on_one_task_per_runner(images, tmp_path: Path) -> None:  # noqa: ANN001
    runners = {
        yaml.safe_load((REPO / "tasks" / t / "task.yaml").read_text())["test_runner"] for t in LEDGER_CASES
    }
    assert runners == {"pytest", "go", "cargo", "node", "tsc", "junit", "ctest", "script"}
    args = ("tasks", "validate", *LEDGER_CASES, "--flake", "1", "--no-pipeline")
    done = cab(*args, home=tmp_path / "home", timeout=3000)
    assert done.returncode == 0, done.stdout + done.stderr
    assert f"all {len(LEDGER_CASES)} tasks valid" in done.stdout
    assert "exploit ledger" in done.stdout and "PASSES" not in done.stdout
    from cab_endpoint.ledger import LEDGER

    shown = [e.name for e in LEDGER if e.name in done.stdout]
    assert len(shown) == len(LEDGER) - 1  # script-override has no target among the shipped tasks


@pytest.mark.docker
def test_validate_runs_the_ledger_on_a_task_with_a_test_script(images, tmp_path: Path) -> None:  # noqa: ANN001
    """The fixture task's test command runs a shell script from the work dir: script-override targets it."""
    fixtures = REPO / "tests" / "fixtures" / "tasks"
    done = cab("tasks", "validate", home=tmp_path / "home", env={"CAB_TASKS_DIR": str(fixtures)})
    assert done.returncode == 0, done.stdout + done.stderr
    assert "script-override" in done.stdout and "0 held" in done.stdout and "PASSES" not in done.stdout


def test_validate_refuses_an_unknown_ledger_entry_in_one_line(tmp_path: Path) -> None:
    done = cab("tasks", "validate", "--exploit", "no-such-trick", home=tmp_path / "home")
    assert done.returncode != 0
    assert "no-such-trick" in error_line(done)


def test_ledger_lists_every_entry(tmp_path: Path) -> None:
    from cab_endpoint.ledger import LEDGER

    done = cab("tasks", "ledger", home=tmp_path / "home")
    assert done.returncode == 0, done.stderr
    assert all(e.name in done.stdout for e in LEDGER)


@pytest.mark.docker
def test_doctor_reports_each_dependency(images, tmp_path: Path) -> None:  # noqa: ANN001
    done = cab("doctor", home=tmp_path / "home")
    for name in ("docker", "images", "egress lock", "redis", "result store", "price table"):
        assert name in done.stdout
    assert "ok   docker" in done.stdout and "ok   images" in done.stdout
    assert "ok   egress lock" in done.stdout and "ok   price table" in done.stdout


@pytest.mark.unit
def test_doctor_flags_an_egress_lock_turned_off(tmp_path: Path) -> None:
    done = cab("doctor", home=tmp_path / "home", env={"CAB_EGRESS_LOCK": "0"})
    assert done.returncode == 1
    line = next(ln for ln in done.stdout.splitlines() if "egress lock" in ln)
    assert "FAIL" in line and "every port" in line


@pytest.mark.unit
def test_doctor_says_how_to_fix_an_unreachable_store(tmp_path: Path) -> None:
    done = cab(
        "doctor",
        home=tmp_path / "home",
        env={
            "CAB_STORE_URL": "postgresql+psycopg://nobody@127.0.0.1:1/none",
            "CAB_BROKER_URL": "redis://127.0.0.1:1/0",
        },
    )
    assert done.returncode == 1
    store_line = next(ln for ln in done.stdout.splitlines() if "result store" in ln)
    assert "FAIL" in store_line and "CAB_STORE_URL" in store_line
    redis_line = next(ln for ln in done.stdout.splitlines() if "redis" in ln)
    assert "FAIL" in redis_line


# --- interrupt -----------------------------------------------------------------------------------


@pytest.mark.docker
def test_ctrl_c_stops_running_cells_leaves_no_container_and_stores_infra(
    images, sandbox, tmp_path: Path
) -> None:  # noqa: ANN001
    import signal
    import time

    from cab_workers.host.sandbox import LABEL_OWNER_PID

    sweep = tmp_path / "hang.yaml"
    sweep.write_text(
        "sweep_id: inttest\ntuis: [reference]\nmodels: [scripted/hang]\n"
        "tasks: [polyglot/python-semver-sort, polyglot/js-query-string, polyglot/go-lru-eviction]\n"
        "slots: 2\ntimeouts: {agent_s: 600, test_s: 120, setup_s: 30}\n"
    )
    home = tmp_path / "home"
    env = {k: v for k, v in os.environ.items() if k != "CAB_STORE_URL"}
    env.update({"CAB_HOME": str(home), "COLUMNS": "200"})
    proc = subprocess.Popen(
        [CAB, "run", str(sweep)], cwd=REPO, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )

    def agents() -> list[str]:
        return [
            c.name
            for c in sandbox.client.containers.list(
                all=True, filters={"label": [f"{LABEL_OWNER_PID}={proc.pid}", "cab.role=agent"]}
            )
        ]

    deadline = time.monotonic() + 120
    while len(agents()) < 2 and proc.poll() is None and time.monotonic() < deadline:
        time.sleep(0.2)
    assert len(agents()) == 2, "two hanging agents should be running"
    started = time.monotonic()
    proc.send_signal(signal.SIGINT)
    _, stderr = proc.communicate(timeout=120)
    assert proc.returncode == 130, stderr
    assert time.monotonic() - started < 60, "an interrupt must not wait for the 600 s agent deadline"
    assert "rerun to resume" in stderr
    assert sandbox.client.containers.list(all=True, filters={"label": f"{LABEL_OWNER_PID}={proc.pid}"}) == []
    with ResultStore(f"sqlite:///{home / 'cab.db'}") as store:
        stored = store.latest_by_cell("inttest")
    assert len(stored) == 2, "the two running cells were stored; the queued one never started"
    assert all(r.failure.failure_class == FailureClass.infra for r in stored.values())
