"""Release-notes tooling: version ordering and page rendering."""

from relnotes.versions import Version, latest, parse_version, sort_versions

__all__ = ["Version", "latest", "parse_version", "sort_versions"]
