"""One settings tree for every cab process, read once at an entry point and passed down.

    Settings                          paths: home, tasks_dir, images_dir, ca_bundle, price_table,
    │                                 image_prefix
    ├── store: StoreSettings          the result store URL
    ├── broker: BrokerSettings        Redis URL, visibility timeout (the same in every process)
    ├── worker: WorkerSettings        leases, tries, backoff, deadlines, the host's chores
    ├── dispatcher: DispatcherSettings   admission control, reconciler, when a sweep is stalled
    ├── proxy: ProxySettings          upstream retries and timeouts, shared endpoint caps
    ├── sandbox: SandboxSettings      the egress lock
    ├── flower: FlowerSettings        listen address and basic auth
    └── images: ImagesSettings        the registry hosts share images through

``Settings()`` reads the flat ``CAB_*`` variables each field declares (``CAB_LEASE_TTL_S``,
``CAB_BROKER_URL``, ...; :mod:`cab_core.settings.env`); command-line flags are applied on top with
:meth:`Settings.override`. Everything below an entry point takes this object or one component of it
and has no defaults of its own. ``cab config`` prints the effective values and where each came from
(:mod:`cab_core.settings.report`).
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Annotated, Any

from pydantic import Field, TypeAdapter
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource, SettingsConfigDict

from cab_core.paths import CabHome
from cab_core.settings.components import (
    BrokerSettings,
    Component,
    DispatcherSettings,
    Env,
    FlowerSettings,
    ImagesSettings,
    ProxySettings,
    SandboxSettings,
    StoreSettings,
    WorkerSettings,
)
from cab_core.settings.env import FlatEnvSource

__all__ = [
    "BrokerSettings",
    "DispatcherSettings",
    "Env",
    "FlowerSettings",
    "ImagesSettings",
    "ProxySettings",
    "SandboxSettings",
    "Settings",
    "StoreSettings",
    "WorkerSettings",
]


def _repo_root() -> Path:
    return Path(__file__).resolve().parents[2]


class Settings(BaseSettings):
    """Everything configurable about a cab process."""

    model_config = SettingsConfigDict(extra="forbid", frozen=True)

    home: Annotated[Path, Env("CAB_HOME")] = Field(
        Path("~/.cab"), description="Root of all local state (store, work dirs, recordings)."
    )
    tasks_dir: Annotated[Path, Env("CAB_TASKS_DIR")] = Field(
        default_factory=lambda: _repo_root() / "tasks", description="Task catalog root."
    )
    images_dir: Annotated[Path, Env("CAB_IMAGES_DIR")] = Field(
        default_factory=lambda: _repo_root() / "images", description="Dockerfiles root."
    )
    ca_bundle: Annotated[Path | None, Env("CAB_CA_BUNDLE")] = Field(
        None, description="Extra CA bundle for pip/npm/apt inside image builds."
    )
    price_table: Annotated[Path | None, Env("CAB_PRICE_TABLE")] = Field(
        None,
        description="Price table (YAML, the shipped cab_core/prices.yaml format); default the shipped one.",
    )
    image_prefix: Annotated[str, Env("CAB_IMAGE_PREFIX")] = Field(
        "cab", description="Repository prefix of the images cab builds."
    )
    store: StoreSettings = Field(default_factory=StoreSettings)
    broker: BrokerSettings = Field(default_factory=BrokerSettings)
    worker: WorkerSettings = Field(default_factory=WorkerSettings)
    dispatcher: DispatcherSettings = Field(default_factory=DispatcherSettings)
    proxy: ProxySettings = Field(default_factory=ProxySettings)
    sandbox: SandboxSettings = Field(default_factory=SandboxSettings)
    flower: FlowerSettings = Field(default_factory=FlowerSettings)
    images: ImagesSettings = Field(default_factory=ImagesSettings)

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        """Keyword arguments first, then the flat variables each field declares; nothing else."""
        return init_settings, FlatEnvSource(settings_cls)

    @property
    def cab_home(self) -> CabHome:
        return CabHome(self.home.expanduser())

    @property
    def resolved_store_url(self) -> str:
        return self.store.url or f"sqlite:///{self.cab_home.store_db}"

    def override(self, changes: Mapping[str, object]) -> Settings:
        """A copy with command-line values applied, validated like the environment's.

        ``changes`` maps dotted keys (``"broker.url"``, ``"ca_bundle"``) to a flag's value; None
        means the flag was not given and changes nothing."""
        update: dict[str, Any] = {}
        for key, value in changes.items():
            if value is None:
                continue
            head, _, field = key.partition(".")
            if field:
                component: Component = update.get(head, getattr(self, head))
                update[head] = type(component).model_validate({**component.model_dump(), field: value})
            else:
                annotation = type(self).model_fields[head].annotation
                assert annotation is not None, f"{head} is annotated"
                update[head] = TypeAdapter(annotation).validate_python(value)
        return self.model_copy(update=update)
