"""``ResultStore.sweep_signature``: the fingerprint ``cab site serve --live`` polls, on both backends."""

from __future__ import annotations

from cab_core.store import ResultStore
from cab_core.store.result_store import SweepSignature
from tests.cab_core.store.factories import make_result


def test_an_empty_sweep_has_no_attempts_and_no_write_time(store: ResultStore) -> None:
    assert store.sweep_signature("nothing-here") == SweepSignature(0, "")


def test_the_signature_changes_with_each_new_attempt_and_each_rewrite(store: ResultStore) -> None:
    first = make_result(sweep_id="s1", run=1)
    store.upsert_result(first)
    one = store.sweep_signature("s1")
    assert one.attempts == 1 and one.last_write != ""

    store.upsert_result(make_result(sweep_id="s1", run=2))
    two = store.sweep_signature("s1")
    assert two.attempts == 2 and two.last_write >= one.last_write

    store.upsert_result(first.model_copy(update={"agent_output_tail": "rewritten"}))
    rewritten = store.sweep_signature("s1")
    assert rewritten.attempts == 2 and rewritten != two


def test_other_sweeps_do_not_move_the_signature(store: ResultStore) -> None:
    store.upsert_result(make_result(sweep_id="s1"))
    before = store.sweep_signature("s1")
    store.upsert_result(make_result(sweep_id="s2"))
    assert store.sweep_signature("s1") == before
    assert store.sweep_signature("s2").attempts == 1
