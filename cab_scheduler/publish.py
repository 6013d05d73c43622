"""Batch publishing of task messages: Celery's own messages, one Redis round trip per queue.

``app.send_task`` costs about 1 ms per message on the Redis transport: kombu builds a new Redis
client and does one round trip per publish, and Celery resolves routes, copies entities and fires
signals each time. For a fan-out of thousands of cells that is most of the dispatch time.

:class:`BatchPublisher` produces the same stored message ``send_task`` would, by calling the same
Celery and kombu code for everything that makes up a message, and only replaces the last step:

1. routing and options, once per batch, as ``send_task`` resolves them: the locally registered
   task's execution options, then ``app.amqp.router.route`` (the queue becomes its ``Queue``, a
   direct exchange becomes the anonymous exchange with the queue name as routing key);
2. per message, ``app.amqp.create_task_message`` (protocol 2 headers, ``(args, kwargs, embed)``
   body, ``correlation_id``/``reply_to`` properties; ``argsrepr``/``kwargsrepr`` also go into the
   properties, as ``send_task_message`` does with leftover options);
3. per message, kombu's ``serialization.dumps`` (JSON), then the virtual channel's own
   ``prepare_message`` and ``_inplace_augment_message`` (base64 body, ``delivery_tag``,
   ``delivery_info``);
4. what kombu's Redis ``Channel._put`` does with it: ``LPUSH`` of ``kombu.utils.json.dumps(message)``
   onto ``_q_for_pri(queue, priority)`` (the base list at priority 0). All the pushes of a batch go
   into one ``MULTI``/``EXEC`` pipeline on the channel's own client (so a ``global_keyprefix`` still
   applies), so a batch lands whole or not at all. Unlike ``send_task`` there is no publish retry:
   a failed pipeline raises, and the dispatcher offers the same cells again in its next round.

``tests/cab_scheduler/test_dispatch.py`` compares a batch message with the one ``send_task``
stores, so a Celery or kombu upgrade that changes either fails there. (kombu 5.7's
``Producer.batch()`` also pipelines publishes, but ``send_task`` inside it still costs ~0.28 ms a
message, and ``Producer.publish`` per message ~25 % more than this path.)

Anything this module does not reproduce sends every message with plain ``app.send_task`` instead
(logged once per reason as ``batch_publish_fallback``): a transport other than Redis, task-sent
events, publish signal receivers, task routes, a result backend that acts on publish, queue
expiry, non-direct exchanges, priorities, compression, expiry or another serializer.

The private Celery and kombu names steps 1, 3 and 4 need are called only from
:mod:`cab_scheduler.broker_internals`, whose test pins the celery and kombu versions they were checked
against.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import structlog
from celery import Celery, signals
from celery.backends.base import Backend
from celery.utils import uuid as task_uuid
from kombu.entity import Queue
from kombu.transport.redis import Channel as RedisChannel

from cab_scheduler import broker_internals as internals

log = structlog.get_logger(__name__)

_SEND_PARAMS = frozenset(
    {
        "exchange",
        "routing_key",
        "queue",
        "event_dispatcher",
        "retry",
        "retry_policy",
        "serializer",
        "delivery_mode",
        "compression",
        "declare",
        "headers",
        "exchange_type",
        "timeout",
        "confirm_timeout",
    }
)
"""Named parameters of Celery's ``send_task_message``; other routed options become properties."""

_PER_MESSAGE = ("argsrepr", "kwargsrepr")
"""The only routed options the fast path carries (per message, into headers and properties)."""


@dataclass(frozen=True)
class TaskCall:
    """One message to publish: what ``send_task(name, args=, kwargs=, argsrepr=, ...)`` takes."""

    kwargs: dict[str, Any]
    argsrepr: str
    """What Flower and the worker log show instead of the arguments."""
    kwargsrepr: str
    args: tuple[Any, ...] = ()
    task_id: str | None = None
    """Celery task id; a new uuid when None (as ``send_task`` does)."""


@dataclass(frozen=True)
class _Route:
    """What ``send_task`` resolves once for every message of a batch to one queue."""

    queue: Queue
    routing_key: str
    serializer: str
    delivery_mode: int
    reply_to: str
    time_limit: float | None
    soft_time_limit: float | None
    ignore_result: bool | None
    exec_options: dict[str, Any] = field(default_factory=dict)
    """Routed options passed to ``create_task_message`` (the queue, maybe the serializer)."""


