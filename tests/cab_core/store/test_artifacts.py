"""An attempt's artifacts (agent diff, terminal recording) in the store: written with the result in one
transaction to their own table, out of the record JSON, read back byte for byte with their digest
checked; stores created before the table gain it. Both backends (``store`` fixture)."""

from __future__ import annotations

import zlib

import pytest
from sqlalchemy import func, inspect, select, update

from cab_core.errors import StoreError
from cab_core.schema import Artifact, ArtifactName, CellResult
from cab_core.store import ResultStore, leases
from cab_core.store.tables import artifacts as artifacts_table
from tests.cab_core.store.factories import make_result
from tests.cab_core.store.test_leases import planned_cells, result_for

CAST = (
    b'{"version": 2, "width": 120, "height": 40}\n'
    + b'[0.5, "o", "hello\\r\\n"]\n' * 2000  # compressible: the stored body is zlib
)
DIFF = b"--- a/src/lib.rs\n+++ b/src/lib.rs\n@@ -1 +1 @@\n-old\n+new \xff\xfe not utf-8\n"


def with_artifacts(result: CellResult, *artifacts: Artifact) -> CellResult:
    return result.model_copy(update={"artifacts": list(artifacts)})


def cast_artifact(body: bytes = CAST, *, original: int | None = None) -> Artifact:
    size = len(body) if original is None else original
    return Artifact.of(ArtifactName.terminal, body, original_bytes=size, truncated=size > len(body))


def diff_artifact(body: bytes = DIFF) -> Artifact:
    return Artifact.of(ArtifactName.diff, body, original_bytes=len(body), truncated=False)


def stored_rows(store: ResultStore, cell_id: str) -> int:
    query = select(func.count()).where(artifacts_table.c.cell_id == cell_id)
    with store.engine.connect() as conn:
        return int(conn.execute(query).scalar() or 0)


def test_artifacts_round_trip_byte_for_byte_and_stay_out_of_the_record(store: ResultStore) -> None:
    cut = cast_artifact(CAST[:4096], original=len(CAST))
    result = with_artifacts(make_result(), cut, diff_artifact())
    store.upsert_result(result)
    ident = result.identity
    got = store.artifacts(ident.cell_id, ident.attempt)
    assert [a.name for a in got] == [ArtifactName.diff, ArtifactName.terminal]  # by name
    assert got[0] == diff_artifact() and got[0].body == DIFF
    assert got[0].media_type == "text/x-diff" and got[1].media_type == "application/x-asciicast"
    assert (got[1].body, got[1].original_bytes, got[1].truncated) == (CAST[:4096], len(CAST), True)
    assert got[0].text().endswith("+new \ufffd\ufffd not utf-8\n")
    read = store.get(ident.cell_id, ident.attempt)
    assert read is not None and read.artifacts == [], "artifacts are not part of the record JSON"
    assert "artifacts" not in result.model_dump(mode="json", by_alias=True)


def test_a_rewrite_of_the_attempt_replaces_its_artifacts(store: ResultStore) -> None:
    result = make_result()
    store.upsert_result(with_artifacts(result, cast_artifact(), diff_artifact()))
    store.upsert_result(with_artifacts(result, diff_artifact(b"+only\n")))
    ident = result.identity
    assert [a.body for a in store.artifacts(ident.cell_id, ident.attempt)] == [b"+only\n"]
    store.upsert_result(result)  # a result without artifacts (failed before they existed)
    assert store.artifacts(ident.cell_id, ident.attempt) == []
    assert stored_rows(store, ident.cell_id) == 0


def test_each_attempt_keeps_its_own_artifacts(store: ResultStore) -> None:
    first, second = make_result(attempt=1), make_result(attempt=2)
    store.upsert_result(with_artifacts(first, diff_artifact(b"+one\n")))
    store.upsert_result(with_artifacts(second, diff_artifact(b"+two\n")))
    cell_id = first.identity.cell_id
    assert [a.body for a in store.artifacts(cell_id, 1)] == [b"+one\n"]
    assert [a.body for a in store.artifacts(cell_id, 2)] == [b"+two\n"]
    assert store.artifacts(cell_id, 3) == []


@pytest.mark.parametrize(
    "stored_body",
    [
        pytest.param(zlib.compress(b"--- forged\n+++ forged\n"), id="altered-body"),
        pytest.param(b"not zlib at all", id="corrupt-body"),
    ],
)
def test_a_body_that_does_not_match_its_digest_is_an_error_not_shown(
    store: ResultStore, stored_body: bytes
) -> None:
    result = with_artifacts(make_result(), diff_artifact())
    store.upsert_result(result)
    with store.engine.begin() as conn:
        conn.execute(update(artifacts_table).values(body=stored_body))
    with pytest.raises(StoreError, match=r"is corrupt \(its body does not match its sha256\)"):
        store.artifacts(result.identity.cell_id, result.identity.attempt)


def test_the_fenced_write_of_a_distributed_worker_carries_the_artifacts(store: ResultStore) -> None:
    """Workers on other hosts store through ``leases.finish``: the artifacts go in the same write."""
    (cell,) = planned_cells(store, "artifacts")
    lease = leases.acquire(store, cell.cell_id, "worker-a", 30)
    assert isinstance(lease, leases.Lease)
    result = with_artifacts(result_for(cell, 1), cast_artifact(), diff_artifact())
    assert leases.finish(store, lease, result, retry_in_s=None) is True
    got = store.artifacts(cell.cell_id, 1)
    assert {a.name: a.body for a in got} == {ArtifactName.terminal: CAST, ArtifactName.diff: DIFF}


def test_a_store_created_before_the_table_gains_it(store: ResultStore) -> None:
    with store.engine.begin() as conn:
        artifacts_table.drop(conn)  # the store as it was before artifacts were kept
    assert "artifacts" not in inspect(store.engine).get_table_names(schema=store.schema)
    store.create_schema()
    assert "artifacts" in inspect(store.engine).get_table_names(schema=store.schema)
    result = with_artifacts(make_result(), diff_artifact())
    store.upsert_result(result)
    assert store.artifacts(result.identity.cell_id, 1) == [diff_artifact()]
