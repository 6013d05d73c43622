"""asciicast v2 recordings of an agent's terminal output (https://docs.asciinema.org format v2)."""

from __future__ import annotations

import json
import threading
import time
from pathlib import Path
from typing import IO


class AsciicastWriter:
    """Writes a header line, then one ``[seconds, "o", text]`` event per output chunk.

    Thread-safe: the sandbox's attach thread calls :meth:`event` while the pipeline waits.
    """

    def __init__(
        self, path: Path, *, title: str, width: int = 120, height: int = 40, max_bytes: int = 4 * 1024 * 1024
    ) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self.max_bytes = max_bytes
        self._written = 0
        self._lock = threading.Lock()
        self._fp: IO[str] = path.open("w", encoding="utf-8")
        header = {
            "version": 2,
            "width": width,
            "height": height,
            "timestamp": int(time.time()),
            "title": title,
            "env": {"TERM": "xterm-256color", "SHELL": "/bin/bash"},
        }
        self._fp.write(json.dumps(header) + "\n")

    def event(self, seconds: float, stream: str, text: str) -> None:
        """Record output; stderr is shown like stdout (a terminal interleaves them)."""
        with self._lock:
            if self._fp.closed or self._written > self.max_bytes:
                return
            line = json.dumps([round(seconds, 6), "o", text.replace("\n", "\r\n")]) + "\n"
            self._written += len(line)
            self._fp.write(line)

    def close(self) -> None:
        with self._lock:
            if not self._fp.closed:
                self._fp.close()

    def __enter__(self) -> AsciicastWriter:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
