"""Creating and shipping an order costs a fixed number of queries, whatever its length."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from crm_core.accounts.models import Role, User
from crm_core.inventory.models import StockLevel, StockMovement
from crm_core.orders.models import Order, OrderItem, OrderStatus
from crm_core.orders.services import ItemInput, order_create, order_transition
from tests.factories import ProductFactory, stock

# Fixed budgets (about 15 measured, savepoints included); the same for 2 and 10 items.
# Before issue_lines was made bulk, shipping 10 items took 34 queries.
CREATE_BUDGET = 18
SHIP_BUDGET = 18


@pytest.fixture
def many_products(world):
    keeper = world.user(Role.STOREKEEPER)
    made = [ProductFactory(price=Decimal("10.00"), reorder_level=Decimal("5")) for _ in range(10)]
    for product in made:
        stock(product, world.warehouse_a, 50, actor=keeper)
    return made


def _fresh(user: User) -> User:
    # A new instance, so each measured call loads its permissions the same way.
    return User.objects.get(pk=user.pk)


def _create(sales, customer, products) -> Order:
    return order_create(
        actor=_fresh(sales),
        customer=customer,
        items=[ItemInput(product_id=p.pk, quantity=Decimal("2")) for p in products],
        discount_amount=Decimal("1"),
    )


@pytest.mark.parametrize("n", [2, 10])
def test_order_create_has_a_fixed_query_budget(n, sales, plain_customer, many_products, django_assert_max_num_queries):
    with django_assert_max_num_queries(CREATE_BUDGET):
        order = _create(sales, plain_customer, many_products[:n])
    assert OrderItem.objects.filter(order=order).count() == n


@pytest.mark.parametrize("n", [2, 10])
def test_shipping_has_a_fixed_query_budget(n, sales, plain_customer, many_products, django_assert_max_num_queries):
    order = _create(sales, plain_customer, many_products[:n])
    for status in (OrderStatus.CONFIRMED, OrderStatus.IN_PROGRESS, OrderStatus.READY):
        order = order_transition(actor=sales, order=order, to_status=status)
    with django_assert_max_num_queries(SHIP_BUDGET):
        order_transition(actor=_fresh(sales), order=order, to_status=OrderStatus.SHIPPED)
    assert StockMovement.objects.filter(order=order).count() == n
    assert set(
        StockLevel.objects.filter(product__in=many_products[:n], warehouse=order.warehouse_id).values_list(
            "quantity", flat=True
        )
    ) == {Decimal("48")}


def _count(call) -> int:
    with CaptureQueriesContext(connection) as ctx:
        call()
    return len(ctx.captured_queries)


def test_ten_items_cost_exactly_as_many_queries_as_two(sales, plain_customer, many_products):
    create, ship = {}, {}
    # A first order fills the per-process caches (content types), so both measures start warm.
    for n, chosen in ((0, many_products[:1]), (2, many_products[:2]), (10, many_products)):
        orders: list[Order] = []
        create[n] = _count(lambda chosen=chosen, orders=orders: orders.append(_create(sales, plain_customer, chosen)))
        order = orders[0]
        for status in (OrderStatus.CONFIRMED, OrderStatus.IN_PROGRESS, OrderStatus.READY):
            order = order_transition(actor=sales, order=order, to_status=status)
        ship[n] = _count(lambda order=order: order_transition(actor=_fresh(sales), order=order, to_status="shipped"))
    assert create[10] == create[2], create
    assert ship[10] == ship[2], ship
