"""The one edge where foreign exceptions become ``StoreError``.

Every public ``ResultStore`` method runs inside :func:`store_errors`, so callers only ever see
``cab_core.errors.StoreError`` with a one-line message that names the (password-masked) store URL,
what failed and what to do about it.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager

from pydantic import ValidationError
from sqlalchemy import exc
from sqlalchemy.engine import make_url

from cab_core.errors import StoreError
from cab_core.masking import mask_url

_URL_PASSWORD = re.compile(r"(://[^:/@\s]*:)([^@\s]*)(@)")
_MAX_REASON = 300

# (exception type, headline, hint), most specific first; the last SQLAlchemyError row catches the rest.
# Order matters: subclasses must precede their bases.
ERROR_TABLE: tuple[tuple[type[BaseException], str, str], ...] = (
    (exc.NoSuchTableError, "has no cab tables", "run ResultStore.create_schema() on this store first"),
    (exc.IntegrityError, "rejected a write", "the previous state was kept; this is a bug in the writer"),
    (exc.DataError, "rejected a value", "the previous state was kept; this is a bug in the writer"),
    (exc.ProgrammingError, "rejected a statement", "is the schema current? run ResultStore.create_schema()"),
    (exc.OperationalError, "unreachable", "check CAB_STORE_URL"),
    (exc.InterfaceError, "unreachable", "check CAB_STORE_URL"),
    (exc.DisconnectionError, "unreachable", "check CAB_STORE_URL"),
    (exc.TimeoutError, "busy", "no pooled connection came free; run fewer writers at once"),
    (exc.ArgumentError, "misconfigured", "check CAB_STORE_URL"),
    (exc.NoDBAPILoaded, "misconfigured", "install the database driver named in CAB_STORE_URL"),
    (ImportError, "misconfigured", "install the database driver named in CAB_STORE_URL"),
    (ValidationError, "holds a record cab cannot read", "was it written by another schema_version?"),
    (exc.SQLAlchemyError, "failed", "check CAB_STORE_URL"),
)

TRANSLATED: tuple[type[BaseException], ...] = tuple(t for t, _, _ in ERROR_TABLE)
"""Every foreign exception type :func:`store_errors` turns into ``StoreError``."""

_MISSING_TABLE = re.compile(r"no such table|relation .* does not exist|undefinedtable", re.IGNORECASE)


def _password(url: str) -> str | None:
    try:
        return make_url(url).password
    except Exception:  # unparseable: the regex below covers it
        return None


def describe(error_type: type[BaseException]) -> tuple[str, str]:
    """``(headline, hint)`` for an exception type, from :data:`ERROR_TABLE`."""
    for known, headline, hint in ERROR_TABLE:
        if issubclass(error_type, known):
            return headline, hint
    raise TypeError(f"{error_type.__name__} is not a store error")


def validation_summary(error: ValidationError) -> str:
    """``N validation error(s), first at a.b: message`` for a pydantic error."""
    errors = error.errors()
    where = ".".join(str(p) for p in errors[0]["loc"]) if errors else ""
    message = errors[0]["msg"] if errors else ""
    return f"{error.error_count()} validation error(s), first at {where or '<root>'}: {message}"


def _reason(error: BaseException) -> str:
    cause = getattr(error, "orig", None) or error
    if isinstance(error, ValidationError):
        text = validation_summary(error)
    else:
        text = str(cause).strip() or type(cause).__name__
    line = " ".join(text.split())
    return line if len(line) <= _MAX_REASON else line[: _MAX_REASON - 1] + "…"


def to_store_error(error: BaseException, url: str, action: str) -> StoreError:
    """One-line ``StoreError`` for ``error`` raised while ``action`` ran against ``url``."""
    headline, hint = describe(type(error))
    reason = _reason(error)
    if isinstance(error, exc.DBAPIError) and _MISSING_TABLE.search(reason):
        headline, hint = describe(exc.NoSuchTableError)
    secret = _password(url)
    if secret:
        reason = reason.replace(secret, "***")
    reason = _URL_PASSWORD.sub(r"\1***\3", reason)
    return StoreError(f"result store {headline} at {mask_url(url)} ({action}): {reason}; {hint}")


@contextmanager
def store_errors(url: str, action: str) -> Iterator[None]:
    """Re-raise every exception of :data:`TRANSLATED` as ``StoreError``, chained to the original."""
    try:
        yield
    except TRANSLATED as error:
        raise to_store_error(error, url, action) from error
