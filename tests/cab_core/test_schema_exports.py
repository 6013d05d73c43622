"""The schema's public names: every record is imported from ``cab_core.schema``, whichever module of the
package declares it; a name added or dropped is a decision this list records."""

from __future__ import annotations

import pytest

import cab_core.schema as schema

pytestmark = pytest.mark.unit

EXPORTED = {
    # specs: tasks, sweeps, cells and what a sweep applies to all its cells
    "TaskSpec", "Resources", "Timeouts", "DEFAULT_IGNORED_CHANGES",
    "SweepSpec", "CellSpec", "make_cell_id", "SweepPolicy", "Budget", "SamplingOverride",
    "EndpointSpec", "ScriptedEndpointSpec", "ReplayEndpointSpec", "RemoteEndpointSpec", "LocalEndpointSpec",
    # results and their axes
    "CellResult", "RunIdentity", "Timing", "Digests", "Failure", "FailureClass",
    "Axes", "PassRateAxis", "TokensAxis", "LatencyAxis", "BlastRadiusAxis", "RefusalAxis", "RefusalCorrect",
    "IntegrityAxis", "CompositeAxis",
    # calls and spans
    "Span", "ModelCall", "Exchange", "TokenSource",
    # what an attempt leaves besides its scores: the agent's diff, its terminal recording
    "Artifact", "ArtifactName",
    # versions
    "SCHEMA_VERSION", "SPEC_SCHEMA_VERSION", "METHODOLOGY_VERSION",
}  # fmt: skip


def test_the_public_names_are_pinned() -> None:
    assert set(schema.__all__) == EXPORTED
    assert len(schema.__all__) == len(EXPORTED), "a name is listed twice"


def test_every_public_name_is_importable_from_the_package() -> None:
    missing = [name for name in schema.__all__ if not hasattr(schema, name)]
    assert missing == []


def test_the_version_constants() -> None:
    """Results and tasks keep layout 1; sweeps and cells are at 2 (endpoint and policy as records)."""
    assert (schema.SCHEMA_VERSION, schema.SPEC_SCHEMA_VERSION) == (1, 2)
    assert schema.CellSpec.model_fields["schema_version"].default == schema.SPEC_SCHEMA_VERSION
    assert schema.SweepSpec.model_fields["schema_version"].default == schema.SPEC_SCHEMA_VERSION
    assert schema.CellResult.model_fields["schema_version"].default == schema.SCHEMA_VERSION
    assert schema.TaskSpec.model_fields["schema_version"].default == schema.SCHEMA_VERSION
