"""What a page notices when the channel layer misbehaves: a resync after a dropped message, the
"paused" status while the layer is down, and live updates resuming by themselves — on the same
connection — once it is back, even if it came back empty (a restarted Redis forgets every group).

These run on whichever layer the settings choose (in-memory, or Redis with REDIS_URL).
"""

from __future__ import annotations

import asyncio
import logging
import os
import time

import pytest
from channels.db import database_sync_to_async
from channels.layers import get_channel_layer

from crm_core.accounts.models import Role
from crm_core.customers.models import Customer
from crm_core.customers.services import customer_create
from realtime import renderers
from realtime.layer import _is_redis, next_group_seqs
from realtime.publish import _group_send_all
from tests.consumers.helpers import open_live, publish_now
from tests.factories import BranchFactory, UserFactory

pytestmark = [pytest.mark.asyncio, pytest.mark.django_db(transaction=True)]


@pytest.fixture(autouse=True)
def quick_watch(settings):
    settings.CRM_LIVE_CHECK_SECONDS = 0.1
    settings.CRM_LIVE_GAP_GRACE_SECONDS = 0.3


@database_sync_to_async
def make_people():
    a = BranchFactory(code="CAI", name="القاهرة")
    return a, UserFactory(role=Role.SALES, branch=a), UserFactory(role=Role.DISPATCHER, branch=a)


async def next_non_event(client, timeout: float = 3) -> dict:
    _events, frame = await client.until(lambda f: "." not in f["type"], timeout=timeout)
    return frame


# --- gaps ---------------------------------------------------------------------------------------


async def test_a_message_lost_on_the_way_makes_the_page_resync():
    branch, sales, _ = await make_people()
    client = await open_live(sales)
    await client.subscribe("orders.board")
    layer = get_channel_layer()

    # A number drawn for the board's group whose message never arrives: exactly what a full
    # channel, an expired message or a send that failed half-way look like to the consumer.
    await next_group_seqs(layer, [f"b{branch.pk}.orders"])
    await publish_now("order.created", branch_id=branch.pk, data={"order": 1})

    assert (await client.receive())["type"] == "order.created"  # what did arrive is still sent
    frame = await client.receive(timeout=3)
    assert (frame["type"], frame["reason"]) == ("resync", "gap")
    assert await client.nothing(0.5)  # once, not on every tick
    await client.close()


async def test_a_process_that_is_behind_does_not_tell_its_pages_to_resync(monkeypatch):
    """The board's counter is past what the stream has received because the message is still
    queued for a process that fell behind: no resync while the backlog lasts (each would add a
    page refetch to a process already behind), and the page is told once it is gone and the
    message has not arrived."""
    branch, sales, _ = await make_people()
    backlog = {"messages": 40}

    async def queued(layer):
        return backlog["messages"]

    monkeypatch.setattr("consumers.watch.queued_for_process", queued)
    client = await open_live(sales)
    await client.subscribe("orders.board")
    await next_group_seqs(get_channel_layer(), [f"b{branch.pk}.orders"])  # "queued", never sent

    assert await client.nothing(1.5)  # five times the grace period, fifteen watch ticks
    backlog["messages"] = 0
    frame = await next_non_event(client)
    assert (frame["type"], frame["reason"]) == ("resync", "gap")
    await client.close()


async def test_messages_arriving_out_of_order_within_the_grace_period_are_no_gap():
    branch, sales, _ = await make_people()
    client = await open_live(sales)
    await client.subscribe("orders.board")
    layer = get_channel_layer()
    group = f"b{branch.pk}.orders"

    def message(order: int, **extra) -> dict:
        event = {"type": "order.created", "id": order, "at": "", "branch": branch.pk, "data": {"order": order}}
        return {"type": "crm.event", "event": event, "users": [], **extra}

    # Two processes publish: the first draws its number, the second draws and delivers first.
    (early,) = (await next_group_seqs(layer, [group])).values()
    await _group_send_all([group], message(2))
    await layer.group_send(group, message(1, group=group, gseq=early))
    got = {(await client.receive())["data"]["order"], (await client.receive())["data"]["order"]}
    assert got == {1, 2}
    assert await client.nothing(0.8)  # longer than the grace period: no resync
    await client.close()


