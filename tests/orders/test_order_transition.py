"""order_transition: the status machine, its history, and shipping that issues stock."""

from __future__ import annotations

import itertools
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from crm_core.accounts.models import ActivityLog, Role
from crm_core.common.exceptions import StaleVersionError
from crm_core.inventory.models import MovementKind, StockLevel, StockMovement
from crm_core.orders.models import Order, OrderStatus, OrderStatusChange
from crm_core.orders.services import ItemInput, order_transition
from tests.factories import ProductFactory, WarehouseFactory, stock
from tests.orders.helpers import event_types

S = OrderStatus
# Written out by hand (not imported from the model) so a wrong transition table fails here.
ALLOWED = {
    (S.NEW, S.CONFIRMED),
    (S.CONFIRMED, S.IN_PROGRESS),
    (S.IN_PROGRESS, S.READY),
    (S.READY, S.SHIPPED),
    (S.SHIPPED, S.DELIVERED),
    (S.NEW, S.CANCELLED),
    (S.CONFIRMED, S.CANCELLED),
    (S.IN_PROGRESS, S.CANCELLED),
    (S.READY, S.CANCELLED),
}
PATH = {
    S.NEW: (),
    S.CONFIRMED: (S.CONFIRMED,),
    S.IN_PROGRESS: (S.CONFIRMED, S.IN_PROGRESS),
    S.READY: (S.CONFIRMED, S.IN_PROGRESS, S.READY),
    S.SHIPPED: (S.CONFIRMED, S.IN_PROGRESS, S.READY, S.SHIPPED),
    S.DELIVERED: (S.CONFIRMED, S.IN_PROGRESS, S.READY, S.SHIPPED, S.DELIVERED),
    S.CANCELLED: (S.CANCELLED,),
}


def _reach(order: Order, actor, status: str) -> Order:
    for step in PATH[status]:
        order = order_transition(actor=actor, order=order, to_status=step)
    return order


def _levels(*products, warehouse) -> list[Decimal]:
    return [StockLevel.objects.get(product=p, warehouse=warehouse).quantity for p in products]


@pytest.fixture
def order(make_order, products) -> Order:
    tile, glue, _ = products
    return make_order(
        [ItemInput(product_id=tile.pk, quantity=Decimal("2")), ItemInput(product_id=glue.pk, quantity=Decimal("3.5"))]
    )


def test_the_whole_life_of_an_order(world, order, sales, personas, published, django_capture_on_commit_callbacks):
    keeper = personas.colleague
    steps = [
        (S.CONFIRMED, sales, "العميل أكد بالهاتف"),
        (S.IN_PROGRESS, keeper, ""),
        (S.READY, keeper, "جاهز للتحميل"),
        (S.SHIPPED, keeper, "السائق: كريم"),
        (S.DELIVERED, sales, ""),
    ]
    for to_status, actor, note in steps:
        with django_capture_on_commit_callbacks(execute=True):
            order = order_transition(actor=actor, order=order, to_status=to_status, note=note)
        assert order.status == to_status
    order.refresh_from_db()
    assert order.status == S.DELIVERED
    assert order.version == 6
    history = list(
        OrderStatusChange.objects.filter(order=order).values_list("from_status", "to_status", "changed_by", "note")
    )
    assert history == [
        ("", S.NEW, sales.pk, ""),
        (S.NEW, S.CONFIRMED, sales.pk, "العميل أكد بالهاتف"),
        (S.CONFIRMED, S.IN_PROGRESS, keeper.pk, ""),
        (S.IN_PROGRESS, S.READY, keeper.pk, "جاهز للتحميل"),
        (S.READY, S.SHIPPED, keeper.pk, "السائق: كريم"),
        (S.SHIPPED, S.DELIVERED, sales.pk, ""),
    ]
    assert order.status_changed_at == OrderStatusChange.objects.filter(order=order).last().changed_at
    assert ActivityLog.objects.filter(action="order.transition", target_id=str(order.pk)).count() == 5
    status_events = [event for event_type, _g, event in published if event_type == "order.status_changed"]
    assert [(e.data["from_status"], e.data["status"]) for e in status_events] == [
        (S.NEW, S.CONFIRMED),
        (S.CONFIRMED, S.IN_PROGRESS),
        (S.IN_PROGRESS, S.READY),
        (S.READY, S.SHIPPED),
        (S.SHIPPED, S.DELIVERED),
    ]
    assert set(published[0][1]) == {f"b{world.branch_a.pk}.orders", "all.orders"}


@pytest.mark.parametrize(("from_status", "to_status"), list(itertools.product(S.values, S.values)))
def test_every_status_pair(
    order, sales, products, from_status, to_status, published, assert_refused, django_capture_on_commit_callbacks
):
    order = _reach(order, sales, from_status)
    history_before = list(OrderStatusChange.objects.filter(order=order).values_list("pk", flat=True))
    movements_before = StockMovement.objects.count()
    if (from_status, to_status) in ALLOWED:
        published.clear()
        with django_capture_on_commit_callbacks(execute=True):
            order_transition(actor=sales, order=order, to_status=to_status, note="ok", expected_version=order.version)
        order.refresh_from_db()
        assert order.status == to_status
        last = OrderStatusChange.objects.filter(order=order).last()
        assert (last.from_status, last.to_status, last.changed_by, last.note) == (from_status, to_status, sales, "ok")
        assert OrderStatusChange.objects.filter(order=order).count() == len(history_before) + 1
        assert event_types(published)[-1] == "order.status_changed"
        # Only shipping moves stock: two lines, two issues.
        assert StockMovement.objects.count() == movements_before + (2 if to_status == S.SHIPPED else 0)
    else:
        with assert_refused(ValidationError) as info:
            order_transition(actor=sales, order=order, to_status=to_status)
        assert "to_status" in info.value.message_dict
        order.refresh_from_db()
        assert order.status == from_status
        assert list(OrderStatusChange.objects.filter(order=order).values_list("pk", flat=True)) == history_before


