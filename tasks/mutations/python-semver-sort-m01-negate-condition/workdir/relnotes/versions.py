"""Semantic version tags (``1.4.2``, ``v2.0.0-rc.1``) and their ordering."""

from __future__ import annotations

import re
from dataclasses import dataclass

_TAG = re.compile(
    r"^v?(?P<major>0|[1-9]\d*)\.(?P<minor>0|[1-9]\d*)\.(?P<patch>0|[1-9]\d*)"
    r"(?:-(?P<pre>[0-9A-Za-z.-]+))?(?:\+(?P<build>[0-9A-Za-z.-]+))?$"
)


@dataclass(frozen=True)
class Version:
    """A parsed version tag. ``text`` keeps the tag exactly as written."""

    text: str
    major: str
    minor: str
    patch: str
    pre: str = ""
    build: str = ""

    def sort_key(self) -> tuple:
        """Precedence per Semantic Versioning 2.0.0: numbers compare numerically, a pre-release
        sorts before its release, and build metadata is ignored."""
        core = (int(self.major), int(self.minor), int(self.patch))
        if not self.pre:
            return (*core, 1, ())
        # Numeric identifiers sort before alphanumeric ones and compare as numbers; a shorter
        # list of identifiers sorts first when it is a prefix of the longer one.
        idents = tuple((0, int(p), "") if not p.isdigit() else (1, 0, p) for p in self.pre.split("."))
        return (*core, 0, idents)


def parse_version(tag: str) -> Version:
    """Parse ``tag``; raise ValueError when it is not a semantic version."""
    m = _TAG.match(tag.strip())
    if not m:
        raise ValueError(f"not a semantic version: {tag!r}")
    return Version(
        text=tag.strip(),
        major=m["major"],
        minor=m["minor"],
        patch=m["patch"],
        pre=m["pre"] or "",
        build=m["build"] or "",
    )


def sort_versions(tags: list[str], *, newest_first: bool = False) -> list[str]:
    """The tags ordered by semantic-version precedence (oldest first by default).

    Tags that are not versions are dropped. Build metadata (``+...``) does not affect
    precedence; equal versions keep their input order.
    """
    parsed = []
    for tag in tags:
        try:
            parsed.append(parse_version(tag))
        except ValueError:
            continue
    parsed.sort(key=Version.sort_key, reverse=newest_first)
    return [v.text for v in parsed]


def latest(tags: list[str], *, include_prereleases: bool = False) -> str | None:
    """The highest version among ``tags`` (pre-releases skipped unless asked), or None."""
    candidates = [t for t in sort_versions(tags) if include_prereleases or not parse_version(t).pre]
    return candidates[-1] if candidates else None
