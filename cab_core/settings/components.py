"""The settings of each component: small frozen models, every field naming its environment variable.

A field reads ``lease_ttl_s: Annotated[float, Env("CAB_LEASE_TTL_S")] = Field(30.0, ...)``: its
default, its limits and its variable are declared once, here, and nowhere below. Constructing a
component (``WorkerSettings(lease_ttl_s=4)``) never reads the environment; only
:class:`cab_core.settings.Settings` does, at an entry point.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, SecretStr

from cab_core.masking import MASK


@dataclass(frozen=True)
class Env:
    """Field metadata: the flat environment variable that sets this field."""

    name: str
    secret: bool = False
    """The value (or the password inside a URL) is never printed, logged or shown by ``repr``."""


def env_of(model: type[BaseModel], field: str) -> Env:
    """The :class:`Env` a field of ``model`` declares (every setting declares one)."""
    found = [m for m in model.model_fields[field].metadata if isinstance(m, Env)]
    if not found:
        raise TypeError(f"{model.__name__}.{field} declares no Env(...) variable")
    return found[0]


class Component(BaseModel):
    """Base of the per-component settings: frozen, unknown fields refused, secrets masked in repr."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    def __repr_args__(self) -> Iterator[tuple[str | None, Any]]:
        for name, value in super().__repr_args__():
            secret = name is not None and env_of(type(self), name).secret
            yield name, (MASK if secret and value else value)


class StoreSettings(Component):
    """The result store (the system of record)."""

    url: Annotated[str | None, Env("CAB_STORE_URL", secret=True)] = Field(
        None, description="SQLAlchemy URL; default is a SQLite file under home."
    )


class BrokerSettings(Component):
    """The Redis broker every distributed process shares; its values must agree across processes."""

    url: Annotated[str, Env("CAB_BROKER_URL", secret=True)] = Field(
        "redis://127.0.0.1:6379/0",
        description="Redis broker URL for distributed mode (the old CAB_REDIS_URL is read when unset).",
    )
    visibility_timeout_s: Annotated[int, Env("CAB_VISIBILITY_TIMEOUT_S")] = Field(
        6 * 3600,
        ge=1,
        description="Broker visibility timeout; the same in every worker, Flower and dispatcher.",
    )
    visibility_slack_s: Annotated[int, Env("CAB_VISIBILITY_SLACK_S")] = Field(
        600, ge=0, description="What the visibility timeout must exceed a cell budget by."
    )
    restore_interval_s: Annotated[int, Env("CAB_RESTORE_INTERVAL_S")] = Field(
        10, ge=1, description="How often kombu looks for unacknowledged messages past the visibility timeout."
    )


class WorkerSettings(Component):
    """One cell delivery on a worker: its lease, tries, backoff and deadline, and the host's chores."""

    lease_ttl_s: Annotated[float, Env("CAB_LEASE_TTL_S")] = Field(
        30.0, gt=1, description="Cell lease TTL; renewed every third of it."
    )
    max_attempts: Annotated[int, Env("CAB_MAX_ATTEMPTS")] = Field(
        3,
        ge=1,
        description="Tries of one cell: an infra failure is retried until then, then stored as final.",
    )
    retry_backoff_s: Annotated[float, Env("CAB_RETRY_BACKOFF_S")] = Field(
        10.0, ge=0, description="Wait before the first automatic retry of an infra failure; doubles each try."
    )
    retry_backoff_max_s: Annotated[float, Env("CAB_RETRY_BACKOFF_MAX_S")] = Field(
        600.0, ge=0, description="Longest wait between automatic retries."
    )
    deadline_grace_s: Annotated[float, Env("CAB_DEADLINE_GRACE_S")] = Field(
        120.0,
        ge=0,
        description="Added to a cell's setup + agent + test budget before cab's watchdog stops it.",
    )
    model_cap_defer_s: Annotated[float, Env("CAB_MODEL_CAP_DEFER_S")] = Field(
        5.0,
        ge=0,
        description="How long a cell waits before it is offered again when its model's cap is full.",
    )
    write_retry_s: Annotated[float, Env("CAB_WRITE_RETRY_S")] = Field(
        60.0,
        ge=0,
        description="How long a finished cell keeps trying to store its result while the store is away.",
    )
    reap_every_s: Annotated[float, Env("CAB_REAP_EVERY_S")] = Field(
        60.0, gt=0, description="Reaper period of a worker."
    )
    announce_every_s: Annotated[float, Env("CAB_ANNOUNCE_EVERY_S")] = Field(
        5.0, gt=0, description="How often a worker tells Redis it is alive (for `cab status`)."
    )


