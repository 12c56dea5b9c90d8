"""Publish domain events after the transaction that caused them commits (DESIGN.md rule 4).

Live push is a hint: the change is committed, and every row that must not be lost is stored,
before anything is sent. So delivery never raises into the request that made the change, and
never holds it up for long: a channel layer that refuses connections fails in milliseconds,
one that does not answer is abandoned after ``CRM_PUBLISH_TIMEOUT_SECONDS``. Either way the
failure is logged and remembered (realtime/layer.py), so that once the layer answers again
every live client is told to resync.
"""

from __future__ import annotations

import asyncio
import logging
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.conf import settings
from django.db import transaction
from django.dispatch import Signal
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

from realtime.audiences import groups_for_event, rooms_for_event
from realtime.events import EVENT_TYPES, Event, make_event
from realtime.layer import next_group_seqs, note_lost_events, settle_lost_events

logger = logging.getLogger(__name__)

LAYER_UNREACHABLE = (RedisConnectionError, RedisTimeoutError, ConnectionError, TimeoutError)

# Sent once the transaction that made a change has committed, before anything is pushed, and
# whether or not the push then succeeds: receivers get ``type``, ``branch_id`` and ``data``.
# What must follow every change (cached figures going stale) listens here, not to the push.
change_committed = Signal()
# Sent after an event was handed to the channel layer: receivers get ``event``, ``groups`` (its
# audience) and ``rooms`` (the record rooms it also went to).
event_published = Signal()


def publish(type_: str, *, branch_id: int | None, data: dict[str, Any], users: tuple[int, ...] = ()) -> None:
    """Broadcast an event once the current transaction commits; nothing on rollback."""
    if type_ not in EVENT_TYPES:
        # A programming error: refuse it inside the transaction, not after the commit.
        raise ValueError(f"Unknown event type {type_!r}")
    transaction.on_commit(lambda: _number_and_deliver(type_, branch_id, data, users))


def _number_and_deliver(type_: str, branch_id: int | None, data: dict[str, Any], users: tuple[int, ...]) -> None:
    for receiver, response in change_committed.send_robust(sender=Event, type=type_, branch_id=branch_id, data=data):
        if isinstance(response, Exception):
            logger.error("A receiver of committed %s failed: %r", type_, receiver, exc_info=response)
    # The id is drawn after the commit; failing to draw it must not fail a change already saved.
    try:
        event = make_event(type_, branch_id=branch_id, data=data, users=users)
    except Exception:
        logger.exception("Could not number %s for branch %s", type_, branch_id)
        note_lost_events()
        return
    _deliver(event)


def _deliver(event: Event) -> None:
    groups = groups_for_event(event)
    rooms = rooms_for_event(event)
    message = {"type": "crm.event", "event": event.as_message(), "users": list(event.users)}
    try:
        _send(groups + rooms, message)
    except Exception as exc:
        # The change is committed and every row that must not be lost is already stored, so a
        # broken channel layer is logged, never raised to the user. An unreachable layer is one
        # line per event (an outage would otherwise fill the log with identical tracebacks).
        if isinstance(exc, LAYER_UNREACHABLE):
            logger.error("Could not publish %s #%s to %s: %s", event.type, event.id, groups + rooms, exc)
        else:
            logger.exception("Could not publish %s #%s to %s", event.type, event.id, groups + rooms)
        note_lost_events()
        return
    for receiver, response in event_published.send_robust(sender=Event, event=event, groups=groups, rooms=rooms):
        if isinstance(response, Exception):
            logger.error("A receiver of %s #%s failed: %r", event.type, event.id, receiver, exc_info=response)


def _send(groups: list[str], message: dict[str, Any]) -> None:
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        async_to_sync(_send_with_deadline)(groups, message)
        return
    # This thread runs an event loop (a notebook, an async shell, a script driving a browser) and
    # so cannot wait on another one: the send runs on a thread of its own while this one waits.
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="crm-publish") as pool:
        pool.submit(async_to_sync(_send_with_deadline), groups, message).result()


async def _send_with_deadline(groups: list[str], message: dict[str, Any]) -> None:
    timeout = float(getattr(settings, "CRM_PUBLISH_TIMEOUT_SECONDS", 2))
    try:
        await asyncio.wait_for(_group_send_all(groups, message), timeout)
    except TimeoutError:
        raise TimeoutError(f"the channel layer did not answer within {timeout:g} s") from None


async def _group_send_all(groups: list[str], message: dict[str, Any]) -> None:
    layer = get_channel_layer()
    if layer is None:
        return
    await settle_lost_events(layer)
    seqs = await next_group_seqs(layer, groups)
    for group in groups:
        # Each group's copy carries that group's number, so a consumer can tell a gap.
        await layer.group_send(group, {**message, "group": group, "gseq": seqs.get(group)})
