"""Image building: content-addressed tags, the optional CA bundle, parents before children."""

from __future__ import annotations

import io
import tarfile
from pathlib import Path

import pytest

from cab_core.errors import ImageError
from cab_workers.host.build_context import PACKAGE_SOURCES
from cab_workers.host.images import ImageBuilder


def images_dir(tmp_path: Path, marker: str = "") -> Path:
    root = tmp_path / "images"
    (root / "base").mkdir(parents=True)
    (root / "base" / "Dockerfile").write_text(
        "FROM debian:bookworm-slim\nCOPY ca/ /cab-ca/\n"
        "RUN if [ -s /cab-ca/extra.crt ]; then echo with-ca > /probe; else echo no-ca > /probe; fi\n"
        f"LABEL marker={marker or 'x'}\n"
    )
    (root / "child").mkdir()
    (root / "child" / "Dockerfile").write_text("ARG BASE\nFROM ${BASE}\nRUN cat /probe\n")
    return root


class _NoDocker:
    """Tag computation and contexts need no engine; anything else would be a bug in the test."""


@pytest.mark.unit
def test_the_default_source_is_the_checkout_with_every_package(tmp_path: Path) -> None:
    """The worker image's wheel is built from the checkout this module lives in, wherever the module
    sits in the package tree."""
    from cab_workers.host.build_context import PACKAGE_SOURCES

    builder = ImageBuilder(_NoDocker(), images_dir(tmp_path))  # type: ignore[arg-type]  # no engine needed
    assert [s for s in PACKAGE_SOURCES if not (builder.source_dir / s).exists()] == []
    packages = {p.name for p in builder.source_dir.glob("cab_*") if (p / "__init__.py").is_file()}
    assert packages == set(PACKAGE_SOURCES) - {"pyproject.toml"}, "a package the wheel would leave out"


@pytest.mark.unit
def test_tags_are_content_addressed_and_follow_the_parent(tmp_path: Path) -> None:
    b1 = ImageBuilder(_NoDocker(), images_dir(tmp_path / "a"), prefix="t")  # type: ignore[arg-type]
    b2 = ImageBuilder(_NoDocker(), images_dir(tmp_path / "b"), prefix="t")  # type: ignore[arg-type]
    b3 = ImageBuilder(_NoDocker(), images_dir(tmp_path / "c", marker="changed"), prefix="t")  # type: ignore[arg-type]
    assert b1.tag("base") == b2.tag("base") and b1.tag("child") == b2.tag("child")
    assert b1.tag("base") != b3.tag("base")
    assert b1.tag("child") != b3.tag("child"), "a changed parent rebuilds the child"
    assert b1.parent("child") == "base" and b1.parent("base") is None
    assert b1.os_base("base") == "debian:bookworm-slim" and b1.os_base("child") is None


@pytest.mark.unit
def test_context_carries_the_ca_bundle_only_when_given(tmp_path: Path) -> None:
    bundle = tmp_path / "corp.pem"
    bundle.write_text("-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n")
    root = images_dir(tmp_path)
    for ca, expected in ((bundle, bundle.read_bytes()), (None, None)):
        ctx = ImageBuilder(_NoDocker(), root, ca_bundle=ca)._context("base")  # type: ignore[arg-type]
        with tarfile.open(fileobj=io.BytesIO(ctx.read())) as tar:
            names = tar.getnames()
            assert "ca" in names and "./Dockerfile" in names
            if expected is None:
                assert "ca/extra.crt" not in names
            else:
                member = tar.extractfile("ca/extra.crt")
                assert member is not None and member.read() == expected


@pytest.mark.unit
def test_missing_ca_bundle_is_one_clear_error(tmp_path: Path) -> None:
    with pytest.raises(ImageError, match="--ca-bundle"):
        ImageBuilder(_NoDocker(), images_dir(tmp_path), ca_bundle=tmp_path / "nope.pem")  # type: ignore[arg-type]


@pytest.mark.unit
def test_unknown_image_names_its_folder(tmp_path: Path) -> None:
    with pytest.raises(ImageError, match="no image named 'ghost'"):
        ImageBuilder(_NoDocker(), images_dir(tmp_path)).tag("ghost")  # type: ignore[arg-type]


