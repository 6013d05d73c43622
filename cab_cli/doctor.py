"""`cab doctor`: one line per dependency, with the command that fixes it.

It checks the same settings every other command reads (the broker of ``CAB_BROKER_URL``, the store
of ``CAB_STORE_URL``, ...), so a green doctor means a worker started here reaches the same services.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from cab_core.errors import CabError
from cab_core.settings import Settings

if TYPE_CHECKING:
    from cab_workers.host.sandbox import Sandbox


@dataclass(frozen=True)
class Check:
    name: str
    ok: bool
    detail: str
    fix: str


def _docker() -> tuple[Check, Sandbox | None]:
    try:
        from cab_workers.host.sandbox import Sandbox

        sandbox = Sandbox()
        if sandbox.ping():
            version = sandbox.client.version().get("Version", "?")
            return Check("docker", True, f"engine {version} reachable", ""), sandbox
    except CabError as e:
        return Check(
            "docker", False, str(e), "deploy/bootstrap.sh (installs docker.io, starts dockerd)"
        ), None
    return Check("docker", False, "engine not answering", "deploy/bootstrap.sh (starts dockerd)"), None


def _images(settings: Settings, sandbox: Sandbox | None) -> Check:
    fix = "cab images build   (add --ca-bundle PATH behind a TLS proxy)"
    if sandbox is None:
        return Check("images", False, "skipped: no docker engine", fix)
    from cab_workers.host.images import BUILD_ORDER, ImageBuilder

    try:
        builder = ImageBuilder(sandbox, settings.images_dir, prefix=settings.image_prefix)
        refs = [builder.ref(n) for n in BUILD_ORDER]
    except CabError as e:
        return Check("images", False, str(e), fix)
    missing = [r.tag for r in refs if not r.built]
    if missing:
        return Check("images", False, f"missing {', '.join(missing)}", fix)
    return Check("images", True, ", ".join(r.tag for r in refs), "")


def _redis(settings: Settings) -> Check:
    import redis

    from cab_core.masking import mask_url

    url = mask_url(settings.broker.url)
    try:
        redis.Redis.from_url(settings.broker.url, socket_connect_timeout=2, socket_timeout=2).ping()
        return Check("redis", True, f"{url} answers (needed by distributed mode only)", "")
    except redis.RedisError as e:
        return Check(
            "redis",
            False,
            f"{url}: {e}",
            "start redis-server or set CAB_BROKER_URL (local `cab run` works without it)",
        )


def _store(settings: Settings) -> Check:
    from cab_core.store import ResultStore

    try:
        store = ResultStore(settings.resolved_store_url)
        store.create_schema()
        return Check(
            "result store", True, store.describe() if hasattr(store, "describe") else "reachable", ""
        )
    except CabError as e:
        return Check("result store", False, str(e), "check CAB_STORE_URL (default: SQLite under CAB_HOME)")


def _egress(settings: Settings) -> Check:
    from cab_workers.host import egress

    if not settings.sandbox.egress_lock:
        return Check(
            "egress lock",
            False,
            "off (CAB_EGRESS_LOCK=0): agents can reach every port this host listens on",
            "unset CAB_EGRESS_LOCK and run workers as root",
        )
    why = egress.available()
    if why:
        return Check("egress lock", False, why, "run workers as root with iptables, or set CAB_EGRESS_LOCK=0")
    return Check("egress lock", True, "root and iptables: agents will reach only the model proxy", "")


def _prices(settings: Settings) -> Check:
    from cab_core.pricing import PriceTable

    try:
        table = PriceTable.load(settings.price_table)
    except CabError as e:
        return Check("price table", False, str(e), "fix the file CAB_PRICE_TABLE names, or unset it")
    return Check("price table", True, f"version {table.version}, {len(table.models)} entries", "")


def run_checks(settings: Settings) -> list[Check]:
    docker_check, sandbox = _docker()
    return [
        docker_check,
        _images(settings, sandbox),
        _egress(settings),
        _redis(settings),
        _store(settings),
        _prices(settings),
    ]
