"""The browser's live stream: who may connect, what a page hears, and what closes it."""

from __future__ import annotations

import pytest
from channels.db import database_sync_to_async
from channels.testing import WebsocketCommunicator
from django.contrib.auth.models import AnonymousUser

from config.asgi import application
from consumers.live import CLOSE_ACCESS_CHANGED, CLOSE_UNAUTHENTICATED, LiveConsumer
from crm_core.accounts.models import Role
from crm_core.accounts.services import user_set_password, user_update
from crm_core.customers.services import customer_create
from tests.consumers.helpers import ORIGIN, open_live
from tests.factories import BranchFactory, UserFactory

pytestmark = [pytest.mark.asyncio, pytest.mark.django_db(transaction=True)]


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


# --- who may connect ------------------------------------------------------------------------------


async def test_anonymous_connection_is_refused():
    communicator = WebsocketCommunicator(LiveConsumer.as_asgi(), "/ws/live/")
    communicator.scope["user"] = AnonymousUser()
    connected, code = await communicator.connect()
    assert not connected
    assert code == CLOSE_UNAUTHENTICATED


async def test_a_deactivated_user_is_refused():
    people = await make_people()
    user = people["sales_a"]
    user.is_active = False
    communicator = WebsocketCommunicator(LiveConsumer.as_asgi(), "/ws/live/")
    communicator.scope["user"] = user
    connected, code = await communicator.connect()
    assert (connected, code) == (False, CLOSE_UNAUTHENTICATED)


@pytest.mark.parametrize("origin", [b"http://evil.example", b"null", b"http://testserver.evil.example"])
async def test_connection_from_a_foreign_origin_is_refused(origin):
    communicator = WebsocketCommunicator(application, "/ws/live/", headers=[(b"origin", origin)])
    connected, _ = await communicator.connect()
    assert not connected


async def test_the_browser_stream_needs_an_origin():
    communicator = WebsocketCommunicator(application, "/ws/live/")
    connected, _ = await communicator.connect()
    assert not connected


async def test_anonymous_browser_through_the_full_stack_is_refused():
    communicator = WebsocketCommunicator(application, "/ws/live/", headers=[ORIGIN])
    connected, code = await communicator.connect()
    assert not connected
    assert code == CLOSE_UNAUTHENTICATED


async def test_an_unknown_websocket_path_is_refused():
    communicator = WebsocketCommunicator(application, "/ws/anything/", headers=[ORIGIN])
    connected, _ = await communicator.connect()
    assert not connected


# --- what a page hears ----------------------------------------------------------------------------


async def test_hello_names_the_last_event_and_the_stream_is_live():
    people = await make_people()
    client = await open_live(people["sales_a"])
    assert client.hello["seq"] == 1
    assert client.hello["live"] is True
    assert isinstance(client.hello["last_event_id"], int)
    await client.close()


async def test_a_committed_change_reaches_its_branch_board_and_nobody_else():
    people = await make_people()
    listeners = {name: await open_live(user) for name, user in people.items()}
    for name, client in listeners.items():
        reply = await client.subscribe("customers.board")
        # The inspector follows no customer board; everyone else here does.
        assert reply["type"] == ("error" if name == "inspector_a" else "subscribed"), (name, reply)

    customer = await database_sync_to_async(customer_create)(
        actor=people["sales_a"], name="أحمد علي", phone="01001234567"
    )

    for name in ("sales_a", "dispatcher_a", "hq", "admin"):
        frame = await listeners[name].receive()
        assert frame["type"] == "customer.created"
        assert frame["data"]["customer"] == customer.pk
        assert frame["branch"] == customer.branch_id
        # Who else was told stays on the server; the customer pages' fragment may come along.
        assert set(frame) - {"html"} == {"type", "id", "at", "branch", "data", "seq"}
    for name in ("sales_b", "inspector_a"):
        assert await listeners[name].nothing()
    for client in listeners.values():
        await client.close()