@pytest.mark.docker
def test_build_uses_the_bundle_and_is_idempotent(sandbox, images, tmp_path: Path) -> None:  # noqa: ANN001
    bundle = tmp_path / "corp.pem"
    bundle.write_text("-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n")
    builder = ImageBuilder(
        sandbox, images_dir(tmp_path, marker=tmp_path.name), prefix="cab-test", ca_bundle=bundle
    )
    try:
        lines: list[str] = []
        refs = builder.ensure(["child"], progress=lines.append)
        assert [r.name for r in refs] == ["base", "child"] and all(r.built for r in refs)
        out = sandbox.client.containers.run(refs[-1].tag, ["cat", "/probe"], remove=True)
        assert out.decode().strip() == "with-ca"
        again: list[str] = []
        builder.ensure(["child"], progress=again.append)
        assert all("up to date" in m for m in again), again
    finally:
        for name in ("child", "base"):
            for tag in (builder.tag(name), f"cab-test/{name}:latest"):
                try:
                    sandbox.client.images.remove(tag, force=True)
                except Exception:  # noqa: BLE001 - best-effort cleanup of test images
                    pass


# -- the worker image: extra context (cab's wheel, tasks, images) ------------------------------------


def checkout(tmp_path: Path) -> tuple[Path, Path, Path]:
    """A miniature cab checkout: (source root, images dir, tasks dir)."""
    src = tmp_path / "src"
    for package in ("cab_core", "cab_scheduler", "cab_workers", "cab_cli"):
        (src / package).mkdir(parents=True)
        (src / package / "__init__.py").write_text(f'"""{package}."""\n')
    (src / "pyproject.toml").write_text('[project]\nname = "cab"\nversion = "0.1.0"\nreadme = "README.md"\n')
    (src / "README.md").write_text("# cab\n")
    (src / "tests").mkdir()
    (src / "tests" / "test_x.py").write_text("def test_x(): pass\n")
    images = images_dir(src)
    (images / "worker").mkdir()
    (images / "worker" / "Dockerfile").write_text("ARG BASE\nFROM ${BASE}\nCOPY dist/ /dist/\n")
    tasks = src / "tasks"
    (tasks / "demo" / "repo").mkdir(parents=True)
    (tasks / "demo" / "task.yaml").write_text("id: demo\n")
    (tasks / "demo" / "repo" / "run.sh").write_text("#!/bin/sh\n")
    return src, images, tasks


def worker_builder(src: Path, images: Path, tasks: Path, **kw: Path) -> ImageBuilder:
    return ImageBuilder(_NoDocker(), images, tasks_dir=tasks, source_dir=src, **kw)  # type: ignore[arg-type]


@pytest.mark.unit
def test_worker_tag_follows_package_sources_tasks_and_images_only(tmp_path: Path) -> None:
    src, images, tasks = checkout(tmp_path)
    b = worker_builder(src, images, tasks)
    first, base = b.tag("worker"), b.tag("base")
    assert first.startswith("cab/worker:")

    unrelated = [
        src / "README.md",  # in the wheel's metadata, not in the code it installs
        src / "tests" / "test_x.py",
        src / "cab_core" / "__pycache__" / "x.cpython-311.pyc",
        src / "notes.txt",
    ]
    for path in unrelated:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("changed\n")
        assert b.tag("worker") == first, f"{path.relative_to(src)} must not change the worker tag"

    seen = {first}
    for path in (
        src / "cab_core" / "__init__.py",
        src / "cab_cli" / "new_cmd.py",
        src / "pyproject.toml",
        tasks / "demo" / "task.yaml",
        images / "child" / "Dockerfile",
    ):
        path.write_text(path.read_text() + "# changed\n" if path.exists() else "x = 1\n")
        tag = b.tag("worker")
        assert tag not in seen, f"{path.relative_to(src)} must change the worker tag"
        seen.add(tag)
    assert b.tag("base") == base, "only the worker carries the sources"


@pytest.mark.unit
def test_worker_tag_is_the_same_for_a_copy_elsewhere(tmp_path: Path) -> None:
    """The worker computes tags from its own copy of images/: paths must not enter the hash."""
    import shutil

    a = worker_builder(*checkout(tmp_path / "a"))
    src, images, tasks = checkout(tmp_path / "b")
    moved = tmp_path / "elsewhere"
    shutil.copytree(tasks, moved / "tasks")
    shutil.copytree(images, moved / "share" / "images")
    b = worker_builder(src, moved / "share" / "images", moved / "tasks")
    assert a.tag("worker") == b.tag("worker") and a.tag("child") == b.tag("child")


