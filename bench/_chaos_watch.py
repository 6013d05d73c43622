"""What the chaos harness observes, from outside cab: the Docker engine and the store's tables.

Nothing here imports cab or reads a Redis key, so the harness keeps measuring while the distributed
internals change. It relies on the container labels (``cab.cell_id``, ``cab.role``, ``cab.worker``)
and on the store's ``cells`` (cell_id, attempt, sweep_id, final, failure_class) and ``planned``
(cell_id, sweep_id) tables:

    AgentWatch   Docker's event stream: per cell, the most agent containers alive at once
                 (start -> +1, die/destroy -> -1), and the cab containers of a sweep still present
    StoreProbe   short-lived psycopg connections: final cells, duplicate final rows, what a cell
                 still missing looks like; None (not an error) whenever the server does not answer
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from typing import Any

import docker  # noqa: TID251 - the harness reads the engine's own event stream and lists by label
import docker.errors  # noqa: TID251
import psycopg

LABEL_CELL, LABEL_ROLE, LABEL_WORKER = "cab.cell_id", "cab.role", "cab.worker"


@dataclass
class Overlap:
    """A cell that had more than one agent container alive at once."""

    cell_id: str
    most_at_once: int
    workers: set[str] = field(default_factory=set)
    """Workers whose agent containers were alive together when the most was reached."""


class AgentWatch:
    """Follows the agent containers of one sweep from the moment it is created (before the submit)."""

    def __init__(self, sweep_id: str) -> None:
        self.prefix = f"{sweep_id}/"
        self.client = docker.from_env()
        self._alive: dict[str, dict[str, str]] = {}
        """cell id -> {container id: worker} of agent containers started and not dead."""
        self._most: dict[str, Overlap] = {}
        self._lock = threading.Lock()
        self._closing = False
        self.started = 0
        self.error: str | None = None
        """Set when the event stream ended before ``close``: the overlap figure is then incomplete."""
        events = ["start", "die", "destroy"]
        self._stream = self.client.events(
            decode=True, filters={"type": "container", "event": events, "label": f"{LABEL_ROLE}=agent"}
        )
        self._thread = threading.Thread(target=self._run, name="agent-watch", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        try:
            for ev in self._stream:
                self._on(ev)
            error = "the event stream ended"
        except Exception as e:  # noqa: BLE001 - the stream also ends with an error when it is closed
            error = f"the event stream failed: {e}"
        if not self._closing:
            self.error = error

    def _on(self, ev: dict[str, Any]) -> None:
        attrs = ev.get("Actor", {}).get("Attributes", {})
        cell = attrs.get(LABEL_CELL, "")
        if not cell.startswith(self.prefix):
            return
        cid = ev.get("Actor", {}).get("ID", "")
        with self._lock:
            alive = self._alive.setdefault(cell, {})
            if ev.get("status", ev.get("Action")) == "start":
                self.started += 1
                alive[cid] = attrs.get(LABEL_WORKER, "?")
                seen = self._most.setdefault(cell, Overlap(cell, 0))
                if len(alive) > seen.most_at_once:
                    seen.most_at_once, seen.workers = len(alive), set(alive.values())
            else:
                alive.pop(cid, None)

    def overlaps(self) -> list[Overlap]:
        """Cells that ever had more than one agent container alive at once."""
        with self._lock:
            return sorted((o for o in self._most.values() if o.most_at_once > 1), key=lambda o: o.cell_id)

    def busy_workers(self) -> set[str]:
        """Workers with an agent container of the sweep alive now."""
        with self._lock:
            return {w for alive in self._alive.values() for w in alive.values()}

    def alive(self, cell_id: str) -> list[str]:
        """Workers with an agent container of ``cell_id`` alive now."""
        with self._lock:
            return sorted(self._alive.get(cell_id, {}).values())

    def containers(self) -> list[str]:
        """Every cab container of the sweep on this engine, any state: ``name (role, worker, state)``."""
        found = self.client.api.containers(all=True, filters={"label": LABEL_CELL})
        return [
            f"{c['Names'][0].lstrip('/')} ({(c.get('Labels') or {}).get(LABEL_ROLE, '?')}, "
            f"{(c.get('Labels') or {}).get(LABEL_WORKER, '?')}, {c.get('State', '?')})"
            for c in found
            if (c.get("Labels") or {}).get(LABEL_CELL, "").startswith(self.prefix)
        ]

    def remove_all(self) -> int:
        """Force-remove every container of the sweep (the harness's own cleanup); how many."""
        found = self.client.api.containers(all=True, filters={"label": LABEL_CELL})
        n = 0
        for c in found:
            if (c.get("Labels") or {}).get(LABEL_CELL, "").startswith(self.prefix):
                try:
                    self.client.api.remove_container(c["Id"], force=True)
                    n += 1
                except docker.errors.NotFound:
                    pass
        return n

    def close(self) -> None:
        self._closing = True
        self._stream.close()
        self._thread.join(timeout=5)
        self.client.close()


@dataclass(frozen=True)
class Missing:
    """A planned cell without a final latest attempt when the harness stopped waiting."""

    cell_id: str
    latest: str
    """``no result row`` or ``attempt N: <failure_class>, not final``."""


class StoreProbe:
    """Read-only SQL on the store of one sweep; every call opens and closes its own connection."""

    def __init__(self, libpq: str, sweep_id: str) -> None:
        self.libpq, self.sweep_id = libpq, sweep_id

    def _rows(self, sql: str) -> list[tuple[Any, ...]] | None:
        try:
            with psycopg.connect(self.libpq, connect_timeout=2) as conn:
                return list(conn.execute(sql, {"sweep": self.sweep_id}).fetchall())  # type: ignore[arg-type]
        except psycopg.Error:
            return None  # the server is restarting or the schema is not there yet

    _LATEST = (
        "SELECT DISTINCT ON (cell_id) cell_id, attempt, final, failure_class FROM cells "
        "WHERE sweep_id = %(sweep)s ORDER BY cell_id, attempt DESC"
    )

    def final_count(self) -> int | None:
        rows = self._rows(f"SELECT count(*) FROM ({self._LATEST}) latest WHERE final")
        return None if rows is None else int(rows[0][0])

    def final_by_class(self) -> dict[str, int] | None:
        rows = self._rows(
            f"SELECT failure_class, count(*) FROM ({self._LATEST}) latest WHERE final GROUP BY failure_class"
        )
        return None if rows is None else {str(k): int(n) for k, n in rows}

    def duplicate_finals(self) -> dict[str, int] | None:
        """Cells with more than one row where final is true: cell id -> rows."""
        rows = self._rows(
            "SELECT cell_id, count(*) FROM cells WHERE sweep_id = %(sweep)s AND final "
            "GROUP BY cell_id HAVING count(*) > 1 ORDER BY cell_id"
        )
        return None if rows is None else {str(c): int(n) for c, n in rows}

    def missing(self) -> list[Missing] | None:
        planned = self._rows("SELECT cell_id FROM planned WHERE sweep_id = %(sweep)s ORDER BY cell_id")
        latest = self._rows(self._LATEST)
        if planned is None or latest is None:
            return None
        by_cell = {str(r[0]): r for r in latest}
        out = []
        for (cell_id,) in planned:
            row = by_cell.get(str(cell_id))
            if row is None:
                out.append(Missing(str(cell_id), "no result row"))
            elif not row[2]:
                out.append(Missing(str(cell_id), f"attempt {row[1]}: {row[3]}, not final"))
        return out
