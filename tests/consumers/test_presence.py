"""Presence: who else has a record or a board open, and who is editing it.

Every stream here is its own consumer on the shared channel layer, talking to the others only
through it, as streams on separate Daphne processes do (on Redis when REDIS_URL is set).
"""

from __future__ import annotations

import asyncio
from datetime import date, timedelta

import pytest
from channels.db import database_sync_to_async
from channels.layers import get_channel_layer

from consumers.base import StreamConsumer
from consumers.watch import _watches
from crm_core.accounts.models import Role
from realtime.audiences import presence_group
from tests.consumers.helpers import open_live
from tests.factories import BranchFactory, CustomerFactory, ProductFactory, UserFactory

pytestmark = [pytest.mark.asyncio, pytest.mark.django_db(transaction=True)]


@database_sync_to_async
def make_world():
    a = BranchFactory(code="CAI", name="القاهرة")
    b = BranchFactory(code="ALX", name="الإسكندرية")

    class W:
        sales_a = UserFactory(role=Role.SALES, branch=a, first_name="Mona", last_name="Adel")
        dispatcher_a = UserFactory(role=Role.DISPATCHER, branch=a, first_name="Karim", last_name="Said")
        storekeeper_a = UserFactory(role=Role.STOREKEEPER, branch=a)
        sales_b = UserFactory(role=Role.SALES, branch=b)
        hq = UserFactory(role=Role.MANAGER, branch=a, all_branches=True)
        customer_a = CustomerFactory(branch=a)
        customer_b = CustomerFactory(branch=b)
        product = ProductFactory()

    return W


async def enter(client, room: str, state: str = "viewing", **extra) -> dict:
    await client.send({"action": "presence", "room": room, "state": state, **extra})
    return await client.receive()


def presence_of(room: str, users: list[int] | None = None):
    """A predicate for the presence frame of ``room`` that lists exactly ``users`` (by id)."""

    def matches(frame: dict) -> bool:
        if frame["type"] != "presence" or frame["room"] != room:
            return False
        return users is None or [person["id"] for person in frame["users"]] == users

    return matches


async def test_people_in_the_same_room_see_each_other_come_edit_and_go():
    w = await make_world()
    room = f"customer:{w.customer_a.pk}"
    mona = await open_live(w.sales_a)
    karim = await open_live(w.dispatcher_a)

    first = await enter(mona, room)
    assert first == {"type": "presence", "room": room, "state": "viewing", "users": [], "seq": 2}

    assert (await enter(karim, room))["users"] == []
    # The newcomer hears from everyone already there, and they hear of the newcomer.
    _, frame = await karim.until(presence_of(room, [w.sales_a.pk]))
    assert frame["users"] == [{"id": w.sales_a.pk, "name": "Mona Adel", "initials": "MA", "state": "viewing"}]
    _, frame = await mona.until(presence_of(room, [w.dispatcher_a.pk]))
    assert frame["users"][0]["state"] == "viewing"

    answer = await enter(karim, room, "editing")
    assert answer["state"] == "editing"
    _, frame = await mona.until(presence_of(room))
    assert frame["users"] == [{"id": w.dispatcher_a.pk, "name": "Karim Said", "initials": "KS", "state": "editing"}]

    left = await enter(karim, room, "left")
    assert (left["state"], left["users"]) == ("left", [])
    _, frame = await mona.until(presence_of(room))
    assert frame["users"] == []
    assert await karim.nothing()

    await mona.close()
    await karim.close()


async def test_closing_the_socket_tells_the_others_at_once():
    w = await make_world()
    room = f"customer:{w.customer_a.pk}"
    mona = await open_live(w.sales_a)
    karim = await open_live(w.dispatcher_a)
    await enter(mona, room)
    await enter(karim, room, "editing")
    await mona.until(presence_of(room, [w.dispatcher_a.pk]))

    await karim.close()
    _, frame = await mona.until(presence_of(room), timeout=2)
    assert frame["users"] == []
    await mona.close()


def stream_of(user) -> StreamConsumer:
    """The server side of ``user``'s one open stream, as the process's watch holds it."""
    streams = [c for watch in list(_watches.values()) for c in watch.consumers if c.user.pk == user.pk]
    assert len(streams) == 1, streams
    return streams[0]


