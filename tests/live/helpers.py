"""A real WebSocket client (the ``websockets`` library) for the multi-process tests, and the people
and stock those tests act with."""

from __future__ import annotations

import asyncio
import json
import time
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.contrib.sessions.backends.db import SessionStore
from websockets.asyncio.client import ClientConnection, connect

from crm_core.accounts.models import Branch, Role, User
from crm_core.inventory.models import Product, Warehouse
from tests.factories import BranchFactory, ProductFactory, UserFactory, WarehouseFactory, stock

PASSWORD = "pass-12345-word"  # tests/factories.py


@dataclass
class Team:
    branch: Branch
    warehouse: Warehouse
    product: Product
    sales: User
    storekeeper: User
    manager: User


def make_team() -> Team:
    branch = BranchFactory(code="CAI", name="القاهرة")
    warehouse = WarehouseFactory(code="CAI-W1", name="مخزن القاهرة", branch=branch)
    storekeeper = UserFactory(role=Role.STOREKEEPER, branch=branch)
    product = ProductFactory(reorder_level=Decimal("5"))
    stock(product, warehouse, 100, actor=storekeeper)
    return Team(
        branch=branch,
        warehouse=warehouse,
        product=product,
        sales=UserFactory(role=Role.SALES, branch=branch),
        storekeeper=storekeeper,
        manager=UserFactory(role=Role.MANAGER, branch=branch),
    )


def session_cookie(user: User) -> str:
    """A signed-in browser session, stored where every process reads sessions: the database."""
    session = SessionStore()
    session["_auth_user_id"] = str(user.pk)
    session["_auth_user_backend"] = "django.contrib.auth.backends.ModelBackend"
    session["_auth_user_hash"] = user.get_session_auth_hash()
    session.create()
    return f"sessionid={session.session_key}"


class LiveSocket:
    """One connection, recording every frame with the time it arrived."""

    def __init__(self, connection: ClientConnection) -> None:
        self.connection = connection
        self.frames: list[tuple[float, dict]] = []

    async def next(self, timeout: float) -> dict:
        raw = await asyncio.wait_for(self.connection.recv(), timeout)
        frame = json.loads(raw)
        self.frames.append((time.monotonic(), frame))
        return frame

    async def expect(self, predicate, timeout: float = 10) -> tuple[dict, float]:
        """The first frame that satisfies ``predicate`` and when it came; fails after ``timeout``."""
        deadline = time.monotonic() + timeout
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise AssertionError(f"no matching frame within {timeout} s; got {[f for _t, f in self.frames]}")
            try:
                frame = await self.next(remaining)
            except TimeoutError:
                continue
            if predicate(frame):
                return frame, time.monotonic()

    async def subscribe(self, topic: str, **extra: Any) -> dict:
        await self.connection.send(json.dumps({"action": "subscribe", "topic": topic, **extra}))
        frame, _at = await self.expect(lambda f: f["type"] in ("subscribed", "error"))
        return frame

    async def close(self) -> None:
        await self.connection.close()


async def open_socket(url: str, *, origin: str | None = None, cookie: str | None = None) -> LiveSocket:
    headers = {"Cookie": cookie} if cookie else None
    connection = await connect(url, origin=origin, additional_headers=headers, proxy=None, open_timeout=15)
    socket = LiveSocket(connection)
    hello = await socket.next(10)
    assert hello["type"] == "hello", hello
    return socket
