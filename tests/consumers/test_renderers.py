"""HTML fragments on the browser stream: rendered once per audience, not once per connection."""

from __future__ import annotations

import threading

import pytest
from channels.db import database_sync_to_async
from django.utils import translation

from crm_core.accounts.models import Role
from realtime import renderers
from tests.consumers.helpers import open_live, publish_now
from tests.factories import BranchFactory, UserFactory

pytestmark = [pytest.mark.django_db(transaction=True)]


class CountingRenderer:
    def __init__(self) -> None:
        self.calls: list[tuple] = []
        self.lock = threading.Lock()

    def __call__(self, event, audience, user):
        with self.lock:
            self.calls.append((event.id, audience))
        return (
            f'<tr id="order-{event.data["order"]}">{audience.role}/{audience.scope}/{translation.get_language()}</tr>'
        )


@pytest.fixture
def renderer():
    counting = CountingRenderer()
    renderers.register("order.created", counting)
    yield counting
    renderers.unregister("order.created")


@database_sync_to_async
def make_crowd():
    a = BranchFactory(code="CAI", name="القاهرة")
    b = BranchFactory(code="ALX", name="الإسكندرية")
    return a, {
        "dispatchers_ar": [UserFactory(role=Role.DISPATCHER, branch=a, language="ar") for _ in range(10)],
        "dispatchers_en": [UserFactory(role=Role.DISPATCHER, branch=a, language="en") for _ in range(10)],
        "hq_en": [UserFactory(role=Role.MANAGER, branch=a, all_branches=True, language="en") for _ in range(5)],
        "sales_b": [UserFactory(role=Role.SALES, branch=b) for _ in range(5)],
    }


@pytest.mark.asyncio
async def test_a_fragment_is_rendered_once_per_audience_not_once_per_connection(renderer):
    branch_a, crowd = await make_crowd()
    clients = {name: [await open_live(user) for user in users] for name, users in crowd.items()}
    for group in clients.values():
        for client in group:
            assert (await client.subscribe("orders.board"))["type"] == "subscribed"

    await publish_now("order.created", branch_id=branch_a.pk, data={"order": 41})

    received = {name: [await c.receive() for c in group] for name, group in clients.items() if name != "sales_b"}
    for client in clients["sales_b"]:
        assert await client.nothing()
    # 25 connections heard it; three audiences (dispatchers in Arabic, in English, HQ): three renders.
    assert len(renderer.calls) == 3
    assert {audience for _id, audience in renderer.calls} == {
        renderers.Audience("dispatcher", f"b{branch_a.pk}", "ar"),
        renderers.Audience("dispatcher", f"b{branch_a.pk}", "en"),
        renderers.Audience("manager", "all", "en"),
    }
    assert {f["html"] for f in received["dispatchers_ar"]} == {f'<tr id="order-41">dispatcher/b{branch_a.pk}/ar</tr>'}
    assert {f["html"] for f in received["dispatchers_en"]} == {f'<tr id="order-41">dispatcher/b{branch_a.pk}/en</tr>'}
    assert {f["html"] for f in received["hq_en"]} == {'<tr id="order-41">manager/all/en</tr>'}

    # The next event renders afresh, again once per audience.
    await publish_now("order.created", branch_id=branch_a.pk, data={"order": 42})
    for name, group in clients.items():
        if name != "sales_b":
            for client in group:
                assert (await client.receive())["data"] == {"order": 42}
    assert len(renderer.calls) == 6
    for group in clients.values():
        for client in group:
            await client.close()


@pytest.mark.asyncio
async def test_inspectors_are_an_audience_each():
    """An inspector sees only their own work, so nobody else's fragment may be reused for them."""
    a = await database_sync_to_async(BranchFactory)(code="CAI", name="القاهرة")
    first = await database_sync_to_async(UserFactory)(role=Role.INSPECTOR, branch=a)
    second = await database_sync_to_async(UserFactory)(role=Role.INSPECTOR, branch=a)
    seen = []
    renderers.register("inspection.started", lambda event, audience, user: seen.append(audience) or "<p id='x'></p>")
    try:
        clients = [await open_live(first), await open_live(second)]
        for client in clients:
            await client.subscribe("inspections.board")
        await publish_now("inspection.started", branch_id=a.pk, data={"inspection": 1}, users=(first.pk, second.pk))
        for client in clients:
            assert (await client.receive())["html"] == "<p id='x'></p>"
        assert sorted(audience.scope for audience in seen) == sorted([f"u{first.pk}", f"u{second.pk}"])
        for client in clients:
            await client.close()
    finally:
        renderers.unregister("inspection.started")


@pytest.mark.asyncio
async def test_a_renderer_that_fails_leaves_the_json_hint(caplog):
    branch_a, crowd = await make_crowd()

    def broken(event, audience, user):
        raise RuntimeError("template missing")

    renderers.register("order.created", broken)
    try:
        client = await open_live(crowd["dispatchers_ar"][0])
        await client.subscribe("orders.board")
        await publish_now("order.created", branch_id=branch_a.pk, data={"order": 7})
        frame = await client.receive()
        assert frame["type"] == "order.created" and "html" not in frame
        assert any("template missing" in (r.exc_text or str(r.exc_info)) for r in caplog.records if r.exc_info)
        await client.close()
    finally:
        renderers.unregister("order.created")


@pytest.mark.asyncio
async def test_a_renderer_may_decline():
    branch_a, crowd = await make_crowd()
    renderers.register("order.created", lambda event, audience, user: None)
    try:
        client = await open_live(crowd["hq_en"][0])
        await client.subscribe("orders.board")
        await publish_now("order.created", branch_id=branch_a.pk, data={"order": 8})
        assert "html" not in await client.receive()
        await client.close()
    finally:
        renderers.unregister("order.created")


@pytest.mark.django_db(transaction=False)
def test_one_renderer_per_event_type_and_only_known_types():
    renderers.register("stock.low", first := (lambda e, a, u: None))
    try:
        with pytest.raises(ValueError, match="registered already"):
            renderers.register("stock.low", lambda e, a, u: None)
        renderers.register("stock.low", first)  # registering the same one again is harmless
    finally:
        renderers.unregister("stock.low")
    with pytest.raises(ValueError, match="Unknown event type"):
        renderers.register("stock.exploded", lambda e, a, u: None)
