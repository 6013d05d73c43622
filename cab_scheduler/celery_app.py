"""The one Celery configuration every process that touches the broker uses (workers, dispatcher,
Flower, ``cab submit``), so they agree on serialisation, queues and the visibility timeout.

Why these settings (long cells on Redis, at-least-once delivery):

* ``task_acks_late`` + ``task_reject_on_worker_lost``: a cell is acknowledged only after it is
  stored; a worker killed mid-cell leaves the message to be redelivered (celery#3541).
* ``worker_prefetch_multiplier=1``: a worker holds only the cells it is running, so idle hosts get
  the rest.
* ``visibility_timeout``: Redis redelivers an unacknowledged message after this long, so it must be
  longer than the longest cell budget plus scoring plus slack (celery#5935). It is set in
  ``broker_transport_options`` (the only place the Redis transport reads it) and every process
  builds its app from here with the same ``BrokerSettings`` (``CAB_VISIBILITY_TIMEOUT_S``, six hours
  by default: above any shipped task's agent + test + setup budget with slack).
* JSON only; no result backend: the result store is the system of record.
* Celery's time limits are a backstop above our own container deadlines (a Celery hard limit kills
  the worker child, not the container; the reaper removes what it leaves).
* ``task_send_sent_event=False``: a task-sent event is one more message per cell on the publishing
  side (about 30 % of ``send_task``'s time in ``bench/dispatch.py``), and the dispatcher's batch
  publisher (:mod:`cab_scheduler.publish`) would have to fall back to ``send_task`` to send it.
  Flower still lists every cell: it builds its task list from the workers' events
  (``worker_send_task_events``: task-received with name, argsrepr and kwargsrepr, then started,
  succeeded or failed; ``tests/cab_scheduler/test_dispatch.py`` checks this with Flower's own
  ``EventsState``). What is lost is only Flower's SENT state for a cell still waiting in a queue;
  ``cab status`` shows queued cells from the plan instead.
"""

from __future__ import annotations

from celery import Celery

from cab_core.settings import BrokerSettings

TASK_RUN_CELL = "cab.run_cell"
"""The one task name cab publishes; stable, so Flower and old messages stay readable."""

WAKE_CHANNEL = "cab:wake"
"""Pub/sub channel ``cab submit`` and ``cab retry`` publish on to wake the dispatcher at once."""


def queue_for(tag: str) -> str:
    """The queue that carries cells needing capability ``tag`` (cpu, gpu, gpu.h100)."""
    return f"cab.cells.{tag}"


def make_celery(broker: BrokerSettings) -> Celery:
    """A Celery app bound to the broker of ``broker`` with cab's settings; no global state, no result
    backend. The visibility timeout and restore interval come from ``broker`` (one value everywhere)."""
    visibility_timeout_s = broker.visibility_timeout_s
    app = Celery("cab", broker=broker.url, set_as_current=False)
    app.conf.update(
        task_serializer="json",
        accept_content=["json"],
        result_serializer="json",
        event_serializer="json",
        result_backend=None,
        task_ignore_result=True,
        task_acks_late=True,
        task_reject_on_worker_lost=True,
        task_acks_on_failure_or_timeout=True,
        worker_prefetch_multiplier=1,
        worker_cancel_long_running_tasks_on_connection_loss=False,
        broker_connection_retry_on_startup=True,
        broker_transport_options={
            "visibility_timeout": visibility_timeout_s,
            "unacked_restore_interval": broker.restore_interval_s,
            "unacked_restore_throttle": 1,
            "socket_timeout": 30,
            "socket_connect_timeout": 5,
            "health_check_interval": 10,
        },
        # backstop only (our container deadlines come first); never below an hour
        task_time_limit=max(visibility_timeout_s - 60, 3600),
        task_soft_time_limit=max(visibility_timeout_s - 120, 3540),
        task_default_queue=queue_for("cpu"),
        task_create_missing_queues=True,
        task_send_sent_event=False,  # see the module docstring: workers' events suffice for Flower
        worker_send_task_events=True,
        task_track_started=True,
        worker_hijack_root_logger=False,
        worker_redirect_stdouts=False,
    )
    return app
