"""The template environment of the site: jinja2 with autoescaping on for everything, so whatever an
agent wrote (its diff, its terminal, test output) reaches a page as text, never as markup.

``Renderer.digest`` hashes cab's version of the templates and static files: a cell page is rebuilt
when its inputs or this digest change, so an upgraded cab never serves pages of an older layout.
"""

from __future__ import annotations

import hashlib
import json
from importlib.resources import files
from typing import Any

from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape
from markupsafe import Markup

from cab_site import paths

SITE_VERSION = "1"
"""Bump when page structure changes in a way the template files' bytes do not show."""


def pct(value: float | None, digits: int = 1) -> str:
    return "–" if value is None else f"{value * 100:.{digits}f} %"


def number(value: float | None, fmt: str = "{:,.0f}") -> str:
    return "–" if value is None else fmt.format(value)


def usd(value: float | None) -> str:
    if value is None:
        return "–"
    return f"${value:.4f}" if value < 1 else f"${value:,.2f}"


def seconds(ms: float | None) -> str:
    if ms is None:
        return "–"
    return f"{ms:.0f} ms" if ms < 1000 else f"{ms / 1000:.1f} s"


def script_json(value: Any) -> Markup:
    """``value`` as JSON safe inside ``<script type="application/json">``: no ``<``, ``>`` or ``&``
    survive, so a recorded ``</script>`` cannot end the element."""
    text = json.dumps(value, ensure_ascii=False, separators=(",", ":"))
    for raw, escaped in (("<", "\\u003c"), (">", "\\u003e"), ("&", "\\u0026")):
        text = text.replace(raw, escaped)
    text = text.replace("\u2028", "\\u2028").replace("\u2029", "\\u2029")
    return Markup(text)  # noqa: S704 - built above from escaped JSON only


class Renderer:
    """Loads the templates once; ``page(name, here, **context)`` renders one page at path ``here``."""

    def __init__(self) -> None:
        self.env = Environment(
            loader=PackageLoader("cab_site", "templates"),
            autoescape=select_autoescape(default=True, default_for_string=True),
            undefined=StrictUndefined,
            trim_blocks=True,
            lstrip_blocks=True,
        )
        self.env.filters.update(pct=pct, number=number, usd=usd, seconds=seconds, script_json=script_json)
        self.digest = _package_digest()

    def page(self, name: str, here: str, **context: Any) -> str:
        def link(to: str) -> str:
            return paths.href(here, to)

        return self.env.get_template(name).render(link=link, here=here, paths=paths, **context)


def _package_digest() -> str:
    h = hashlib.sha256(SITE_VERSION.encode())
    root = files("cab_site")
    for folder in ("templates", "static"):
        for entry in sorted(root.joinpath(folder).iterdir(), key=lambda e: e.name):
            if entry.is_file():
                h.update(entry.name.encode() + b"\0" + entry.read_bytes())
    return h.hexdigest()[:16]
