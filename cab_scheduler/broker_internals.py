"""The Celery and kombu internals the batch publisher relies on, and nothing else.

Why this module exists: :class:`cab_scheduler.publish.BatchPublisher` stores the exact message
``app.send_task`` would, pushed in one ``MULTI``/``EXEC`` per batch. Neither library has a public call
that builds the stored Redis payload without also sending it: kombu's ``Channel.create_publish_batch``
sends through a non-transactional pipeline that flushes every ``max_size`` commands, so a failed batch
could land in part. So the last steps of kombu's Redis ``basic_publish`` / ``_put`` are called here by
their private names, listed in :data:`PRIVATE_NAMES`:

    kombu   Channel._inplace_augment_message   encodes the body, adds delivery_tag and delivery_info
            Channel._get_message_priority      the message's priority, as ``_put`` reads it
            Channel._q_for_pri                 the Redis list of that priority
            Channel._expires                   queues declared with ``x-expires`` (not reproduced)
    celery  Celery._tasks                      the registry ``send_task`` reads (without finalizing)
            Task._get_exec_options             the task's execution options ``send_task`` merges

``tests/cab_scheduler/test_broker_internals.py`` fails when one of these names is missing, or when the
installed celery or kombu is outside the range ``pyproject.toml`` declares; ``test_dispatch.py``
compares a batch message with the one ``send_task`` stores. To upgrade celery or kombu past that range:
check each name here against the new release, run those two tests, then widen the range.

kombu ships type information but leaves these functions unannotated, so ``disallow_untyped_calls``
is off for this module alone (``pyproject.toml``); every value leaves it with a declared type.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from celery import Celery
from kombu.entity import maybe_delivery_mode
from kombu.serialization import dumps as serialize
from kombu.transport.redis import Channel as RedisChannel
from kombu.utils.json import dumps as json_dumps

PRIVATE_NAMES: dict[str, tuple[str, ...]] = {
    "kombu.transport.redis.Channel": ("_inplace_augment_message", "_get_message_priority", "_q_for_pri"),
    "kombu.transport.redis.Channel()": ("_expires",),
    "celery.Celery()": ("_tasks",),
    "celery.app.task.Task": ("_get_exec_options",),
}
"""Private names used here: ``X`` is a class attribute of X, ``X()`` an attribute of an instance."""


def redis_channel(channel: object) -> RedisChannel | None:
    """``channel`` when it is kombu's Redis transport channel (the only one the batch path handles)."""
    return channel if isinstance(channel, RedisChannel) else None


def queue_expires(channel: RedisChannel, queue: str) -> bool:
    """The queue was declared with an expiry (``_put`` then also sets a TTL on its lists)."""
    return bool(channel._expires) and queue in channel._expires


def task_exec_options(app: Celery, name: str) -> tuple[Any, dict[str, Any]]:
    """(the locally registered task or None, its execution options), read as ``send_task`` reads them:
    from the registry without finalizing the app."""
    task = app._tasks.get(name)
    options: dict[str, Any] = (task._get_exec_options() if task is not None else None) or {}
    return task, options


def delivery_mode(mode: int | str | None) -> int:
    """kombu's delivery mode number for a mode name or number (persistent when unset)."""
    number: int = maybe_delivery_mode(mode)
    return number


def stored_message(
    channel: RedisChannel,
    body: object,
    serializer: str,
    headers: dict[str, Any],
    properties: dict[str, Any],
    routing_key: str,
) -> tuple[str, str]:
    """(Redis list key, payload) of one message on the anonymous exchange, as ``_put`` would push it."""
    content_type, content_encoding, payload = serialize(body, serializer=serializer)
    message = channel.prepare_message(payload, 0, content_type, content_encoding, headers, properties)
    channel._inplace_augment_message(message, "", routing_key)
    key: str = channel._q_for_pri(routing_key, channel._get_message_priority(message, reverse=False))
    stored: str = json_dumps(message)
    return key, stored


def push_all(channel: RedisChannel, stored: Sequence[tuple[str, str]]) -> None:
    """LPUSH every (key, payload) in one ``MULTI``/``EXEC`` on the channel's own client (so a
    ``global_keyprefix`` still applies): the batch lands whole or not at all."""
    with channel.conn_or_acquire() as client:
        pipe = client.pipeline(transaction=True)
        for key, payload in stored:
            pipe.lpush(key, payload)
        pipe.execute()


def queue_lists(queue: str) -> list[str]:
    """The Redis lists kombu's Redis transport keeps for one queue: the base list and one per priority
    (``Channel.sep`` joins them; every priority 1-9 is listed, whatever steps a channel is set to)."""
    return [queue, *(f"{queue}{RedisChannel.sep}{p}" for p in range(1, 10))]
