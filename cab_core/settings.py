"""Settings, read once at the entry point (``CAB_`` environment prefix) and passed down."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from cab_core.paths import CabHome


def _repo_root() -> Path:
    return Path(__file__).resolve().parent.parent


class Settings(BaseSettings):
    """Everything configurable about a cab process."""

    model_config = SettingsConfigDict(env_prefix="CAB_", extra="ignore")

    home: Path = Field(Path("~/.cab"), description="Root of all local state (store, work dirs, recordings).")
    store_url: str | None = Field(None, description="SQLAlchemy URL; default is a SQLite file under home.")
    tasks_dir: Path = Field(default_factory=lambda: _repo_root() / "tasks", description="Task catalog root.")
    images_dir: Path = Field(default_factory=lambda: _repo_root() / "images", description="Dockerfiles root.")
    ca_bundle: Path | None = Field(None, description="Extra CA bundle for pip/npm/apt inside image builds.")
    redis_url: str = Field("redis://127.0.0.1:6379/0", description="Broker URL (Redis) for distributed mode.")
    visibility_timeout_s: int = Field(
        6 * 3600,
        ge=1,
        description="Broker visibility timeout; the same in every worker, Flower and dispatcher.",
    )
    lease_ttl_s: float = Field(30.0, gt=1, description="Cell lease TTL; renewed every third of it.")
    max_attempts: int = Field(
        3,
        ge=1,
        description="Tries of one cell: an infra failure is retried until then, and then stored as final.",
    )
    retry_backoff_s: float = Field(
        10.0, ge=0, description="Wait before the first automatic retry of an infra failure; doubles each try."
    )
    deadline_grace_s: float = Field(
        120.0,
        ge=0,
        description="Added to a cell's setup + agent + test budget before cab's watchdog stops it.",
    )
    stall_after_s: float = Field(
        120.0, gt=0, description="`cab status` calls a sweep stalled after this long with no progress."
    )
    visibility_slack_s: int = Field(
        600, ge=0, description="What the visibility timeout must exceed a cell budget by."
    )
    reconcile_every_s: float = Field(30.0, gt=0, description="Reconciler period of the dispatcher.")
    reap_every_s: float = Field(60.0, gt=0, description="Reaper period of a worker.")
    restore_interval_s: int = Field(
        10, ge=1, description="How often kombu looks for unacknowledged messages past the visibility timeout."
    )
    image_prefix: str = Field("cab", description="Repository prefix of the images cab builds.")
    price_table: Path | None = Field(
        None,
        description="Price table (YAML, the shipped cab_core/prices.yaml format); default the shipped one.",
    )
    egress_lock: bool = Field(
        True,
        description="Firewall the agents' network so the model proxy is the only address an agent reaches "
        "(needs root and iptables); off only for hosts where that cannot be had.",
    )

    @property
    def cab_home(self) -> CabHome:
        return CabHome(self.home.expanduser())

    @property
    def resolved_store_url(self) -> str:
        return self.store_url or f"sqlite:///{self.cab_home.store_db}"
