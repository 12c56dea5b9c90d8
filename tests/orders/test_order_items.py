"""order_item_add / _update / _remove and order_update: totals recomputed, version bumped,
refused once the order is being prepared, and stale versions refused."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from crm_core.accounts.models import ActivityLog, Role
from crm_core.common.exceptions import StaleVersionError
from crm_core.orders.models import Order, OrderItem, OrderStatus
from crm_core.orders.services import (
    ItemInput,
    order_item_add,
    order_item_remove,
    order_item_update,
    order_transition,
    order_update,
    payment_record,
)
from tests.factories import WarehouseFactory
from tests.orders.helpers import event_types


@pytest.fixture
def order(make_order, customer, products) -> Order:
    """2 × tile for the 10 % category customer: 180.00 + 14 % = 205.20."""
    return make_order(customer=customer)


def _totals(order: Order) -> tuple[Decimal, Decimal, Decimal, Decimal]:
    order.refresh_from_db()
    return order.subtotal, order.tax_amount, order.total, order.balance


def _lines(order: Order) -> dict[int, tuple[Decimal, Decimal, Decimal]]:
    return {
        item.product_id: (item.quantity, item.unit_price, item.line_total)
        for item in OrderItem.objects.filter(order=order)
    }


def _advance(order: Order, actor, *statuses: str) -> Order:
    for status in statuses:
        order = order_transition(actor=actor, order=order, to_status=status)
    return order


def test_adding_a_product_adds_a_line_and_recomputes(
    order, sales, products, published, django_capture_on_commit_callbacks
):
    tile, glue, _ = products
    assert _totals(order) == (Decimal("180.00"), Decimal("25.20"), Decimal("205.20"), Decimal("205.20"))
    with django_capture_on_commit_callbacks(execute=True):
        item = order_item_add(
            actor=sales, order=order, item=ItemInput(product_id=glue.pk, quantity=Decimal("2")), expected_version=1
        )
    # 2 × 25.50 less the category's 10 % = 45.90; subtotal 225.90, tax 31.626 → 31.63
    assert item.line_total == Decimal("45.90")
    assert _lines(order) == {
        tile.pk: (Decimal("2"), Decimal("100.00"), Decimal("180.00")),
        glue.pk: (Decimal("2"), Decimal("25.50"), Decimal("45.90")),
    }
    assert _totals(order) == (Decimal("225.90"), Decimal("31.63"), Decimal("257.53"), Decimal("257.53"))
    assert order.version == 2
    assert ActivityLog.objects.filter(action="order.item_add", target_id=str(order.pk)).count() == 1
    assert event_types(published) == ["order.updated"]
    assert published[0][2].data["total"] == "257.53"


def test_adding_a_product_already_on_the_order_grows_its_line(order, sales, products):
    tile = products[0]
    item = order_item_add(actor=sales, order=order, item=ItemInput(product_id=tile.pk, quantity=Decimal("1.5")))
    assert OrderItem.objects.filter(order=order).count() == 1
    # 3.5 × 100.00 less 10 % = 315.00; + 14 % = 359.10
    assert (item.quantity, item.line_total) == (Decimal("3.5"), Decimal("315.00"))
    assert _totals(order) == (Decimal("315.00"), Decimal("44.10"), Decimal("359.10"), Decimal("359.10"))
    assert order.version == 2


def test_items_can_still_change_on_a_confirmed_order(order, sales, products):
    order = _advance(order, sales, OrderStatus.CONFIRMED)
    order_item_add(actor=sales, order=order, item=ItemInput(product_id=products[1].pk, quantity=Decimal("1")))
    assert OrderItem.objects.filter(order=order).count() == 2


def test_updating_a_line_recomputes(order, sales, published, django_capture_on_commit_callbacks):
    item = order.items.get()
    with django_capture_on_commit_callbacks(execute=True):
        updated = order_item_update(
            actor=sales, item=item, quantity=Decimal("2.5"), unit_price=Decimal("90"), expected_version=1
        )
    # 2.5 × 90.00 less the line's 10 % = 202.50; + 14 % = 230.85
    assert (updated.quantity, updated.unit_price, updated.discount_percent, updated.line_total) == (
        Decimal("2.5"),
        Decimal("90.00"),
        Decimal("10.00"),
        Decimal("202.50"),
    )
    assert _totals(order) == (Decimal("202.50"), Decimal("28.35"), Decimal("230.85"), Decimal("230.85"))
    assert order.version == 2
    assert event_types(published) == ["order.updated"]


def test_updating_the_discount_of_a_line(order, sales):
    updated = order_item_update(actor=sales, item=order.items.get(), discount_percent=Decimal("0"))
    assert updated.line_total == Decimal("200.00")
    assert _totals(order)[2] == Decimal("228.00")


def test_removing_a_line_recomputes(order, sales, products, published, django_capture_on_commit_callbacks):
    glue_line = order_item_add(actor=sales, order=order, item=ItemInput(product_id=products[1].pk, quantity=2))
    published.clear()
    with django_capture_on_commit_callbacks(execute=True):
        order_item_remove(actor=sales, item=glue_line, expected_version=2)
    assert list(OrderItem.objects.filter(order=order).values_list("product_id", flat=True)) == [products[0].pk]
    assert _totals(order) == (Decimal("180.00"), Decimal("25.20"), Decimal("205.20"), Decimal("205.20"))
    assert order.version == 3
    assert event_types(published) == ["order.updated"]
    assert ActivityLog.objects.filter(action="order.item_remove").count() == 1


def test_the_last_line_cannot_be_removed(order, sales, assert_refused):
    with assert_refused(ValidationError):
        order_item_remove(actor=sales, item=order.items.get())


@pytest.mark.parametrize(
    "status_path", [("confirmed", "in_progress"), ("cancelled",)], ids=["in_progress", "cancelled"]
)
def test_items_are_frozen_once_the_order_is_past_confirmed(order, sales, products, status_path, assert_refused):
    order = _advance(order, sales, *status_path)
    glue, tile_line = products[1], order.items.get()
    with assert_refused(ValidationError):
        order_item_add(actor=sales, order=order, item=ItemInput(product_id=glue.pk, quantity=Decimal("1")))
    with assert_refused(ValidationError):
        order_item_update(actor=sales, item=tile_line, quantity=Decimal("5"))
    with assert_refused(ValidationError):
        order_item_remove(actor=sales, item=tile_line)


def test_a_stale_version_is_refused_and_names_who_changed_it(world, order, sales, products, assert_refused):
    colleague = world.user(Role.SALES, first_name="سارة", last_name="حسن")
    order_item_add(actor=colleague, order=order, item=ItemInput(product_id=products[1].pk, quantity=Decimal("1")))
    tile_line = OrderItem.objects.get(order=order, product=products[0])
    with assert_refused(StaleVersionError) as info:
        order_item_update(actor=sales, item=tile_line, quantity=Decimal("9"), expected_version=1)
    assert (info.value.expected, info.value.current) == (1, 2)
    assert info.value.changed_by == "سارة حسن"
    assert "سارة حسن" in info.value.message
    with assert_refused(StaleVersionError):
        order_item_add(
            actor=sales, order=order, item=ItemInput(product_id=products[2].pk, quantity=1), expected_version=1
        )
    with assert_refused(StaleVersionError):
        order_item_remove(actor=sales, item=tile_line, expected_version=1)
    with assert_refused(StaleVersionError):
        order_update(actor=sales, order=order, expected_version=1, notes="x")


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"quantity": Decimal("0")}, "quantity"),
        ({"quantity": Decimal("-2")}, "quantity"),
        ({"quantity": Decimal("1.2345")}, "quantity"),
        ({"unit_price": Decimal("-1")}, "unit_price"),
        ({"discount_percent": Decimal("100.01")}, "discount_percent"),
    ],
)
def test_bad_line_changes_are_refused(order, sales, change, field, assert_refused):
    with assert_refused(ValidationError) as info:
        order_item_update(actor=sales, item=order.items.get(), **change)
    assert field in info.value.message_dict


def test_adding_a_bad_quantity_is_refused(order, sales, products, assert_refused):
    with assert_refused(ValidationError) as info:
        order_item_add(actor=sales, order=order, item=ItemInput(product_id=products[0].pk, quantity=Decimal("0")))
    assert "quantity" in info.value.message_dict


def test_a_change_that_drops_the_total_below_what_was_paid_is_refused(make_order, sales, assert_refused):
    order = make_order()  # 2 × 100.00 + 14 % = 228.00
    payment_record(actor=sales, order=order, amount=Decimal("200"))
    with assert_refused(ValidationError):
        # 1 × 100.00 + 14 % = 114.00, below the 200.00 already paid
        order_item_update(actor=sales, item=order.items.get(), quantity=Decimal("1"))


def test_another_branch_cannot_touch_the_items(order, personas, products, assert_refused):
    with assert_refused(Order.DoesNotExist):
        order_item_add(
            actor=personas.outsider, order=order, item=ItemInput(product_id=products[1].pk, quantity=Decimal("1"))
        )
    with assert_refused(Order.DoesNotExist):
        order_item_update(actor=personas.outsider, item=order.items.get(), quantity=Decimal("1"))


def test_a_storekeeper_cannot_change_items(order, personas, assert_refused):
    with assert_refused(PermissionDenied):
        order_item_update(actor=personas.colleague, item=order.items.get(), quantity=Decimal("1"))


# --- order_update ----------------------------------------------------------------------------


def test_order_update_changes_discount_and_notes(order, sales, published, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        order_update(actor=sales, order=order, expected_version=1, discount_amount=Decimal("30"), notes=" عاجل ")
    order.refresh_from_db()
    # 180.00 - 30.00 = 150.00; + 14 % = 171.00
    assert (order.discount_amount, order.notes) == (Decimal("30.00"), "عاجل")
    assert _totals(order) == (Decimal("180.00"), Decimal("21.00"), Decimal("171.00"), Decimal("171.00"))
    assert order.version == 2
    log = ActivityLog.objects.get(action="order.update")
    assert log.changes["discount_amount"] == ["0.00", "30.00"]
    assert event_types(published) == ["order.updated"]
    assert set(published[0][2].data["fields"]) == {"discount_amount", "notes"}


def test_order_update_moves_the_warehouse_within_the_branch(world, order, sales):
    second = WarehouseFactory(code="CAI-W2", branch=world.branch_a, is_default=False)
    order_update(actor=sales, order=order, expected_version=None, warehouse=second)
    order.refresh_from_db()
    assert order.warehouse == second


def test_order_update_without_a_change_writes_nothing(order, sales, published, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        order_update(actor=sales, order=order, expected_version=1, notes=order.notes)
    order.refresh_from_db()
    assert order.version == 1
    assert callbacks == []
    assert not ActivityLog.objects.filter(action="order.update").exists()


@pytest.mark.parametrize(
    ("values", "field"),
    [
        ({"discount_amount": Decimal("180.01")}, "discount_amount"),
        ({"discount_amount": Decimal("-5")}, "discount_amount"),
        ({"discount_amount": "خصم"}, "discount_amount"),
    ],
)
def test_order_update_refuses_bad_values(order, sales, values, field, assert_refused):
    with assert_refused(ValidationError) as info:
        order_update(actor=sales, order=order, expected_version=1, **values)
    assert field in info.value.message_dict


def test_order_update_refuses_another_branchs_warehouse(world, order, sales, assert_refused):
    with assert_refused(ValidationError) as info:
        order_update(actor=sales, order=order, expected_version=1, warehouse=world.warehouse_b)
    assert "warehouse" in info.value.message_dict


def test_order_update_is_refused_once_in_progress(order, sales, assert_refused):
    order = _advance(order, sales, OrderStatus.CONFIRMED, OrderStatus.IN_PROGRESS)
    with assert_refused(ValidationError):
        order_update(actor=sales, order=order, expected_version=None, notes="late")
