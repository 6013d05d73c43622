"""``python3 -m relnotes.cli TAG...``: print the tags newest first, marking the latest release."""

from __future__ import annotations

import sys

from relnotes.versions import latest, sort_versions


def main(argv: list[str]) -> int:
    newest = latest(argv)
    for tag in sort_versions(argv, newest_first=True):
        marker = "  <- latest" if tag == newest else ""
        print(f"{tag}{marker}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
