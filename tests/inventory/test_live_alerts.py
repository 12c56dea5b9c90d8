"""Stock fragments on the browser stream: alert rows for the roles that follow alerts, in their
scope only; stock rows for the stock board; rendered from the level as it is now."""

from __future__ import annotations

import re
from decimal import Decimal

import pytest
from channels.db import database_sync_to_async
from django.utils import translation

from crm_core.accounts.models import Role
from crm_core.inventory import live
from crm_core.inventory.services import product_update, stock_issue, stock_receive
from realtime import renderers
from realtime.audiences import audience_key
from realtime.events import make_event
from tests.consumers.conftest import fresh_layer  # noqa: F401 - a channel layer of its own per test
from tests.consumers.helpers import open_live
from tests.factories import BranchFactory, ProductFactory, UserFactory, WarehouseFactory, stock

IDS = re.compile(r'<(\w+) id="([\w-]+)"')


def ids(html: str | None) -> list[str]:
    """The ids of the fragment's top-level elements, in order (what live.js swaps)."""
    return [element_id for _tag, element_id in IDS.findall(html or "")]


def audience(user, language: str = "en") -> renderers.Audience:
    role, scope = audience_key(user)
    return renderers.Audience(role=role, scope=scope, language=language)


def render(event, user, language: str = "en") -> str | None:
    with translation.override(language):
        return renderers.renderer_for(event.type)(event, audience(user, language), user)


@pytest.fixture
def glue(world):
    """A product with reorder level 10 and 15 of it in branch A's warehouse (not low yet)."""
    product = ProductFactory(sku="GLUE-25", name="لاصق 25 كجم", reorder_level=Decimal("10"))
    level = stock(product, world.warehouse_a, 15)
    return product, level


# --- The renderers, called as the stream calls them -------------------------------------------------


def test_a_low_level_renders_its_rows_for_the_people_who_follow_alerts(world, glue, manager):
    product, level = glue
    stock_issue(actor=manager, product=product, warehouse=world.warehouse_a, quantity=Decimal("6"))
    event = make_event("stock.low", branch_id=world.branch_a.pk, data={"level": level.pk})
    html = render(event, manager)
    assert ids(html) == [
        f"stock-alert-{level.pk}",
        f"panel-alert-{level.pk}",
        "stock-alerts-summary",
        "stock-alerts-panel-count",
    ]
    assert 'data-live-into="stock-alert-rows"' in html and 'data-live-into="stock-alerts-panel-rows"' in html
    assert f'data-sort-key="{product.name}|{world.warehouse_a.name}|{level.pk:012d}"' in html
    assert 'data-testid="alert-quantity">9<' in html and 'data-testid="alert-shortfall">1<' in html
    assert "1 item is below its reorder level." in html
    assert 'data-testid="stock-alerts-count">1<' in html


def test_a_restored_level_leaves_both_lists(world, glue, manager):
    product, level = glue
    stock_issue(actor=manager, product=product, warehouse=world.warehouse_a, quantity=Decimal("6"))
    stock_receive(actor=manager, product=product, warehouse=world.warehouse_a, quantity=Decimal("1"))
    event = make_event("stock.restored", branch_id=world.branch_a.pk, data={"level": level.pk})
    html = render(event, manager)
    assert ids(html)[:2] == [f"stock-alert-{level.pk}", f"panel-alert-{level.pk}"]
    assert html.count("data-live-remove") == 2
    assert "Nothing is below its reorder level." in html


def test_an_event_that_arrives_late_renders_the_level_as_it_is_now(world, glue, manager):
    """stock.low arrives after the level was already restored: the row goes rather than comes."""
    product, level = glue
    stock_issue(actor=manager, product=product, warehouse=world.warehouse_a, quantity=Decimal("6"))
    low = make_event("stock.low", branch_id=world.branch_a.pk, data={"level": level.pk})
    stock_receive(actor=manager, product=product, warehouse=world.warehouse_a, quantity=Decimal("5"))
    assert "data-live-remove" in render(low, manager)


