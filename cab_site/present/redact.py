"""Masking of secret-looking values before anything is shown: keys named like secrets, API-key and
token shapes, ``NAME_KEY=value`` assignments, bearer tokens and passwords inside URLs."""

from __future__ import annotations

import json
import re
from typing import Any

MASK = "***"

_SECRET_KEY = re.compile(
    r"(^|[_-])(api_?key|key|secret|password|passwd|token|auth|authorization|"
    r"credentials?|cookie)$",
    re.IGNORECASE,
)
_SECRET_FLAG = re.compile(r"^--?[\w-]*(key|token|secret|password)$", re.IGNORECASE)
_SECRET_VALUE = re.compile(
    r"\bsk-[A-Za-z0-9_-]{8,}|\bgh[pousr]_[A-Za-z0-9]{16,}|\bxox[abprs]-[A-Za-z0-9-]{10,}|\bAKIA[0-9A-Z]{16}\b"
)
_SECRET_ASSIGN = re.compile(r"""\b([A-Z0-9_]*(?:KEY|TOKEN|SECRET|PASSWORD)[A-Z0-9_]*=)(?!["']?\$)\S+""")
_BEARER = re.compile(r"(?i)\b(bearer\s+)[A-Za-z0-9._~+/=-]{8,}")
_URL_CRED = re.compile(r"(://[^:/@\s]+:)[^@\s]+@")


def redact(value: Any, key: str = "") -> Any:
    """``value`` with secret-looking strings masked, recursing into dicts and lists."""
    if isinstance(value, dict):
        return {k: redact(v, str(k)) for k, v in value.items()}
    if isinstance(value, list):
        out, hide_next = [], False
        for item in value:
            out.append(MASK if hide_next and isinstance(item, str) else redact(item))
            hide_next = isinstance(item, str) and bool(_SECRET_FLAG.match(item))
        return out
    if isinstance(value, str):
        if value and _SECRET_KEY.search(key):
            return MASK
        value = _SECRET_VALUE.sub(MASK, value)
        value = _SECRET_ASSIGN.sub(rf"\1{MASK}", value)
        value = _BEARER.sub(rf"\1{MASK}", value)
        value = _URL_CRED.sub(rf"\1{MASK}@", value)
    return value


def as_json(value: Any) -> str:
    return json.dumps(redact(value), separators=(",", ":"), ensure_ascii=False)
