"""``GET <base_url>/models`` of an OpenAI-compatible endpoint: what it lists, read defensively.

    listing = fetch_models("http://gpu-box:8000/v1", key, timeout_s=10)
    listing.status        200, or whatever the server answered (401, 404, 503, ...): data, not errors
    listing.ids           the model ids listed (empty when the body is not an OpenAI model list)
    listing.build_id(m)   model_build.build_id_from_models(listing.payload, m)
    listing.context(m)    model_build.context_from_models(listing.payload, m)

Only the absence of an HTTP answer raises: ``InfraError``, one line naming the URL (masked by
``cab_core.masking.mask_url``) and what failed (connection refused, name not resolved, TLS, timed
out, ...). This module is the one edge where httpx's exceptions are translated (``describe``). The key
goes only into the ``Authorization`` header: no message is built from an exception's text (h11's can
quote a header), and the body is read with the key masked before it is parsed, so a server echoing the
key back cannot put it into a build id.

A hostile or broken server cannot hang or flood the caller: the exchange is bounded by about
``timeout_s`` (each connect and read, and the body as a whole); a body is never decompressed
(identity is asked for) nor parsed past ``MAX_BODY_BYTES``; redirects are not followed; environment
proxies are not used (the worker's proxy connects directly too). TLS trusts the system's CAs, plus
``ca_bundle`` when one is given.
"""

from __future__ import annotations

import json
import socket
import ssl
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import structlog

from cab_core.errors import CabError, ConfigError, InfraError
from cab_core.masking import mask_url
from cab_workers.proxy.model_build import build_id_from_models, context_from_models, listed_models

log = structlog.get_logger(__name__)

MAX_BODY_BYTES = 16 * 1024 * 1024
"""Largest ``/models`` body parsed (hosted catalogues with descriptions run to a few MB)."""


@dataclass(frozen=True)
class ModelsListing:
    """One answer to ``GET /models``."""

    url: str
    """The URL asked, masked (``mask_url``)."""
    status: int
    """The HTTP status the server answered."""
    payload: Any
    """The body as JSON, the key masked; None when it was not JSON or larger than ``MAX_BODY_BYTES``."""

    @property
    def is_listing(self) -> bool:
        """A 2xx answer shaped like an OpenAI model list (``{"data": [...]}``)."""
        return (
            200 <= self.status < 300
            and isinstance(self.payload, dict)
            and isinstance(self.payload.get("data"), list)
        )

    @property
    def ids(self) -> tuple[str, ...]:
        """The model ids listed, in the server's order; empty unless ``is_listing``."""
        return listed_models(self.payload) if self.is_listing else ()

    def build_id(self, model: str) -> str | None:
        """``model``'s build id (``model_build``), or None when it is not listed."""
        return build_id_from_models(self.payload, model) if self.is_listing else None

    def context(self, model: str) -> int | None:
        """The context ``model`` is served with, when the server says (``model_build``)."""
        return context_from_models(self.payload, model) if self.is_listing else None


@dataclass(frozen=True)
class ServedModel:
    """What a server's listing says of one model: its build id and context (None: not said)."""

    build_id: str | None = None
    context_tokens: int | None = None


def models_url(base_url: str) -> str:
    """``<base_url>/models`` (the base URL usually ends in ``/v1``)."""
    return f"{base_url.rstrip('/')}/models"


def fetch_models(
    base_url: str, api_key: str | None, timeout_s: float = 10.0, *, ca_bundle: Path | None = None
) -> ModelsListing:
    """``GET <base_url>/models``, with ``Authorization: Bearer <api_key>`` when a key is given.

    Any HTTP answer is returned (see ``ModelsListing``). Raises ``InfraError`` when none came
    (refused, DNS, TLS, timeout, not HTTP), ``ConfigError`` for a URL, key or ``ca_bundle`` that
    cannot be used; the message names the masked URL, never the key."""
    url = models_url(base_url)
    shown = mask_url(url)
    headers = {"accept": "application/json", "accept-encoding": "identity"}
    if api_key:
        headers["authorization"] = f"Bearer {api_key}"
    try:
        with httpx.Client(
            verify=_tls(ca_bundle), trust_env=False, follow_redirects=False, timeout=timeout_s
        ) as client:
            with client.stream("GET", url, headers=headers) as resp:
                body = _read(resp.iter_raw(), time.monotonic() + timeout_s)
                status = resp.status_code
    except (httpx.HTTPError, httpx.InvalidURL) as e:
        raise InfraError(f"no answer from {shown}: {describe(e)}") from None
    except UnicodeEncodeError:
        raise ConfigError(f"{shown}: the URL or the key holds characters HTTP cannot carry") from None
    return ModelsListing(url=shown, status=status, payload=_parse(body, api_key))


