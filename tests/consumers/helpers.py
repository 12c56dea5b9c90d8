"""A client that speaks the live protocol (hello, subscribe, frames numbered by ``seq``) over
Channels' WebsocketCommunicator, and a way to publish an event as a service would."""

from __future__ import annotations

import asyncio
from typing import Any

from channels.db import database_sync_to_async
from channels.layers import get_channel_layer
from channels.testing import WebsocketCommunicator
from django.db import transaction

from config.asgi import application
from consumers.events import EventsConsumer
from consumers.live import LiveConsumer
from crm_core.common.api.tickets import issue_ws_ticket
from realtime.publish import publish

ORIGIN = (b"origin", b"http://testserver")


class Client:
    """One live connection, as a page or an API client would hold it."""

    def __init__(self, communicator: WebsocketCommunicator, user: Any) -> None:
        self.communicator = communicator
        self.user = user
        self.last_seq = 0
        self.hello: dict | None = None

    async def receive(self, timeout: float = 3) -> dict:
        frame = await self.communicator.receive_json_from(timeout=timeout)
        # Frames are numbered 1, 2, 3… on every connection, with no gap.
        assert frame["seq"] == self.last_seq + 1, (frame, self.last_seq)
        self.last_seq = frame["seq"]
        return frame

    async def send(self, content: dict) -> None:
        await self.communicator.send_json_to(content)

    async def subscribe(self, topic: str, **extra: Any) -> dict:
        await self.send({"action": "subscribe", "topic": topic, **extra})
        return await self.receive()

    async def nothing(self, timeout: float = 0.3) -> bool:
        return await self.communicator.receive_nothing(timeout=timeout)

    async def until(self, predicate, timeout: float = 3) -> tuple[list[dict], dict]:
        """Frames up to and including the first that satisfies ``predicate``."""
        seen: list[dict] = []
        while True:
            frame = await self.receive(timeout=timeout)
            if predicate(frame):
                return seen, frame
            seen.append(frame)

    async def drain(self, quiet: float = 0.3) -> list[dict]:
        """Every frame still on its way, until none arrives for ``quiet`` seconds. Events of
        different groups may arrive in any order (a board's come through the process's hub, a
        personal one on the stream's own channel), so "the last one sent" is not a marker."""
        frames = []
        while not await self.nothing(timeout=quiet):
            frames.append(await self.receive())
        return frames

    async def close(self) -> None:
        await self.communicator.disconnect()


async def open_live(user, *, app=None, headers=None) -> Client:
    communicator = WebsocketCommunicator(app or LiveConsumer.as_asgi(), "/ws/live/", headers=headers or [ORIGIN])
    communicator.scope["user"] = user
    connected, code = await communicator.connect()
    assert connected, code
    client = Client(communicator, user)
    client.hello = await client.receive()
    assert client.hello["type"] == "hello"
    return client


async def open_events(user, *, headers=None) -> Client:
    ticket = await database_sync_to_async(issue_ws_ticket)(user)
    communicator = WebsocketCommunicator(application, f"/ws/events/?ticket={ticket}", headers=headers or [])
    connected, code = await communicator.connect()
    assert connected, code
    client = Client(communicator, user)
    client.hello = await client.receive()
    assert client.hello["type"] == "hello"
    return client


OPENERS = {"live": open_live, "events": open_events}
CONSUMERS = {"live": LiveConsumer, "events": EventsConsumer}


@database_sync_to_async
def publish_now(type_: str, *, branch_id: int | None, data: dict | None = None, users: tuple[int, ...] = ()) -> None:
    """Publish one event in its own committed transaction, as a service would."""
    with transaction.atomic():
        publish(type_, branch_id=branch_id, data=data or {}, users=users)


async def settle(seconds: float = 0.05) -> None:
    await asyncio.sleep(seconds)


def layer():
    return get_channel_layer()
