"""Live mode on a real SQLite store: a stored cell triggers a rebuild and a new version; a failing
rebuild is shown in ``/_cab/live`` while the server keeps serving."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from cab_core.store import ResultStore
from cab_site.live import LiveSource, LiveStatus
from cab_site.serve import ServerHandle
from tests.cab_core.store.factories import make_result
from tests.conftest import wait_for

pytestmark = pytest.mark.unit

SWEEP = "live-1"
POLL_S = 0.05
WAIT_S = 20.0


@pytest.fixture
def store(tmp_path: Path) -> Iterator[ResultStore]:
    s = ResultStore(f"sqlite:///{tmp_path / 'cab.db'}")
    s.create_schema()
    yield s
    s.close()


class Builder:
    """A stand-in for ``build_site``: writes the number of stored cells into index.html, or raises."""

    def __init__(self, store: ResultStore, out: Path) -> None:
        self.store, self.out = store, out
        self.calls = 0
        self.fail_with: str | None = None
        self.lock = threading.Lock()

    def __call__(self) -> None:
        with self.lock:
            self.calls += 1
            if self.fail_with is not None:
                raise RuntimeError(self.fail_with)
            cells = len(self.store.latest_by_cell(SWEEP))
            (self.out / "index.html").write_text(f"<p>{cells} cells</p>")


@pytest.fixture
def site(tmp_path: Path) -> Path:
    root = tmp_path / "site"
    root.mkdir()
    (root / "index.html").write_text("<p>not built</p>")
    return root


def live_json(server: ServerHandle) -> dict[str, Any]:
    response = httpx.get(server.url + "_cab/live", timeout=5)
    assert response.status_code == 200
    body: dict[str, Any] = response.json()
    return body


def test_a_stored_cell_rebuilds_the_site_and_bumps_the_version(store: ResultStore, site: Path) -> None:
    build = Builder(store, site)
    live = LiveSource(store, [SWEEP], build, poll_s=POLL_S)
    with ServerHandle(site, live=live) as server:
        wait_for(lambda: live_json(server)["version"] == 1, WAIT_S, "the first rebuild")
        assert httpx.get(server.url).text == "<p>0 cells</p>"
        assert live_json(server) == {"live": True, "version": 1, "building": False, "cells": 0}

        store.upsert_result(make_result(sweep_id=SWEEP, run=1))
        wait_for(lambda: live_json(server)["version"] == 2, WAIT_S, "a rebuild after the upsert")
        assert httpx.get(server.url).text == "<p>1 cells</p>"
        assert live_json(server)["cells"] == 1
    assert build.calls == 2  # nothing changed between the polls in between: no other rebuild


def test_other_sweeps_do_not_trigger_a_rebuild(store: ResultStore, site: Path) -> None:
    build = Builder(store, site)
    with LiveSource(store, [SWEEP], build, poll_s=POLL_S, rebuild_first=False) as live:
        store.upsert_result(make_result(sweep_id="another-sweep"))
        store.upsert_result(make_result(sweep_id=SWEEP))
        wait_for(lambda: live.status().version == 1, WAIT_S, "the rebuild for the watched sweep")
    assert build.calls == 1


def test_a_failing_rebuild_shows_in_the_endpoint_and_the_server_keeps_serving(
    store: ResultStore, site: Path
) -> None:
    build = Builder(store, site)
    build.fail_with = "template exploded\nsecond line"
    live = LiveSource(store, [SWEEP], build, poll_s=POLL_S)
    with ServerHandle(site, live=live) as server:
        wait_for(lambda: "error" in live_json(server), WAIT_S, "the failed rebuild in the status")
        status = live_json(server)
        assert status["error"] == "RuntimeError: template exploded second line"
        assert status["version"] == 0 and status["building"] is False
        assert httpx.get(server.url).text == "<p>not built</p>"

        build.fail_with = None
        store.upsert_result(make_result(sweep_id=SWEEP))
        wait_for(lambda: live_json(server)["version"] == 1, WAIT_S, "a good rebuild after the failure")
        assert "error" not in live_json(server)
        assert httpx.get(server.url).text == "<p>1 cells</p>"


def test_a_failed_rebuild_is_retried_only_when_the_store_changes(store: ResultStore, site: Path) -> None:
    build = Builder(store, site)
    build.fail_with = "broken"
    live = LiveSource(store, [SWEEP], build, poll_s=POLL_S)
    assert live.poll_once() is False
    assert [live.poll_once(), live.poll_once()] == [False, False]
    assert build.calls == 1
    store.upsert_result(make_result(sweep_id=SWEEP))
    live.poll_once()
    assert build.calls == 2


def test_an_unreadable_store_is_an_error_in_the_status_not_a_crash(tmp_path: Path, site: Path) -> None:
    missing = ResultStore(f"sqlite:///{tmp_path / 'no-tables.db'}")  # tables never created
    live = LiveSource(missing, [SWEEP], lambda: None, poll_s=POLL_S)
    assert live.poll_once() is False
    status = live.status()
    assert status.version == 0 and status.error is not None and "StoreError" in status.error
    missing.create_schema()
    assert live.poll_once() is True
    assert live.status() == LiveStatus(version=1, building=False, cells=0, error=None)
    missing.close()


@pytest.mark.parametrize("poll_s", [0.0, -1.0])
def test_the_poll_interval_must_be_positive(store: ResultStore, poll_s: float) -> None:
    with pytest.raises(ValueError, match="poll_s must be > 0"):
        LiveSource(store, [SWEEP], lambda: None, poll_s=poll_s)


def test_stop_ends_the_thread(store: ResultStore, site: Path) -> None:
    live = LiveSource(store, [SWEEP], Builder(store, site), poll_s=POLL_S)

    def pollers() -> list[threading.Thread]:
        return [t for t in threading.enumerate() if t.name == "cab-site-live"]

    live.start()
    live.start()  # idempotent: still one thread
    assert len(pollers()) == 1
    live.stop()
    assert pollers() == []
