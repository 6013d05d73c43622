"""The output folder of a site build and its manifest, ``.cab-site.json``: for every file the site
owns, a digest of what it was built from (cell pages, aggregate pages) or of its bytes (assets).

A file whose inputs are unchanged is neither rendered nor written; a file is written atomically (temp
file, rename), so a reader or a server never sees half a page; files of the last build that this one
did not produce are removed, and nothing the manifest does not list is ever touched. A folder that is
not empty and holds no manifest is refused: ``-o ~`` must not scatter pages through a home folder.
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

from cab_core.errors import CabError

MANIFEST = ".cab-site.json"


def write_atomic(target: Path, data: bytes) -> None:
    """Write ``data`` to ``target`` through a temp file in the same folder and a rename."""
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_name(f".{target.name}.tmp{os.getpid()}")
    tmp.write_bytes(data)
    tmp.replace(target)


class SiteOutput:
    """The output folder and its manifest: ``{path: digest}`` of every file the site owns."""

    def __init__(self, root: Path, site_digest: str) -> None:
        self.root = root
        self.site_digest = site_digest
        self.old: dict[str, str] = {}
        manifest = root / MANIFEST
        if manifest.exists():
            try:
                loaded = json.loads(manifest.read_text())
                if loaded.get("site") == site_digest:
                    self.old = dict(loaded.get("files", {}))
                else:  # a different cab layout: every page is rebuilt, stale ones still removed
                    self.old = {k: "" for k in loaded.get("files", {})}
            except (OSError, ValueError, AttributeError) as e:
                raise CabError(f"{manifest} is unreadable ({e}); remove the folder and build again") from e
        elif root.exists() and any(root.iterdir()):
            raise CabError(f"{root} is not empty and holds no cab site; pick a new or empty folder for -o")
        self.new: dict[str, str] = {}
        self.written = 0
        self.unchanged = 0

    def fresh(self, rel: str, inputs: str) -> bool:
        """True (and the file is kept) when ``rel`` was built from the same ``inputs`` last time."""
        if self.old.get(rel) == inputs and (self.root / rel).exists():
            self.new[rel] = inputs
            self.unchanged += 1
            return True
        return False

    def fresh_all(self, rels: tuple[str, ...], inputs: str) -> bool:
        """``fresh`` for files built together: all kept, or none (all are rendered again)."""
        if all(self.old.get(r) == inputs and (self.root / r).exists() for r in rels):
            return all(self.fresh(r, inputs) for r in rels)
        return False

    def written_elsewhere(self, rel: str, inputs: str) -> None:
        """Record a file another process wrote (the parallel cell pages) from ``inputs``."""
        self.new[rel] = inputs
        self.written += 1

    def write(self, rel: str, content: str | bytes, inputs: str | None = None) -> None:
        """Write ``rel`` atomically when its bytes changed; remember what it was built from."""
        data = content.encode() if isinstance(content, str) else content
        digest = inputs or hashlib.sha256(data).hexdigest()[:32]
        self.new[rel] = digest
        target = self.root / rel
        if self.old.get(rel) == digest and target.exists():
            return
        write_atomic(target, data)
        self.written += 1

    def finish(self) -> None:
        """Remove the files of the last build that this one did not produce; save the manifest."""
        for rel in set(self.old) - set(self.new):
            (self.root / rel).unlink(missing_ok=True)
        doc = {"site": self.site_digest, "files": dict(sorted(self.new.items()))}
        self.write_manifest(json.dumps(doc, separators=(",", ":")))

    def write_manifest(self, text: str) -> None:
        tmp = self.root / f"{MANIFEST}.tmp"
        tmp.write_text(text)
        tmp.replace(self.root / MANIFEST)
