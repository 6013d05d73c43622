"""The task catalog the scripted model reads: which task is this conversation about?

The catalog scans ``<tasks_root>/<category>/<slug>/task.yaml`` (see ``cab_core.paths.TaskPaths``) and
matches a user message against each task's prompt. Matching is containment after collapsing
whitespace, so a TUI that wraps the prompt in its own preamble still matches; the longest matching
prompt wins. Task files are read leniently (only ``prompt`` is required; a field of the wrong type
reads as empty) because the catalog must keep serving while tasks are being written; a miss
triggers one rescan. The exploit ledger (``ledger``) reads the runner fields and the files.

``TaskRoots`` is what the endpoint serves from: its tasks folder, and the task versions a host's
task cache holds (``<versions>/<hash>/<category>/<slug>/``, see ``cab_workers.host.task_cache``).
A request that names a version (the ``x-cab-task-hash`` header, which only cab's proxy sets, for
the scripted upstream only) is matched against that version alone, so a cell gets the reference
solution of exactly the task content it runs, even a task that exists only in a bundle.
"""

from __future__ import annotations

import json
import threading
from collections import OrderedDict
from dataclasses import dataclass
from pathlib import Path

import structlog
import yaml

from cab_core.paths import SOLUTION_DELETE_LIST, TaskPaths
from cab_core.task_bundle import is_hash

log = structlog.get_logger(__name__)


def _unquoted(text: str) -> str | None:
    stripped = text.strip()
    if len(stripped) < 2 or stripped[0] != '"' or stripped[-1] != '"':
        return None
    try:
        value = json.loads(stripped, strict=False)  # raw newlines inside, as opencode sends them
    except json.JSONDecodeError:
        return None
    return value if isinstance(value, str) else None


def squash(text: str) -> str:
    """Collapse every run of whitespace to one space (the matching normal form)."""
    return " ".join(text.split())


@dataclass(frozen=True)
class TaskEntry:
    """One task as the scripted model sees it."""

    task_id: str
    """``category/slug``."""
    paths: TaskPaths
    prompt: str
    protected_paths: tuple[str, ...] = ()
    test_runner: str = ""
    """``cargo``, ``pytest``, ``go``, ``node`` or ``script``; empty when the spec does not say."""
    language: str = ""
    test_command: tuple[str, ...] = ()
    """The argv the scorer runs from the work dir."""
    expected_changes: tuple[str, ...] = ()
    """Work-dir paths the reference solution adds, removes or modifies."""

    def solution_files(self) -> list[str]:
        """Relative paths of the solution's files (POSIX, sorted), the delete list excluded."""
        root = self.paths.solution
        if not root.is_dir():
            return []
        return sorted(
            p.relative_to(root).as_posix()
            for p in root.rglob("*")
            if p.is_file() and p.relative_to(root).as_posix() != SOLUTION_DELETE_LIST
        )

    def deleted_paths(self) -> list[str]:
        """Paths listed in ``solution/.cab-delete`` (blank lines and ``#`` comments skipped)."""
        listing = self.paths.solution / SOLUTION_DELETE_LIST
        if not listing.is_file():
            return []
        lines = (line.strip() for line in listing.read_text(encoding="utf-8").splitlines())
        return [line for line in lines if line and not line.startswith("#")]

    def workdir_files(self) -> list[str]:
        """Relative paths of the files the agent starts with (POSIX, sorted)."""
        root = self.paths.workdir
        if not root.is_dir():
            return []
        return sorted(p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file())

    def hidden_files(self) -> list[str]:
        """Relative paths of the hidden tests (POSIX, sorted): where the scorer copies them in /work."""
        root = self.paths.hidden_tests
        if not root.is_dir():
            return []
        return sorted(p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file())

    def workdir_text(self, rel: str) -> str | None:
        """The text of the shipped work-dir file ``rel``; None when it is absent or not UTF-8."""
        return _text(self.paths.workdir, rel)

    def hidden_text(self, rel: str) -> str | None:
        """The text of the hidden test file ``rel``; None when it is absent or not UTF-8."""
        return _text(self.paths.hidden_tests, rel)


