"""order_create: numbering, items and totals, history, audit and event; every refusal."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from crm_core.accounts.models import ActivityLog, Role
from crm_core.customers.models import Customer, CustomerStatus
from crm_core.orders.models import Order, OrderItem, OrderStatus, OrderStatusChange
from crm_core.orders.services import ItemInput, order_create
from tests.factories import CustomerFactory, ProductFactory, WarehouseFactory
from tests.orders.helpers import event_types


def _year() -> int:
    return timezone.localdate().year


def test_create_numbers_prices_and_totals_the_order(
    world, sales, customer, products, published, django_capture_on_commit_callbacks
):
    tile, glue, grout = products
    with django_capture_on_commit_callbacks(execute=True):
        order = order_create(
            actor=sales,
            customer=customer,
            items=[
                ItemInput(product_id=tile.pk, quantity=Decimal("3")),
                ItemInput(product_id=glue.pk, quantity=Decimal("2.5")),
                # A price agreed with the customer, and no category discount on this line.
                ItemInput(
                    product_id=grout.pk,
                    quantity=Decimal("1.25"),
                    unit_price=Decimal("18.00"),
                    discount_percent=Decimal("0"),
                ),
            ],
            discount_amount=Decimal("49.50"),
            notes="  تسليم صباحا  ",
        )

    order = Order.objects.get(pk=order.pk)
    assert order.number == f"CAI-{_year()}-000001"
    assert order.branch == world.branch_a
    assert order.warehouse == world.warehouse_a
    assert order.status == OrderStatus.NEW
    assert order.salesperson == sales
    assert order.created_by == sales
    assert order.notes == "تسليم صباحا"
    assert order.currency == "EGP"
    assert order.version == 1

    lines = {item.product_id: item for item in OrderItem.objects.filter(order=order)}
    assert len(lines) == 3
    # 3 × 100.00 less the customer's 10 % category discount
    assert (lines[tile.pk].unit_price, lines[tile.pk].discount_percent) == (Decimal("100.00"), Decimal("10.00"))
    assert lines[tile.pk].line_total == Decimal("270.00")
    # 2.5 × 25.50 = 63.75, less 10 % = 57.375 → 57.38 (half up)
    assert lines[glue.pk].line_total == Decimal("57.38")
    assert lines[glue.pk].description == "لاصق بلاط"
    # 1.25 × 18.00, no discount
    assert (lines[grout.pk].unit_price, lines[grout.pk].discount_percent) == (Decimal("18.00"), Decimal("0"))
    assert lines[grout.pk].line_total == Decimal("22.50")

    # subtotal 349.88; less 49.50 = 300.38; 14 % tax = 42.0532 → 42.05; total 342.43
    assert order.subtotal == Decimal("349.88")
    assert order.discount_amount == Decimal("49.50")
    assert order.tax_rate == Decimal("0.1400")
    assert order.tax_amount == Decimal("42.05")
    assert order.total == Decimal("342.43")
    assert order.amount_paid == Decimal("0")
    assert order.balance == Decimal("342.43")

    history = list(OrderStatusChange.objects.filter(order=order).values_list("from_status", "to_status", "changed_by"))
    assert history == [("", OrderStatus.NEW, sales.pk)]

    log = ActivityLog.objects.get(action="order.create")
    assert (log.actor, log.target_id, log.branch_id) == (sales, str(order.pk), world.branch_a.pk)
    assert log.changes["total"] == [None, "342.43"]

    assert event_types(published) == ["order.created"]
    _type, groups, event = published[0]
    assert set(groups) == {f"b{world.branch_a.pk}.orders", "all.orders"}
    assert event.branch == world.branch_a.pk
    assert event.data["order"] == order.pk
    assert event.data["number"] == order.number
    assert event.data["total"] == "342.43"


def test_numbers_run_on_per_branch(world, sales, make_order, products):
    first = make_order()
    second = make_order()
    outsider = world.user(Role.SALES, branch=world.branch_b)
    WarehouseFactory(code="ALX-W2", branch=world.branch_b, is_default=False)
    other = order_create(
        actor=outsider,
        customer=CustomerFactory(branch=world.branch_b),
        items=[ItemInput(product_id=products[0].pk, quantity=Decimal("1"))],
    )
    assert [first.number, second.number] == [f"CAI-{_year()}-000001", f"CAI-{_year()}-000002"]
    assert other.number == f"ALX-{_year()}-000001"
    assert other.warehouse == world.warehouse_b


def test_a_customer_without_category_pays_list_price(make_order, products):
    order = make_order()
    item = order.items.get()
    assert (item.unit_price, item.discount_percent, item.line_total) == (
        Decimal("100.00"),
        Decimal("0"),
        Decimal("200.00"),
    )
    # 200.00 + 14 % = 228.00
    assert (order.subtotal, order.tax_amount, order.total) == (Decimal("200.00"), Decimal("28.00"), Decimal("228.00"))


def test_an_inactive_category_gives_no_discount(make_order, customer, products):
    customer.category.is_active = False
    customer.category.save()
    order = make_order(customer=customer)
    assert order.items.get().line_total == Decimal("200.00")


def test_a_refused_create_does_not_use_up_a_number(make_order, products):
    with pytest.raises(ValidationError):
        make_order(discount_amount=Decimal("1000"))
    assert make_order().number.endswith("-000001")


def test_the_order_can_ship_from_another_warehouse_of_its_branch(world, make_order):
    second = WarehouseFactory(code="CAI-W2", branch=world.branch_a, is_default=False)
    assert make_order(warehouse=second).warehouse == second


# --- refusals --------------------------------------------------------------------------------


def _item(product, quantity="1", **kwargs) -> ItemInput:
    return ItemInput(product_id=product.pk, quantity=Decimal(quantity) if quantity is not None else None, **kwargs)


@pytest.mark.parametrize(
    ("items", "field"),
    [
        pytest.param(lambda p: [], "items", id="no-items"),
        pytest.param(lambda p: [_item(p[0]), _item(p[1]), _item(p[0], "2")], "items", id="duplicate-product"),
        pytest.param(lambda p: [_item(p[0], "0")], "quantity", id="zero-quantity"),
        pytest.param(lambda p: [_item(p[1]), _item(p[0], "-1")], "quantity", id="negative-quantity"),
        pytest.param(lambda p: [_item(p[0], "1.0005")], "quantity", id="four-decimals"),
        pytest.param(lambda p: [ItemInput(product_id=p[0].pk, quantity="كثير")], "quantity", id="not-a-number"),
        pytest.param(lambda p: [ItemInput(product_id=p[0].pk, quantity="NaN")], "quantity", id="nan"),
        pytest.param(lambda p: [_item(p[0], unit_price=Decimal("-0.01"))], "unit_price", id="negative-price"),
        pytest.param(lambda p: [_item(p[0], discount_percent=Decimal("101"))], "discount_percent", id="discount>100"),
        pytest.param(lambda p: [ItemInput(product_id=999_999, quantity=Decimal("1"))], "product", id="no-product"),
    ],
)
def test_bad_items_are_refused(items, field, sales, customer, products, assert_refused):
    with assert_refused(ValidationError) as info:
        order_create(actor=sales, customer=customer, items=items(products))
    assert field in info.value.message_dict


def test_an_inactive_product_is_refused(sales, customer, products, assert_refused):
    products[2].is_active = False
    products[2].save()
    with assert_refused(ValidationError) as info:
        order_create(actor=sales, customer=customer, items=[_item(products[0]), _item(products[2])])
    assert "product" in info.value.message_dict


def test_a_discount_above_the_subtotal_is_refused(sales, customer, products, assert_refused):
    # 1 × 100.00 less 10 % = 90.00 subtotal
    with assert_refused(ValidationError) as info:
        order_create(actor=sales, customer=customer, items=[_item(products[0])], discount_amount=Decimal("90.01"))
    assert "discount_amount" in info.value.message_dict


def test_a_discount_equal_to_the_subtotal_is_allowed(sales, customer, products):
    order = order_create(actor=sales, customer=customer, items=[_item(products[0])], discount_amount=Decimal("90"))
    assert (order.subtotal, order.total) == (Decimal("90.00"), Decimal("0.00"))


def test_a_negative_discount_is_refused(sales, customer, products, assert_refused):
    with assert_refused(ValidationError) as info:
        order_create(actor=sales, customer=customer, items=[_item(products[0])], discount_amount=Decimal("-1"))
    assert "discount_amount" in info.value.message_dict


def test_a_blocked_customer_is_refused(sales, customer, products, assert_refused):
    Customer.objects.filter(pk=customer.pk).update(status=CustomerStatus.BLOCKED)
    with assert_refused(ValidationError) as info:
        order_create(actor=sales, customer=customer, items=[_item(products[0])])
    assert "customer" in info.value.message_dict


def test_another_branchs_customer_does_not_exist_for_the_user(world, sales, products, assert_refused):
    theirs = CustomerFactory(branch=world.branch_b)
    with assert_refused(Customer.DoesNotExist):
        order_create(actor=sales, customer=theirs, items=[_item(products[0])])


def test_an_inspector_may_not_take_orders(world, customer, products, assert_refused):
    inspector = world.user(Role.INSPECTOR)
    with assert_refused(PermissionDenied):
        order_create(actor=inspector, customer=customer, items=[_item(products[0])])


def test_an_inactive_user_may_not_take_orders(world, customer, products, assert_refused):
    former = world.user(Role.SALES, is_active=False)
    with assert_refused(PermissionDenied):
        order_create(actor=former, customer=customer, items=[_item(products[0])])


def test_a_warehouse_of_another_branch_is_refused(world, sales, customer, products, assert_refused):
    with assert_refused(ValidationError) as info:
        order_create(actor=sales, customer=customer, items=[_item(products[0])], warehouse=world.warehouse_b)
    assert "warehouse" in info.value.message_dict


def test_a_salesperson_of_another_branch_is_refused(world, sales, customer, products, personas, assert_refused):
    with assert_refused(ValidationError) as info:
        order_create(actor=sales, customer=customer, items=[_item(products[0])], salesperson=personas.outsider)
    assert "salesperson" in info.value.message_dict


def test_a_product_never_stocked_can_still_be_ordered(sales, customer):
    """Orders are taken before stock arrives; stock is checked when the order ships."""
    fresh = ProductFactory(price=Decimal("10.00"))
    order = order_create(actor=sales, customer=customer, items=[_item(fresh, "4")])
    assert order.total == Decimal("41.04")  # 40 less 10 % = 36.00, + 14 % = 41.04