def test_an_unknown_status_is_refused(order, sales, assert_refused):
    with assert_refused(ValidationError) as info:
        order_transition(actor=sales, order=order, to_status="lost")
    assert "to_status" in info.value.message_dict


def test_shipping_issues_the_stock_from_the_orders_warehouse(
    world, order, sales, products, published, django_capture_on_commit_callbacks
):
    tile, glue, grout = products
    order = _reach(order, sales, S.READY)
    published.clear()
    with django_capture_on_commit_callbacks(execute=True):
        order_transition(actor=sales, order=order, to_status=S.SHIPPED)

    assert _levels(tile, glue, grout, warehouse=world.warehouse_a) == [Decimal("98"), Decimal("96.5"), Decimal("100")]
    issued = StockMovement.objects.filter(order=order).order_by("product_id")
    assert [
        (m.product_id, m.warehouse_id, m.kind, m.quantity, m.balance_after, m.reference, m.actor_id) for m in issued
    ] == [
        (tile.pk, world.warehouse_a.pk, MovementKind.ISSUE, Decimal("-2"), Decimal("98"), order.number, sales.pk),
        (glue.pk, world.warehouse_a.pk, MovementKind.ISSUE, Decimal("-3.5"), Decimal("96.5"), order.number, sales.pk),
    ]
    assert event_types(published) == ["stock.changed", "stock.changed", "order.status_changed"]
    stock_groups = published[0][1]
    assert set(stock_groups) == {f"b{world.branch_a.pk}.inventory", "all.inventory"}
    assert {e.data["product"]: e.data["quantity"] for t, _g, e in published if t == "stock.changed"} == {
        tile.pk: "98.000",
        glue.pk: "96.500",
    }

    # Delivering afterwards moves nothing more.
    order_transition(actor=sales, order=order, to_status=S.DELIVERED)
    assert StockMovement.objects.filter(order=order).count() == 2
    assert _levels(tile, glue, warehouse=world.warehouse_a) == [Decimal("98"), Decimal("96.5")]


def test_shipping_uses_the_warehouse_chosen_on_the_order(world, make_order, sales, products):
    tile = products[0]
    second = WarehouseFactory(code="CAI-W2", branch=world.branch_a, is_default=False)
    stock(tile, second, 5)
    order = _reach(make_order([ItemInput(product_id=tile.pk, quantity=Decimal("5"))], warehouse=second), sales, S.READY)
    order_transition(actor=sales, order=order, to_status=S.SHIPPED)
    assert _levels(tile, warehouse=second) == [Decimal("0")]
    assert _levels(tile, warehouse=world.warehouse_a) == [Decimal("100")]


def test_shipping_with_one_item_short_refuses_and_names_it(world, make_order, sales, products, assert_refused):
    tile, glue, _ = products
    order = make_order(
        [ItemInput(product_id=tile.pk, quantity=Decimal("2")), ItemInput(product_id=glue.pk, quantity=Decimal("100.5"))]
    )
    order = _reach(order, sales, S.READY)
    with assert_refused(ValidationError) as info:
        order_transition(actor=sales, order=order, to_status=S.SHIPPED)
    message = " ".join(info.value.messages)
    assert glue.name in message
    assert "(100/100.5)" in message  # what is there / what is needed, as people write numbers
    assert tile.name not in message
    order.refresh_from_db()
    assert order.status == S.READY
    assert not StockMovement.objects.filter(order=order).exists()
    assert _levels(tile, glue, warehouse=world.warehouse_a) == [Decimal("100"), Decimal("100")]


def test_shipping_a_product_never_stocked_refuses(world, make_order, sales, assert_refused):
    fresh = ProductFactory(name="منتج جديد")
    order = _reach(make_order([ItemInput(product_id=fresh.pk, quantity=Decimal("1"))]), sales, S.READY)
    with assert_refused(ValidationError) as info:
        order_transition(actor=sales, order=order, to_status=S.SHIPPED)
    assert "منتج جديد" in " ".join(info.value.messages)
    # The refused attempt leaves no empty stock level behind either (assert_refused compares rows).
    assert not StockLevel.objects.filter(product=fresh).exists()


def test_cancelling_moves_no_stock(world, order, sales, products):
    order = _reach(order, sales, S.READY)
    order_transition(actor=sales, order=order, to_status=S.CANCELLED, note="العميل ألغى")
    assert not StockMovement.objects.filter(order=order).exists()
    assert _levels(products[0], warehouse=world.warehouse_a) == [Decimal("100")]


def test_a_stale_version_is_refused(order, sales, assert_refused):
    order_transition(actor=sales, order=order, to_status=S.CONFIRMED)
    with assert_refused(StaleVersionError):
        order_transition(actor=sales, order=order, to_status=S.CANCELLED, expected_version=1)


def test_an_inspector_cannot_move_orders(world, order, assert_refused):
    with assert_refused(PermissionDenied):
        order_transition(actor=world.user(Role.INSPECTOR), order=order, to_status=S.CONFIRMED)


def test_another_branch_cannot_move_the_order(order, personas, assert_refused):
    with assert_refused(Order.DoesNotExist):
        order_transition(actor=personas.outsider, order=order, to_status=S.CONFIRMED)