class BatchPublisher:
    """Publishes many calls of one task, one pipeline per queue; falls back to ``send_task``."""

    def __init__(self, app: Celery, name: str) -> None:
        self.app, self.name = app, name
        self._warned: set[str] = set()

    def publish(self, queue: str, calls: Sequence[TaskCall]) -> list[str]:
        """Publish ``calls`` to ``queue``; returns their task ids, in order."""
        if not calls:
            return []
        ids: list[str] = [c.task_id or task_uuid() for c in calls]
        with self.app.producer_or_acquire() as producer:
            channel = internals.redis_channel(producer.channel)
            route, problem = self._route(queue, channel, producer)
            if channel is None or route is None:
                self._fallback(problem)
                for call, task_id in zip(calls, ids, strict=True):
                    self.app.send_task(
                        self.name,
                        args=call.args,
                        kwargs=call.kwargs,
                        task_id=task_id,
                        queue=queue,
                        producer=producer,
                        argsrepr=call.argsrepr,
                        kwargsrepr=call.kwargsrepr,
                    )
                return ids
            producer.maybe_declare(route.queue)  # as send_task's publish does (cached per channel)
            stored = [
                self._stored(channel, route, call, task_id) for call, task_id in zip(calls, ids, strict=True)
            ]
            internals.push_all(channel, stored)
        return ids

    def _stored(self, channel: RedisChannel, route: _Route, call: TaskCall, task_id: str) -> tuple[str, str]:
        """(list key, payload) of one message, as kombu's Redis ``_put`` would push it."""
        headers, properties, body, _ = self.app.amqp.create_task_message(
            task_id,
            self.name,
            call.args,
            call.kwargs,
            expires=None,
            retries=0,
            reply_to=route.reply_to,
            time_limit=route.time_limit,
            soft_time_limit=route.soft_time_limit,
            create_sent_event=False,
            ignore_result=route.ignore_result,
            replaced_task_nesting=0,
            argsrepr=call.argsrepr,
            kwargsrepr=call.kwargsrepr,
            **route.exec_options,
        )
        properties.update(argsrepr=call.argsrepr, kwargsrepr=call.kwargsrepr)
        properties["delivery_mode"] = route.delivery_mode
        return internals.stored_message(
            channel, body, route.serializer, headers, properties, route.routing_key
        )

    def _route(self, queue: str, channel: RedisChannel | None, producer: Any) -> tuple[_Route | None, str]:
        """Resolve routing as ``send_task`` does, or say why the fast path cannot reproduce it."""
        app, conf, name = self.app, self.app.conf, self.name
        if channel is None:
            return None, f"transport {type(producer.channel).__module__} is not kombu's Redis transport"
        if conf.task_send_sent_event:
            return None, "task_send_sent_event is on (the batch path sends no task-sent event)"
        if int(conf.task_protocol) != 2:
            return None, f"task_protocol {conf.task_protocol} (the batch path builds protocol 2)"
        for signal in (signals.before_task_publish, signals.after_task_publish, signals.task_sent):
            if signal.has_listeners(sender=name):
                return None, f"a {signal.name} receiver is connected"
        if app.amqp.router.routes:
            return None, "task_routes are configured"
        if app.current_worker_task is not None:
            return None, "called from inside a task (parent and root ids)"
        if type(app.backend).on_task_call is not Backend.on_task_call:
            return None, f"result backend {type(app.backend).__name__} acts on publish"
        if conf.task_compression:
            return None, f"task_compression {conf.task_compression}"
        # send_task: the registered task's execution options are defaults under the caller's
        task_type, exec_options = internals.task_exec_options(app, name)
        options: dict[str, Any] = {k: v for k, v in exec_options.items() if v is not None}
        options["queue"] = queue
        time_limit = options.pop("time_limit", None)
        soft_time_limit = options.pop("soft_time_limit", None)
        if options.pop("expires", None) is not None:
            return None, "the task has an expiry"
        ignore_result = options.pop("ignore_result", None)
        options = app.amqp.router.route(options, name, (), {}, task_type)
        unknown = sorted(set(options) - {"queue", "serializer"})
        if unknown:
            return None, f"routed options {unknown} are not reproduced"
        routed = options["queue"]
        serializer = options.get("serializer") or conf.task_serializer
        if serializer != "json":
            return None, f"serializer {serializer}"
        if routed.exchange.type != "direct" or routed.name != queue:
            return None, f"queue {routed.name} via a {routed.exchange.type} exchange"
        if internals.queue_expires(channel, queue):
            return None, "the queue has an expiry (x-expires)"
        # send_task_message: the queue's exchange's mode, else the default; then Producer.publish
        delivery_mode = getattr(routed.exchange, "delivery_mode", None) or conf.task_default_delivery_mode
        route = _Route(
            queue=routed,
            routing_key=queue,
            serializer=serializer,
            delivery_mode=internals.delivery_mode(delivery_mode or producer.exchange.delivery_mode),
            reply_to=app.thread_oid,
            time_limit=time_limit,
            soft_time_limit=soft_time_limit,
            ignore_result=ignore_result,
            exec_options={k: v for k, v in options.items() if k not in _PER_MESSAGE},
        )
        return route, ""

    def _fallback(self, reason: str) -> None:
        if reason not in self._warned:
            self._warned.add(reason)
            log.warning("batch_publish_fallback", task=self.name, reason=reason)
