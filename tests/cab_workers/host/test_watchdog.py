"""The disk watchdog: allocated bytes, not apparent sizes; one call when the quota is passed."""

from __future__ import annotations

import os
import threading
from pathlib import Path

import pytest

from cab_workers.host.watchdog import DiskWatchdog, disk_usage_bytes

pytestmark = pytest.mark.unit


def test_usage_counts_allocated_blocks_not_sparse_holes_and_never_follows_links(tmp_path: Path) -> None:
    (tmp_path / "a").mkdir()
    (tmp_path / "a" / "data").write_bytes(os.urandom(1 << 20))
    with open(tmp_path / "sparse", "wb") as fp:
        fp.truncate(10 << 30)  # 10 GiB apparent, nothing allocated
    (tmp_path / "root-link").symlink_to("/")
    used = disk_usage_bytes([str(tmp_path)])
    assert 1 << 20 <= used < 2 << 20
    assert disk_usage_bytes([str(tmp_path / "missing")]) == 0


def test_the_watchdog_calls_once_when_the_quota_is_passed(tmp_path: Path) -> None:
    called: list[int] = []
    hit = threading.Event()

    def exceeded(used: int) -> None:
        called.append(used)
        hit.set()

    with DiskWatchdog([str(tmp_path)], 512 << 10, exceeded, min_interval_s=0.05) as dog:
        (tmp_path / "small").write_bytes(b"x" * 1000)
        assert not hit.wait(0.3)  # under the quota: nothing happens
        (tmp_path / "big").write_bytes(os.urandom(1 << 20))
        assert hit.wait(10)
    assert len(called) == 1 and called[0] >= 1 << 20 and dog.peak_bytes >= 1 << 20