async def test_a_socket_that_closes_while_its_stream_rejoins_stays_gone():
    """The watch re-joins every stream after the layer lost its state (a Redis restart, or lost
    events). A page that closes in the middle of that must not be put back: the others would see
    its user there until the entry expired, and the process would keep delivering to it."""
    w = await make_world()
    room = f"customer:{w.customer_a.pk}"
    mona = await open_live(w.sales_a)
    karim = await open_live(w.dispatcher_a)
    await karim.subscribe("customers.board")
    await enter(mona, room)
    await enter(karim, room, "editing")
    await mona.until(presence_of(room, [w.dispatcher_a.pk]))

    stream = stream_of(w.dispatcher_a)
    rejoining = asyncio.Event()
    release = asyncio.Event()
    join = stream._join

    async def slow_join(groups):
        rejoining.set()
        await release.wait()
        return await join(groups)

    stream._join = slow_join
    recovery = asyncio.create_task(stream.layer_recovered())
    await rejoining.wait()
    closing = asyncio.create_task(karim.close())
    await asyncio.sleep(0.2)
    release.set()
    await asyncio.wait_for(asyncio.gather(recovery, closing), 5)

    frames = [frame for frame in await mona.drain(quiet=0.7) if presence_of(room)(frame)]
    assert frames and frames[-1]["users"] == []
    assert all(stream not in members for members in stream.hub.members.values())
    await mona.close()


@pytest.mark.parametrize("room_of", [lambda w: f"customer:{w.customer_a.pk}", lambda w: "customer:987654321"])
async def test_a_room_the_user_may_not_see_is_refused_and_reveals_nothing(room_of):
    w = await make_world()
    room_a = f"customer:{w.customer_a.pk}"
    mona = await open_live(w.sales_a)
    await enter(mona, room_a, "editing")
    outsider = await open_live(w.sales_b)

    room = room_of(w)
    refused = await enter(outsider, room)
    # A customer of another branch and one that does not exist get the same answer.
    assert refused == {"type": "error", "code": "topic_forbidden", "room": room, "seq": 2}
    # Nobody in branch A's room hears of the outsider, and the outsider hears nothing of them.
    assert await outsider.nothing()
    assert await mona.nothing()
    await mona.close()
    await outsider.close()


async def test_a_role_without_the_view_permission_is_refused_the_room():
    w = await make_world()
    storekeeper = await open_live(w.storekeeper_a)
    refused = await enter(storekeeper, f"customer:{w.customer_a.pk}")
    assert (refused["type"], refused["code"]) == ("error", "topic_forbidden")
    await storekeeper.close()


async def test_malformed_presence_requests_are_refused():
    w = await make_world()
    mona = await open_live(w.sales_a)
    assert (await enter(mona, f"customer:{w.customer_a.pk}", "dancing"))["code"] == "bad_request"
    assert (await enter(mona, "presence.customer.1"))["code"] == "unknown_topic"
    assert (await enter(mona, "orders.board", date="2026-11-24"))["code"] == "bad_request"
    await mona.close()


async def test_a_products_room_is_company_wide_like_the_product_and_not_a_topic():
    """Products belong to no branch: a storekeeper editing one and a salesperson of another
    branch looking at it see each other. A product has no events of its own, so its room is
    for presence only."""
    w = await make_world()
    room = f"product:{w.product.pk}"
    storekeeper = await open_live(w.storekeeper_a)
    seller = await open_live(w.sales_b)
    await enter(storekeeper, room, "editing")
    await enter(seller, room)
    _, frame = await seller.until(presence_of(room, [w.storekeeper_a.pk]))
    assert frame["users"][0]["state"] == "editing"
    await storekeeper.until(presence_of(room, [w.sales_b.pk]))

    assert await seller.subscribe(room) == {"type": "error", "code": "unknown_topic", "topic": room, "seq": 4}
    missing = await enter(seller, "product:987654321")
    assert (missing["type"], missing["code"]) == ("error", "topic_forbidden")
    assert await storekeeper.nothing()
    await storekeeper.close()
    await seller.close()


async def test_two_tabs_of_one_user_appear_once_and_editing_wins():
    w = await make_world()
    room = f"customer:{w.customer_a.pk}"
    mona = await open_live(w.sales_a)
    await enter(mona, room)
    tab1 = await open_live(w.dispatcher_a)
    tab2 = await open_live(w.dispatcher_a)
    await enter(tab1, room, "editing")
    await mona.until(presence_of(room, [w.dispatcher_a.pk]))
    await enter(tab2, room)
    # Karim's second tab lists Mona, never Karim himself.
    _, frame = await tab2.until(presence_of(room, [w.sales_a.pk]))
    assert await tab2.nothing()

    # Whatever Mona is sent, Karim is one entry, editing because one of his tabs is.
    frames = []
    while not await mona.nothing(0.2):
        frames.append(await mona.receive())
    for seen in frames:
        assert [person["id"] for person in seen["users"]] == [w.dispatcher_a.pk]
        assert seen["users"][0]["state"] == "editing"

    await tab1.close()
    _, frame = await mona.until(presence_of(room))
    assert frame["users"] == [
        {"id": w.dispatcher_a.pk, "name": str(w.dispatcher_a), "initials": "KS", "state": "viewing"}
    ]
    await tab2.close()
    _, frame = await mona.until(presence_of(room, []))
    await mona.close()


