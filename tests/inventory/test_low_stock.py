"""Low-stock alerts: one alert per crossing, for the right people, stored before it is pushed."""

from __future__ import annotations

from decimal import Decimal

import pytest

from crm_core.accounts.models import Notification, NotificationKind, Role, User
from crm_core.inventory.models import StockLevel
from crm_core.inventory.services import product_update, stock_adjust, stock_issue, stock_receive, stock_transfer
from crm_core.orders.models import OrderStatus
from crm_core.orders.services import ItemInput, order_create, order_transition
from tests.factories import CustomerFactory, ProductFactory, stock
from tests.inventory.helpers import event_types


@pytest.fixture
def staff(world, personas, manager) -> dict[str, User]:
    """Who works where: only A's active storekeepers and managers should hear of A's stock."""
    return {
        "keeper_a": personas.colleague,
        "keeper_a2": world.user(Role.STOREKEEPER),
        "manager_a": manager,
        "sales_a": personas.owner,
        "dispatcher_a": world.user(Role.DISPATCHER),
        "former_keeper_a": world.user(Role.STOREKEEPER, is_active=False),
        "keeper_b": world.user(Role.STOREKEEPER, branch=world.branch_b),
        "manager_b": world.user(Role.MANAGER, branch=world.branch_b),
    }


@pytest.fixture
def watched(world, staff) -> tuple:
    """A product with reorder level 10 and 15 in branch A's warehouse (not low)."""
    product = ProductFactory(sku="GLUE-25", name="لاصق 25 كجم", reorder_level=Decimal("10"))
    level = stock(product, world.warehouse_a, 15, actor=staff["keeper_a"])
    assert level.is_low is False
    return product, level


def _recipients(level: StockLevel) -> list[int]:
    return sorted(
        Notification.objects.filter(kind=NotificationKind.STOCK_LOW, target_id=level.pk).values_list(
            "recipient_id", flat=True
        )
    )


def _branch_a_alerted(staff) -> list[int]:
    return sorted(staff[name].pk for name in ("keeper_a", "keeper_a2", "manager_a"))


def test_falling_below_the_reorder_level_alerts_the_branchs_storekeepers_and_managers(
    world, staff, watched, published, django_capture_on_commit_callbacks
):
    product, level = watched
    published.clear()
    with django_capture_on_commit_callbacks(execute=True):
        stock_issue(actor=staff["keeper_a"], product=product, warehouse=world.warehouse_a, quantity=Decimal("6"))
    level.refresh_from_db()
    assert (level.quantity, level.is_low) == (Decimal("9"), True)
    assert _recipients(level) == _branch_a_alerted(staff)
    note = Notification.objects.get(recipient=staff["manager_a"])
    assert note.branch_id == world.branch_a.pk
    assert product.name in note.title and world.warehouse_a.name in note.title
    assert "9" in note.body and "10" in note.body
    assert note.is_read is False

    types = event_types(published)
    assert types.count("stock.low") == 1
    assert types.count("notification.created") == 3
    assert types[-1] == "stock.changed"
    low = next(e for t, _g, e in published if t == "stock.low")
    groups = next(g for t, g, _e in published if t == "stock.low")
    assert set(groups) == {f"b{world.branch_a.pk}.alerts", "all.alerts"}
    assert (low.data["product"], low.data["warehouse"], low.data["quantity"]) == (
        product.pk,
        world.warehouse_a.pk,
        "9.000",
    )
    personal = sorted(g[0] for t, g, _e in published if t == "notification.created")
    assert personal == sorted(f"u{pk}" for pk in _branch_a_alerted(staff))
    changed = next(e for t, _g, e in published if t == "stock.changed")
    assert changed.data["low"] is True


def test_staying_low_raises_no_second_alert(world, staff, watched, published, django_capture_on_commit_callbacks):
    product, level = watched
    stock_issue(actor=staff["keeper_a"], product=product, warehouse=world.warehouse_a, quantity=Decimal("6"))
    published.clear()
    with django_capture_on_commit_callbacks(execute=True):
        stock_issue(actor=staff["keeper_a"], product=product, warehouse=world.warehouse_a, quantity=Decimal("2"))
        stock_adjust(
            actor=staff["keeper_a"], product=product, warehouse=world.warehouse_a, counted_quantity=5, reason="تالف"
        )
    assert Notification.objects.count() == 3
    assert event_types(published) == ["stock.changed", "stock.changed"]
    level.refresh_from_db()
    assert (level.quantity, level.is_low) == (Decimal("5"), True)