def _text(root: Path, rel: str) -> str | None:
    path = root / rel
    if ".." in Path(rel).parts or Path(rel).is_absolute() or not path.is_file():
        return None
    try:
        return path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return None


def _strings(value: object) -> tuple[str, ...]:
    """A list of strings from a lenient spec field (anything else is dropped)."""
    return tuple(str(v) for v in value if isinstance(v, str)) if isinstance(value, list) else ()


def _word(value: object) -> str:
    return value.strip() if isinstance(value, str) else ""


def _load(spec: Path) -> TaskEntry | None:
    try:
        raw = yaml.safe_load(spec.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        log.warning("endpoint_task_unreadable", path=str(spec), error=str(exc))
        return None
    if not isinstance(raw, dict) or not isinstance(raw.get("prompt"), str) or not raw["prompt"].strip():
        log.warning("endpoint_task_without_prompt", path=str(spec))
        return None
    root = spec.parent
    return TaskEntry(
        task_id=f"{root.parent.name}/{root.name}",
        paths=TaskPaths(root),
        prompt=raw["prompt"],
        protected_paths=_strings(raw.get("protected_paths")),
        test_runner=_word(raw.get("test_runner")),
        language=_word(raw.get("language")),
        test_command=_strings(raw.get("test_command")),
        expected_changes=_strings(raw.get("expected_changes")),
    )


class TaskCatalog:
    """Tasks under one root, loaded lazily and rescanned when a prompt matches nothing."""

    def __init__(self, tasks_root: Path) -> None:
        self.tasks_root = Path(tasks_root)
        self._tasks: list[TaskEntry] | None = None

    def tasks(self, *, rescan: bool = False) -> list[TaskEntry]:
        """Every readable task, sorted by id."""
        if self._tasks is None or rescan:
            specs = sorted(self.tasks_root.glob("*/*/task.yaml"))
            self._tasks = [t for t in (_load(s) for s in specs) if t is not None]
            log.info("endpoint_tasks_loaded", tasks_root=str(self.tasks_root), count=len(self._tasks))
        return self._tasks

    def match(self, texts: list[str]) -> TaskEntry | None:
        """The task whose prompt is contained in the first text that matches any task, else None.

        A text that is one JSON string literal is read as the string (opencode quotes a prompt that
        contains quotes)."""
        for rescan in (False, True):
            tasks = self.tasks(rescan=rescan)
            for text in (t for raw in texts for t in (raw, _unquoted(raw)) if t):
                hay = squash(text)
                hits = [t for t in tasks if squash(t.prompt) in hay]
                if hits:
                    return max(hits, key=lambda t: (len(squash(t.prompt)), t.task_id))
        return None


TASK_HASH_HEADER = "x-cab-task-hash"
"""Request header naming the task version a call is about (set by cab's proxy; empty: the default
tasks folder)."""

VERSIONS_KEPT = 256
"""Version catalogs kept loaded (least recently used dropped first)."""


class TaskRoots:
    """The tasks folder (``default``) plus the task versions under ``versions``, one catalog each."""

    def __init__(self, default: Path, versions: Path | None = None) -> None:
        self.default = TaskCatalog(default)
        self.versions = Path(versions) if versions is not None else None
        self._loaded: OrderedDict[str, TaskCatalog] = OrderedDict()
        self._lock = threading.Lock()

    def catalog(self, task_hash: str | None) -> TaskCatalog:
        """The catalog a request naming ``task_hash`` is matched against: the default one when it
        names none; that version alone when it does (an empty catalog when this endpoint has no such
        version: the behaviour then finds no task, never another version's)."""
        if not task_hash:
            return self.default
        if self.versions is None or not is_hash(task_hash):
            log.warning("endpoint_task_version_unknown", task_hash=task_hash[:80])
            return TaskCatalog(Path("/nonexistent/cab-task-version"))
        with self._lock:
            found = self._loaded.pop(task_hash, None) or TaskCatalog(self.versions / task_hash)
            self._loaded[task_hash] = found
            while len(self._loaded) > VERSIONS_KEPT:
                self._loaded.popitem(last=False)
            return found
