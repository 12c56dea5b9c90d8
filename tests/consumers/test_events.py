"""The API clients' stream, /ws/events/?ticket=…: one-time tickets, origins, JSON events."""

from __future__ import annotations

import asyncio

import pytest
from channels.db import database_sync_to_async
from channels.testing import WebsocketCommunicator
from django.contrib.sessions.backends.db import SessionStore

from config.asgi import application
from consumers.events import CLOSE_ACCESS_CHANGED
from crm_core.accounts.models import Role
from crm_core.accounts.services import user_update
from crm_core.common.api.tickets import issue_ws_ticket
from crm_core.customers.services import customer_create
from realtime.renderers import isolated
from tests.consumers.helpers import open_events
from tests.factories import BranchFactory, UserFactory

pytestmark = [pytest.mark.asyncio, pytest.mark.django_db(transaction=True)]


@database_sync_to_async
def make_people():
    cairo = BranchFactory(code="CAI", name="القاهرة")
    return {
        "sales": UserFactory(role=Role.SALES, branch=cairo),
        "admin": UserFactory(role=Role.ADMIN, branch=None, all_branches=True, is_superuser=True),
    }


async def handshake(path: str, headers=None) -> tuple[bool, object]:
    communicator = WebsocketCommunicator(application, path, headers=headers or [])
    connected, detail = await communicator.connect()
    if connected:
        await communicator.disconnect()
    return connected, detail


async def ticket_for(user) -> str:
    return await database_sync_to_async(issue_ws_ticket)(user)


async def test_a_ticket_opens_the_stream_without_any_origin_or_session():
    people = await make_people()
    client = await open_events(people["sales"])
    assert client.hello["live"] is True
    await client.send({"action": "ping"})
    assert (await client.receive())["type"] == "pong"
    await client.close()


async def test_no_ticket_no_stream():
    assert await handshake("/ws/events/") == (False, 4401)
    assert await handshake("/ws/events/?ticket=") == (False, 4401)


async def test_an_invented_ticket_is_refused():
    await make_people()
    assert await handshake("/ws/events/?ticket=made-up-ticket-value") == (False, 4401)


async def test_a_ticket_works_once():
    people = await make_people()
    ticket = await ticket_for(people["sales"])
    connected, _ = await handshake(f"/ws/events/?ticket={ticket}")
    assert connected
    assert await handshake(f"/ws/events/?ticket={ticket}") == (False, 4401)


async def test_an_expired_ticket_is_refused(settings):
    people = await make_people()
    settings.CRM_WS_TICKET_SECONDS = 1  # what the cache is told; on Redis it is a real TTL
    ticket = await ticket_for(people["sales"])
    await asyncio.sleep(1.3)
    assert await handshake(f"/ws/events/?ticket={ticket}") == (False, 4401)


async def test_two_tickets_in_one_url_are_refused():
    people = await make_people()
    first, second = await ticket_for(people["sales"]), await ticket_for(people["sales"])
    assert await handshake(f"/ws/events/?ticket={first}&ticket={second}") == (False, 4401)
    padded = "&".join(f"x{n}=1" for n in range(10))
    assert await handshake(f"/ws/events/?{padded}&ticket={first}") == (False, 4401)


async def test_the_ticket_of_a_user_deactivated_since_is_refused():
    people = await make_people()
    ticket = await ticket_for(people["sales"])
    await database_sync_to_async(user_update)(actor=people["admin"], user=people["sales"], is_active=False)
    assert await handshake(f"/ws/events/?ticket={ticket}") == (False, 4401)


async def test_a_session_cookie_is_no_credential_here():
    people = await make_people()

    @database_sync_to_async
    def session_key():
        session = SessionStore()
        session["_auth_user_id"] = str(people["sales"].pk)
        session["_auth_user_backend"] = "django.contrib.auth.backends.ModelBackend"
        session["_auth_user_hash"] = people["sales"].get_session_auth_hash()
        session.create()
        return session.session_key

    cookie = (b"cookie", f"sessionid={await session_key()}".encode())
    assert await handshake("/ws/events/", headers=[cookie, (b"origin", b"http://testserver")]) == (False, 4401)


async def test_a_foreign_origin_is_refused_even_with_a_good_ticket():
    people = await make_people()
    ticket = await ticket_for(people["sales"])
    connected, _ = await handshake(f"/ws/events/?ticket={ticket}", headers=[(b"origin", b"http://evil.example")])
    assert not connected
    # The ticket was not spent by the refused attempt: the real client can still use it.
    connected, _ = await handshake(f"/ws/events/?ticket={ticket}")
    assert connected


async def test_an_allowed_origin_is_welcome():
    people = await make_people()
    ticket = await ticket_for(people["sales"])
    connected, _ = await handshake(f"/ws/events/?ticket={ticket}", headers=[(b"origin", b"http://testserver")])
    assert connected


async def test_events_arrive_as_plain_json_without_html():
    people = await make_people()
    with isolated(**{"customer.created": lambda event, audience, user: "<tr id='x'></tr>"}):
        client = await open_events(people["sales"])
        assert (await client.subscribe("customers.board"))["type"] == "subscribed"
        customer = await database_sync_to_async(customer_create)(
            actor=people["sales"], name="سارة", phone="01201234567"
        )
        frame = await client.receive()
        assert set(frame) == {"type", "id", "at", "branch", "data", "seq"}
        assert (frame["type"], frame["data"]["customer"]) == ("customer.created", customer.pk)
        await client.close()


async def test_an_access_change_closes_the_api_stream_too():
    people = await make_people()
    client = await open_events(people["sales"])
    await database_sync_to_async(user_update)(actor=people["admin"], user=people["sales"], role=Role.ACCOUNTANT)
    output = await client.communicator.receive_output(timeout=3)
    assert output == {"type": "websocket.close", "code": CLOSE_ACCESS_CHANGED}