async def test_a_page_hears_only_the_topics_it_asked_for():
    people = await make_people()
    client = await open_live(people["sales_a"])  # subscribed to nothing
    await database_sync_to_async(customer_create)(actor=people["sales_a"], name="منى", phone="01112345678")
    assert await client.nothing()
    await client.close()


async def test_the_client_cannot_ask_for_groups():
    people = await make_people()
    client = await open_live(people["sales_b"])
    await client.send({"action": "subscribe", "group": "b1.customers"})
    assert (await client.receive())["code"] == "bad_request"
    reply = await client.subscribe(f"b{people['sales_a'].branch_id}.customers")
    assert (reply["type"], reply["code"]) == ("error", "unknown_topic")
    await database_sync_to_async(customer_create)(actor=people["sales_a"], name="منى", phone="01112345678")
    assert await client.nothing()
    await client.send({"action": "ping"})
    assert (await client.receive())["type"] == "pong"
    await client.close()


async def test_garbage_from_the_client_is_answered_not_fatal():
    people = await make_people()
    client = await open_live(people["sales_a"])
    for text in ("not json", "[1, 2]", '"subscribe"', '{"action": "dance"}', "x" * 5000):
        await client.communicator.send_to(text_data=text)
        frame = await client.receive()
        assert (frame["type"], frame["code"]) == ("error", "bad_request"), text
    assert (await client.subscribe("orders.board"))["type"] == "subscribed"
    await client.close()


# --- what closes it -------------------------------------------------------------------------------


async def _closed_with(client, code: int) -> None:
    output = await client.communicator.receive_output(timeout=3)
    assert output == {"type": "websocket.close", "code": code}


async def test_changing_a_users_role_closes_their_socket():
    people = await make_people()
    client = await open_live(people["sales_a"])
    bystander = await open_live(people["dispatcher_a"])
    await database_sync_to_async(user_update)(actor=people["admin"], user=people["sales_a"], role=Role.INSPECTOR)
    await _closed_with(client, CLOSE_ACCESS_CHANGED)
    assert await bystander.nothing()  # someone else's access change is not their business
    await bystander.close()


async def test_deactivating_a_user_closes_their_socket():
    people = await make_people()
    client = await open_live(people["sales_a"])
    await database_sync_to_async(user_update)(actor=people["admin"], user=people["sales_a"], is_active=False)
    await _closed_with(client, CLOSE_ACCESS_CHANGED)


async def test_moving_a_user_to_another_branch_closes_their_socket():
    people = await make_people()
    client = await open_live(people["dispatcher_a"])
    await client.subscribe("orders.board")
    await database_sync_to_async(user_update)(
        actor=people["admin"], user=people["dispatcher_a"], branch=people["sales_b"].branch
    )
    await _closed_with(client, CLOSE_ACCESS_CHANGED)


async def test_granting_all_branches_closes_the_socket():
    people = await make_people()
    client = await open_live(people["sales_a"])
    await database_sync_to_async(user_update)(actor=people["admin"], user=people["sales_a"], all_branches=True)
    await _closed_with(client, CLOSE_ACCESS_CHANGED)


async def test_a_new_password_closes_the_users_sockets():
    people = await make_people()
    client = await open_live(people["sales_a"])
    await database_sync_to_async(user_set_password)(
        actor=people["admin"], user=people["sales_a"], password="a-much-Better-passw0rd"
    )
    await _closed_with(client, CLOSE_ACCESS_CHANGED)


async def test_a_name_change_leaves_the_socket_open():
    people = await make_people()
    client = await open_live(people["sales_a"])
    await database_sync_to_async(user_update)(actor=people["admin"], user=people["sales_a"], first_name="كريم")
    assert await client.nothing()
    await client.send({"action": "ping"})
    assert (await client.receive())["type"] == "pong"
    await client.close()
