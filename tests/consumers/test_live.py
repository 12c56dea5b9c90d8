"""The live stream: who may connect, and who hears which committed change."""

from __future__ import annotations

import pytest
from channels.db import database_sync_to_async
from channels.testing import WebsocketCommunicator
from django.contrib.auth.models import AnonymousUser

from config.asgi import application
from consumers.live import CLOSE_ACCESS_CHANGED, CLOSE_UNAUTHENTICATED, LiveConsumer
from crm_core.accounts.models import Role
from crm_core.accounts.services import user_update
from crm_core.customers.services import customer_create
from tests.factories import BranchFactory, UserFactory

pytestmark = [pytest.mark.asyncio, pytest.mark.django_db(transaction=True)]


async def connect(user) -> WebsocketCommunicator:
    communicator = WebsocketCommunicator(LiveConsumer.as_asgi(), "/ws/live/")
    communicator.scope["user"] = user
    connected, code = await communicator.connect()
    assert connected, code
    hello = await communicator.receive_json_from()
    assert hello["type"] == "hello"
    return communicator


@database_sync_to_async
def make_people():
    cairo = BranchFactory(code="CAI", name="القاهرة")
    alex = BranchFactory(code="ALX", name="الإسكندرية")
    return {
        "sales_a": UserFactory(role=Role.SALES, branch=cairo),
        "dispatcher_a": UserFactory(role=Role.DISPATCHER, branch=cairo),
        "inspector_a": UserFactory(role=Role.INSPECTOR, branch=cairo),
        "sales_b": UserFactory(role=Role.SALES, branch=alex),
        "hq": UserFactory(role=Role.MANAGER, branch=cairo, all_branches=True),
        "admin": UserFactory(role=Role.ADMIN, branch=None, all_branches=True, is_superuser=True),
    }


async def test_anonymous_connection_is_refused():
    communicator = WebsocketCommunicator(LiveConsumer.as_asgi(), "/ws/live/")
    communicator.scope["user"] = AnonymousUser()
    connected, code = await communicator.connect()
    assert not connected
    assert code == CLOSE_UNAUTHENTICATED


async def test_connection_from_a_foreign_origin_is_refused():
    communicator = WebsocketCommunicator(application, "/ws/live/", headers=[(b"origin", b"http://evil.example")])
    connected, _ = await communicator.connect()
    assert not connected


async def test_anonymous_browser_through_the_full_stack_is_refused():
    communicator = WebsocketCommunicator(application, "/ws/live/", headers=[(b"origin", b"http://testserver")])
    connected, code = await communicator.connect()
    assert not connected
    assert code == CLOSE_UNAUTHENTICATED


async def test_a_committed_change_reaches_its_branch_and_nobody_else():
    people = await make_people()
    listeners = {name: await connect(user) for name, user in people.items()}

    customer = await database_sync_to_async(customer_create)(
        actor=people["sales_a"], name="أحمد علي", phone="01001234567"
    )

    for name in ("sales_a", "dispatcher_a", "hq"):
        message = await listeners[name].receive_json_from(timeout=2)
        assert message["type"] == "event"
        assert message["event"]["type"] == "customer.created"
        assert message["event"]["data"]["customer"] == customer.pk
        assert "users" not in message["event"]
    # Branch B's salesperson and the inspector (no customers topic) hear nothing.
    for name in ("sales_b", "inspector_a"):
        assert await listeners[name].receive_nothing(timeout=0.3)
    for communicator in listeners.values():
        await communicator.disconnect()


async def test_the_client_cannot_ask_for_groups():
    people = await make_people()
    listener = await connect(people["sales_b"])
    await listener.send_json_to({"type": "subscribe", "group": "b1.customers"})
    await database_sync_to_async(customer_create)(actor=people["sales_a"], name="منى", phone="01112345678")
    assert await listener.receive_nothing(timeout=0.3)
    await listener.send_json_to({"type": "ping"})
    assert (await listener.receive_json_from())["type"] == "pong"
    await listener.disconnect()


async def test_changing_a_users_role_closes_their_socket():
    people = await make_people()
    listener = await connect(people["sales_a"])
    await database_sync_to_async(user_update)(actor=people["admin"], user=people["sales_a"], role=Role.INSPECTOR)
    output = await listener.receive_output(timeout=2)
    assert output == {"type": "websocket.close", "code": CLOSE_ACCESS_CHANGED}
