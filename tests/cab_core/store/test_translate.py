"""Foreign exceptions become one-line StoreErrors that never leak a password."""

from __future__ import annotations

import pytest
from sqlalchemy import exc, text

from cab_core.errors import StoreError
from cab_core.store import ResultStore, mask_url
from cab_core.store.translate import ERROR_TABLE, TRANSLATED, describe, store_errors

pytestmark = pytest.mark.unit


def _subclasses(cls: type) -> list[type]:
    out = [cls]
    for sub in cls.__subclasses__():
        out.extend(_subclasses(sub))
    return out


@pytest.mark.parametrize("error_type", _subclasses(exc.SQLAlchemyError), ids=lambda t: t.__name__)
def test_every_sqlalchemy_error_is_translated(error_type: type) -> None:
    headline, hint = describe(error_type)
    assert headline and hint
    assert issubclass(error_type, TRANSLATED)


def test_error_table_lists_subclasses_before_their_bases() -> None:
    types = [t for t, _, _ in ERROR_TABLE]
    for i, earlier in enumerate(types):
        for later in types[i + 1 :]:
            assert not issubclass(later, earlier), f"{later.__name__} is shadowed by {earlier.__name__}"


@pytest.mark.parametrize(
    ("url", "masked"),
    [
        ("postgresql+psycopg://cab:hunter2@db:5432/cab", "postgresql+psycopg://cab:***@db:5432/cab"),
        ("postgresql://cab@db/cab", "postgresql://cab@db/cab"),
        ("sqlite:////tmp/cab.db", "sqlite:////tmp/cab.db"),
        ("not a url://u:hunter2@h", "not a url://u:***@h"),
        # the store's messages and repr once showed these: a query password, a password holding @ or /
        (
            "postgresql://db/cab?password=hunter2&sslmode=require",
            "postgresql://db/cab?password=***&sslmode=require",
        ),
        ("redis://:hun@ter2@broker:6379/0", "redis://:***@broker:6379/0"),
        ("redis://:hun/ter2@broker:6379/0", "redis://:***@broker:6379/0"),
    ],
)
def test_mask_url(url: str, masked: str) -> None:
    assert mask_url(url) == masked


def test_unreachable_postgres_is_one_line_without_password() -> None:
    url = "postgresql+psycopg://cab:hunter2@127.0.0.1:1/cab?connect_timeout=2"
    store = ResultStore(url)
    with pytest.raises(StoreError) as info:
        store.create_schema()
    message = str(info.value)
    assert "\n" not in message
    assert "hunter2" not in message
    assert message.startswith("result store unreachable at postgresql+psycopg://cab:***@127.0.0.1:1/cab")
    assert message.endswith("check CAB_STORE_URL")
    assert isinstance(info.value.__cause__, exc.OperationalError)
    assert "hunter2" in repr(url) and "hunter2" not in repr(store)


def test_missing_tables_say_create_schema(tmp_path) -> None:
    store = ResultStore(f"sqlite:///{tmp_path / 'empty.db'}")
    with pytest.raises(StoreError, match="has no cab tables .*create_schema"):
        store.get("s/t/m/c/t")
    store.close()


@pytest.mark.parametrize("url", ["nosuchdb://x/y", "postgresql+nodriver://u:pw@h/db"])
def test_bad_urls_are_store_errors(url: str) -> None:
    with pytest.raises(StoreError, match="misconfigured"):
        ResultStore(url).create_schema()


def test_schema_is_refused_on_sqlite(tmp_path) -> None:
    with pytest.raises(StoreError, match="misconfigured.*only supported on PostgreSQL"):
        ResultStore(f"sqlite:///{tmp_path / 'x.db'}", schema="other")


def test_unreadable_record_is_a_store_error(tmp_path) -> None:
    store = ResultStore(f"sqlite:///{tmp_path / 'x.db'}")
    store.create_schema()
    with store.engine.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO cells (cell_id, attempt, sweep_id, tui, model, task_id, run, failure_class, "
                "composite, pass, final, record, schema_version, updated_at) VALUES ('c', 1, 's', 't', 'm', "
                "'k', 1, 'none', NULL, NULL, 1, '{}', 99, '2026-01-01 00:00:00')"
            )
        )
    with pytest.raises(StoreError, match="cannot read"):
        store.get("c")
    store.close()


def test_non_store_exceptions_pass_through() -> None:
    with pytest.raises(KeyError), store_errors("sqlite://", "test"):
        raise KeyError("not ours")
