"""The composition root: the scripted endpoint starts only when a cell asks for it, once per host.

Regression: every host (so every production worker) started the scripted endpoint on enter, whether
or not any sweep used it.
"""

from __future__ import annotations

import threading
from pathlib import Path

import pytest
from structlog.testing import capture_logs

from cab_core.schema import CellSpec
from cab_core.settings import Settings
from cab_scheduler.catalog import TaskCatalog
from cab_scheduler.sweep import expand, load_sweep
from cab_workers.composition import LocalHost, asks_for_scripted

pytestmark = pytest.mark.docker

REPO = Path(__file__).resolve().parents[2]


def one_cell(tmp_path: Path, endpoint: str) -> CellSpec:
    sweep = tmp_path / f"{abs(hash(endpoint))}.yaml"
    sweep.write_text(
        "sweep_id: lazy\ntuis: [reference]\nmodels: [scripted/oracle]\n"
        f"tasks: [polyglot/python-semver-sort]\nendpoint: {endpoint}\n"
    )
    (cell,) = expand(load_sweep(sweep), TaskCatalog(REPO / "tasks"), ["reference"])
    return cell


def test_the_scripted_endpoint_starts_on_the_first_cell_that_asks_once_per_host(
    images,
    tmp_path: Path,  # noqa: ANN001
) -> None:
    scripted, remote = one_cell(tmp_path, "scripted"), one_cell(tmp_path, "http://127.0.0.1:9/v1")
    assert asks_for_scripted(scripted) and not asks_for_scripted(remote)
    settings = Settings(home=tmp_path / "home", tasks_dir=REPO / "tasks", images_dir=REPO / "images")
    with LocalHost(settings) as host:
        assert host.ctx is not None
        assert host.scripted_endpoint_url is None, "nothing asked for it yet"
        host.ctx.open_model(remote).close()
        assert host.scripted_endpoint_url is None, "a remote endpoint does not start it"
        sessions, errors = [], []

        def open_one() -> None:
            try:
                sessions.append(host.ctx.open_model(scripted))  # type: ignore[union-attr]  # entered above
            except Exception as e:  # noqa: BLE001 - reported below
                errors.append(e)

        threads = [threading.Thread(target=open_one) for _ in range(8)]
        with capture_logs() as logs:
            for t in threads:
                t.start()
            for t in threads:
                t.join(timeout=30)
        assert [e["event"] for e in logs].count("scripted_endpoint_started") == 1
        assert errors == [] and len(sessions) == 8
        url = host.scripted_endpoint_url
        assert url is not None and url.startswith("http://127.0.0.1:")
        host.ctx.open_model(scripted).close()
        assert host.scripted_endpoint_url == url, "one endpoint per host"
        for session in sessions:
            session.close()
