"""Presence across real Daphne processes sharing Redis: two people connected to different
processes see each other in a record's room, and when one process dies without a word, its
people drop out of the others' pages once their entries expire.

Needs PostgreSQL (a database both processes see) and the redis-server binary; each test runs its
own redis-server on a free port (tests/live/conftest.py).
"""

from __future__ import annotations

import asyncio
import json
import signal
import time

import pytest
from channels.db import database_sync_to_async

from crm_core.accounts.models import Role
from tests.factories import BranchFactory, CustomerFactory, UserFactory
from tests.live.conftest import daphnes, redis_server  # noqa: F401  (fixtures)
from tests.live.helpers import open_socket, session_cookie

pytestmark = [pytest.mark.postgres, pytest.mark.redis, pytest.mark.asyncio, pytest.mark.django_db(transaction=True)]


@database_sync_to_async
def make_people():
    cairo = BranchFactory(code="CAI", name="القاهرة")
    mona = UserFactory(role=Role.SALES, branch=cairo, first_name="Mona", last_name="Adel")
    karim = UserFactory(role=Role.MANAGER, branch=cairo, first_name="Karim", last_name="Said")
    customer = CustomerFactory(branch=cairo)
    return mona, karim, customer, session_cookie(mona), session_cookie(karim)


async def enter(socket, room: str, state: str) -> None:
    await socket.connection.send(json.dumps({"action": "presence", "room": room, "state": state}))


def listing(room: str, *names: str):
    def matches(frame: dict) -> bool:
        return (
            frame["type"] == "presence" and frame["room"] == room and [u["name"] for u in frame["users"]] == list(names)
        )

    return matches


async def test_presence_crosses_processes_and_a_dead_process_expires(redis_server, daphnes, monkeypatch):  # noqa: F811
    monkeypatch.setenv("CRM_PRESENCE_HEARTBEAT_SECONDS", "1")
    monkeypatch.setenv("CRM_PRESENCE_EXPIRY_SECONDS", "3")
    mona, karim, customer, mona_cookie, karim_cookie = await make_people()
    a, b = await asyncio.to_thread(daphnes, 2, redis_server.url)
    room = f"customer:{customer.pk}"

    on_a = await open_socket(a.ws("/ws/live/"), origin=a.origin, cookie=mona_cookie)
    on_b = await open_socket(b.ws("/ws/live/"), origin=b.origin, cookie=karim_cookie)
    await enter(on_a, room, "viewing")
    await on_a.expect(listing(room))
    entered = time.monotonic()
    await enter(on_b, room, "editing")

    frame, _ = await on_b.expect(listing(room, "Mona Adel"))
    assert frame["users"][0] == {"id": mona.pk, "name": "Mona Adel", "initials": "MA", "state": "viewing"}
    frame, seen = await on_a.expect(listing(room, "Karim Said"))
    print(f"\nKarim entering on B was seen on A after {(seen - entered) * 1000:.0f} ms")
    assert frame["users"][0] == {"id": karim.pk, "name": "Karim Said", "initials": "KS", "state": "editing"}

    # Process B dies without closing anything: no "left" is ever sent for Karim.
    b.process.send_signal(signal.SIGKILL)
    died = time.monotonic()
    _frame, gone = await on_a.expect(listing(room), timeout=15)
    waited = gone - died
    print(f"\nA dead process's member dropped out after {waited:.1f} s (expiry 3 s, heartbeat 1 s)")
    assert 1 < waited < 10
    await on_a.close()