def test_receiving_back_to_the_level_clears_the_alert_and_a_new_crossing_alerts_again(
    world, staff, watched, published, django_capture_on_commit_callbacks
):
    product, level = watched
    stock_issue(actor=staff["keeper_a"], product=product, warehouse=world.warehouse_a, quantity=Decimal("6"))
    published.clear()
    with django_capture_on_commit_callbacks(execute=True):
        stock_receive(actor=staff["keeper_a"], product=product, warehouse=world.warehouse_a, quantity=Decimal("1"))
    level.refresh_from_db()
    assert (level.quantity, level.is_low) == (Decimal("10"), False)  # at the level is no longer low
    assert event_types(published) == ["stock.restored", "stock.changed"]
    restored_groups = published[0][1]
    assert set(restored_groups) == {f"b{world.branch_a.pk}.alerts", "all.alerts"}
    assert Notification.objects.count() == 3  # clearing notifies nobody

    stock_issue(actor=staff["keeper_a"], product=product, warehouse=world.warehouse_a, quantity=Decimal("0.001"))
    level.refresh_from_db()
    assert level.is_low is True
    assert Notification.objects.count() == 6
    assert _recipients(level) == sorted(_branch_a_alerted(staff) * 2)


def test_an_hq_manager_hears_of_every_branch(world, staff, watched):
    hq = world.user(Role.MANAGER, branch=None, all_branches=True)
    product, level = watched
    stock_issue(actor=staff["keeper_a"], product=product, warehouse=world.warehouse_a, quantity=Decimal("6"))
    assert hq.pk in _recipients(level)


def test_branch_b_alerts_go_to_branch_b(world, staff):
    product = ProductFactory(reorder_level=Decimal("3"))
    stock(product, world.warehouse_b, 3, actor=staff["keeper_b"])
    stock_issue(actor=staff["keeper_b"], product=product, warehouse=world.warehouse_b, quantity=1)
    level = StockLevel.objects.get(product=product, warehouse=world.warehouse_b)
    assert _recipients(level) == sorted([staff["keeper_b"].pk, staff["manager_b"].pk])


def test_a_transfer_alerts_for_the_source_only(world, staff, watched, second_warehouse):
    product, level = watched
    stock_transfer(
        actor=staff["keeper_a"],
        product=product,
        from_warehouse=world.warehouse_a,
        to_warehouse=second_warehouse,
        quantity=Decimal("12"),
    )
    # Source drops to 3 (low); the destination gets 12 (not low).
    target = StockLevel.objects.get(product=product, warehouse=second_warehouse)
    level.refresh_from_db()
    assert (level.is_low, target.is_low) == (True, False)
    assert _recipients(level) == _branch_a_alerted(staff)
    assert _recipients(target) == []


def test_raising_the_reorder_level_re_evaluates_every_warehouse(
    world, staff, watched, published, django_capture_on_commit_callbacks
):
    product, level_a = watched  # 15 in A
    level_b = stock(product, world.warehouse_b, 30, actor=staff["keeper_b"])
    published.clear()
    with django_capture_on_commit_callbacks(execute=True):
        product_update(
            actor=staff["keeper_a"], product=product, expected_version=product.version, reorder_level=Decimal("20")
        )
    level_a.refresh_from_db()
    level_b.refresh_from_db()
    assert (level_a.is_low, level_b.is_low) == (True, False)
    assert _recipients(level_a) == _branch_a_alerted(staff)
    assert _recipients(level_b) == []
    assert event_types(published).count("stock.low") == 1

    published.clear()
    product.refresh_from_db()
    with django_capture_on_commit_callbacks(execute=True):
        product_update(actor=staff["keeper_a"], product=product, expected_version=product.version, reorder_level=40)
    level_a.refresh_from_db()
    level_b.refresh_from_db()
    assert (level_a.is_low, level_b.is_low) == (True, True)
    assert _recipients(level_a) == _branch_a_alerted(staff)  # still low: nothing new for A
    assert _recipients(level_b) == sorted([staff["keeper_b"].pk, staff["manager_b"].pk])
    low_events = [(e.branch, g) for t, g, e in published if t == "stock.low"]
    assert low_events == [(world.branch_b.pk, ["all.alerts", f"b{world.branch_b.pk}.alerts"])]

    published.clear()
    product.refresh_from_db()
    with django_capture_on_commit_callbacks(execute=True):
        product_update(actor=staff["keeper_a"], product=product, expected_version=product.version, reorder_level=0)
    level_a.refresh_from_db()
    level_b.refresh_from_db()
    assert (level_a.is_low, level_b.is_low) == (False, False)
    assert event_types(published) == ["stock.restored", "stock.restored"]


