"""Static check of a task environment's Dockerfile: it must build from nothing but the package
registries (Debian, PyPI, npm, RubyGems), reproducibly. Pure: text in, findings out.

Rules (each finding is one line naming the instruction):

* ``ARG BASE`` before the first ``FROM``, and every ``FROM`` is ``${BASE}`` (or an earlier stage):
  cab builds the task image on its own base image and layers the TUIs on top;
* no ``ADD`` of a URL, no ``curl`` / ``wget`` of a URL, no ``git clone``: nothing from outside the
  registries, whose content can change or vanish;
* ``pip install`` and ``npm install`` name exact versions (``name==1.2.3``, ``name@1.2.3``), as do
  requirement files found in the build context; ``npm install`` / ``npm ci`` without names needs a
  ``package-lock.json``; ``gem install`` needs ``-v``;
* ``apt-get install`` names packages literally, so :func:`apt_packages` can hand them to the check in
  the base image (``task_env.apt_missing``: does the base image's Debian release have them?);
* the image ends as ``USER agent`` with ``WORKDIR /work`` (what every cell expects).
"""

from __future__ import annotations

import re
import shlex
from collections.abc import Iterator, Mapping
from dataclasses import dataclass

_URL = re.compile(r"^(?:https?|ftp|git|ssh)://|^git@", re.IGNORECASE)
_BASE_REF = re.compile(r"^\$(?:\{BASE\}|BASE)$")
_EXACT_SEMVER = re.compile(r"^\d+\.\d+\.\d+(?:[-+][0-9A-Za-z.-]+)?$")
_PIP_PINNED = re.compile(r"^[A-Za-z0-9._-]+(?:\[[A-Za-z0-9,._-]+\])?===?[A-Za-z0-9.!+_-]+$")
_SEPARATORS = frozenset({"&&", "||", ";", "|", "&"})
_APT_VALUE_OPTIONS = frozenset({"-o", "-t", "--target-release", "--option", "-c", "--config-file"})
_PIP_VALUE_OPTIONS = frozenset({"-c", "--constraint", "--prefix", "--root", "--target", "-t", "--platform"})
_PIP_FOREIGN_INDEX = frozenset({"-i", "--index-url", "--extra-index-url", "-f", "--find-links"})
_NPM_VALUE_OPTIONS = frozenset({"--prefix", "-C", "--cache", "--omit", "--include", "--loglevel"})


@dataclass(frozen=True)
class Instruction:
    """One Dockerfile instruction, continuation lines joined."""

    line: int
    """1-based line where it starts."""
    keyword: str
    """Upper-case: FROM, RUN, ..."""
    args: str


@dataclass(frozen=True)
class DockerfileReport:
    """What the static check found."""

    problems: tuple[str, ...]
    """One line each; empty when the Dockerfile follows every rule."""
    apt_packages: tuple[str, ...]
    """Debian packages installed with apt-get / apt, in order, without version or release suffixes."""

    @property
    def ok(self) -> bool:
        return not self.problems


def instructions(text: str) -> list[Instruction]:
    """The instructions of a Dockerfile: comments dropped, backslash continuations joined."""
    out: list[Instruction] = []
    parts: list[str] = []
    start = 0
    for number, raw in enumerate(text.splitlines(), start=1):
        stripped = raw.strip()
        if not parts and (not stripped or stripped.startswith("#")):
            continue
        if parts and stripped.startswith("#"):
            continue  # Docker drops comment lines inside a continuation too
        if not parts:
            start = number
        continued = stripped.endswith("\\")
        parts.append(stripped[:-1] if continued else stripped)
        if not continued:
            _flush(out, parts, start)
    _flush(out, parts, start)
    return out


def _flush(out: list[Instruction], parts: list[str], start: int) -> None:
    joined = " ".join(p.strip() for p in parts if p.strip())
    parts.clear()
    if joined:
        keyword, _, args = joined.partition(" ")
        out.append(Instruction(start, keyword.upper(), args.strip()))


def commands(shell: str) -> Iterator[list[str]]:
    """The simple commands of a ``RUN`` line (split on ``&&``, ``||``, ``;``, ``|``), as words."""
    try:
        lexer = shlex.shlex(shell, posix=True, punctuation_chars=";&|")
        lexer.whitespace_split = True
        words = list(lexer)
    except ValueError:
        words = shell.split()
    current: list[str] = []
    for word in words:
        if word in _SEPARATORS:
            if current:
                yield current
            current = []
        else:
            current.append(word)
    if current:
        yield current


def check_dockerfile(text: str, context: Mapping[str, str] | None = None) -> DockerfileReport:
    """Check ``text`` (a task's ``environment/Dockerfile``) against the module's rules.

    ``context`` maps paths of the build context (relative, POSIX) to their text; it is where
    requirement files and lock files are looked up (by file name)."""
    problems: list[str] = []
    apt: list[str] = []
    found = instructions(text)
    problems += _check_from(found)
    for ins in found:
        where = f"line {ins.line}: {ins.keyword}"
        if ins.keyword == "ADD" and any(_URL.match(w) for w in ins.args.split()):
            problems.append(f"{where} fetches a URL; COPY from the build context or install from a registry")
        if ins.keyword == "RUN":
            for words in commands(ins.args):
                problems += [f"{where}: {p}" for p in _check_command(words, apt, context or {})]
    problems += _check_end(found)
    return DockerfileReport(tuple(problems), tuple(dict.fromkeys(apt)))


