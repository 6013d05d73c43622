"""Where things live: small frozen path objects, each with its tree drawn in the docstring."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class CabHome:
    """All local state, under one folder (``CAB_HOME``, default ``~/.cab``)::

    $CAB_HOME/
    ├── cab.db                 default SQLite result store
    ├── cells/<safe id>/       one folder per cell attempt (deleted after scoring unless kept)
    ├── recordings/<safe id>.cast   asciicast v2 of the agent's terminal
    ├── vendor/<package>-<version>/   pinned npm assets the site bundles (cab_site.vendor)
    └── logs/
    """

    root: Path

    @property
    def store_db(self) -> Path:
        return self.root / "cab.db"

    @property
    def cells(self) -> Path:
        return self.root / "cells"

    @property
    def recordings(self) -> Path:
        return self.root / "recordings"

    @property
    def logs(self) -> Path:
        return self.root / "logs"

    @property
    def vendor(self) -> Path:
        return self.root / "vendor"

    def ensure(self) -> CabHome:
        for p in (self.root, self.cells, self.recordings, self.logs):
            p.mkdir(parents=True, exist_ok=True)
        return self


def safe_name(cell_id: str, attempt: int = 1) -> str:
    """A filesystem- and container-name-safe rendering of a cell id plus attempt."""
    s = re.sub(r"[^A-Za-z0-9_.-]+", "_", cell_id).strip("_.-")
    return f"{s}.a{attempt}"


@dataclass(frozen=True)
class TaskPaths:
    """One task folder::

    tasks/<category>/<slug>/
    ├── task.yaml          TaskSpec
    ├── workdir/           what the agent sees, copied to /work
    ├── hidden_tests/      copied over /work only in the scorer container
    ├── solution/          reference solution, overlaid on workdir/ (files to delete listed in
    │                      solution/.cab-delete, one path per line)
    └── environment/       optional: Dockerfile (``ARG BASE`` / ``FROM ${BASE}``) and its build context,
                           the task's own image; absent: the shared base image
    """

    root: Path

    @property
    def spec(self) -> Path:
        return self.root / "task.yaml"

    @property
    def workdir(self) -> Path:
        return self.root / "workdir"

    @property
    def hidden_tests(self) -> Path:
        return self.root / "hidden_tests"

    @property
    def solution(self) -> Path:
        return self.root / "solution"

    @property
    def environment(self) -> Path:
        return self.root / "environment"

    @property
    def has_environment(self) -> bool:
        return (self.environment / "Dockerfile").is_file()


SOLUTION_DELETE_LIST = ".cab-delete"


@dataclass(frozen=True)
class CellPaths:
    """One cell attempt's scratch folder on the host::

    $CAB_HOME/cells/<safe id>/
    ├── work/              the agent's work dir, mounted at /work (git-snapshotted before the run)
    ├── agent/             adapter-written config, mounted read-only at /cab
    └── out/               agent-side reports (usage.jsonl), mounted at /cab-out
    """

    root: Path

    @property
    def work(self) -> Path:
        return self.root / "work"

    @property
    def agent(self) -> Path:
        return self.root / "agent"

    @property
    def out(self) -> Path:
        return self.root / "out"


# In-container mount points.
CONTAINER_WORK = "/work"
CONTAINER_AGENT = "/cab"
CONTAINER_OUT = "/cab-out"