class DispatcherSettings(Component):
    """The fan-out loop next to the broker, and how `cab status` judges its progress."""

    max_queued: Annotated[int, Env("CAB_MAX_QUEUED")] = Field(
        1000, ge=1, description="Most cells waiting in one queue (admission control)."
    )
    batch: Annotated[int, Env("CAB_DISPATCH_BATCH")] = Field(
        2000, ge=1, description="Most cells published to one queue in one round."
    )
    interval_s: Annotated[float, Env("CAB_DISPATCH_INTERVAL_S")] = Field(
        1.0, gt=0, description="Longest sleep between rounds when nothing wakes the dispatcher."
    )
    reconcile_every_s: Annotated[float, Env("CAB_RECONCILE_EVERY_S")] = Field(
        30.0, gt=0, description="Reconciler period of the dispatcher."
    )
    lease_s: Annotated[float, Env("CAB_DISPATCHER_LEASE_S")] = Field(
        15.0, gt=0, description="Lease of the leading dispatcher; renewed every third of it."
    )
    stall_after_s: Annotated[float, Env("CAB_STALL_AFTER_S")] = Field(
        120.0, gt=0, description="`cab status` calls a sweep stalled after this long with no progress."
    )


class ProxySettings(Component):
    """The per-host recording proxy between agents and model endpoints."""

    max_retries: Annotated[int, Env("CAB_PROXY_MAX_RETRIES")] = Field(
        4, ge=0, description="Retries of an upstream call that failed for a retryable reason."
    )
    backoff_base_s: Annotated[float, Env("CAB_PROXY_BACKOFF_BASE_S")] = Field(
        0.5, ge=0, description="First wait before an upstream retry; grows with each retry."
    )
    backoff_cap_s: Annotated[float, Env("CAB_PROXY_BACKOFF_CAP_S")] = Field(
        30.0, ge=0, description="Longest wait before an upstream retry."
    )
    upstream_timeout_s: Annotated[float, Env("CAB_PROXY_UPSTREAM_TIMEOUT_S")] = Field(
        600.0, gt=0, description="Longest one upstream model call may take."
    )
    cap_lease_s: Annotated[float, Env("CAB_PROXY_CAP_LEASE_S")] = Field(
        30.0, gt=0, description="Lease of a shared endpoint-concurrency slot (distributed mode)."
    )


class SandboxSettings(Component):
    """The agents' containers and their network."""

    egress_lock: Annotated[bool, Env("CAB_EGRESS_LOCK")] = Field(
        True,
        description="Firewall the agents' network so the model proxy is the only address an agent reaches "
        "(needs root and iptables); off only for hosts where that cannot be had.",
    )


class ImagesSettings(Component):
    """Where hosts share the images they build (cab's, the tasks' environments, TUIs on them)."""

    registry: Annotated[str | None, Env("CAB_IMAGE_REGISTRY")] = Field(
        None,
        description="Registry (host[:port][/path]) a host pushes each image it builds to, and pulls a "
        "missing image from before building it; unset: every host builds its own.",
    )


class FlowerSettings(Component):
    """`cab flower`, the Celery web UI on cab's broker."""

    basic_auth: Annotated[SecretStr | None, Env("CAB_FLOWER_BASIC_AUTH", secret=True)] = Field(
        None, description="user:password for Flower's basic auth (UI and REST API)."
    )
    address: Annotated[str, Env("CAB_FLOWER_ADDRESS")] = Field(
        "127.0.0.1", description="Address to listen on."
    )
    port: Annotated[int, Env("CAB_FLOWER_PORT")] = Field(
        5555, ge=1, le=65535, description="Port to listen on."
    )
    purge_offline_workers_s: Annotated[int, Env("CAB_FLOWER_PURGE_OFFLINE_S")] = Field(
        600, ge=0, description="Forget workers that have been offline this long."
    )
