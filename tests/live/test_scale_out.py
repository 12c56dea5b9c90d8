"""Two Daphne processes behind nothing but a shared PostgreSQL and Redis: a change saved through
process A reaches the browsers and API clients connected to process B.

Needs PostgreSQL (a database both processes see) and the redis-server binary; each test runs its
own redis-server on a free port.
"""

from __future__ import annotations

import asyncio
import time

import pytest
from channels.db import database_sync_to_async
from websockets.exceptions import InvalidStatus

from crm_core.customers.models import Customer
from tests.live.helpers import PASSWORD, make_team, open_socket, session_cookie

pytestmark = [pytest.mark.postgres, pytest.mark.redis, pytest.mark.asyncio, pytest.mark.django_db(transaction=True)]


async def token(daphne, user) -> str:
    status, body = await asyncio.to_thread(
        daphne.request, "POST", "/api/v1/auth/token/", {"username": user.username, "password": PASSWORD}
    )
    assert status == 200, (status, body)
    return body["access"]


async def ws_ticket(daphne, access: str) -> str:
    status, body = await asyncio.to_thread(
        daphne.request, "POST", "/api/v1/auth/ws-ticket/", None, {"Authorization": f"Bearer {access}"}
    )
    assert status == 201, (status, body)
    return body["ticket"]


async def test_a_change_through_process_a_reaches_clients_of_process_b(redis_server, daphnes):
    team = await database_sync_to_async(make_team)()
    a, b = await asyncio.to_thread(daphnes, 2, redis_server.url)

    # An API client: JWT and ticket from A, event stream on B.
    access = await token(a, team.sales)
    ticket = await ws_ticket(a, access)
    api_client = await open_socket(b.ws(f"/ws/events/?ticket={ticket}"))
    assert (await api_client.subscribe("customers.board"))["type"] == "subscribed"

    # A browser: its session cookie, its own origin, the page's stream on B.
    cookie = await database_sync_to_async(session_cookie)(team.manager)
    browser = await open_socket(b.ws("/ws/live/"), origin=b.origin, cookie=cookie)
    assert (await browser.subscribe("customers.board"))["type"] == "subscribed"

    # The one-time ticket was spent on B: A refuses it too.
    with pytest.raises(InvalidStatus) as refused:
        await open_socket(a.ws(f"/ws/events/?ticket={ticket}"))
    assert refused.value.response.status_code == 403

    sent = time.monotonic()
    status, body = await asyncio.to_thread(
        a.request,
        "POST",
        "/api/v1/customers/",
        {"name": "عميل من العملية أ", "phone": "01001234567"},
        {"Authorization": f"Bearer {access}"},
    )
    assert status == 201, (status, body)
    assert await database_sync_to_async(Customer.objects.filter(pk=body["id"]).exists)()

    latencies = {}
    for name, client in (("api", api_client), ("browser", browser)):
        frame, arrived = await client.expect(lambda f: f["type"] == "customer.created", timeout=10)
        assert frame["data"]["customer"] == body["id"]
        assert frame["branch"] == team.branch.pk
        latencies[name] = arrived - sent
    print(f"\nA→B delivery after the POST returned: {latencies}")
    assert max(latencies.values()) < 5

    await api_client.close()
    await browser.close()


async def test_a_foreign_origin_is_refused_by_every_process(redis_server, daphnes):
    team = await database_sync_to_async(make_team)()
    (a,) = await asyncio.to_thread(daphnes, 1, redis_server.url)
    cookie = await database_sync_to_async(session_cookie)(team.manager)
    with pytest.raises(InvalidStatus):
        await open_socket(a.ws("/ws/live/"), origin="http://evil.example", cookie=cookie)
    with pytest.raises(InvalidStatus):
        await open_socket(a.ws("/ws/live/"), origin=a.origin)  # no session: refused too
