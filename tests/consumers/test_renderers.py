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
    with renderers.isolated(**{"order.created": counting}):
        yield counting


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
    assert {f["html"] for f in received["dispatchers_ar"]} == {
        f'<template><tr id="order-41">dispatcher/b{branch_a.pk}/ar</tr></template>'
    }
    assert {f["html"] for f in received["dispatchers_en"]} == {
        f'<template><tr id="order-41">dispatcher/b{branch_a.pk}/en</tr></template>'
    }
    assert {f["html"] for f in received["hq_en"]} == {'<template><tr id="order-41">manager/all/en</tr></template>'}

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
    marker = lambda event, audience, user: seen.append(audience) or "<p id='x'></p>"  # noqa: E731
    with renderers.isolated(**{"inspection.started": marker}):
        clients = [await open_live(first), await open_live(second)]
        for client in clients:
            await client.subscribe("inspections.board")
        await publish_now("inspection.started", branch_id=a.pk, data={"inspection": 1}, users=(first.pk, second.pk))
        for client in clients:
            assert (await client.receive())["html"] == "<template><p id='x'></p></template>"
        assert sorted(audience.scope for audience in seen) == sorted([f"u{first.pk}", f"u{second.pk}"])
        for client in clients:
            await client.close()


@pytest.mark.asyncio
async def test_a_renderer_that_fails_leaves_the_json_hint(caplog):
    branch_a, crowd = await make_crowd()

    def broken(event, audience, user):
        raise RuntimeError("template missing")

    with renderers.isolated(**{"order.created": broken}):
        client = await open_live(crowd["dispatchers_ar"][0])
        await client.subscribe("orders.board")
        await publish_now("order.created", branch_id=branch_a.pk, data={"order": 7})
        frame = await client.receive()
        assert frame["type"] == "order.created" and "html" not in frame
        assert any("template missing" in (r.exc_text or str(r.exc_info)) for r in caplog.records if r.exc_info)
        await client.close()


@pytest.mark.asyncio
async def test_a_renderer_may_decline():
    branch_a, crowd = await make_crowd()
    with renderers.isolated(**{"order.created": lambda event, audience, user: None}):
        client = await open_live(crowd["hq_en"][0])
        await client.subscribe("orders.board")
        await publish_now("order.created", branch_id=branch_a.pk, data={"order": 8})
        assert "html" not in await client.receive()
        await client.close()


@pytest.mark.django_db(transaction=False)
def test_every_page_registers_its_own_fragment_and_the_frame_carries_them_all():
    board = lambda e, a, u: f'<div id="card-{e.data["order"]}"></div>'  # noqa: E731
    row = lambda e, a, u: f'<tr id="row-{e.data["order"]}"></tr>'  # noqa: E731

    def broken(e, a, u):
        raise RuntimeError("one page's template is broken")

    with renderers.isolated():
        renderers.register("stock.low", board)
        renderers.register("stock.low", board)  # registering the same one again is harmless
        renderers.register("stock.low", broken)
        renderers.register("stock.low", row)
        combined = renderers.renderer_for("stock.low")
        assert combined(type("E", (), {"data": {"order": 3}, "id": 1, "type": "stock.low"})(), None, None) == (
            '<template><div id="card-3"></div></template><template><tr id="row-3"></tr></template>'
        )
        renderers.unregister("stock.low", row)
        assert renderers.renderers_for("stock.low") == [board, broken]
        renderers.unregister("stock.low")
        assert renderers.renderer_for("stock.low") is None
    with pytest.raises(ValueError, match="Unknown event type"):
        renderers.register("stock.exploded", lambda e, a, u: None)