def _tls(ca_bundle: Path | None) -> ssl.SSLContext:
    """The system's CAs, plus ``ca_bundle``."""
    context = ssl.create_default_context()
    if ca_bundle is not None:
        try:
            context.load_verify_locations(cafile=str(ca_bundle))
        except (OSError, ssl.SSLError) as e:
            raise ConfigError(f"CA bundle {ca_bundle} cannot be read: {type(e).__name__}") from None
    return context


class _Deadline(httpx.ReadTimeout):
    """The body took longer than the whole exchange may."""


def _read(chunks: Iterator[bytes], deadline: float) -> bytes | None:
    """The body, or None past ``MAX_BODY_BYTES``; ``_Deadline`` when it is still coming at ``deadline``."""
    body = bytearray()
    for chunk in chunks:
        body += chunk
        if len(body) > MAX_BODY_BYTES:
            return None
        if time.monotonic() > deadline:
            raise _Deadline("the body is still arriving")
    return bytes(body)


def _parse(body: bytes | None, api_key: str | None) -> Any:
    """The body as JSON with every occurrence of the key masked; None when it is not JSON."""
    if body is None:
        return None
    if api_key:
        for form in {api_key, json.dumps(api_key)[1:-1]}:  # as sent, and as JSON escapes it
            body = body.replace(form.encode("utf-8", "replace"), b"***")
    try:
        return json.loads(body)
    except (ValueError, RecursionError):  # not JSON, not UTF-8, an int of 4300+ digits, deep nesting
        return None


_NAMES: tuple[tuple[type[Exception], str], ...] = (
    (_Deadline, "timed out while reading the answer"),
    (httpx.ConnectTimeout, "timed out connecting"),
    (httpx.TimeoutException, "timed out"),
    (httpx.ConnectError, "could not connect"),
    (httpx.ProxyError, "the proxy failed"),
    (httpx.UnsupportedProtocol, "the URL's scheme is not http or https"),
    (httpx.ProtocolError, "the answer is not HTTP"),
    (httpx.NetworkError, "the connection broke"),
    (httpx.DecodingError, "the answer could not be decoded"),  # not raised: the body stays raw
    (httpx.TooManyRedirects, "too many redirects"),
    (httpx.HTTPStatusError, "an HTTP error status"),
    (httpx.InvalidURL, "not a valid URL"),
    (httpx.HTTPError, "the request failed"),
)
"""httpx exception -> what failed, most specific first (a test checks that every httpx class is named)."""


def describe(exc: BaseException) -> str:
    """What failed, in a few words; a connect error says why (refused, name, TLS). Never the
    exception's own text, which may quote a header."""
    if isinstance(exc, httpx.ConnectError):
        for cause in _causes(exc):
            if isinstance(cause, ConnectionRefusedError):
                return "connection refused"
            if isinstance(cause, socket.gaierror):
                return "host name not resolved"
            if isinstance(cause, ssl.SSLCertVerificationError):
                return f"TLS certificate not trusted ({cause.verify_message})"
            if isinstance(cause, ssl.SSLError):
                return f"TLS failed ({cause.reason or type(cause).__name__})"
    return next((name for cls, name in _NAMES if isinstance(exc, cls)), type(exc).__name__)


def _causes(exc: BaseException) -> Iterator[BaseException]:
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        yield current
        current = current.__cause__ or current.__context__


class BuildIds:
    """What remote servers say of their models (build id, context) by (base URL, model), asked at most
    once per ``ttl_s`` per host: a cell records the build id as ``model_build_id`` and tells its TUI the
    context (both None when the endpoint does not list the model or did not answer; the cell then
    records the model id and the TUI keeps its default). Thread-safe; a failure never fails a cell."""

    def __init__(self, ttl_s: float = 300.0, *, ca_bundle: Path | None = None) -> None:
        self.ttl_s, self.ca_bundle = ttl_s, ca_bundle
        self._known: dict[tuple[str, str], tuple[float, ServedModel]] = {}
        self._lock = threading.Lock()

    def get(self, base_url: str, api_key: str | None, model: str) -> ServedModel:
        now = time.monotonic()
        with self._lock:
            hit = self._known.get((base_url, model))
        if hit is not None and now - hit[0] < self.ttl_s:
            return hit[1]
        try:
            listing = fetch_models(base_url, api_key, ca_bundle=self.ca_bundle)
            found = ServedModel(listing.build_id(model), listing.context(model))
        except CabError as e:
            log.warning("model_build_id_unknown", url=mask_url(base_url), error=str(e)[:200])
            found = ServedModel()
        with self._lock:
            self._known[(base_url, model)] = (now, found)
        return found
