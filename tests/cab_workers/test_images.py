"""Image building: content-addressed tags, the optional CA bundle, parents before children."""

from __future__ import annotations

import io
import tarfile
from pathlib import Path

import pytest

from cab_core.errors import ImageError
from cab_workers.images import ImageBuilder


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