@pytest.mark.unit
def test_worker_context_has_the_wheel_tasks_images_and_ca(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from cab_workers.host import build_context as images_mod

    built: list[tuple[Path, tuple[str, ...]]] = []

    def fake_wheel(source: Path, paths: tuple[str, ...], out: Path) -> None:
        built.append((source, paths))
        (out / "cab-0.1.0-py3-none-any.whl").write_bytes(b"PK fake wheel")

    monkeypatch.setattr(images_mod, "build_wheel", fake_wheel)
    src, images, tasks = checkout(tmp_path)
    (tasks / "demo" / "repo" / "run.sh").chmod(0o755)
    (tasks / "demo" / "__pycache__").mkdir()
    (tasks / "demo" / "__pycache__" / "x.pyc").write_bytes(b"\0")
    house = tmp_path / "wheelhouse"
    house.mkdir()
    (house / "redis-5.0.0-py3-none-any.whl").write_bytes(b"PK dep")
    bundle = tmp_path / "corp.pem"
    bundle.write_text("-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n")

    ctx = worker_builder(src, images, tasks, wheelhouse=house, ca_bundle=bundle)._context("worker")
    with tarfile.open(fileobj=io.BytesIO(ctx.read())) as tar:
        names = set(tar.getnames())
        assert {"./Dockerfile", "ca", "ca/extra.crt"} <= names
        assert {"dist/cab-0.1.0-py3-none-any.whl", "dist/redis-5.0.0-py3-none-any.whl"} <= names
        assert {"share/tasks/demo/task.yaml", "share/tasks/demo/repo/run.sh"} <= names
        assert {"share/images/base/Dockerfile", "share/images/worker/Dockerfile"} <= names
        assert not [n for n in names if "__pycache__" in n]
        assert tar.getmember("share/tasks/demo/repo/run.sh").mode & 0o111, "executable bits survive"
    assert built == [(src, PACKAGE_SOURCES)]


@pytest.mark.unit
def test_other_contexts_carry_no_extras(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from cab_workers.host import build_context as images_mod

    monkeypatch.setattr(images_mod, "build_wheel", lambda *_: pytest.fail("no wheel for base"))
    src, images, tasks = checkout(tmp_path)
    with tarfile.open(fileobj=worker_builder(src, images, tasks)._context("base")) as tar:
        assert not [n for n in tar.getnames() if n.startswith(("dist", "share"))]


@pytest.mark.unit
def test_worker_needs_the_task_catalog_and_a_checkout(tmp_path: Path) -> None:
    from cab_workers.host.build_context import build_wheel

    src, images, _ = checkout(tmp_path)
    with pytest.raises(ImageError, match="tasks_dir"):
        ImageBuilder(_NoDocker(), images, source_dir=src).tag("worker")  # type: ignore[arg-type]
    with pytest.raises(ImageError, match="not a cab source checkout"):
        build_wheel(tmp_path / "site-packages", ("cab_core",), tmp_path)
    with pytest.raises(ImageError, match="--wheelhouse"):
        worker_builder(src, images, src / "tasks", wheelhouse=tmp_path / "nope")


class _AllBuilt:
    """A sandbox in which every tag exists, so ensure() only resolves and never builds."""

    def image_id(self, tag: str) -> str:
        return f"sha256:{tag}"


@pytest.mark.unit
def test_worker_is_built_by_name_only_and_listed_as_extra() -> None:
    from cab_workers.host.images import BUILD_ORDER, EXTRA, describe

    repo = Path(__file__).resolve().parents[3]
    b = ImageBuilder(_AllBuilt(), repo / "images", tasks_dir=repo / "tasks")  # type: ignore[arg-type]
    assert [r.name for r in b.ensure()] == list(BUILD_ORDER) == ["base", "reference"]
    assert [r.name for r in b.ensure(["worker"])] == ["base", "worker"]
    rows = {row["name"]: row for row in describe(b)}
    assert list(rows)[:3] == [*BUILD_ORDER, *EXTRA] and "worker" in EXTRA
    assert rows["worker"]["default"] == "false" and rows["base"]["default"] == "true"
    tuis = [n for n in rows if n not in (*BUILD_ORDER, *EXTRA)]
    assert "opencode" in tuis and tuis == sorted(tuis)  # every TUI image is listed, built by name
    assert rows["opencode"]["version"] and rows["opencode"]["default"] == "false"
    assert rows["reference"]["version"] is None
