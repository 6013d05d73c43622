"""The settings tree: every setting names its flat variable once, the environment is read once at
``Settings()``, flags win over it, the old broker variable still works (with a warning), and the
report never shows a secret."""

from __future__ import annotations

import warnings
from pathlib import Path

import pytest
from pydantic import SecretStr, ValidationError

from cab_core.settings import (
    BrokerSettings,
    DispatcherSettings,
    FlowerSettings,
    Settings,
    StoreSettings,
    WorkerSettings,
)
from cab_core.settings.env import explain, leaves, read_env
from cab_core.settings.report import describe, mask_secret, unknown_variables

pytestmark = pytest.mark.unit

REPO = Path(__file__).resolve().parents[2]

FLAT_NAMES_IN_USE = {
    "CAB_HOME": "home",
    "CAB_STORE_URL": "store.url",
    "CAB_TASKS_DIR": "tasks_dir",
    "CAB_IMAGES_DIR": "images_dir",
    "CAB_CA_BUNDLE": "ca_bundle",
    "CAB_PRICE_TABLE": "price_table",
    "CAB_IMAGE_PREFIX": "image_prefix",
    "CAB_BROKER_URL": "broker.url",
    "CAB_VISIBILITY_TIMEOUT_S": "broker.visibility_timeout_s",
    "CAB_VISIBILITY_SLACK_S": "broker.visibility_slack_s",
    "CAB_RESTORE_INTERVAL_S": "broker.restore_interval_s",
    "CAB_LEASE_TTL_S": "worker.lease_ttl_s",
    "CAB_MAX_ATTEMPTS": "worker.max_attempts",
    "CAB_RETRY_BACKOFF_S": "worker.retry_backoff_s",
    "CAB_DEADLINE_GRACE_S": "worker.deadline_grace_s",
    "CAB_REAP_EVERY_S": "worker.reap_every_s",
    "CAB_RECONCILE_EVERY_S": "dispatcher.reconcile_every_s",
    "CAB_STALL_AFTER_S": "dispatcher.stall_after_s",
    "CAB_EGRESS_LOCK": "sandbox.egress_lock",
    "CAB_FLOWER_BASIC_AUTH": "flower.basic_auth",
}
"""Every variable cab read before the settings tree, and where it lives now (same meaning)."""


