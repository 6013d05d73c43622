"""`cab submit`: validate, record the plan, hand the fan-out to the dispatcher, return at once.

Order matters for "bad input changes nothing": the sweep is validated and expanded, every budget is
checked against the broker's visibility timeout, the broker is reached and the caller's ``preflight``
runs (``cab submit``: the remote endpoint answers), all before anything is written. Then the bundles
of the sweep's task versions are stored (those not stored yet), the plan is written in one
transaction (a different spec under a known sweep id is refused inside it, unless ``--replace``;
cells whose task changed are re-planned) and the dispatcher is woken.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import redis

from cab_core.budget import check_prices
from cab_core.errors import ConfigError, InfraError, SweepError
from cab_core.masking import mask_url
from cab_core.pricing import PriceTable
from cab_core.schema import CellSpec, SweepSpec
from cab_core.store import ResultStore, task_bundles
from cab_core.store import planned as plan
from cab_scheduler.catalog import TaskCatalog
from cab_scheduler.celery_app import WAKE_CHANNEL
from cab_scheduler.sweep import bundler, expand, load_sweep


@dataclass(frozen=True)
class Submitted:
    sweep_id: str
    cells: int
    queues: dict[str, int]
    diff: plan.PlanDiff


def check_budgets(cells: list[CellSpec], visibility_timeout_s: int, slack_s: int) -> None:
    """Every cell must finish (agent + tests + setup + slack) inside the broker's visibility timeout."""
    worst = max(
        cells, key=lambda c: c.task.timeouts.agent_s + c.task.timeouts.test_s + c.task.timeouts.setup_s
    )
    t = worst.task.timeouts
    budget = t.agent_s + t.test_s + t.setup_s + slack_s
    if budget > visibility_timeout_s:
        raise SweepError(
            f"{worst.cell_id}: budget {budget:g}s (with {slack_s}s slack) exceeds the broker "
            f"visibility timeout {visibility_timeout_s}s; lower the timeouts or raise "
            "CAB_VISIBILITY_TIMEOUT_S on every worker, Flower and dispatcher"
        )


def ping_broker(client: redis.Redis, url: str) -> None:
    try:
        client.ping()
    except redis.RedisError as e:
        raise InfraError(
            f"broker unreachable at {mask_url(url)}: {e}; check --broker / CAB_BROKER_URL"
        ) from e


def submit(
    sweep_file: Path,
    *,
    catalog: TaskCatalog,
    known_tuis: list[str],
    store: ResultStore,
    client: redis.Redis,
    broker_url: str,
    visibility_timeout_s: int,
    prices: PriceTable | None = None,
    slack_s: int,
    replace: bool = False,
    preflight: Callable[[SweepSpec], None] | None = None,
) -> Submitted:
    """Validate and record a sweep, then ask the dispatcher to fan it out (``prices``: the shipped
    table when None; a cost budget needs a price for every model). The same sweep again changes
    nothing; a different spec under the same id is refused unless ``replace``. ``preflight`` runs
    on the valid sweep before anything is written; a ``CabError`` it raises stops the submission."""
    spec: SweepSpec = load_sweep(sweep_file)
    cells = expand(spec, catalog, known_tuis)
    if not cells:
        raise ConfigError(f"{sweep_file}: the sweep expands to no cells")
    check_prices(spec, prices or PriceTable.load())
    check_budgets(cells, visibility_timeout_s, slack_s)
    ping_broker(client, broker_url)
    if preflight is not None:
        preflight(spec)
    store.create_schema()
    # the bundles first, in their own transaction: a plan is never recorded whose task versions a
    # worker could not fetch, and bundles a failed submission left are harmless (content-addressed)
    task_bundles.save(store, [c.task_hash for c in cells], bundler(cells, catalog))
    diff = plan.record_plan(store, spec, cells, replace=replace)
    try:
        client.publish(WAKE_CHANNEL, spec.sweep_id)
    except redis.RedisError:
        pass  # the plan is recorded: the dispatcher finds it on its next round anyway
    queues: dict[str, int] = {}
    for c in cells:
        queues[c.queue_tag] = queues.get(c.queue_tag, 0) + 1
    return Submitted(spec.sweep_id, len(cells), queues, diff)
