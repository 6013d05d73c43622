"""Cells known to the proxy: who may call, where their calls go, and what was recorded.

    Upstream      the real endpoint of a cell: base URL, the real key, model renames, concurrency cap,
                  sampling parameters cab sets, or a replay book instead of a network endpoint
    CellGrant     what the pipeline hands the agent: a per-cell bearer token and the proxy's base URL
    CellRecord    every call recorded for one cell, their bytes, and the infra failure that taints it;
                  the calls still in flight, which ``close`` cuts short and waits for
    CellRegistry  token -> open cell, thread-safe (the proxy's loop records, the pipeline opens/closes)

Tokens are kept only as sha256 digests, so neither a registry dump nor a log can leak one; reprs of
``Upstream`` and ``CellGrant`` hide the key and the token.
"""

from __future__ import annotations

import hashlib
import itertools
import secrets
import threading
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING

from cab_core.schema import Exchange, ModelCall, SamplingOverride

if TYPE_CHECKING:
    from cab_workers.proxy.replay import ReplayBook

TOKEN_PREFIX = "cab-cell-"
"""Prefix of every cell token, so one found in a log or a config file is recognisable."""


CLOSED_REMEMBERED = 10_000
"""Closed cells whose token a late call is still logged against (bounded: a worker runs for months)."""


def token_digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


@dataclass(frozen=True)
class Upstream:
    """The real OpenAI-compatible endpoint one cell's calls are forwarded to."""

    base_url: str
    """Base URL ending in ``/v1`` (the proxy's ``/v1/<rest>`` goes to ``<base_url>/<rest>``)."""
    api_key: str | None = field(default=None, repr=False)
    """The real key, sent upstream as ``Authorization: Bearer``; never logged, never returned."""
    model_map: dict[str, str] | None = None
    """Model id as the agent sends it -> model id sent upstream; unmapped ids pass unchanged."""
    concurrency: int | None = None
    """Most calls in flight to this base URL at once, over every cell (and every host sharing the
    proxy's limiter); None: uncapped."""
    replay: ReplayBook | None = field(default=None, repr=False, compare=False)
    """Answer from these recorded calls instead of contacting ``base_url`` (``cab replay``)."""
    headers: tuple[tuple[str, str], ...] = ()
    """Headers cab sets on every call to this upstream, replacing any of the same name the agent sent
    (the scripted endpoint's task version); the agent cannot choose them."""
    sampling: SamplingOverride | None = None
    """Sampling parameters set on every chat/completions/responses call to this upstream, replacing the
    agent's (the sweep's ``sampling`` policy); each call records both (``ModelCall.sampling_forced``)."""

    def forcing(self, sampling: SamplingOverride | None) -> Upstream:
        """This upstream with ``sampling`` set on its calls; unchanged when there is none, or when it is a
        replay book (which sends nothing anywhere: the recorded answers stand as they were)."""
        if sampling is None or self.replay is not None:
            return self
        return replace(self, sampling=sampling)

    def url(self, rest: str) -> str:
        """Upstream URL of the proxy path ``/v1/<rest>``."""
        return f"{self.base_url.rstrip('/')}/{rest.lstrip('/')}"

    @property
    def limit_name(self) -> str:
        """Semaphore name of this endpoint's concurrency cap (the URL hashed: no credentials in keys)."""
        return "endpoint:" + hashlib.sha256(self.base_url.rstrip("/").encode()).hexdigest()[:16]