async def test_a_member_that_goes_silent_expires_and_a_live_one_does_not(settings):
    """A process that crashed sends no leave: its members drop out after the expiry, while the
    heartbeat keeps everyone else listed."""
    settings.CRM_LIVE_CHECK_SECONDS = 0.1
    settings.CRM_PRESENCE_HEARTBEAT_SECONDS = 0.3
    settings.CRM_PRESENCE_EXPIRY_SECONDS = 1
    w = await make_world()
    room = f"customer:{w.customer_a.pk}"
    mona = await open_live(w.sales_a)
    karim = await open_live(w.dispatcher_a)
    await enter(mona, room)
    await enter(karim, room)
    await mona.until(presence_of(room, [w.dispatcher_a.pk]))

    layer = get_channel_layer()
    ghost_channel = await layer.new_channel()
    ghost = {"user": w.hq.pk, "name": "Ghost Manager", "initials": "GM", "state": "editing", "channel": ghost_channel}
    group = presence_group(f"customer:{w.customer_a.pk}")
    await layer.group_send(group, {"type": "presence.join", "group": group, "member": ghost})
    _, frame = await mona.until(presence_of(room))
    assert sorted(person["id"] for person in frame["users"]) == sorted([w.dispatcher_a.pk, w.hq.pk])

    # The ghost never speaks again; Karim's stream keeps saying it is there.
    _, frame = await mona.until(presence_of(room, [w.dispatcher_a.pk]), timeout=4)
    assert frame["users"][0]["state"] == "viewing"
    await asyncio.sleep(1.5)
    while not await mona.nothing(0.1):
        later = await mona.receive()
        assert [person["id"] for person in later["users"]] == [w.dispatcher_a.pk]
    await mona.close()
    await karim.close()


async def test_board_rooms_are_per_branch_and_per_day():
    w = await make_world()
    dispatcher = await open_live(w.dispatcher_a)
    colleague = await open_live(w.sales_a)
    outsider = await open_live(w.sales_b)
    hq = await open_live(w.hq)
    for client in (dispatcher, colleague, outsider, hq):
        assert (await enter(client, "orders.board"))["users"] == []
    _, frame = await dispatcher.until(presence_of("orders.board", [w.sales_a.pk]))
    assert frame["users"][0]["name"] == str(w.sales_a)
    await colleague.until(presence_of("orders.board", [w.dispatcher_a.pk]))
    # Another branch's board, and the all-branches board, are other rooms.
    assert await outsider.nothing()
    assert await hq.nothing()

    today = date(2026, 11, 24)
    await enter(dispatcher, "inspections.board", date=today.isoformat())
    other_day = await enter(colleague, "inspections.board", date=(today + timedelta(days=1)).isoformat())
    assert other_day["date"] == (today + timedelta(days=1)).isoformat()
    assert await dispatcher.nothing()
    await enter(colleague, "inspections.board", date=today.isoformat())
    _, frame = await dispatcher.until(presence_of("inspections.board", [w.sales_a.pk]))
    assert frame["date"] == today.isoformat()

    for client in (dispatcher, colleague, outsider, hq):
        await client.close()


async def test_a_board_the_role_may_not_follow_is_refused():
    w = await make_world()
    storekeeper = await open_live(w.storekeeper_a)
    refused = await enter(storekeeper, "customers.board")
    assert (refused["type"], refused["code"], refused["room"]) == ("error", "topic_forbidden", "customers.board")
    await storekeeper.close()


async def test_presence_does_not_disturb_the_event_stream():
    """Presence frames are control frames: numbered like every frame, no dot in their type, and
    the page's subscriptions and events carry on."""
    w = await make_world()
    room = f"customer:{w.customer_a.pk}"
    mona = await open_live(w.sales_a)
    karim = await open_live(w.dispatcher_a)
    assert (await mona.subscribe(room))["type"] == "subscribed"
    await enter(mona, room)
    await enter(karim, room, "editing")
    _, frame = await mona.until(presence_of(room, [w.dispatcher_a.pk]))
    assert "." not in frame["type"]
    await mona.close()
    await karim.close()


async def test_arabic_initials_are_kept_apart_so_they_do_not_join_into_a_word():
    from crm_core.accounts.models import User

    assert User(first_name="كريم", last_name="سالم").initials == "ك\u200cس"
    assert User(first_name="karim", last_name="salem").initials == "KS"
    assert User(username="mona").initials == "MO"
