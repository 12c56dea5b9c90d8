"""Presence: who else has a record or a board open, and who is editing it.

A page declares a room (``data-presence="order:42"``) and its stream sends
``{"action": "presence", "room": "order:42", "state": "viewing" | "editing" | "left"}``.
A room is authorized exactly like a subscription to the topic of the same name
(realtime/topics.py): a record the user may not see and a record that does not exist are
refused alike, so presence never tells anyone that a record exists or who looks at it.

Presence travels through the channel layer only, so it works across every Daphne process:

* a stream that enters a room joins the room's group (``realtime.audiences.presence_group``)
  and group-sends ``presence.join`` with its member card;
* every other stream in the room answers the newcomer on its own channel (``presence.here``);
* a change of state is group-sent (``presence.update``), and so is a heartbeat every
  ``CRM_PRESENCE_HEARTBEAT_SECONDS``; leaving, or closing the socket, group-sends ``presence.leave``;
* each stream keeps the :class:`Roster` of what it heard and forgets a member not heard from for
  ``CRM_PRESENCE_EXPIRY_SECONDS`` — a process that crashed sends no leave.

A board's room is per scope (the branch, all branches, or one inspector), like the board's
events, and a dated board's room is per day: people looking at different boards do not see each
other. The client is sent the *other* users in the room, one entry per person however many tabs
they have open, "editing" if any of those tabs is editing.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from datetime import date
from typing import TYPE_CHECKING, Any

from django.conf import settings

from realtime.audiences import audience_key, presence_group
from realtime.topics import TopicError, authorize, parse_request

if TYPE_CHECKING:
    from crm_core.accounts.models import User

VIEWING = "viewing"
EDITING = "editing"
LEFT = "left"
STATES = frozenset({VIEWING, EDITING})
# Rooms one connection may be in at once (a page shows one record and perhaps a board).
MAX_ROOMS = 8


def heartbeat_seconds() -> float:
    return float(getattr(settings, "CRM_PRESENCE_HEARTBEAT_SECONDS", 25))


def expiry_seconds() -> float:
    return float(getattr(settings, "CRM_PRESENCE_EXPIRY_SECONDS", 70))


@dataclass(frozen=True)
class Room:
    """A room a user was let into: what the client calls it and the group that carries it."""

    name: str
    day: date | None
    group: str

    def describe(self) -> dict[str, Any]:
        described: dict[str, Any] = {"room": self.name}
        if self.day is not None:
            described["date"] = self.day.isoformat()
        return described


def parse_room(content: Any) -> tuple[str, date | None, str]:
    """The (room, date, state) a presence message asks for, or TopicError."""
    if not isinstance(content, dict):
        raise TopicError("bad_request")
    state = content.get("state")
    if state not in STATES and state != LEFT:
        raise TopicError("bad_request")
    room, day = parse_request({"topic": content.get("room"), "date": content.get("date")})
    return room, day, state


def authorize_room(user: User, room: str, day: date | None = None) -> Room:
    """The room ``user`` may enter, or TopicError — the same answer a subscription would get.

    Synchronous (it may query the database): call it through ``database_sync_to_async``.
    """
    subscription = authorize(user, room, day, presence=True)
    if subscription.record is not None:
        kind, pk = subscription.record
        key = f"{kind}:{pk}"
    else:
        # A board's people are those of the same board: the same branch (or all branches, or
        # the one inspector whose own board it is), and the same day.
        key = f"{room}:{audience_key(user)[1]}"
        if day is not None:
            key += f":{day.isoformat()}"
    return Room(name=room, day=day, group=presence_group(key))


def member_card(user: User, channel: str, state: str) -> dict[str, Any]:
    """What one stream tells the others about itself."""
    return {
        "user": user.pk,
        "name": str(user),
        "initials": user.initials,
        "state": state,
        "channel": channel,
    }


@dataclass
class Roster:
    """The other streams in one room as this stream heard of them, by channel name."""

    own_user: int
    members: dict[str, tuple[dict[str, Any], float]] = field(default_factory=dict)

    def heard(self, card: dict[str, Any], now: float | None = None) -> bool:
        """Record a member's card (a join, an answer, an update or a heartbeat). True if what the
        client is shown changed."""
        before = self.others()
        self.members[str(card["channel"])] = (card, time.monotonic() if now is None else now)
        return self.others() != before

    def gone(self, channel: str) -> bool:
        before = self.others()
        self.members.pop(channel, None)
        return self.others() != before

    def expire(self, max_age: float, now: float | None = None) -> bool:
        """Forget members not heard from for ``max_age`` seconds. True if the client's view changed."""
        now = time.monotonic() if now is None else now
        stale = [channel for channel, (_card, seen) in self.members.items() if now - seen > max_age]
        if not stale:
            return False
        before = self.others()
        for channel in stale:
            del self.members[channel]
        return self.others() != before

    def others(self) -> list[dict[str, Any]]:
        """One entry per other user, "editing" if any of their tabs is; sorted by name."""
        people: dict[int, dict[str, Any]] = {}
        for card, _seen in self.members.values():
            if card["user"] == self.own_user:
                continue
            person = people.get(card["user"])
            if person is None:
                people[card["user"]] = {
                    "id": card["user"],
                    "name": card["name"],
                    "initials": card["initials"],
                    "state": card["state"],
                }
            elif card["state"] == EDITING:
                person["state"] = EDITING
        return sorted(people.values(), key=lambda person: (person["name"], person["id"]))


@dataclass
class Presence:
    """One stream's part in one room."""

    room: Room
    state: str
    roster: Roster
    announced_at: float = field(default_factory=time.monotonic)
