"""ResultStore behaviour, on SQLite and PostgreSQL (see conftest.py)."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest
from sqlalchemy import func, select, text

from cab_core.errors import StoreError
from cab_core.schema import CellResult, Exchange, FailureClass
from cab_core.store import ResultStore, result_store, statements
from cab_core.store.tables import cells, model_calls, spans
from tests.cab_core.store.factories import make_result, make_sweep


def _counts(store: ResultStore, cell_id: str) -> tuple[int, int, int]:
    with store.engine.connect() as conn:
        return tuple(  # type: ignore[return-value]
            conn.execute(select(func.count()).select_from(t).where(t.c.cell_id == cell_id)).scalar_one()
            for t in (cells, spans, model_calls)
        )


def test_create_schema_is_idempotent(store: ResultStore) -> None:
    store.create_schema()
    store.create_schema()
    assert store.sweeps() == []


def test_upsert_twice_keeps_one_row_and_the_same_children(store: ResultStore) -> None:
    result = make_result(calls=3)
    store.upsert_result(result)
    first = _counts(store, result.identity.cell_id)
    store.upsert_result(result)
    assert _counts(store, result.identity.cell_id) == first == (1, 5, 3)
    assert store.get(result.identity.cell_id) == result


def test_rewrite_replaces_spans_and_calls(store: ResultStore) -> None:
    result = make_result(calls=3)
    store.upsert_result(result)
    fewer = result.model_copy(update={"spans": result.spans[:2], "model_calls": result.model_calls[:1]})
    store.upsert_result(fewer)
    assert _counts(store, result.identity.cell_id) == (1, 2, 1)
    assert store.get(result.identity.cell_id) == fewer


def test_exchanges_are_stored_apart_from_the_record_and_replaced_with_it(store: ResultStore) -> None:
    result = make_result(calls=2)
    sse = b'data: {"choices":[]}\n\ndata: [DONE]\n\n'
    kept = [
        Exchange(
            seq=0,
            request_hash="a" * 64,
            endpoint_path="/v1/chat/completions",
            http_status=200,
            content_type="application/json",
            request_body=b'{"x":1}',
            response_body=b"\x00\xffbinary",
        ),
        Exchange(
            seq=1,
            request_hash="b" * 64,
            endpoint_path="/v1/chat/completions",
            http_status=200,
            content_type="text/event-stream",
            request_body=b"{}",
            response_body=sse * 500,
        ),
    ]
    store.upsert_result(result.model_copy(update={"exchanges": kept}))
    ident = result.identity
    assert store.exchanges(ident.cell_id, ident.attempt) == kept
    assert "exchanges" not in result.model_copy(update={"exchanges": kept}).model_dump(mode="json")
    assert store.get(ident.cell_id) == result  # the record itself carries no bytes
    store.upsert_result(result.model_copy(update={"exchanges": kept[:1]}))
    assert store.exchanges(ident.cell_id, ident.attempt) == kept[:1]
    assert store.exchanges(ident.cell_id, ident.attempt + 1) == []


@pytest.mark.parametrize(
    "variant",
    [
        {},
        {"tokens": False},
        {"scored": False, "failure_class": FailureClass.agent, "reason": "agent crashed: exit 137"},
        {"calls": 0, "secret_in_attrs": True},
    ],
)
def test_fully_populated_result_round_trips(store: ResultStore, variant: dict) -> None:
    result = make_result(**variant)
    store.upsert_result(result)
    got = store.get(result.identity.cell_id, attempt=1)
    assert got == result
    assert got.model_dump(mode="json", by_alias=True) == result.model_dump(mode="json", by_alias=True)


def test_attempts_latest_by_default(store: ResultStore) -> None:
    first = make_result(failure_class=FailureClass.infra, reason="docker daemon gone", scored=False)
    cell_id = first.identity.cell_id
    assert store.next_attempt(cell_id) == 1
    assert store.get(cell_id) is None
    store.upsert_result(first)
    assert store.next_attempt(cell_id) == 2
    second = make_result(attempt=2)
    store.upsert_result(second)
    assert store.get(cell_id) == second
    assert store.get(cell_id, attempt=1) == first
    assert store.get(cell_id, attempt=7) is None
    assert store.next_attempt(cell_id) == 3
    assert _counts(store, cell_id) == (2, 10, 6)


def test_final_cell_ids_follow_the_latest_attempt(store: ResultStore) -> None:
    ok = make_result(task_id="polyglot/a")
    agent_failed = make_result(task_id="polyglot/b", failure_class=FailureClass.agent, reason="timeout")
    infra = make_result(task_id="polyglot/c", failure_class=FailureClass.infra, reason="no disk")
    retried = make_result(task_id="polyglot/d", failure_class=FailureClass.infra, reason="image pull")
    retried_ok = make_result(task_id="polyglot/d", attempt=2)
    regressed = make_result(task_id="polyglot/e")
    regressed_infra = make_result(task_id="polyglot/e", attempt=2, failure_class=FailureClass.infra)
    other_sweep = make_result(sweep_id="other", task_id="polyglot/a")
    for r in (ok, agent_failed, infra, retried, retried_ok, regressed, regressed_infra, other_sweep):
        store.upsert_result(r)
    ids = {r.identity.task_id: r.identity.cell_id for r in (ok, agent_failed, infra, retried, regressed)}
    assert store.final_cell_ids("free-20260527") == {ids["polyglot/a"], ids["polyglot/b"], ids["polyglot/d"]}
    latest = store.latest_by_cell("free-20260527")
    assert list(latest) == sorted(ids.values())
    assert latest[ids["polyglot/d"]] == retried_ok
    assert latest[ids["polyglot/e"]] == regressed_infra
    assert store.latest_by_cell("nothing-here") == {}


def test_iter_results_pages_through_every_attempt(store: ResultStore, monkeypatch) -> None:
    monkeypatch.setattr(result_store, "PAGE_SIZE", 2)
    written = [make_result(task_id=f"polyglot/t{i}", attempt=a) for i in range(3) for a in (1, 2)]
    for r in reversed(written):
        store.upsert_result(r)
    store.upsert_result(make_result(sweep_id="other"))
    got = list(store.iter_results("free-20260527"))
    assert got == sorted(written, key=lambda r: (r.identity.cell_id, r.identity.attempt))


def test_record_sweep_is_idempotent(store: ResultStore) -> None:
    store.record_sweep(make_sweep("b-sweep"))
    store.record_sweep(make_sweep("a-sweep"))
    changed = make_sweep("b-sweep", reruns=5)
    store.record_sweep(changed)
    assert sorted(s.sweep_id for s in store.sweeps()) == ["a-sweep", "b-sweep"]
    assert [s for s in store.sweeps() if s.sweep_id == "b-sweep"] == [changed]


def test_failed_write_keeps_previous_state(store: ResultStore) -> None:
    before = make_result(calls=3)
    store.upsert_result(before)
    dup = before.model_calls[0].model_copy(update={"prompt_tokens": 1})
    broken = make_result(calls=1, passed=0).model_copy(update={"model_calls": [dup, dup], "spans": []})
    with pytest.raises(StoreError, match="rejected a write"):
        store.upsert_result(broken)
    assert store.get(before.identity.cell_id) == before
    assert _counts(store, before.identity.cell_id) == (1, 5, 3)


def test_failure_after_children_deleted_rolls_back(store: ResultStore, monkeypatch) -> None:
    before = make_result(calls=2)
    store.upsert_result(before)
    real = statements._insert_children

    def half_then_crash(conn, result) -> None:
        real(conn, result.model_copy(update={"model_calls": []}))
        raise RuntimeError("worker killed mid-write")

    monkeypatch.setattr(statements, "_insert_children", half_then_crash)
    with pytest.raises(RuntimeError, match="mid-write"):
        store.upsert_result(make_result(calls=4, passed=0))
    with pytest.raises(RuntimeError):
        store.upsert_result(make_result(task_id="polyglot/new"))
    monkeypatch.undo()
    assert store.get(before.identity.cell_id) == before
    assert _counts(store, before.identity.cell_id) == (1, 5, 2)
    assert store.get(make_result(task_id="polyglot/new").identity.cell_id) is None


def test_concurrent_upserts_from_four_threads(store: ResultStore) -> None:
    per_thread = 12
    errors: list[BaseException] = []
    barrier = threading.Barrier(4)

    def writer(n: int) -> None:
        try:
            barrier.wait()
            for i in range(per_thread):
                # every thread also rewrites one shared cell, to contend on the same key
                store.upsert_result(make_result(task_id=f"polyglot/w{n}-{i}", calls=2))
                store.upsert_result(make_result(task_id="polyglot/shared", calls=2))
                store.next_attempt(f"x/{n}")
        except BaseException as error:  # noqa: BLE001 - reported by the assertion below
            errors.append(error)

    threads = [threading.Thread(target=writer, args=(n,)) for n in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    latest = store.latest_by_cell("free-20260527")
    assert len(latest) == 4 * per_thread + 1
    shared = make_result(task_id="polyglot/shared").identity.cell_id
    assert _counts(store, shared) == (1, 5, 2)


@pytest.mark.postgres
def test_concurrent_schema_creation_on_an_empty_database() -> None:
    """Workers, the dispatcher and `cab submit` may all create the schema at once (seen under compose)."""
    import threading

    from cab_core.store import ResultStore
    from tests.conftest import fresh_database

    with fresh_database("cab_race") as url:
        errors: list[BaseException] = []
        barrier = threading.Barrier(6)

        def create() -> None:
            store = ResultStore(url)
            try:
                barrier.wait(timeout=10)
                store.create_schema()
            except BaseException as e:  # noqa: BLE001 - collected and asserted below
                errors.append(e)
            finally:
                store.close()

        threads = [threading.Thread(target=create) for _ in range(6)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=60)
        assert errors == []


def test_sweep_spend_counts_every_attempt_and_reports_unknowns(store: ResultStore) -> None:
    def priced(result: CellResult, cost: float | None) -> CellResult:
        axes = result.axes
        assert axes is not None
        tokens = axes.tokens.model_copy(update={"cost_usd": cost})
        return result.model_copy(update={"axes": axes.model_copy(update={"tokens": tokens})})

    first = make_result(calls=2, attempt=1, failure_class=FailureClass.infra, reason="endpoint down")
    second = make_result(calls=3, attempt=2)
    other = make_result(calls=2, task_id="polyglot/other")
    unknown = make_result(calls=2, task_id="polyglot/unknown", tokens=False)
    for r, cost in ((first, 0.25), (second, 0.5), (other, None), (unknown, None)):
        store.upsert_result(priced(r, cost))
    store.upsert_result(make_result(sweep_id="another-sweep"))
    spend = store.sweep_spend("free-20260527")
    want = sum(r.axes.tokens.total_tokens or 0 for r in (first, second, other))  # type: ignore[union-attr]
    assert (spend.attempts, spend.tokens, spend.unknown_tokens, spend.unknown_cost) == (4, want, 1, 2)
    assert spend.cost_usd == pytest.approx(0.75)
    assert store.sweep_spend("nothing-here").attempts == 0


def test_a_store_made_before_the_spend_columns_gets_them(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'old.db'}"
    with ResultStore(url) as old:
        old.create_schema()
        with old.engine.begin() as conn:
            conn.execute(text("ALTER TABLE cells DROP COLUMN cost_usd"))
            conn.execute(text("ALTER TABLE cells DROP COLUMN total_tokens"))
    with ResultStore(url) as new:
        new.create_schema()
        result = make_result()
        new.upsert_result(result)
        assert new.sweep_spend(result.identity.sweep_id).tokens == result.axes.tokens.total_tokens  # type: ignore[union-attr]
