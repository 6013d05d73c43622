"""``Artifact``: digest and media type filled in by ``of``, bytes that survive JSON (base64), text that
never fails to decode, and never part of a result's record JSON."""

from __future__ import annotations

import hashlib

import pytest
from pydantic import ValidationError

from cab_core.schema import Artifact, ArtifactName

pytestmark = pytest.mark.unit


@pytest.mark.parametrize(
    ("name", "value", "media_type"),
    [
        (ArtifactName.terminal, "terminal.cast", "application/x-asciicast"),
        (ArtifactName.diff, "agent.diff", "text/x-diff"),
    ],
)
def test_names_and_media_types(name: ArtifactName, value: str, media_type: str) -> None:
    a = Artifact.of(name, b"x", original_bytes=1, truncated=False)
    assert (name.value, a.media_type, a.sha256) == (value, media_type, hashlib.sha256(b"x").hexdigest())


def test_bytes_round_trip_through_json_and_text_replaces_what_is_not_utf8() -> None:
    a = Artifact.of(ArtifactName.diff, b"+caf\xc3\xa9 \xff\n", original_bytes=100, truncated=True)
    dumped = a.model_dump_json()
    assert '"body":"K2NhZsOpIP8K"' in dumped  # base64 of the bytes
    assert Artifact.model_validate_json(dumped) == a
    assert a.text() == "+café \ufffd\n" and a.intact()
    assert not a.model_copy(update={"body": b"+forged\n"}).intact()


def test_a_digest_that_is_not_sha256_hex_is_refused() -> None:
    with pytest.raises(ValidationError):
        Artifact(
            name=ArtifactName.diff,
            media_type="text/x-diff",
            body=b"",
            original_bytes=0,
            truncated=False,
            sha256="x",
        )
