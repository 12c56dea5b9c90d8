"""The catalogue of domain events and how each one is numbered and serialised."""

from __future__ import annotations

import itertools
import threading
import time
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.db import connection

# type → topic. Topics are the second half of a group name (see audiences.py).
EVENT_TOPICS: dict[str, str] = {
    "customer.created": "customers",
    "customer.updated": "customers",
    "customer.note_added": "customers",
    "order.created": "orders",
    "order.updated": "orders",
    "order.status_changed": "orders",
    "order.payment_recorded": "orders",
    "order.shipping_updated": "orders",
    "inspection.scheduled": "inspections",
    "inspection.rescheduled": "inspections",
    "inspection.assigned": "inspections",
    "inspection.started": "inspections",
    "inspection.cancelled": "inspections",
    "inspection.no_show": "inspections",
    "inspection.completed": "inspections",
    "inspection.order_linked": "inspections",
    "stock.changed": "inventory",
    "stock.low": "alerts",
    "stock.restored": "alerts",
    "notification.created": "personal",
    "user.access_changed": "personal",
}
EVENT_TYPES = frozenset(EVENT_TOPICS)


@dataclass(frozen=True)
class Event:
    type: str
    id: int
    at: str
    branch: int | None
    data: dict[str, Any] = field(default_factory=dict)
    # Users who get the event on their personal group as well (an inspector's own job,
    # a notification's recipient); never sent to clients.
    users: tuple[int, ...] = ()

    @property
    def topic(self) -> str:
        return EVENT_TOPICS[self.type]

    def as_message(self) -> dict[str, Any]:
        # Built by hand, not with dataclasses.asdict: that deep-copies ``data``, and a stream
        # process builds this for every connection an event reaches.
        return {"type": self.type, "id": self.id, "at": self.at, "branch": self.branch, "data": self.data}


_local_lock = threading.Lock()
_local_counter = itertools.count(time.time_ns() // 1_000)
_local_last = 0


def next_event_id() -> int:
    """A monotonic id: a PostgreSQL sequence shared by every process, or a process counter.

    The embedded default runs a single process, where a counter seeded from the clock
    keeps ids increasing across restarts.
    """
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT nextval('realtime_event_id_seq')")
            return int(cursor.fetchone()[0])
    global _local_last
    with _local_lock:
        _local_last = next(_local_counter)
        return _local_last


def last_event_id() -> int:
    """The id most recently drawn (0 before the first), without drawing one.

    Sent in a stream's ``hello`` and ``subscribed`` frames: a client whose content reflects an
    older id knows something may have happened since. On PostgreSQL this reads the shared
    sequence; in the embedded default, this process's counter.
    """
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT last_value, is_called FROM realtime_event_id_seq")
            last_value, is_called = cursor.fetchone()
            return int(last_value) if is_called else 0
    with _local_lock:
        return _local_last


def make_event(type_: str, *, branch_id: int | None, data: dict[str, Any], users: tuple[int, ...] = ()) -> Event:
    if type_ not in EVENT_TYPES:
        raise ValueError(f"Unknown event type {type_!r}")
    from django.utils import timezone

    at: datetime = timezone.now()
    return Event(type=type_, id=next_event_id(), at=at.isoformat(), branch=branch_id, data=data, users=users)
