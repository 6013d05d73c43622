"""Shared fixtures. Services are real: a missing one skips locally and fails in CI (CI=true)."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from cab_core.settings import Settings

REPO = Path(__file__).resolve().parent.parent
IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")


def require(ok: bool, what: str) -> None:
    """Skip when a service is missing locally; in CI a missing service is a failure."""
    if ok:
        return
    if IN_CI:
        pytest.fail(f"{what} is required in CI but unavailable")
    pytest.skip(f"{what} unavailable")


@pytest.fixture
def cab_settings(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Settings:
    """Settings isolated under a fresh CAB_HOME."""
    home = tmp_path / "cab-home"
    monkeypatch.setenv("CAB_HOME", str(home))
    monkeypatch.delenv("CAB_STORE_URL", raising=False)
    return Settings(home=home)


@pytest.fixture(scope="session")
def sandbox():  # noqa: ANN201 - cab_workers.sandbox.Sandbox
    from cab_core.errors import CabError
    from cab_workers.sandbox import Sandbox

    try:
        sb = Sandbox()
        ok = sb.ping()
    except CabError:
        ok = False
    require(ok, "Docker engine")
    return sb


@pytest.fixture(scope="session")
def images(sandbox) -> dict[str, str]:  # noqa: ANN001
    """cab's images, built if missing (content-addressed, so normally a no-op)."""
    from cab_workers.images import ImageBuilder

    ca = os.environ.get("CAB_CA_BUNDLE") or "/etc/ssl/certs/ca-certificates.crt"
    builder = ImageBuilder(sandbox, REPO / "images", ca_bundle=Path(ca) if Path(ca).is_file() else None)
    return {ref.name: ref.tag for ref in builder.ensure()}


@pytest.fixture
def no_leftover_containers(sandbox) -> Iterator[None]:  # noqa: ANN001
    """Asserts the test left no cab container of this process behind."""
    yield
    from cab_workers.sandbox import LABEL_OWNER_PID

    mine = [
        c.name
        for c in sandbox.client.containers.list(
            all=True, filters={"label": [f"{LABEL_OWNER_PID}={os.getpid()}"]}
        )
    ]
    assert mine == [], f"containers left behind: {mine}"
