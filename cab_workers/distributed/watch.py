"""The watch over one running cell: renews its store lease, and stops the cell when it must stop.

One daemon thread per running cell, every ``ttl/3``:

* renews the lease in the store (:func:`cab_core.store.leases.renew`). Errors (a PostgreSQL restart,
  a network blip) are logged and retried on the next beat; the cell is stopped only once no renewal
  has succeeded for a whole TTL, because from then on another worker may legitimately hold it.
  A renewal that finds the fence taken (another holder, ``cab submit --replace``) stops it at once.
* stops the cell when its row says cancelled;
* stops the cell when it outlives its whole budget (cab's own watchdog: Celery's time limits do not
  apply to the threads pool). If the pipeline still has not returned ``hang_grace_s`` later (a
  Docker call that never returns), ``on_hung`` records the try and gives the lease up;
* keeps the cell's model slot (per-model concurrency cap) leased in Redis.

Nothing here raises: the thread lives until the cell ends. Stopping calls ``on_stop(reason)`` once,
in its own thread, so a kill that blocks cannot stop the renewals.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import structlog

from cab_core.store import ResultStore, leases

log = structlog.get_logger(__name__)


class StopReason:
    cancelled = "sweep cancelled"
    lease_taken = "lease lost: another holder took the cell"
    store_unreachable = "lease lost: the store was unreachable for a whole lease"
    deadline = "deadline"


@dataclass
class CellWatch:
    store: ResultStore
    lease: leases.Lease
    ttl_s: float
    budget_s: float
    """The cell's whole budget (setup + agent + tests + grace); past it the cell is stopped."""
    on_stop: Callable[[str], object]
    on_hung: Callable[[], None] = lambda: None
    hang_grace_s: float = 120.0
    keep_slot: Callable[[], None] | None = None
    interval_s: float | None = None
    reason: str | None = None
    _done: threading.Event = field(default_factory=threading.Event)
    _thread: threading.Thread | None = None

    def __enter__(self) -> CellWatch:
        self._thread = threading.Thread(target=self._run, name=f"watch-{self.lease.cell_id}", daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._done.set()
        if self._thread is not None:
            self._thread.join(timeout=10)

    def _stop(self, reason: str) -> None:
        if self.reason is not None:
            return
        self.reason = reason
        log.warning("cell_stop", cell_id=self.lease.cell_id, reason=reason)
        threading.Thread(target=self._call_stop, args=(reason,), name="cell-stop", daemon=True).start()

    def _call_stop(self, reason: str) -> None:
        try:
            self.on_stop(reason)
        except Exception as e:  # noqa: BLE001 - a failed kill must not end the watch
            log.warning(
                "cell_stop_failed", cell_id=self.lease.cell_id, error=f"{type(e).__name__}: {e}"[:300]
            )

    def _run(self) -> None:
        interval = self.interval_s or self.ttl_s / 3
        started = last_ok = time.monotonic()
        hung_at: float | None = None
        while not self._done.wait(interval):
            now = time.monotonic()
            try:
                beat = leases.renew(self.store, self.lease, self.ttl_s)
                last_ok = now
                if not beat.held:
                    self._stop(StopReason.lease_taken)
                    return
                if beat.cancelled:
                    self._stop(StopReason.cancelled)
            except Exception as e:  # noqa: BLE001 - a store blip is retried on the next beat
                log.warning(
                    "lease_renew_failed", cell_id=self.lease.cell_id, error=f"{type(e).__name__}: {e}"[:300]
                )
                if now - last_ok >= self.ttl_s:
                    self._stop(StopReason.store_unreachable)
                    return
            if self.keep_slot is not None:
                try:
                    self.keep_slot()
                except Exception as e:  # noqa: BLE001 - the cap is best effort while Redis is away
                    log.warning("model_slot_renew_failed", cell_id=self.lease.cell_id, error=str(e)[:200])
            if now - started > self.budget_s and hung_at is None:
                self._stop(StopReason.deadline)
                hung_at = now + self.hang_grace_s
            if hung_at is not None and now >= hung_at:
                log.error("cell_thread_hung", cell_id=self.lease.cell_id, grace_s=self.hang_grace_s)
                try:
                    self.on_hung()
                except Exception as e:  # noqa: BLE001
                    log.warning("cell_hung_record_failed", cell_id=self.lease.cell_id, error=str(e)[:300])
                    hung_at = now + interval  # the store may be back at the next beat
                    continue
                return
