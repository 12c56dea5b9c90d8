"""Publish domain events after the transaction that caused them commits (DESIGN.md rule 4)."""

from __future__ import annotations

import logging
from typing import Any

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.db import transaction
from django.dispatch import Signal

from realtime.audiences import groups_for_event
from realtime.events import EVENT_TYPES, Event, make_event

logger = logging.getLogger(__name__)

# Sent after an event was handed to the channel layer: receivers get ``event`` and ``groups``.
event_published = Signal()


def publish(type_: str, *, branch_id: int | None, data: dict[str, Any], users: tuple[int, ...] = ()) -> None:
    """Broadcast an event once the current transaction commits; nothing on rollback."""
    if type_ not in EVENT_TYPES:
        # A programming error: refuse it inside the transaction, not after the commit.
        raise ValueError(f"Unknown event type {type_!r}")
    transaction.on_commit(lambda: _number_and_deliver(type_, branch_id, data, users))


def _number_and_deliver(type_: str, branch_id: int | None, data: dict[str, Any], users: tuple[int, ...]) -> None:
    # The id is drawn after the commit; failing to draw it must not fail a change already saved.
    try:
        event = make_event(type_, branch_id=branch_id, data=data, users=users)
    except Exception:
        logger.exception("Could not number %s for branch %s", type_, branch_id)
        return
    _deliver(event)


def _deliver(event: Event) -> None:
    groups = groups_for_event(event)
    message = {"type": "crm.event", "event": event.as_message(), "users": list(event.users)}
    try:
        async_to_sync(_group_send_all)(groups, message)
    except Exception:
        # Live push is a hint: the change is committed and every row that must not be lost
        # is already stored, so a broken channel layer is logged, never raised to the user.
        logger.exception("Could not publish %s #%s to %s", event.type, event.id, groups)
        return
    event_published.send(sender=Event, event=event, groups=groups)


async def _group_send_all(groups: list[str], message: dict[str, Any]) -> None:
    layer = get_channel_layer()
    if layer is None:
        return
    for group in groups:
        await layer.group_send(group, message)
