"""Where each page of the site lives, stable across builds so links and badges can be shared.

    index.html                                   the leaderboard of every sweep in the build
    cell/<sweep>/<tui>/<model...>/<category>/<task>[~runN].html
                                                 one page per cell (its latest attempt)
    task/<category>/<task>.html                  one page per task: prompt, validation, results
    badge/<tui>/<model...>.svg                   the pass rate of a (TUI, model) pair
    badge/cell/<sweep>/.../<task>[~runN].svg     one cell's result
    assets/                                      stylesheet, scripts, the vendored terminal player

Names come from ids that users and tasks choose (a model may hold ``/``, ``:`` or spaces), so every
path segment is *encoded*: letters, digits, ``.``, ``_`` and ``-`` stay, every other byte becomes
``~XX``, and so does a leading ``.``. The encoding is injective, so two ids never share a page; a
segment is never ``.``, ``..`` or a dot-file (which ``cab site serve`` refuses), and never starts
with a scheme-like ``name:`` (``:`` is encoded), so relative links work from ``file://``.
"""

from __future__ import annotations

import posixpath
import re
from functools import lru_cache

_KEEP = re.compile(r"[A-Za-z0-9._-]")
_SAFE = re.compile(r"[A-Za-z0-9._-]+")


@lru_cache(maxsize=65536)
def segment(text: str) -> str:
    """One path segment for ``text``: safe characters kept, the rest as ``~XX`` per UTF-8 byte; a
    leading ``.`` is encoded too, so no segment is ``.``, ``..`` or a hidden file the server refuses."""
    if _SAFE.fullmatch(text) and not text.startswith("."):
        return text
    out = []
    for i, ch in enumerate(text):
        if _KEEP.fullmatch(ch) and not (i == 0 and ch == "."):
            out.append(ch)
        else:
            out.extend(f"~{b:02X}" for b in ch.encode())
    return "".join(out) or "~"


def _id_path(cell_id: str) -> str:
    """``sweep/tui/model/category/task#runN`` as encoded segments; ``#`` becomes ``~run``."""
    base, hash_, run = cell_id.partition("#")
    parts = [segment(p) for p in base.split("/")]
    if hash_:
        parts[-1] += "~" + segment(run)
    return "/".join(parts)


@lru_cache(maxsize=65536)
def cell_page(cell_id: str) -> str:
    return f"cell/{_id_path(cell_id)}.html"


def cell_badge(cell_id: str) -> str:
    return f"badge/cell/{_id_path(cell_id)}.svg"


def pair_badge(tui: str, model: str) -> str:
    return "badge/" + "/".join(segment(p) for p in [tui, *model.split("/")]) + ".svg"


def task_page(task_id: str) -> str:
    return "task/" + "/".join(segment(p) for p in task_id.split("/")) + ".html"


INDEX = "index.html"
ASSETS = "assets"


def href(from_page: str, to_path: str) -> str:
    """A relative link from the page at ``from_page`` to ``to_path`` (both relative to the site root),
    so the site works from ``file://`` and from any server prefix."""
    start = posixpath.dirname(from_page) or "."
    link = posixpath.relpath(to_path, start)
    return link if not link.startswith("/") else "./" + link
