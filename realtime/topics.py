"""What a live client may ask to follow: a fixed list of topics, never a group name.

A page (or an API client) sends ``{"action": "subscribe", "topic": "orders.board"}``. The topic
must be one of:

* a board — ``customers.board``, ``orders.board``, ``inspections.board`` (optionally with
  ``"date": "YYYY-MM-DD"``: only that day's inspections), ``stock.board``, ``stock.alerts``;
* a record room — ``customer:<id>``, ``order:<id>``, ``inspection:<id>``;
* for presence only, ``product:<id>``: a product has no events of its own (its stock changes
  reach its page through the stock board), so there is nothing to subscribe to.

:func:`parse_request` checks the shape, :func:`authorize` decides against the user's role and
branch scope (a record must be in ``visible_to(user)``; one that is not, or does not exist, is
refused the same way, so a refusal never confirms that a record exists) and returns a
:class:`Subscription` with the groups to join — built by realtime/audiences.py, nowhere else.
Personal events (notifications, access changes) need no topic: every stream gets them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime
from typing import TYPE_CHECKING, Any

from django.utils import timezone

from crm_core.accounts.models import Role
from realtime.audiences import TOPICS, board_group, record_group

if TYPE_CHECKING:
    from crm_core.accounts.models import User
    from realtime.events import Event

# Board name → the audience topic whose events it shows.
BOARD_TOPICS: dict[str, str] = {
    "customers.board": "customers",
    "orders.board": "orders",
    "inspections.board": "inspections",
    "stock.board": "inventory",
    "stock.alerts": "alerts",
}
# Boards a role may open although it does not follow the branch-wide topic: its events reach
# these users on their personal group only (an inspector's own inspections).
PERSONAL_BOARDS: dict[str, frozenset[str]] = {
    "inspections.board": frozenset({Role.INSPECTOR}),
}
# Boards that accept a ``date`` filter.
DATED_BOARDS = frozenset({"inspections.board"})

# Record kind → (permission needed, "app_label.Model").
RECORD_TOPICS: dict[str, tuple[str, str]] = {
    "customer": ("customers.view_customer", "customers.Customer"),
    "order": ("orders.view_order", "orders.Order"),
    "inspection": ("inspections.view_inspection", "inspections.Inspection"),
    "product": ("inventory.view_product", "inventory.Product"),
}
PRESENCE_ONLY_RECORDS = frozenset({"product"})
_RECORD_RE = re.compile(r"^(customer|order|inspection|product):([1-9][0-9]{0,17})$")
_DATE_RE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


class TopicError(Exception):
    """A subscription refused; ``code`` is what the client is told."""

    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.code = code


@dataclass(frozen=True)
class Subscription:
    topic: str
    groups: tuple[str, ...]
    board: str | None = None  # the audience topic of a board ("orders")
    record: tuple[str, int] | None = None
    day: date | None = None

    @property
    def key(self) -> tuple[str, date | None]:
        return (self.topic, self.day)

    def describe(self) -> dict[str, Any]:
        described: dict[str, Any] = {"topic": self.topic}
        if self.day is not None:
            described["date"] = self.day.isoformat()
        return described

    def matches(self, event: Event) -> bool:
        """Does this subscription want the event? (Whether the user may see it is checked apart.)"""
        if self.record is not None:
            kind, pk = self.record
            return event.topic in TOPICS and event.data.get(kind) == pk
        if event.topic != self.board:
            return False
        return self.day is None or _touches_day(event, self.day)


def _local_day(value: Any) -> date | None:
    if not isinstance(value, str):
        return None
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        return None
    if timezone.is_naive(moment):
        return moment.date()
    return timezone.localtime(moment).date()


def _touches_day(event: Event, day: date) -> bool:
    """An inspection event concerns a day's board if it starts, or started before, on that day.

    An event that does not say when (an order linked to an inspection), or a reschedule that
    does not say where from, may concern any day: it is sent rather than lost.
    """
    data = event.data
    if event.type == "inspection.rescheduled" and "previous_start" not in data:
        return True
    days = {d for d in (_local_day(data.get("start")), _local_day(data.get("previous_start"))) if d}
    return not days or day in days


def parse_request(content: Any) -> tuple[str, date | None]:
    """The (topic, date) a subscribe/unsubscribe message asks for, or TopicError."""
    if not isinstance(content, dict):
        raise TopicError("bad_request")
    topic = content.get("topic")
    if not isinstance(topic, str) or not topic or len(topic) > 64:
        raise TopicError("bad_request")
    raw_day = content.get("date")
    day = None
    if raw_day not in (None, ""):
        if topic not in DATED_BOARDS or not isinstance(raw_day, str) or not _DATE_RE.match(raw_day):
            raise TopicError("bad_request")
        try:
            day = date.fromisoformat(raw_day)
        except ValueError:
            raise TopicError("bad_request") from None
    if topic not in BOARD_TOPICS and not _RECORD_RE.match(topic):
        raise TopicError("unknown_topic")
    return topic, day


def authorize(user: User, topic: str, day: date | None = None, *, presence: bool = False) -> Subscription:
    """The subscription ``user`` may have to ``topic``, or TopicError("topic_forbidden").
    ``presence`` asks for a presence room, which some records have without a subscription.

    Synchronous (it may query the database): call it through ``database_sync_to_async``.
    """
    if user is None or not user.is_authenticated or not user.is_active:
        raise TopicError("topic_forbidden")
    if topic in BOARD_TOPICS:
        board = BOARD_TOPICS[topic]
        group = board_group(user, board)
        if group is not None:
            return Subscription(topic=topic, groups=(group,), board=board, day=day)
        if user.role in PERSONAL_BOARDS.get(topic, ()) and not user.sees_all_branches:
            return Subscription(topic=topic, groups=(), board=board, day=day)
        raise TopicError("topic_forbidden")

    match = _RECORD_RE.match(topic)
    if match is None:
        raise TopicError("unknown_topic")
    kind, pk = match.group(1), int(match.group(2))
    if kind in PRESENCE_ONLY_RECORDS and not presence:
        raise TopicError("unknown_topic")
    perm, model_label = RECORD_TOPICS[kind]
    if not user.has_perm(perm):
        raise TopicError("topic_forbidden")
    from django.apps import apps

    model = apps.get_model(model_label)
    if not model.objects.visible_to(user).filter(pk=pk).exists():
        raise TopicError("topic_forbidden")
    groups = () if kind in PRESENCE_ONLY_RECORDS else (record_group(kind, pk),)
    return Subscription(topic=topic, groups=groups, record=(kind, pk))