def test_a_product_update_without_reorder_change_leaves_alerts_alone(world, staff, watched):
    product, level = watched
    stock_issue(actor=staff["keeper_a"], product=product, warehouse=world.warehouse_a, quantity=Decimal("6"))
    product.refresh_from_db()
    product_update(actor=staff["keeper_a"], product=product, expected_version=product.version, name="لاصق ممتاز")
    level.refresh_from_db()
    assert level.is_low is True
    assert Notification.objects.count() == 3


def test_shipping_an_order_alerts_once_per_product_that_crosses(
    world, staff, published, django_capture_on_commit_callbacks
):
    """The order path issues all lines in bulk; each crossing still raises its own alert."""
    glue = ProductFactory(name="لاصق", reorder_level=Decimal("10"))
    tile = ProductFactory(name="بلاط", reorder_level=Decimal("10"))
    grout = ProductFactory(name="روبة", reorder_level=Decimal("1"))
    for product in (glue, tile, grout):
        stock(product, world.warehouse_a, 12, actor=staff["keeper_a"])
    sales = staff["sales_a"]
    order = order_create(
        actor=sales,
        customer=CustomerFactory(branch=world.branch_a),
        items=[ItemInput(product_id=p.pk, quantity=Decimal("5")) for p in (glue, tile, grout)],
    )
    for status in (OrderStatus.CONFIRMED, OrderStatus.IN_PROGRESS, OrderStatus.READY):
        order = order_transition(actor=sales, order=order, to_status=status)
    published.clear()
    with django_capture_on_commit_callbacks(execute=True):
        order_transition(actor=sales, order=order, to_status=OrderStatus.SHIPPED)
    levels = {lv.product_id: lv for lv in StockLevel.objects.filter(warehouse=world.warehouse_a)}
    assert {pid: (lv.quantity, lv.is_low) for pid, lv in levels.items()} == {
        glue.pk: (Decimal("7"), True),
        tile.pk: (Decimal("7"), True),
        grout.pk: (Decimal("7"), False),
    }
    assert _recipients(levels[glue.pk]) == _branch_a_alerted(staff)
    assert _recipients(levels[tile.pk]) == _branch_a_alerted(staff)
    assert _recipients(levels[grout.pk]) == []
    assert sorted(e.data["product"] for t, _g, e in published if t == "stock.low") == sorted([glue.pk, tile.pk])
    assert {e.data["product"]: e.data["low"] for t, _g, e in published if t == "stock.changed"} == {
        glue.pk: True,
        tile.pk: True,
        grout.pk: False,
    }


def test_each_person_reads_the_alert_in_their_own_language(world, staff, watched, django_capture_on_commit_callbacks):
    """The storekeeper works in Arabic; a manager who chose English gets the alert in English."""
    product, _level = watched
    staff["manager_a"].language = "en"
    staff["manager_a"].save(update_fields=["language"])
    staff["keeper_a"].language = "ar"
    staff["keeper_a"].save(update_fields=["language"])

    with django_capture_on_commit_callbacks(execute=True):
        stock_issue(actor=staff["keeper_a"], product=product, warehouse=world.warehouse_a, quantity=Decimal("6"))

    english = Notification.objects.get(recipient=staff["manager_a"])
    arabic = Notification.objects.get(recipient=staff["keeper_a"])
    assert english.title == f"Low stock: {product.name} in {world.warehouse_a.name}"
    assert english.body == "9 left, reorder level 10."
    assert arabic.title.startswith("مخزون منخفض") and product.name in arabic.title
    assert "9" in arabic.body and "10" in arabic.body