@pytest.mark.skipif(bool(os.environ.get("REDIS_URL")), reason="the in-memory layer's capacity")
async def test_a_full_channel_drops_messages_and_the_page_resyncs(settings):
    settings.CHANNEL_LAYERS = {
        "default": {"BACKEND": "channels.layers.InMemoryChannelLayer", "CONFIG": {"capacity": 3}}
    }
    branch, sales, _ = await make_people()
    client = await open_live(sales)
    await client.subscribe("orders.board")

    def slow(event, audience, user):  # a busy consumer: each event takes a while to render
        time.sleep(0.1)
        return None

    with renderers.isolated(**{"order.created": slow}):
        group = f"b{branch.pk}.orders"
        for number in range(1, 11):  # ten messages, faster than the consumer reads them
            message = {"type": "order.created", "id": number, "at": "", "branch": branch.pk, "data": {"order": number}}
            await _group_send_all([group], {"type": "crm.event", "event": message, "users": []})
        frames, resync = await client.until(lambda f: f["type"] == "resync", timeout=5)
    assert resync["reason"] == "gap"
    delivered = [f["data"]["order"] for f in frames if f["type"] == "order.created"]
    assert delivered == sorted(set(delivered)) and len(delivered) < 10  # some were dropped, in order
    await client.close()


# --- the layer forgets everything -------------------------------------------------------------------


async def forget_everything(layer) -> None:
    """What a Redis restart without persistence does: every group and the epoch are gone."""
    if _is_redis(layer):
        connection = layer.connection(0)
        keys = [key async for key in connection.scan_iter(match=f"{layer.prefix}:*")]
        if keys:
            await connection.delete(*keys)
    else:
        layer.groups.clear()


async def test_after_the_layer_lost_its_groups_the_stream_rejoins_and_resyncs_by_itself():
    _branch, sales, _ = await make_people()
    client = await open_live(sales)
    await client.subscribe("customers.board")
    await forget_everything(get_channel_layer())

    status = await next_non_event(client)
    assert (status["type"], status["live"]) == ("status", True)
    resync = await client.receive()
    assert (resync["type"], resync["reason"]) == ("resync", "recovered")

    # Same connection, no reconnect: the board hears the next change again.
    customer = await database_sync_to_async(customer_create)(actor=sales, name="عودة", phone="01001112223")
    frame = await client.receive()
    assert (frame["type"], frame["data"]["customer"]) == ("customer.created", customer.pk)
    await client.close()


async def age_memberships(layer, group: str) -> None:
    """Make every membership of ``group`` look as old as 1970: the layer expires it on next use."""
    if _is_redis(layer):
        connection = layer.connection(layer.consistent_hash(group))
        key = layer._group_key(group)
        members = await connection.zrange(key, 0, -1)
        await connection.zadd(key, dict.fromkeys(members, 1))
    else:
        layer.groups[group] = dict.fromkeys(layer.groups[group], 1.0)


async def test_a_long_lived_connection_keeps_its_groups(monkeypatch):
    monkeypatch.setattr("consumers.base.MEMBERSHIP_REFRESH_SECONDS", 0.3)
    branch, sales, _ = await make_people()
    client = await open_live(sales)
    await client.subscribe("orders.board")
    await age_memberships(get_channel_layer(), f"b{branch.pk}.orders")
    await asyncio.sleep(0.6)  # the watch renews memberships meanwhile
    await publish_now("order.created", branch_id=branch.pk, data={"order": 5})
    assert (await client.receive())["data"] == {"order": 5}
    await client.close()


# --- the layer is down, then back -------------------------------------------------------------------


