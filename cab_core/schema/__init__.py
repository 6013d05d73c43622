"""The schema of record: every persisted or wire record cab knows. Import from here.

Records that are stored carry ``schema_version``; bump the constant of their family when a stored
field changes meaning (``SCHEMA_VERSION``: results and tasks; ``SPEC_SCHEMA_VERSION``: sweeps and
cells). One module per family:

    task.py       TaskSpec        one task folder's ``task.yaml`` (with Resources, Timeouts)
    endpoint.py   EndpointSpec    where model calls go: Scripted / Replay / Remote / Local, by ``kind``
    policy.py     SweepPolicy     endpoint, per-model cap, budget (Budget), requires, sampling
                                  (SamplingOverride): one per sweep
    specs.py      SweepSpec       what a user submits: TUIs x models x tasks x reruns, and its policy
                  CellSpec        one expanded cell, self-contained enough to run on any host
    result.py     CellResult      everything one attempt of a cell produced: identity, timing, failure
    axes.py       Axes            PassRate / Tokens / Latency / BlastRadius / Refusal / Integrity /
                                  Composite: the scored blocks of a result
    call.py       Span            one traced phase of the cell pipeline
                  ModelCall       one model request as seen by the recorder (the proxy, or the agent)
                  Exchange        the request and response bytes of one call, for replay
    artifact.py   Artifact        the agent's diff or terminal recording of an attempt (ArtifactName)
    base.py       Record, the version constants, the name patterns
"""

from __future__ import annotations

from cab_core.schema.artifact import Artifact, ArtifactName
from cab_core.schema.axes import (
    Axes,
    BlastRadiusAxis,
    CompositeAxis,
    IntegrityAxis,
    LatencyAxis,
    PassRateAxis,
    RefusalAxis,
    RefusalCorrect,
    TokensAxis,
)
from cab_core.schema.base import METHODOLOGY_VERSION, SCHEMA_VERSION, SPEC_SCHEMA_VERSION
from cab_core.schema.call import Exchange, ModelCall, Span, TokenSource
from cab_core.schema.endpoint import (
    EndpointSpec,
    LocalEndpointSpec,
    RemoteEndpointSpec,
    ReplayEndpointSpec,
    ScriptedEndpointSpec,
)
from cab_core.schema.policy import Budget, SamplingOverride, SweepPolicy
from cab_core.schema.result import CellResult, Digests, Failure, FailureClass, RunIdentity, Timing
from cab_core.schema.specs import CellSpec, SweepSpec, make_cell_id
from cab_core.schema.task import DEFAULT_IGNORED_CHANGES, Resources, TaskSpec, Timeouts

__all__ = [
    "DEFAULT_IGNORED_CHANGES",
    "METHODOLOGY_VERSION",
    "SCHEMA_VERSION",
    "SPEC_SCHEMA_VERSION",
    "Artifact",
    "ArtifactName",
    "Axes",
    "BlastRadiusAxis",
    "Budget",
    "CellResult",
    "CellSpec",
    "CompositeAxis",
    "Digests",
    "EndpointSpec",
    "Exchange",
    "Failure",
    "FailureClass",
    "IntegrityAxis",
    "LatencyAxis",
    "ModelCall",
    "PassRateAxis",
    "RefusalAxis",
    "RefusalCorrect",
    "LocalEndpointSpec",
    "RemoteEndpointSpec",
    "ReplayEndpointSpec",
    "Resources",
    "RunIdentity",
    "SamplingOverride",
    "ScriptedEndpointSpec",
    "Span",
    "SweepPolicy",
    "SweepSpec",
    "TaskSpec",
    "Timeouts",
    "Timing",
    "TokenSource",
    "TokensAxis",
    "make_cell_id",
]
