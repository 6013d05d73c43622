"""Task CI for a task's environment: the Dockerfile follows the registry-only rules
(``dockerfile_check``), every Debian package it installs exists in the base image's release, and the
image builds (``ImageBuilder.ensure_task_image``: content-addressed, so a cached image is one
built from exactly this folder).

The apt check runs ``apt-cache show`` for each package inside the base image, as root, on Docker's
default bridge network (the index comes from the Debian mirrors, as the build's own
``apt-get update`` does); it adds a few seconds and runs only for tasks that install apt packages.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from cab_core.errors import CabError
from cab_core.paths import TaskPaths
from cab_workers.host.images import ImageBuilder
from cab_workers.host.sandbox import ContainerSpec, Sandbox
from cab_workers.taskci.dockerfile_check import check_dockerfile

APT_CHECK_S = 300
"""Deadline of the apt check container (an ``apt-get update`` plus one lookup per package)."""

_APT_SCRIPT = r"""
. /etc/os-release
echo "RELEASE ${VERSION_CODENAME:-unknown}"
apt-get -o APT::Sandbox::User=root update -qq >/tmp/apt-update.log 2>&1 || {
  echo "UPDATE-FAILED $(tail -n 1 /tmp/apt-update.log)"; exit 3; }
for p in "$@"; do
  apt-cache show --no-all-versions "$p" >/dev/null 2>&1 || echo "MISSING $p"
done
"""
"""argv[1:] are the package names; prints the release, then one ``MISSING <name>`` per unknown one."""

_TEXT_LIMIT = 256 * 1024


@dataclass(frozen=True)
class EnvironmentVerdict:
    """A task's environment, checked."""

    present: bool
    """The task carries ``environment/Dockerfile``."""
    problems: tuple[str, ...] = ()
    image: str | None = None
    """The task image's tag, when it was built (or found built)."""
    build_s: float = 0.0
    """Seconds spent obtaining the image (0 when it was cached)."""

    @property
    def ok(self) -> bool:
        return not self.problems


@dataclass(frozen=True)
class AptCheck:
    """What the apt check found in the base image."""

    release: str
    missing: tuple[str, ...]
    error: str | None = None


def context_texts(folder: Path) -> dict[str, str]:
    """The build context's small text files by relative path (requirement and lock files live there)."""
    out = {}
    for path in sorted(folder.rglob("*")):
        if path.is_file() and path.stat().st_size <= _TEXT_LIMIT:
            try:
                out[path.relative_to(folder).as_posix()] = path.read_text(encoding="utf-8")
            except UnicodeDecodeError:
                continue
    return out


def parse_apt_output(stdout: str, exit_code: int | None) -> AptCheck:
    """Read the apt check's output (see ``_APT_SCRIPT``)."""
    release = next((ln.split()[1] for ln in stdout.splitlines() if ln.startswith("RELEASE ")), "unknown")
    failed = next((ln for ln in stdout.splitlines() if ln.startswith("UPDATE-FAILED")), None)
    if failed is not None or exit_code not in (0, None):
        why = failed.removeprefix("UPDATE-FAILED").strip() if failed else f"exit {exit_code}"
        return AptCheck(release, (), f"apt-get update failed in the base image: {why}")
    missing = tuple(ln.split(maxsplit=1)[1] for ln in stdout.splitlines() if ln.startswith("MISSING "))
    return AptCheck(release, missing)


def apt_check(sandbox: Sandbox, base_image: str, packages: tuple[str, ...], task_id: str) -> AptCheck:
    """Look every package up in the base image's Debian release (needs the Debian mirrors)."""
    name = "cab-validate-apt-" + re.sub(r"[^A-Za-z0-9_.-]+", "-", task_id)
    spec = ContainerSpec(
        name=name,
        image=base_image,
        argv=["sh", "-c", _APT_SCRIPT, "sh", *packages],
        deadline_s=APT_CHECK_S,
        user="0:0",
        network="bridge",
        memory_mb=1024,
        labels=sandbox.labels_for(task_id, 0, "validate"),
    )
    run = sandbox.run(spec)
    if run.error or run.timed_out:
        return AptCheck("unknown", (), f"apt check did not run: {run.error or 'timed out'}")
    return parse_apt_output(run.stdout, run.exit_code)


def check_environment(
    task_id: str,
    paths: TaskPaths,
    sandbox: Sandbox,
    builder: ImageBuilder,
    base_image: str,
    *,
    build: bool = True,
    progress: Callable[[str], None] = lambda _: None,
) -> EnvironmentVerdict:
    """Static check, apt lookup and (with ``build``) the image build of one task's environment."""
    if not paths.has_environment:
        return EnvironmentVerdict(present=False)
    progress(f"{task_id}: environment")
    dockerfile = (paths.environment / "Dockerfile").read_text(encoding="utf-8")
    report = check_dockerfile(dockerfile, context_texts(paths.environment))
    problems = [f"Dockerfile {p}" for p in report.problems]
    if report.apt_packages:
        apt = apt_check(sandbox, base_image, report.apt_packages, task_id)
        if apt.error:
            problems.append(apt.error)
        problems += [
            f"apt package {p!r} is not in Debian {apt.release} (the base image's release)"
            for p in apt.missing
        ]
    if problems or not build:
        return EnvironmentVerdict(present=True, problems=tuple(problems))
    try:
        ref = builder.ensure_task_image(paths, lambda line: progress(f"{task_id}: {line}"))
    except CabError as e:
        tail = str(e).strip().splitlines()
        return EnvironmentVerdict(present=True, problems=(" | ".join(tail[:1] + tail[-3:])[:400],))
    if ref is None:  # the Dockerfile vanished between the two looks
        return EnvironmentVerdict(present=False)
    return EnvironmentVerdict(present=True, image=ref.tag, build_s=ref.build_s)
