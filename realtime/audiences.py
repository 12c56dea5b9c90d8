"""Who hears what: the only module that builds channel-layer group names.

Groups: ``b<branch>.<topic>`` for one branch, ``all.<topic>`` for users who see every
branch, ``u<user>`` for one person. A consumer joins :func:`groups_for_user`; an event
goes to :func:`groups_for_event`. The two meet only where the role may see the topic.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from crm_core.accounts.models import Role

if TYPE_CHECKING:
    from crm_core.accounts.models import User
    from realtime.events import Event

TOPICS = ("customers", "orders", "inspections", "inventory", "alerts")

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
    return f"presence.{room}"


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


def groups_for_event(event: Event) -> list[str]:
    groups: list[str] = []
    if event.topic in TOPICS:
        groups.append(all_branches_group(event.topic))
        if event.branch is not None:
            groups.append(branch_group(event.branch, event.topic))
    groups += [user_group(uid) for uid in sorted(set(event.users))]
    return groups


def user_may_receive(user: User, event: Event) -> bool:
    """The per-event re-check a consumer makes before sending anything on."""
    if not user.is_active:
        return False
    if user.pk in event.users:
        return True
    if event.topic not in topics_for_user(user):
        return False
    return user.sees_all_branches or (event.branch is not None and event.branch == user.branch_id)
