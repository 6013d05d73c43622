"""What a cell attempt leaves besides its scores: the agent's diff and its terminal recording.

A results site built on another machine than the worker's (distributed mode) cannot read the worker's
files, so each attempt carries these bytes in its result (``CellResult.artifacts``), written in the
same transaction to their own table and read back with ``ResultStore.artifacts``. Their content is
the agent's: hostile, to be escaped wherever it is shown. Each is capped by its producer (the worker);
``truncated`` and ``original_bytes`` say how much was cut, and ``sha256`` lets a reader tell a kept
body from an altered one.
"""

from __future__ import annotations

import hashlib
from enum import StrEnum

from pydantic import ConfigDict, Field

from cab_core.schema.base import Record


class ArtifactName(StrEnum):
    """The artifacts an attempt can have; the value is the file name a site or a download uses."""

    terminal = "terminal.cast"
    diff = "agent.diff"


MEDIA_TYPES: dict[ArtifactName, str] = {
    ArtifactName.terminal: "application/x-asciicast",
    ArtifactName.diff: "text/x-diff",
}
"""The media type of each artifact."""


class Artifact(Record):
    """One stored artifact of one attempt: the kept bytes, and what was cut from them."""

    model_config = ConfigDict(
        extra="forbid", populate_by_name=True, ser_json_bytes="base64", val_json_bytes="base64"
    )

    name: ArtifactName = Field(description="Which artifact: the terminal recording or the agent's diff.")
    media_type: str = Field(
        description="application/x-asciicast (asciicast v2) for the recording, text/x-diff for the diff."
    )
    body: bytes = Field(
        repr=False,
        description="The bytes kept, possibly truncated (a truncated cast keeps its header and whole "
        "event lines; a truncated diff ends with a marker line).",
    )
    original_bytes: int = Field(ge=0, description="Size of the artifact before truncation.")
    truncated: bool = Field(description="True when ``body`` is less than the whole artifact.")
    sha256: str = Field(
        pattern=r"^[0-9a-f]{64}$", description="Hex sha256 of ``body``, checked when the store reads it."
    )

    @classmethod
    def of(cls, name: ArtifactName, body: bytes, *, original_bytes: int, truncated: bool) -> Artifact:
        """An artifact of ``body``, its media type and digest filled in."""
        return cls(
            name=name,
            media_type=MEDIA_TYPES[name],
            body=body,
            original_bytes=original_bytes,
            truncated=truncated,
            sha256=hashlib.sha256(body).hexdigest(),
        )

    def text(self) -> str:
        """The body as text (UTF-8, undecodable bytes replaced): for display, always escaped."""
        return self.body.decode("utf-8", errors="replace")

    def intact(self) -> bool:
        """True when ``sha256`` is the digest of ``body``."""
        return hashlib.sha256(self.body).hexdigest() == self.sha256
