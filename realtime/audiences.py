"""Who hears what: the only module that builds channel-layer group names.

Groups: ``b<branch>.<topic>`` for one branch, ``all.<topic>`` for users who see every
branch, ``u<user>`` for one person, ``r.<kind>.<id>`` for one record's room (a customer,
an order, an inspection). :func:`groups_for_user` is everything a user's role and branches
allow; a consumer joins the part of it that the topics its page asked for need
(realtime/topics.py). An event goes to :func:`groups_for_event`. The two meet only where the
role may see the topic; an event also goes to the rooms of the records it is about
(:func:`rooms_for_event`). :func:`user_may_receive` re-checks every event before it is sent.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from crm_core.accounts.models import Role

if TYPE_CHECKING:
    from crm_core.accounts.models import User
    from realtime.events import Event

TOPICS = ("customers", "orders", "inspections", "inventory", "alerts")
# Records that have a room of their own; an event joins the room of every such id in its data.
RECORD_KINDS = ("customer", "order", "inspection")
_GROUP_UNSAFE = re.compile(r"[^A-Za-z0-9_.-]")

# Which branch-wide topics each role may follow. Inspectors follow none: they get their
# own inspections on their personal group.
ROLE_TOPICS: dict[str, frozenset[str]] = {
    Role.ADMIN: frozenset(TOPICS),
    Role.MANAGER: frozenset(TOPICS),
    Role.DISPATCHER: frozenset({"customers", "orders", "inspections"}),
    Role.INSPECTOR: frozenset(),
    Role.SALES: frozenset({"customers", "orders", "inspections", "inventory"}),
    Role.STOREKEEPER: frozenset({"orders", "inventory", "alerts"}),
    Role.ACCOUNTANT: frozenset({"customers", "orders"}),
}


def branch_group(branch_id: int, topic: str) -> str:
    return f"b{branch_id}.{topic}"


def all_branches_group(topic: str) -> str:
    return f"all.{topic}"


def user_group(user_id: int) -> str:
    return f"u{user_id}"


def presence_group(room: str) -> str:
    """The group of a presence room (realtime/presence.py): ``order:42`` → ``presence.order.42``,
    ``orders.board:b3`` → ``presence.orders.board.b3``. Group names allow letters, digits and
    ``-_.`` only, and room keys never contain a dot after a colon, so two rooms never share one."""
    return "presence." + _GROUP_UNSAFE.sub(".", room)


def record_group(kind: str, record_id: int) -> str:
    if kind not in RECORD_KINDS:
        raise ValueError(f"Unknown record kind {kind!r}")
    return f"r.{kind}.{int(record_id)}"


def record_ids(event: Event) -> list[tuple[str, int]]:
    """The records a board event is about, from its data (``{"order": 5, "customer": 9}``)."""
    found = []
    for kind in RECORD_KINDS:
        value = event.data.get(kind)
        if isinstance(value, int) and not isinstance(value, bool) and value > 0:
            found.append((kind, value))
    return found


def topics_for_user(user: User) -> frozenset[str]:
    if not user.is_active:
        return frozenset()
    if user.is_superuser:
        return frozenset(TOPICS)
    return ROLE_TOPICS.get(user.role, frozenset())


def groups_for_user(user: User) -> list[str]:
    if not user.is_authenticated or not user.is_active:
        return []
    topics = sorted(topics_for_user(user))
    groups = [user_group(user.pk)]
    if user.sees_all_branches:
        groups += [all_branches_group(t) for t in topics]
    elif user.branch_id is not None:
        groups += [branch_group(user.branch_id, t) for t in topics]
    return groups


def board_group(user: User, topic: str) -> str | None:
    """The one group that carries ``topic``'s board for this user, or None if they may not follow it."""
    if topic not in topics_for_user(user):
        return None
    if user.sees_all_branches:
        return all_branches_group(topic)
    if user.branch_id is None:
        return None
    return branch_group(user.branch_id, topic)


def groups_for_event(event: Event) -> list[str]:
    """The event's audience: its topic's boards (of its branch, and of all branches) and the
    people it names."""
    groups: list[str] = []
    if event.topic in TOPICS:
        groups.append(all_branches_group(event.topic))
        if event.branch is not None:
            groups.append(branch_group(event.branch, event.topic))
    groups += [user_group(uid) for uid in sorted(set(event.users))]
    return groups


def rooms_for_event(event: Event) -> list[str]:
    """The rooms of the records a board event is about (``r.order.5``, ``r.customer.9``).

    Only users who were allowed into a room are in it (realtime/topics.py), and every event is
    re-checked against the user's scope before it is sent. Personal events have no rooms.
    """
    if event.topic not in TOPICS:
        return []
    return [record_group(kind, pk) for kind, pk in record_ids(event)]


def audience_key(user: User) -> tuple[str, str]:
    """Users who may see exactly the same things share a key: (role, scope).

    Scope is ``all`` for users who see every branch, ``b<branch>`` otherwise, and ``u<user>``
    for inspectors, who see only their own work. A fragment rendered for one member of an
    audience is correct for every other member (realtime/renderers.py), so it must depend on
    nothing but this key and the language.
    """
    role = "superuser" if user.is_superuser else str(user.role)
    if user.sees_all_branches:
        scope = "all"
    elif user.role == Role.INSPECTOR:
        scope = f"u{user.pk}"
    else:
        scope = f"b{user.branch_id}"
    return role, scope


def user_may_receive(user: User, event: Event) -> bool:
    """The per-event re-check a consumer makes before sending anything on."""
    if not user.is_active:
        return False
    if user.pk in event.users:
        return True
    if event.topic not in topics_for_user(user):
        return False
    return user.sees_all_branches or (event.branch is not None and event.branch == user.branch_id)
