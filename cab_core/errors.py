"""One error root for cab. Every class says when it is raised.

    CabError                      root; never raised itself
    ├── ConfigError               bad user input: sweep/task YAML, unknown TUI/task/model, bad settings
    │   ├── SweepError            a sweep file does not validate or names unknown things
    │   └── TaskError             a task folder is malformed (spec, work dir, hidden tests, solution)
    ├── InfraError                the machinery failed: Docker, images, store, network; retryable
    │   ├── SandboxError          a container could not be created, started, waited for or removed
    │   ├── ImageError            an image is missing or failed to build
    │   └── StoreError            the result store could not be reached or written
    ├── AgentError                the agent broke the rules of the run (crash, timeout, escape attempt)
    └── ScorerError               grading itself failed (scorer container died, test command timed out)

Foreign exceptions (docker, sqlalchemy, httpx) are translated where they are caught: in
``cab_workers.host.sandbox`` and ``cab_core.store``.
"""

from __future__ import annotations


class CabError(Exception):
    """Root of every error cab raises on purpose."""


class ConfigError(CabError):
    """Bad user input; the message is one actionable line."""


class SweepError(ConfigError):
    """A sweep file is invalid or names a TUI, task or model cab does not know."""


class TaskError(ConfigError):
    """A task folder is malformed or fails validation."""


class InfraError(CabError):
    """Docker, images, the store or the network failed; the cell is retried on resume."""


class SandboxError(InfraError):
    """A container operation failed (create, start, wait, copy, remove)."""


class ImageError(InfraError):
    """An image is missing or could not be built."""


class StoreError(InfraError):
    """The result store could not be reached or written."""


class AgentError(CabError):
    """The agent broke the rules of the run."""


class ScorerError(CabError):
    """Grading failed (scorer container died, the test command timed out)."""
