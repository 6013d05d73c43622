"""structlog setup: JSON lines to a file under CAB_HOME/logs, warnings and up to stderr.

Ids are bound once per cell (``log.bind(cell_id=..., sweep_id=..., attempt=...)``); event names are
stable snake_case. Called once by the entry point; nothing is configured at import time.
"""

from __future__ import annotations

import logging
import sys
from pathlib import Path

import structlog

_HANDLER_PREFIX = "cab."
"""Name prefix of the handlers ``configure`` adds, so a second call replaces them instead of adding more."""


def configure(log_file: Path | None, *, console_level: int = logging.WARNING) -> None:
    """Route structlog through stdlib logging: everything to ``log_file``, warnings+ to stderr."""
    root = logging.getLogger()
    for h in list(root.handlers):
        if (h.get_name() or "").startswith(_HANDLER_PREFIX):
            root.removeHandler(h)
    root.setLevel(logging.INFO)
    formatter = structlog.stdlib.ProcessorFormatter(
        processor=structlog.processors.JSONRenderer(sort_keys=True),
        foreign_pre_chain=[structlog.processors.add_log_level, structlog.processors.TimeStamper(fmt="iso")],
    )
    console = logging.StreamHandler(sys.stderr)
    console.setLevel(console_level)
    console.setFormatter(
        structlog.stdlib.ProcessorFormatter(
            processor=structlog.dev.ConsoleRenderer(colors=False),
            foreign_pre_chain=[structlog.processors.add_log_level],
        )
    )
    console.set_name(f"{_HANDLER_PREFIX}console")
    root.addHandler(console)
    if log_file is not None:
        log_file.parent.mkdir(parents=True, exist_ok=True)
        fh = logging.FileHandler(log_file, encoding="utf-8")
        fh.setFormatter(formatter)
        fh.set_name(f"{_HANDLER_PREFIX}file")
        root.addHandler(fh)
    for noisy in ("urllib3", "docker", "uvicorn.access", "httpx"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    structlog.configure(
        processors=[
            structlog.contextvars.merge_contextvars,
            structlog.processors.add_log_level,
            structlog.processors.TimeStamper(fmt="iso"),
            structlog.stdlib.ProcessorFormatter.wrap_for_formatter,
        ],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
        cache_logger_on_first_use=True,
    )
