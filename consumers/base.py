"""What the browser stream (/ws/live/) and the API stream (/ws/events/) share.

The protocol is documented for clients in docs/REALTIME.md. In short:

* the server numbers every frame it sends on a connection: ``seq`` 1, 2, 3… (``hello`` is 1);
* it sends ``hello`` with ``last_event_id`` on connect, then event frames
  ``{"type", "id", "at", "branch", "data", "seq"}`` (plus ``"html"`` on the browser stream when
  a renderer made a fragment), and control frames ``subscribed``, ``unsubscribed``, ``error``,
  ``pong``, ``status`` and ``resync``. Event types contain a dot; control types never do;
* the client asks for topics from a fixed list (realtime/topics.py), never for a group;
* every event is re-checked against the user's scope before it is sent
  (``realtime.audiences.user_may_receive``), and sent once even if it came through two groups;
* ``resync`` means "what you show may be stale, fetch it again": sent when the channel layer
  dropped a message on its way here (a group sequence number went missing), and when the layer
  came back after an outage or lost its state;
* a ``user.access_changed`` event for the user closes the socket with 4403;
* ``{"action": "presence", "room", "state"}`` puts the connection in a presence room (who else
  has this record or board open, and who is editing it — realtime/presence.py); the server
  answers with ``presence`` frames listing the other users in the room whenever that changes.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import json
import logging
import random
import time
from typing import Any

from channels.db import database_sync_to_async
from channels.exceptions import StopConsumer
from channels.generic.websocket import AsyncJsonWebsocketConsumer
from channels.layers import get_channel_layer
from channels.utils import await_many_dispatch
from django.conf import settings

from consumers.hub import SharedEvent, hub_for
from consumers.watch import watch_for
from realtime.audiences import audience_key, user_group, user_may_receive
from realtime.events import Event, last_event_id
from realtime.gaps import GapDetector
from realtime.layer import current_group_seqs
from realtime.presence import (
    LEFT,
    MAX_ROOMS,
    Presence,
    Roster,
    authorize_room,
    expiry_seconds,
    heartbeat_seconds,
    member_card,
    parse_room,
)
from realtime.topics import Subscription, TopicError, authorize, parse_request

logger = logging.getLogger(__name__)

# Close codes in the 4000 range are the application's own.
CLOSE_UNAUTHENTICATED = 4401
CLOSE_ACCESS_CHANGED = 4403

MAX_SUBSCRIPTIONS = 32
MAX_CLIENT_FRAME = 4096
RECENT_EVENT_IDS = 512
# Memberships are renewed at least this often, so one the layer forgot (the in-memory layer drops
# a channel from its groups when one of its messages expires) comes back within minutes.
MEMBERSHIP_REFRESH_SECONDS = 300


def _layer_timeout() -> float:
    """How long a join may wait for the channel layer: a layer that does not answer is treated as
    down (the watch re-joins later) instead of holding the handshake."""
    return float(getattr(settings, "CRM_PUBLISH_TIMEOUT_SECONDS", 2))


class StreamConsumer(AsyncJsonWebsocketConsumer):
    """The shared live stream. Subclasses say who the user is and whether to render HTML."""

    render_html = False

    # --- who -------------------------------------------------------------------------------------

    async def authenticate(self) -> Any | None:
        raise NotImplementedError

    def language(self) -> str:
        return getattr(self.user, "language", "") or settings.LANGUAGE_CODE

    # --- the ASGI loop --------------------------------------------------------------------------

    async def __call__(self, scope: dict, receive: Any, send: Any) -> None:
        """AsyncConsumer.__call__, except that the channel-layer side survives a layer outage:
        a failed receive is retried with backoff instead of tearing the socket down."""
        self.scope = scope
        self.channel_layer = get_channel_layer(self.channel_layer_alias)
        self.base_send = send
        self._open = False
        self._send_lock = asyncio.Lock()
        # Held while the stream changes what it is a member of. The watch re-joins streams from its
        # own task; without this, a socket closing meanwhile would leave its groups and then be
        # put back into them (and its user back into presence rooms) by the re-join.
        self._membership = asyncio.Lock()
        if self.channel_layer is None:
            raise RuntimeError("The live streams need a channel layer (CHANNEL_LAYERS).")
        self.channel_name = await self.channel_layer.new_channel()
        with contextlib.suppress(StopConsumer):
            await await_many_dispatch([receive, self._layer_receive], self.dispatch)

    async def _layer_receive(self) -> dict:
        delay = 0.25
        while True:
            try:
                return await self.channel_layer.receive(self.channel_name)
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                logger.info("Channel layer receive failed (%s); retrying in %.1f s", exc, delay)
                if self._open:
                    self.needs_rejoin = True
                    self.watch.report_failure()
                await asyncio.sleep(delay * random.uniform(0.5, 1.5))
                delay = min(delay * 2, 5.0)
                task = asyncio.current_task()
                if task is not None and task.cancelling():
                    raise asyncio.CancelledError from None

    # --- connect and disconnect -------------------------------------------------------------------

    async def websocket_connect(self, message: dict) -> None:
        self.user = None
        self.subscriptions: dict[tuple, Subscription] = {}
        self.group_refs: collections.Counter[str] = collections.Counter()
        self.gaps = GapDetector(grace=float(getattr(settings, "CRM_LIVE_GAP_GRACE_SECONDS", 3)))
        # The ids of the last events sent: a deque for their order, a set to look them up.
        self.recent_ids: collections.deque[int] = collections.deque(maxlen=RECENT_EVENT_IDS)
        self.recent_set: set[int] = set()
        self.presence: dict[tuple, Presence] = {}
        self.needs_rejoin = False
        self.live = True
        self.seq = 0
        self.joined_at = time.monotonic()
        self.watch = watch_for(self.channel_layer)
        self.hub = hub_for(self.channel_layer)

        user = await self.authenticate()
        if user is None or not user.is_authenticated or not user.is_active:
            # Refused before accepting: the handshake fails (HTTP 403 under Daphne).
            await self.close(code=CLOSE_UNAUTHENTICATED)
            return
        self.user = user
        self.audience = audience_key(user)
        self.personal = user_group(user.pk)
        await self.accept()
        self._open = True
        await self._join([self.personal])
        self.live = not self.needs_rejoin
        await self._send_frame(
            {
                "type": "hello",
                "last_event_id": await database_sync_to_async(last_event_id)(),
                "live": self.live,
            }
        )
        await self.watch.register(self)

    async def disconnect(self, code: int) -> None:
        self._open = False
        if getattr(self, "watch", None) is not None:
            self.watch.unregister(self)
        if getattr(self, "user", None) is None:
            return
        async with self._membership:
            try:
                async with asyncio.timeout(_layer_timeout()):
                    # The others learn at once that this page is gone, not when their entry expires.
                    for entry in self.presence.values():
                        await self._presence_group_send(entry, "presence.leave")
                    for group in list(self.group_refs):
                        await self.hub.remove(group, self)
                    for group in [self.personal, *self._presence_groups()]:
                        await self.channel_layer.group_discard(group, self.channel_name)
            except Exception as exc:
                logger.info("Could not leave the groups of a closed stream: %s", exc)

    async def close(self, code: int | bool | None = None, reason: str | None = None) -> None:
        self._open = False
        await super().close(code=code, reason=reason)

    # --- frames to the client ---------------------------------------------------------------------

    async def _send_frame(self, frame: dict[str, Any]) -> None:
        async with self._send_lock:
            if not self._open:
                return
            self.seq += 1
            frame["seq"] = self.seq
            await self.send(text_data=json.dumps(frame, ensure_ascii=False, separators=(",", ":")))

    async def _error(self, code: str, **extra: Any) -> None:
        await self._send_frame({"type": "error", "code": code, **extra})

    async def resync(self, reason: str) -> None:
        await self._send_frame({"type": "resync", "reason": reason})

    # --- group membership -----------------------------------------------------------------------

    def _wanted_groups(self) -> list[str]:
        return [self.personal, *(group for group, refs in self.group_refs.items() if refs > 0)]

    async def _join(self, groups: list[str]) -> bool:
        """Join groups and baseline their sequence numbers; on a layer error, mark for re-join."""
        if not groups:
            return True
        try:
            await asyncio.wait_for(self._add_and_baseline(groups), _layer_timeout())
        except Exception as exc:
            logger.info("Could not join %s: %s", groups, exc)
            self.needs_rejoin = True
            self.watch.report_failure()
            return False
        return True

    async def _add_and_baseline(self, groups: list[str]) -> None:
        for group in groups:
            if group == self.personal:
                await self.channel_layer.group_add(group, self.channel_name)
            else:
                # Boards and record rooms: one membership per process (consumers/hub.py).
                await self.hub.add(group, self)
        for group, current in (await current_group_seqs(self.channel_layer, groups)).items():
            self.gaps.baseline(group, current)

    async def _leave(self, groups: list[str]) -> None:
        for group in groups:
            self.gaps.forget(group)
        try:
            async with asyncio.timeout(_layer_timeout()):
                for group in groups:
                    await self.hub.remove(group, self)
        except Exception as exc:
            logger.info("Could not leave %s: %s", groups, exc)

    # --- called by the watch ----------------------------------------------------------------------

    async def layer_down(self) -> None:
        if self.live:
            self.live = False
            await self._send_frame({"type": "status", "live": False})

    async def layer_recovered(self) -> None:
        async with self._membership:
            await self._recover()

    async def _recover(self) -> None:
        if not self._open:
            return
        self.needs_rejoin = False
        self.gaps.forget_all()
        self.joined_at = time.monotonic()
        if not await self._join(self._wanted_groups()):
            await self.layer_down()
            return
        self.live = True
        await self._send_frame({"type": "status", "live": True})
        await self.resync("recovered")
        await self._presence_rejoin()

    async def check(self, current: dict[str, int] | None = None, queued: bool | None = None) -> None:
        """The watch's regular call, with the layer's current group numbers: resync on an overdue
        gap, and renew memberships before they expire (the layer forgets a member
        ``group_expiry`` seconds after it joined). ``queued``: whether messages for this process
        are still on their way (realtime/gaps.py); ``None`` if that could not be read."""
        async with self._membership:
            await self._check(current, queued)

    async def _check(self, current: dict[str, int] | None, queued: bool | None) -> None:
        if not self._open:
            return
        for group, number in (current or {}).items():
            if group == self.personal or self.group_refs.get(group, 0) > 0:
                self.gaps.observe(group, number)
        if self.gaps.overdue(queued=queued):
            logger.warning("Messages for user %s were dropped before delivery: resync", self.user.pk)
            await self.resync("gap")
        group_expiry = float(getattr(self.channel_layer, "group_expiry", 86400))
        if time.monotonic() - self.joined_at > min(group_expiry / 2, MEMBERSHIP_REFRESH_SECONDS):
            self.joined_at = time.monotonic()
            try:
                async with asyncio.timeout(_layer_timeout()):
                    for group in [self.personal, *self._presence_groups()]:
                        await self.channel_layer.group_add(group, self.channel_name)
                    for group in self._wanted_groups():
                        if group != self.personal:
                            await self.hub.add(group, self)
            except Exception as exc:
                logger.info("Could not refresh groups: %s", exc)
                self.needs_rejoin = True
                self.watch.report_failure()
        await self._presence_tick()

    # --- frames from the client -------------------------------------------------------------------

    async def receive(self, text_data: str | None = None, bytes_data: bytes | None = None, **kwargs: Any) -> None:
        if text_data is None or len(text_data) > MAX_CLIENT_FRAME:
            await self._error("bad_request")
            return
        try:
            content = json.loads(text_data)
        except ValueError:
            await self._error("bad_request")
            return
        await self.receive_json(content)

    async def receive_json(self, content: Any, **kwargs: Any) -> None:
        action = (content.get("action") or content.get("type")) if isinstance(content, dict) else None
        if action == "ping":
            await self._send_frame({"type": "pong"})
        elif action in ("subscribe", "unsubscribe", "presence"):
            async with self._membership:
                if action == "subscribe":
                    await self._subscribe(content)
                elif action == "unsubscribe":
                    await self._unsubscribe(content)
                else:
                    await self._presence(content)
        else:
            await self._error("bad_request")

    async def _subscribe(self, content: dict) -> None:
        try:
            topic, day = parse_request(content)
        except TopicError as exc:
            await self._error(exc.code, topic=str(content.get("topic", ""))[:64])
            return
        key = (topic, day)
        if key not in self.subscriptions:
            if len(self.subscriptions) >= MAX_SUBSCRIPTIONS:
                await self._error("too_many_topics", topic=topic)
                return
            try:
                subscription = await database_sync_to_async(authorize)(self.user, topic, day)
            except TopicError as exc:
                await self._error(exc.code, topic=topic)
                return
            if key in self.subscriptions:  # the same request twice in flight
                subscription = self.subscriptions[key]
            else:
                self.subscriptions[key] = subscription
                new = [group for group in subscription.groups if self.group_refs[group] == 0]
                self.group_refs.update(subscription.groups)
                await self._join(new)
        await self._send_frame(
            {
                "type": "subscribed",
                **self.subscriptions[key].describe(),
                "last_event_id": await database_sync_to_async(last_event_id)(),
            }
        )

    async def _unsubscribe(self, content: dict) -> None:
        try:
            key = parse_request(content)
        except TopicError as exc:
            await self._error(exc.code)
            return
        subscription = self.subscriptions.pop(key, None)
        if subscription is not None:
            self.group_refs.subtract(subscription.groups)
            gone = [group for group in subscription.groups if self.group_refs[group] <= 0]
            for group in gone:
                del self.group_refs[group]
            await self._leave(gone)
        described = {"topic": key[0], **({"date": key[1].isoformat()} if key[1] else {})}
        await self._send_frame({"type": "unsubscribed", **described})

    # --- presence (realtime/presence.py) ---------------------------------------------------------

    def _presence_groups(self) -> list[str]:
        return [entry.room.group for entry in self.presence.values()]

    def _presence_entry(self, message: dict[str, Any]) -> Presence | None:
        """The room a presence message from the layer is about, if this stream is (still) in it
        and the message is not its own."""
        card = message.get("member")
        if not self._open or not isinstance(card, dict) or card.get("channel") == self.channel_name:
            return None
        for entry in self.presence.values():
            if entry.room.group == message.get("group"):
                return entry
        return None

    def _own_card(self, entry: Presence) -> dict[str, Any]:
        return member_card(self.user, self.channel_name, entry.state)

    async def _presence_group_send(self, entry: Presence, kind: str) -> None:
        entry.announced_at = time.monotonic()
        message = {"type": kind, "group": entry.room.group, "member": self._own_card(entry)}
        try:
            await asyncio.wait_for(self.channel_layer.group_send(entry.room.group, message), _layer_timeout())
        except Exception as exc:
            # The heartbeat says it again; the others' entries outlive a missed message.
            logger.info("Could not send %s to %s: %s", kind, entry.room.group, exc)

    async def _send_presence(self, entry: Presence, state: str | None = None) -> None:
        await self._send_frame(
            {
                "type": "presence",
                **entry.room.describe(),
                "state": state or entry.state,
                "users": [] if state == LEFT else entry.roster.others(),
            }
        )

    async def _presence(self, content: dict) -> None:
        try:
            name, day, state = parse_room(content)
        except TopicError as exc:
            await self._error(exc.code, room=str(content.get("room", ""))[:64])
            return
        key = (name, day)
        entry = self.presence.get(key)
        if state == LEFT:
            if entry is not None:
                del self.presence[key]
                await self._presence_group_send(entry, "presence.leave")
                await self._leave([entry.room.group])
                await self._send_presence(entry, LEFT)
            else:
                await self._send_frame({"type": "presence", "room": name, "state": LEFT, "users": []})
            return
        if entry is None:
            if len(self.presence) >= MAX_ROOMS:
                await self._error("too_many_topics", room=name)
                return
            try:
                room = await database_sync_to_async(authorize_room)(self.user, name, day)
            except TopicError as exc:
                await self._error(exc.code, room=name)
                return
            entry = self.presence.get(key)  # the same request twice in flight
            if entry is None:
                entry = self.presence[key] = Presence(room=room, state=state, roster=Roster(own_user=self.user.pk))
                try:
                    async with asyncio.timeout(_layer_timeout()):
                        await self.channel_layer.group_add(room.group, self.channel_name)
                except Exception as exc:
                    logger.info("Could not join %s: %s", room.group, exc)
                    self.needs_rejoin = True
                    self.watch.report_failure()
                await self._send_presence(entry)
                await self._presence_group_send(entry, "presence.join")
                return
        if entry.state != state:
            entry.state = state
            await self._presence_group_send(entry, "presence.update")
        await self._send_presence(entry)

    async def _presence_rejoin(self) -> None:
        """After the layer lost its state: back into every room, and ask who is there again."""
        for entry in list(self.presence.values()):
            try:
                async with asyncio.timeout(_layer_timeout()):
                    await self.channel_layer.group_add(entry.room.group, self.channel_name)
            except Exception as exc:
                logger.info("Could not re-join %s: %s", entry.room.group, exc)
                continue
            await self._presence_group_send(entry, "presence.join")

    async def _presence_tick(self) -> None:
        """The watch's regular call: forget members gone silent, and say we are still here."""
        now = time.monotonic()
        for entry in list(self.presence.values()):
            if entry.roster.expire(expiry_seconds(), now):
                await self._send_presence(entry)
            if now - entry.announced_at >= heartbeat_seconds():
                await self._presence_group_send(entry, "presence.update")

    async def presence_join(self, message: dict[str, Any]) -> None:
        entry = self._presence_entry(message)
        if entry is None:
            return
        card = message["member"]
        changed = entry.roster.heard(card)
        try:
            await asyncio.wait_for(
                self.channel_layer.send(
                    str(card["channel"]),
                    {"type": "presence.here", "group": entry.room.group, "member": self._own_card(entry)},
                ),
                _layer_timeout(),
            )
        except Exception as exc:
            logger.info("Could not answer a presence join in %s: %s", entry.room.group, exc)
        if changed:
            await self._send_presence(entry)

    async def presence_here(self, message: dict[str, Any]) -> None:
        entry = self._presence_entry(message)
        if entry is not None and entry.roster.heard(message["member"]):
            await self._send_presence(entry)

    async def presence_update(self, message: dict[str, Any]) -> None:
        await self.presence_here(message)

    async def presence_leave(self, message: dict[str, Any]) -> None:
        entry = self._presence_entry(message)
        if entry is not None and entry.roster.gone(str(message["member"].get("channel"))):
            await self._send_presence(entry)

    # --- events from the channel layer ------------------------------------------------------------

    async def crm_event(self, message: dict[str, Any]) -> None:
        """An event on this stream's own channel (its personal group)."""
        await self.deliver(message, SharedEvent(message))

    async def deliver(self, message: dict[str, Any], shared: SharedEvent) -> None:
        """An event from one of this stream's groups — on its own channel, or handed over by the
        process's hub (consumers/hub.py) with what every stream of the process shares."""
        if not self._open or self.user is None:
            return
        event = shared.event
        if event.type == "user.access_changed" and self.user.pk in event.users:
            # Role, branch, password or activity changed: this socket's scope is no longer right.
            await self.close(code=CLOSE_ACCESS_CHANGED)
            return
        group = message.get("group")
        if group == self.personal or self.group_refs.get(group, 0) > 0:
            self.gaps.seen(group, message.get("gseq"))
        if self.gaps.overdue():
            await self.resync("gap")
        if event.id in self.recent_set:
            return  # it came through another group as well
        if len(self.recent_ids) == RECENT_EVENT_IDS:
            self.recent_set.discard(self.recent_ids[0])
        self.recent_ids.append(event.id)
        self.recent_set.add(event.id)
        if not user_may_receive(self.user, event):
            logger.debug("Dropped %s #%s not meant for user %s", event.type, event.id, self.user.pk)
            return
        if not self.wants(event):
            return
        await self._send_encoded(await self.encoded_frame(shared))

    async def encoded_frame(self, shared: SharedEvent) -> str:
        """The event's frame as JSON without its closing brace (``seq`` is added on sending).
        Subclasses that add to the frame override :meth:`event_frame`; the encoding shared by
        every stream of the process is used when they add nothing."""
        frame = await self.event_frame(shared.event)
        if frame.keys() == shared.payload.keys():
            return shared.encoded()
        return json.dumps(frame, ensure_ascii=False, separators=(",", ":"))[:-1]

    async def _send_encoded(self, encoded: str) -> None:
        async with self._send_lock:
            if not self._open:
                return
            self.seq += 1
            try:
                await self.send(text_data=f'{encoded},"seq":{self.seq}}}')
            except Exception as exc:
                # The browser hung up while the hub was fanning out; its disconnect is on its way.
                self._open = False
                logger.debug("A live stream closed while sending: %s", exc)

    def wants(self, event: Event) -> bool:
        if event.topic == "personal":
            return True
        return any(subscription.matches(event) for subscription in self.subscriptions.values())

    async def event_frame(self, event: Event) -> dict[str, Any]:
        """The hook where an event becomes what this connection is sent."""
        return event.as_message()
