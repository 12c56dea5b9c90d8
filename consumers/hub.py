"""One channel per process for the shared groups (boards and record rooms), fanned out locally.

A board group of one branch may have a thousand members in one Daphne process. Joined one by
one, every event costs the channel layer a thousand messages (a thousand Redis writes, a
thousand pops) and the process a thousand receive tasks, each with Channels' hop to the
database thread before the handler runs. Measured with bench/ws_fanout.py, that capped a
process at about 1,500 frames a second.

So each process (each event loop, per channel layer) joins every shared group **once**, with a
channel of its own, and hands each message to the streams of that process that asked for the
group: one layer message per process per event, then a plain loop over local sockets. The
stream still checks every event against its user's scope, de-duplicates it and watches the
group's sequence numbers (consumers/base.py), exactly as if it had received the message itself.

Personal groups (``u<id>``) and presence rooms stay on each stream's own channel: they carry
few messages, and access changes must reach the one socket they are about.
"""

from __future__ import annotations

import asyncio
import collections
import json
import logging
import random
import weakref
from typing import TYPE_CHECKING, Any

from realtime.events import Event

if TYPE_CHECKING:
    from consumers.base import StreamConsumer

logger = logging.getLogger(__name__)

_hubs: dict[tuple[int, int], GroupHub] = {}


class GroupHub:
    def __init__(self, layer: Any, loop: asyncio.AbstractEventLoop) -> None:
        self.layer = layer
        self.loop = loop
        self.channel: str | None = None
        self.members: dict[str, weakref.WeakSet[StreamConsumer]] = collections.defaultdict(weakref.WeakSet)
        self._task: asyncio.Task | None = None
        self.delivered = 0
        # A message handed to some of its streams and not yet to the others.
        self.dispatching = False

    async def _ensure_channel(self) -> str:
        if self.channel is None:
            # The layer's default prefix: channels-redis reads every process-local channel with
            # one shared pop on "<prefix>.<client>!", so a channel of another prefix is never read.
            self.channel = await self.layer.new_channel()
        if self._task is None or self._task.done():
            self._task = self.loop.create_task(self._run(), name="crm-live-hub")
        return self.channel

    async def add(self, group: str, consumer: StreamConsumer) -> None:
        """Deliver ``group``'s messages to ``consumer``. Always (re)joins the layer group: it is
        idempotent, renews the membership, and restores it after the layer lost its state."""
        channel = await self._ensure_channel()
        self.members[group].add(consumer)
        await self.layer.group_add(group, channel)

    async def remove(self, group: str, consumer: StreamConsumer) -> None:
        members = self.members.get(group)
        if members is None:
            return
        members.discard(consumer)
        if not members:
            del self.members[group]
            if not self.members and self._task is not None:
                # Nobody left in this process: stop receiving (a new stream starts it again).
                self._task.cancel()
                self._task = None
            if self.channel is not None:
                await self.layer.group_discard(group, self.channel)

    def has_members(self) -> bool:
        return any(len(members) for members in self.members.values())

    async def _run(self) -> None:
        delay = 0.25
        try:
            while True:
                try:
                    message = await self.layer.receive(self.channel)
                except asyncio.CancelledError:
                    raise
                except Exception as exc:
                    # The layer is down: the watch tells the pages and re-joins when it is back.
                    logger.info("The live hub's receive failed (%s); retrying in %.1f s", exc, delay)
                    await asyncio.sleep(delay * random.uniform(0.5, 1.5))
                    delay = min(delay * 2, 5.0)
                    task = asyncio.current_task()
                    if task is not None and task.cancelling():
                        raise asyncio.CancelledError from None
                    continue
                delay = 0.25
                await self.dispatch(message)
        except asyncio.CancelledError:
            raise
        except Exception:
            logger.exception("The live hub stopped")
        finally:
            _hubs.pop((id(self.loop), id(self.layer)), None)

    async def dispatch(self, message: dict[str, Any]) -> None:
        if message.get("type") != "crm.event":
            return
        members = list(self.members.get(message.get("group"), ()))
        if not members:
            return
        shared = SharedEvent(message)
        self.dispatching = True
        try:
            for consumer in members:
                try:
                    await consumer.deliver(message, shared)
                except Exception:
                    logger.exception("Delivering %s to a live stream failed", shared.event.type)
        finally:
            self.dispatching = False
        self.delivered += len(members)


class SharedEvent:
    """What every stream of the process would otherwise rebuild for itself: the event, and its
    frame encoded as JSON up to (not including) the connection's own ``seq``."""

    __slots__ = ("_encoded", "_html", "event", "payload")

    def __init__(self, message: dict[str, Any]) -> None:
        payload = message["event"]
        self.payload = payload
        self.event = Event(
            type=payload["type"],
            id=payload["id"],
            at=payload["at"],
            branch=payload["branch"],
            data=payload["data"],
            users=tuple(message.get("users", ())),
        )
        self._encoded: str | None = None
        self._html: dict[str, str] = {}

    def encoded_with_html(self, html: str) -> str:
        """The frame with an audience's fragment: one encoding per audience, not per stream (the
        render cache hands every stream of an audience the same fragment)."""
        encoded = self._html.get(html)
        if encoded is None:
            encoded = self._html[html] = f'{self.encoded()},"html":{json.dumps(html, ensure_ascii=False)}'
        return encoded

    def encoded(self) -> str:
        """``{"type":…,"data":{…}`` without its closing brace; a stream appends ``,"seq":N}``."""
        if self._encoded is None:
            self._encoded = json.dumps(self.payload, ensure_ascii=False, separators=(",", ":"))[:-1]
        return self._encoded


def hub_dispatching(layer: Any) -> bool:
    """Whether this process's hub over ``layer`` is in the middle of handing out a message."""
    hub = _hubs.get((id(asyncio.get_running_loop()), id(layer)))
    return hub is not None and hub.dispatching


def hub_for(layer: Any) -> GroupHub:
    loop = asyncio.get_running_loop()
    key = (id(loop), id(layer))
    hub = _hubs.get(key)
    if hub is None or hub.layer is not layer or hub.loop is not loop:
        hub = _hubs[key] = GroupHub(layer, loop)
    return hub