def test_a_storekeeper_of_branch_b_gets_no_fragment_of_branch_a(world, glue, manager):
    product, level = glue
    stock_issue(actor=manager, product=product, warehouse=world.warehouse_a, quantity=Decimal("6"))
    keeper_b = world.user(Role.STOREKEEPER, branch=world.branch_b)
    for kind in ("stock.low", "stock.restored", "stock.changed"):
        event = make_event(kind, branch_id=world.branch_a.pk, data={"level": level.pk})
        assert render(event, keeper_b) is None


def test_a_salesperson_gets_stock_rows_but_no_alert_fragments(world, glue, manager, personas):
    product, level = glue
    stock_issue(actor=manager, product=product, warehouse=world.warehouse_a, quantity=Decimal("6"))
    sales = personas.owner
    assert render(make_event("stock.low", branch_id=world.branch_a.pk, data={"level": level.pk}), sales) is None
    changed = render(make_event("stock.changed", branch_id=world.branch_a.pk, data={"level": level.pk}), sales)
    assert ids(changed) == [f"stock-level-{level.pk}", f"product-level-{level.pk}"]
    assert "alert" not in changed


def test_stock_changed_updates_the_rows_and_the_highlighting(world, glue, manager):
    product, level = glue
    event = make_event("stock.changed", branch_id=world.branch_a.pk, data={"level": level.pk})
    html = render(event, manager)
    # Not low: the rows without highlighting, and the alert rows told to go (they are not there).
    assert ids(html)[:2] == [f"stock-level-{level.pk}", f"product-level-{level.pk}"]
    assert "table-danger" not in html and "OK" in html
    stock_issue(actor=manager, product=product, warehouse=world.warehouse_a, quantity=Decimal("6"))
    html = render(event, manager)
    stock_row = re.search(rf'<tr id="stock-level-{level.pk}".*?</tr>', html, re.S).group(0)
    assert 'class="table-danger"' in stock_row and "Low stock" in stock_row
    assert re.search(r'<span class="fw-semibold">9</span>', stock_row)
    # The storekeeper's actions are there (role-wide), a manager's too.
    assert "/inventory/receive/?product=" in stock_row
    assert f"stock-alert-{level.pk}" in ids(html)


def test_rows_are_rendered_in_the_audiences_language(world, glue, manager):
    product, level = glue
    stock_issue(actor=manager, product=product, warehouse=world.warehouse_a, quantity=Decimal("6"))
    event = make_event("stock.low", branch_id=world.branch_a.pk, data={"level": level.pk})
    arabic = render(event, manager, "ar")
    assert "1 item is below its reorder level." not in arabic
    with translation.override("ar"):
        assert translation.gettext("Receive") in arabic


def test_an_hq_manager_sees_the_branch_of_the_alert(world, glue, manager):
    product, level = glue
    stock_issue(actor=manager, product=product, warehouse=world.warehouse_a, quantity=Decimal("6"))
    hq = world.user(Role.MANAGER, branch=None, all_branches=True)
    html = render(make_event("stock.low", branch_id=world.branch_a.pk, data={"level": level.pk}), hq)
    assert world.branch_a.name in re.search(r'<tr id="stock-alert-.*?</tr>', html, re.S).group(0)


def test_a_malformed_event_renders_nothing(world, manager):
    for data in ({}, {"level": "7"}, {"level": True}, {"level": 999999}):
        assert render(make_event("stock.low", branch_id=world.branch_a.pk, data=data), manager) is None


def test_every_stock_event_names_its_level(world, glue, manager, published, django_capture_on_commit_callbacks):
    product, level = glue
    published.clear()
    with django_capture_on_commit_callbacks(execute=True):
        stock_issue(actor=manager, product=product, warehouse=world.warehouse_a, quantity=Decimal("6"))
        product_update(actor=manager, product=product, expected_version=product.version, reorder_level=Decimal("5"))
    stock_events = [(kind, event) for kind, _groups, event in published if kind.startswith("stock.")]
    assert [kind for kind, _event in stock_events] == ["stock.low", "stock.changed", "stock.restored"]
    for _kind, event in stock_events:
        assert event.data["level"] == level.pk
    low = stock_events[0][1].data
    assert (low["product_name"], low["warehouse_name"], low["quantity"], low["reorder_level"]) == (
        product.name,
        world.warehouse_a.name,
        "9.000",
        "10.000",
    )