@pytest.fixture
def env(monkeypatch: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    """A clean slate: no CAB_* variable of the caller's shell leaks into these tests."""
    import os

    for name in [k for k in os.environ if k.upper().startswith("CAB_")]:
        monkeypatch.delenv(name)
    return monkeypatch


def test_every_variable_in_use_keeps_its_name_and_meaning() -> None:
    by_name = {leaf.env.name: leaf.key for leaf in leaves(Settings)}
    assert {name: by_name.get(name) for name in FLAT_NAMES_IN_USE} == FLAT_NAMES_IN_USE


def test_each_setting_has_one_variable_and_each_variable_one_setting() -> None:
    names = [leaf.env.name for leaf in leaves(Settings)]
    assert len(names) == len(set(names))
    assert all(name.startswith("CAB_") and name.isupper() for name in names)
    components = [f for f, info in Settings.model_fields.items() if info.metadata == []]
    assert components == ["store", "broker", "worker", "dispatcher", "proxy", "sandbox", "flower", "images"]


def test_the_environment_sets_nested_values_and_types_them(env: pytest.MonkeyPatch) -> None:
    env.setenv("CAB_LEASE_TTL_S", "4")
    env.setenv("CAB_MAX_QUEUED", "7")
    env.setenv("cab_egress_lock", "0")  # names match case-insensitively, as pydantic-settings does
    env.setenv("CAB_HOME", "/tmp/cab-home")
    s = Settings()
    assert s.worker.lease_ttl_s == 4.0 and s.dispatcher.max_queued == 7
    assert s.sandbox.egress_lock is False and s.home == Path("/tmp/cab-home")
    assert s.resolved_store_url == "sqlite:////tmp/cab-home/cab.db"


def test_components_never_read_the_environment(env: pytest.MonkeyPatch) -> None:
    env.setenv("CAB_LEASE_TTL_S", "4")
    assert WorkerSettings().lease_ttl_s == 30.0
    assert Settings(worker=WorkerSettings(lease_ttl_s=9)).worker.lease_ttl_s == 9.0


def test_defaults_live_once_and_match_what_the_components_used_to_write(env: pytest.MonkeyPatch) -> None:
    s = Settings()
    assert (s.broker.url, s.broker.visibility_timeout_s, s.broker.restore_interval_s) == (
        "redis://127.0.0.1:6379/0",
        6 * 3600,
        10,
    )
    w = s.worker
    assert (w.lease_ttl_s, w.max_attempts, w.retry_backoff_s, w.retry_backoff_max_s) == (30.0, 3, 10.0, 600.0)
    assert (w.deadline_grace_s, w.model_cap_defer_s, w.write_retry_s, w.reap_every_s) == (
        120.0,
        5.0,
        60.0,
        60.0,
    )
    d = s.dispatcher
    assert (d.max_queued, d.batch, d.interval_s, d.reconcile_every_s, d.lease_s) == (
        1000,
        2000,
        1.0,
        30.0,
        15.0,
    )
    assert s.tasks_dir == REPO / "tasks" and s.images_dir == REPO / "images"


def test_the_old_broker_variable_works_alone_with_a_deprecation_warning(env: pytest.MonkeyPatch) -> None:
    env.setenv("CAB_REDIS_URL", "redis://old:6379/0")
    with pytest.warns(DeprecationWarning, match="CAB_REDIS_URL is deprecated: set CAB_BROKER_URL"):
        s = Settings()
    assert s.broker.url == "redis://old:6379/0"
    assert read_env(Settings, {"CAB_REDIS_URL": "x"}).origins == {"broker.url": "deprecated CAB_REDIS_URL"}


def test_the_new_broker_variable_wins_over_the_old(env: pytest.MonkeyPatch) -> None:
    env.setenv("CAB_REDIS_URL", "redis://old:6379/0")
    env.setenv("CAB_BROKER_URL", "redis://new:6379/0")
    with pytest.warns(DeprecationWarning):
        assert Settings().broker.url == "redis://new:6379/0"


def test_no_warning_without_the_old_variable(env: pytest.MonkeyPatch) -> None:
    env.setenv("CAB_BROKER_URL", "redis://new:6379/0")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert Settings().broker.url == "redis://new:6379/0"


def test_flags_override_the_environment_and_are_validated(env: pytest.MonkeyPatch) -> None:
    env.setenv("CAB_BROKER_URL", "redis://env:6379/0")
    env.setenv("CAB_MAX_QUEUED", "7")
    s = Settings()
    over = s.override({"broker.url": "redis://flag:6379/0", "dispatcher.max_queued": 3, "store.url": None})
    assert over.broker.url == "redis://flag:6379/0" and over.dispatcher.max_queued == 3
    assert over.broker.visibility_timeout_s == s.broker.visibility_timeout_s and over.store == s.store
    assert s.broker.url == "redis://env:6379/0", "the original is left alone"
    assert over.override({"ca_bundle": "/etc/ca.pem"}).ca_bundle == Path("/etc/ca.pem")
    with pytest.raises(ValidationError):
        s.override({"dispatcher.max_queued": 0})


def test_a_bad_value_names_its_variable_and_never_echoes_it(env: pytest.MonkeyPatch) -> None:
    env.setenv("CAB_LEASE_TTL_S", "soon")
    env.setenv("CAB_FLOWER_PORT", "hunter2")
    with pytest.raises(ValidationError) as caught:
        Settings()
    text = explain(caught.value, Settings)
    assert "CAB_LEASE_TTL_S" in text and "CAB_FLOWER_PORT" in text
    assert "soon" not in text and "hunter2" not in text


def test_unknown_keyword_is_refused() -> None:
    with pytest.raises(ValidationError):
        Settings(redis_url="redis://x")  # type: ignore[call-arg]  # the removed flat field


@pytest.mark.parametrize(
    ("raw", "shown"),
    [
        ("redis://:s3cret@broker:6379/0", "redis://:***@broker:6379/0"),
        ("postgresql+psycopg://cab:s3cret@db:5432/cab", "postgresql+psycopg://cab:***@db:5432/cab"),
        (
            "postgresql://db/cab?password=s3cret&sslmode=require",
            "postgresql://db/cab?password=***&sslmode=require",
        ),
        ("redis://:p@ss@broker:6379/0", "redis://:***@broker:6379/0"),
        ("sqlite:////var/lib/cab/cab.db", "sqlite:////var/lib/cab/cab.db"),
        ("redis://broker:6379/0", "redis://broker:6379/0"),
        ("admin:s3cret", "***"),
        (SecretStr("admin:s3cret"), "admin:***"),
        (None, "(not set)"),
    ],
)
def test_mask_secret(raw: object, shown: str) -> None:
    assert mask_secret(raw) == shown


def test_repr_of_settings_shows_no_secret() -> None:
    s = Settings(
        store=StoreSettings(url="postgresql://cab:s3cret@db/cab"),
        broker=BrokerSettings(url="redis://:s3cret@b:6379/0"),
        flower=FlowerSettings(basic_auth=SecretStr("admin:s3cret")),
    )
    assert "s3cret" not in repr(s) and "s3cret" not in str(s)


def test_describe_says_where_each_value_came_from(env: pytest.MonkeyPatch) -> None:
    environ = {"CAB_REDIS_URL": "redis://:s3cret@old:6379/0", "CAB_LEASE_TTL_S": "4", "CAB_API_KEY": "sk-x"}
    for k, v in environ.items():
        env.setenv(k, v)
    with pytest.warns(DeprecationWarning):
        s = Settings().override({"store.url": "postgresql://cab:pw2@db/cab"})
    lines = {f"{ln.group}.{ln.name}": ln for ln in describe(s, environ, {"store.url": "--store"})}
    assert lines["broker.url"].source == "deprecated CAB_REDIS_URL"
    assert lines["broker.url"].value == "redis://:***@old:6379/0"
    assert lines["worker.lease_ttl_s"].source == "env CAB_LEASE_TTL_S"
    assert lines["store.url"].source == "flag --store" and "pw2" not in lines["store.url"].value
    assert lines["dispatcher.max_queued"].source == "default (CAB_MAX_QUEUED)"
    assert lines["paths.home"].source == "default (CAB_HOME)"
    assert unknown_variables(Settings, environ) == ["CAB_API_KEY"]


def test_dispatcher_settings_limits() -> None:
    with pytest.raises(ValidationError):
        DispatcherSettings(max_queued=0)
    with pytest.raises(ValidationError):
        WorkerSettings(lease_ttl_s=1)  # renewed every third: a lease of 1 s or less cannot be held