class CellRecord:
    """Calls recorded for one cell, in the order they finished; safe to read from any thread."""

    def __init__(self, cell_id: str) -> None:
        self.cell_id = cell_id
        self._calls: list[dict[str, object]] = []
        self._exchanges: list[dict[str, object]] = []
        self._infra_failure: str | None = None
        self._started = 0
        self._lock = threading.Lock()
        self._idle = threading.Condition(self._lock)
        self._in_flight: dict[int, Callable[[], object]] = {}
        self._keys = itertools.count()
        self._closing = False

    def begin(self, cut: Callable[[], object]) -> int | None:
        """A call arrived: counted before anything is forwarded (so a call still hanging counts) and in
        flight until ``end(key)``; ``cut`` stops it from any thread (``close``). None when the cell is
        closing: the call came after its end and is neither counted nor forwarded."""
        with self._lock:
            if self._closing:
                return None
            self._started += 1
            key = next(self._keys)
            self._in_flight[key] = cut
            return key

    def end(self, key: int) -> None:
        """The call of ``key`` is over, its tries recorded."""
        with self._idle:
            self._in_flight.pop(key, None)
            if not self._in_flight:
                self._idle.notify_all()

    @property
    def closing(self) -> bool:
        """``close`` was called: a call stopped now was cut short by the cell's end."""
        with self._lock:
            return self._closing

    def close(self, wait_s: float) -> int:
        """Refuse new calls, cut those in flight short, and wait up to ``wait_s`` until each has
        recorded itself; returns how many are still in flight (0: every call that began is recorded)."""
        with self._lock:
            self._closing = True
            cuts = list(self._in_flight.values())
        for cut in cuts:
            cut()
        with self._idle:
            self._idle.wait_for(lambda: not self._in_flight, timeout=wait_s)
            return len(self._in_flight)

    @property
    def started(self) -> int:
        """Calls that reached the proxy for this cell, answered or not."""
        with self._lock:
            return self._started

    # Rows are kept as plain dicts while the cell runs and validated into records when read: the
    # proxy's event loop pays for a dict, the pipeline (once, at close) for the validation.

    @property
    def calls(self) -> list[ModelCall]:
        """The calls so far, validated; ``seq`` counts from 0 in this order."""
        with self._lock:
            rows = list(self._calls)
        return [ModelCall.model_validate(r) for r in rows]

    @property
    def exchanges(self) -> list[Exchange]:
        """The bytes of every answer the agent got, by ``seq``."""
        with self._lock:
            rows = list(self._exchanges)
        return [Exchange.model_validate(r) for r in rows]

    @property
    def infra_failure(self) -> str | None:
        """First upstream failure the agent saw (a 502/504 from the proxy, a stream cut short); None if
        the cell only ever got upstream answers. Set means the pipeline should classify the cell infra."""
        with self._lock:
            return self._infra_failure

    def add(
        self,
        *,
        request_body: bytes | None = None,
        response: tuple[bytes, str] | None = None,
        **fields: object,
    ) -> int:
        """Record one try, with ``ModelCall`` fields; returns its ``seq``. ``response`` = (body, content
        type) when its answer reached the agent, kept with ``request_body`` as the call's ``Exchange``."""
        with self._lock:
            seq = len(self._calls)
            self._calls.append({**fields, "seq": seq})
            if response is not None and fields.get("http_status") is not None:
                self._exchanges.append(
                    {
                        "seq": seq,
                        "request_hash": fields["request_hash"],
                        "endpoint_path": fields.get("endpoint_path") or "",
                        "http_status": fields["http_status"],
                        "content_type": response[1],
                        "request_body": request_body or b"",
                        "response_body": response[0],
                    }
                )
            return seq

    def mark_infra(self, reason: str) -> None:
        with self._lock:
            if self._infra_failure is None:
                self._infra_failure = reason


@dataclass(frozen=True)
class CellGrant:
    """One open cell: hand ``base_url(host)`` and ``token`` to the agent (``EndpointWiring``)."""

    cell_id: str
    token: str = field(repr=False)
    """Per-cell bearer token, valid from ``open_cell`` until ``close_cell``."""
    port: int
    record: CellRecord = field(repr=False, compare=False)
    """Live record of this cell's calls and infra failure."""

    def base_url(self, host: str = "127.0.0.1") -> str:
        """The proxy's OpenAI base URL as the agent reaches it (e.g. the Docker bridge gateway)."""
        return f"http://{host}:{self.port}/v1"


@dataclass(frozen=True)
class OpenCell:
    record: CellRecord
    upstream: Upstream
    token: str = field(repr=False)
    """Kept only to make sure it is never forwarded (headers carrying it are dropped)."""


class CellRegistry:
    """Open cells by token digest; closed cells are remembered by digest only, for the 401 log line."""

    def __init__(self) -> None:
        self._open: dict[str, OpenCell] = {}
        self._closed: dict[str, str] = {}
        self._lock = threading.Lock()

    def open(self, cell_id: str, upstream: Upstream) -> tuple[str, CellRecord]:
        token = TOKEN_PREFIX + secrets.token_urlsafe(32)
        record = CellRecord(cell_id)
        with self._lock:
            self._open[token_digest(token)] = OpenCell(record, upstream, token)
        return token, record

    def close(self, token: str) -> CellRecord | None:
        digest = token_digest(token)
        with self._lock:
            cell = self._open.pop(digest, None)
            if cell is not None:
                self._closed[digest] = cell.record.cell_id
                if len(self._closed) > CLOSED_REMEMBERED:  # oldest first: dicts keep insertion order
                    del self._closed[next(iter(self._closed))]
        return cell.record if cell else None

    def lookup(self, token: str) -> OpenCell | None:
        with self._lock:
            return self._open.get(token_digest(token))

    def closed_cell_id(self, token: str) -> str | None:
        """Cell id of a token that was valid once (for logging a late call), else None."""
        with self._lock:
            return self._closed.get(token_digest(token))

    def __len__(self) -> int:
        with self._lock:
            return len(self._open)