# --- Over the stream ---------------------------------------------------------------------------------


@database_sync_to_async
def _scene():
    a = BranchFactory(code="CAI", name="القاهرة")
    b = BranchFactory(code="ALX", name="الإسكندرية")
    warehouse_a = WarehouseFactory(code="CAI-W1", name="مخزن القاهرة", branch=a)
    WarehouseFactory(code="ALX-W1", name="مخزن الإسكندرية", branch=b)
    product = ProductFactory(sku="GLUE-25", name="لاصق 25 كجم", reorder_level=Decimal("10"))
    people = {
        "keeper_a": UserFactory(role=Role.STOREKEEPER, branch=a, language="ar"),
        "manager_a": UserFactory(role=Role.MANAGER, branch=a, language="en"),
        "keeper_b": UserFactory(role=Role.STOREKEEPER, branch=b),
        "sales_a": UserFactory(role=Role.SALES, branch=a),
    }
    level = stock(product, warehouse_a, 15, actor=people["keeper_a"])
    return people, product, warehouse_a, level


@database_sync_to_async
def _issue(actor, product, warehouse, quantity):
    stock_issue(actor=actor, product=product, warehouse=warehouse, quantity=Decimal(quantity))


@database_sync_to_async
def _receive(actor, product, warehouse, quantity):
    stock_receive(actor=actor, product=product, warehouse=warehouse, quantity=Decimal(quantity))


def _of(frames: list[dict], kind: str) -> dict:
    found = [frame for frame in frames if frame["type"] == kind]
    assert len(found) == 1, [frame["type"] for frame in frames]
    return found[0]


@pytest.mark.asyncio
@pytest.mark.django_db(transaction=True)
async def test_alerts_reach_the_branchs_alert_pages_and_no_one_else():
    people, product, warehouse_a, level = await _scene()
    clients = {name: await open_live(user) for name, user in people.items()}
    for name in ("keeper_a", "manager_a", "keeper_b"):
        assert (await clients[name].subscribe("stock.alerts"))["type"] == "subscribed"
    refused = await clients["sales_a"].subscribe("stock.alerts")
    assert (refused["type"], refused["code"]) == ("error", "topic_forbidden")
    assert (await clients["sales_a"].subscribe("stock.board"))["type"] == "subscribed"

    await _issue(people["manager_a"], product, warehouse_a, 6)

    lows = {}
    for name in ("keeper_a", "manager_a"):
        frames = [await clients[name].receive(), await clients[name].receive()]
        kinds = sorted(frame["type"] for frame in frames)
        # Both get the alert; the manager also the personal notification (the storekeeper too).
        assert "stock.low" in kinds and "notification.created" in kinds, kinds
        low = _of(frames, "stock.low")
        assert ids(low["html"])[:2] == [f"stock-alert-{level.pk}", f"panel-alert-{level.pk}"]
        note = _of(frames, "notification.created")
        assert note["data"]["kind"] == "stock_low" and product.name in note["data"]["title"]
        assert "html" not in note  # the count is per person: no broadcast fragment carries it
        lows[name] = low["html"]
    # Each in their own language: the storekeeper reads Arabic, the manager English.
    assert "Receive" in lows["manager_a"] and "Receive" not in lows["keeper_a"]
    assert await clients["keeper_b"].nothing()

    sales_frame = await clients["sales_a"].receive()
    assert sales_frame["type"] == "stock.changed"
    assert ids(sales_frame["html"]) == [f"stock-level-{level.pk}", f"product-level-{level.pk}"]
    assert await clients["sales_a"].nothing()

    # Back above the level: the rows go from every alert page of the branch.
    await _receive(people["keeper_a"], product, warehouse_a, 10)
    restored = await clients["manager_a"].receive()
    assert restored["type"] == "stock.restored"
    assert f'<tr id="stock-alert-{level.pk}" data-live-remove>' in restored["html"]
    assert await clients["keeper_b"].nothing()
    for client in clients.values():
        await client.close()


def test_the_renderers_are_registered():
    for kind in ("stock.low", "stock.restored"):
        assert live.alert_rows in renderers.renderers_for(kind)
    assert live.stock_rows in renderers.renderers_for("stock.changed")