class Outage:
    """Makes the channel layer (whichever it is) refuse every call, until ``end()``."""

    def __init__(self, layer, monkeypatch) -> None:
        self.layer = layer
        self.monkeypatch = monkeypatch
        self.down = False
        for name in ("group_add", "group_discard", "group_send", "receive", "send"):
            original = getattr(layer, name)
            monkeypatch.setattr(layer, name, self._guard(original))
        import consumers.watch as watch_module

        monkeypatch.setattr(watch_module, "layer_epoch", self._guard(watch_module.layer_epoch))

    def _guard(self, original):
        async def guarded(*args, **kwargs):
            if self.down:
                raise ConnectionError("Error 111 connecting to the channel layer. Connection refused.")
            return await original(*args, **kwargs)

        return guarded

    def begin(self):
        self.down = True

    def end(self):
        self.down = False


async def test_a_slow_answer_from_the_layer_is_not_an_outage(monkeypatch):
    """A busy Redis may take a few hundred milliseconds to answer the watch: the page is not told
    that live updates paused, however often the watch looks (here every 0.1 s)."""
    import consumers.watch as watch_module

    read_epoch = watch_module.layer_epoch

    async def slow_epoch(layer):
        await asyncio.sleep(0.4)
        return await read_epoch(layer)

    monkeypatch.setattr(watch_module, "layer_epoch", slow_epoch)
    _branch, sales, _ = await make_people()
    client = await open_live(sales)
    await client.subscribe("orders.board")
    assert await client.nothing(1.5)
    await client.close()


async def test_while_the_layer_is_down_the_page_is_told_and_changes_still_save(monkeypatch, caplog):
    branch, sales, dispatcher = await make_people()
    client = await open_live(dispatcher)
    await client.subscribe("customers.board")
    outage = Outage(get_channel_layer(), monkeypatch)

    outage.begin()
    status = await next_non_event(client)
    assert (status["type"], status["live"]) == ("status", False)

    caplog.set_level(logging.ERROR, logger="realtime.publish")
    customer = await database_sync_to_async(customer_create)(actor=sales, name="أثناء العطل", phone="01009998887")
    assert await database_sync_to_async(Customer.objects.filter(pk=customer.pk).exists)()
    assert any("customer.created" in r.getMessage() for r in caplog.records)
    assert await client.nothing(0.3)  # the event is lost to live push...

    outage.end()
    status = await next_non_event(client)
    assert (status["type"], status["live"]) == ("status", True)
    resync = await client.receive()
    assert resync["type"] == "resync"  # ...so the page re-fetches, and shows the new customer

    await publish_now("customer.updated", branch_id=branch.pk, data={"customer": customer.pk})
    assert (await client.receive())["type"] == "customer.updated"
    await client.close()


async def test_a_page_that_connects_while_the_layer_is_down_goes_live_when_it_returns(monkeypatch):
    branch, sales, _ = await make_people()
    outage = Outage(get_channel_layer(), monkeypatch)
    outage.begin()
    # The handshake itself needs the layer only to join groups: it is accepted, and says so.
    client = await open_live(sales)
    assert client.hello["live"] is False
    assert (await client.subscribe("orders.board"))["type"] == "subscribed"
    outage.end()

    frames, _resync = await client.until(lambda f: f["type"] == "resync", timeout=3)
    assert {"type": "status", "live": True} in [{k: v for k, v in f.items() if k != "seq"} for f in frames]
    await publish_now("order.created", branch_id=branch.pk, data={"order": 3})
    assert (await client.receive())["data"] == {"order": 3}
    await client.close()


@pytest.mark.skipif(not os.environ.get("REDIS_URL"), reason="needs Redis: set REDIS_URL")
async def test_an_idle_stream_on_redis_stays_quiet():
    """Nothing happens for longer than a blocking receive lasts: the page must hear nothing,
    neither "paused" nor "resync" (a receive racing the socket timeout would send both)."""
    _branch, sales, _ = await make_people()
    client = await open_live(sales)
    await client.subscribe("orders.board")
    assert await client.nothing(timeout=12)
    await client.close()
