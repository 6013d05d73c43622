"""Masking secrets inside URLs, for every message, log line, repr and ``cab config`` line cab prints.

``mask_url`` replaces the password of the URL's userinfo (everything between the last ``@`` of the
authority and the first ``:`` before it, so a password holding ``@`` is masked whole) and the value of
any query parameter whose name says it is a secret (``password=``, ``sslpassword=``, ``token=``, ...).
Pure string work: it also masks what no URL parser accepts (a password holding ``/``, a scheme with
a space).
"""

from __future__ import annotations

import re

MASK = "***"

_LOOSE_PASSWORD = re.compile(r"(://[^:/@\s]*:)([^@\s]*)(@)")
"""``scheme://user:password@``, for a password holding ``/`` or ``?`` (not a valid URL, still masked)."""
_SECRET_QUERY = re.compile(r"(?i)((?:^|&)[^=&]*(?:pass|secret|token|key)[^=&]*=)[^&#]*")


def mask_url(url: object) -> str:
    """The URL as text with its password and secret query values replaced by ``***``."""
    text = str(url)
    scheme, sep, rest = text.partition("://")
    if not sep:
        return text
    end = min((i for i in (rest.find(c) for c in "/?#") if i >= 0), default=len(rest))
    authority, tail = rest[:end], rest[end:]
    userinfo, at, hostport = authority.rpartition("@")
    if at and ":" in userinfo:
        authority = f"{userinfo.partition(':')[0]}:{MASK}@{hostport}"
    path, q, query = tail.partition("?")
    if q:
        tail = path + q + _SECRET_QUERY.sub(rf"\1{MASK}", query)
    return _LOOSE_PASSWORD.sub(rf"\1{MASK}\3", f"{scheme}{sep}{authority}{tail}")