def _check_from(found: list[Instruction]) -> list[str]:
    froms = [i for i in found if i.keyword == "FROM"]
    if not froms:
        return ["no FROM: a task image starts `ARG BASE` / `FROM ${BASE}`"]
    problems = []
    before = [i for i in found if i.line < froms[0].line]
    if not any(i.keyword == "ARG" and re.match(r"BASE\b", i.args) for i in before):
        problems.append("no `ARG BASE` before the first FROM: cab passes its base image as BASE")
    stages: set[str] = set()
    for ins in froms:
        words = [w for w in ins.args.split() if not w.startswith("--")]
        image = words[0] if words else ""
        if not (_BASE_REF.match(image) or image in stages):
            problems.append(
                f"line {ins.line}: FROM {image}: a task image builds FROM ${{BASE}} (cab's base image)"
            )
        if len(words) >= 3 and words[1].upper() == "AS":
            stages.add(words[2])
    return problems


def _check_end(found: list[Instruction]) -> list[str]:
    users = [i.args.split()[0] for i in found if i.keyword == "USER" and i.args]
    workdirs = [i.args.strip() for i in found if i.keyword == "WORKDIR"]
    problems = []
    if users and users[-1] not in ("agent", "1000", "1000:1000"):
        problems.append(f"ends as USER {users[-1]}: end with `USER agent` (cells run as the agent)")
    if workdirs and workdirs[-1] != "/work":
        problems.append(f"ends in WORKDIR {workdirs[-1]}: end with `WORKDIR /work`")
    return problems


def _check_command(words: list[str], apt: list[str], context: Mapping[str, str]) -> list[str]:
    """Findings of one simple command of a RUN line; apt packages are appended to ``apt``."""
    while words and (("=" in words[0] and not words[0].startswith("-")) or words[0] in ("sudo", "env")):
        words = words[1:]  # `DEBIAN_FRONTEND=noninteractive apt-get ...`, `sudo apt-get ...`
    if not words:
        return []
    program = words[0].rsplit("/", 1)[-1]
    if program in ("curl", "wget") and any(_URL.match(w) for w in words[1:]):
        return [f"{program} of a URL; install from a package registry instead"]
    if program == "git" and "clone" in words[1:]:
        return ["git clone; install from a package registry instead"]
    if program in ("apt-get", "apt") and "install" in words[1:]:
        return _apt(words[words.index("install") + 1 :], apt)
    is_pip = program in ("pip", "pip3") or (program.startswith("python") and words[1:3] == ["-m", "pip"])
    if is_pip and "install" in words:
        return _pip(words[words.index("install") + 1 :], context)
    if program == "npm" and len(words) > 1 and words[1] in ("install", "i", "add", "ci"):
        return _npm(words[1], words[2:], context)
    if program == "gem" and words[1:2] == ["install"]:
        pinned = any(w in ("-v", "--version") or w.startswith("--version=") for w in words)
        return [] if pinned else ["gem install without -v VERSION: pin an exact version"]
    return []


def _apt(args: list[str], apt: list[str]) -> list[str]:
    problems = []
    skip = False
    for word in args:
        if skip:
            skip = False
        elif word in _APT_VALUE_OPTIONS:
            skip = True
        elif word.startswith("-"):
            continue
        elif "$" in word or "*" in word:
            problems.append(f"apt-get install {word}: name packages literally so they can be checked")
        else:
            apt.append(re.split(r"[=/:]", word, maxsplit=1)[0])
    return problems


def _pip(args: list[str], context: Mapping[str, str]) -> list[str]:
    problems = []
    skip = ""
    for word in args:
        if skip:
            if skip in ("-r", "--requirement"):
                problems += _requirements(word, context)
            skip = ""
        elif word in ("-r", "--requirement", *_PIP_VALUE_OPTIONS, *_PIP_FOREIGN_INDEX):
            skip = word
            if word in _PIP_FOREIGN_INDEX:
                problems.append(f"pip install {word}: install from PyPI only")
        elif word.startswith("-"):
            continue
        elif _URL.match(word) or "://" in word:
            problems.append(f"pip install {word}: a URL, not a PyPI release")
        elif word.startswith((".", "/")):
            continue  # a local project of the build context
        elif not _PIP_PINNED.match(word):
            problems.append(f"pip install {word}: pin an exact version (name==X.Y.Z)")
    return problems


def _requirements(path: str, context: Mapping[str, str]) -> list[str]:
    name = path.rsplit("/", 1)[-1]
    text = next((t for p, t in sorted(context.items()) if p.rsplit("/", 1)[-1] == name), None)
    if text is None:
        return [f"pip install -r {path}: not in the build context, so its pins cannot be checked"]
    problems = []
    for raw in text.splitlines():
        line = raw.split("#", 1)[0].strip().split(";", 1)[0].strip()
        if line and not line.startswith("-") and not _PIP_PINNED.match(line.replace(" ", "")):
            problems.append(f"{name}: {line}: pin an exact version (name==X.Y.Z)")
    return problems


def _npm(verb: str, args: list[str], context: Mapping[str, str]) -> list[str]:
    problems = []
    names = []
    skip = False
    for word in args:
        if skip:
            skip = False
        elif word in _NPM_VALUE_OPTIONS or word == "--registry":
            skip = True
            if word == "--registry":
                problems.append("npm --registry: install from the npm registry only")
        elif not word.startswith("-"):
            names.append(word)
    if not names:
        has_lock = any(p.rsplit("/", 1)[-1] == "package-lock.json" for p in context)
        return problems if has_lock else [*problems, f"npm {verb} without a package-lock.json in the context"]
    for word in names:
        if _URL.match(word) or "://" in word or word.startswith(("git+", "github:")):
            problems.append(f"npm install {word}: a URL, not an npm release")
            continue
        at = word.rfind("@")
        version = word[at + 1 :] if at > 0 else ""
        if not _EXACT_SEMVER.match(version) and not word.startswith((".", "/")):
            problems.append(f"npm install {word}: pin an exact version (name@X.Y.Z)")
    return problems
