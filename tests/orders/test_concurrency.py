"""Real threads against PostgreSQL: numbering, payments and shipping under contention."""

from __future__ import annotations

import threading
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from django.db.models import Sum
from django.utils import timezone

from crm_core.accounts.models import User
from crm_core.inventory.models import StockLevel, StockMovement
from crm_core.orders.models import Order, OrderStatus, Payment
from crm_core.orders.services import ItemInput, order_create, order_transition, payment_record
from tests.factories import ProductFactory, stock

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def run_together(count: int, work: Callable[[int], Any]) -> tuple[list[Any], list[BaseException]]:
    """Run ``work(i)`` in ``count`` threads released at the same moment by a barrier."""
    barrier = threading.Barrier(count, timeout=60)
    results: list[Any] = []
    errors: list[BaseException] = []
    lock = threading.Lock()

    def target(i: int) -> None:
        try:
            barrier.wait()
            value = work(i)
            with lock:
                results.append(value)
        except BaseException as exc:
            with lock:
                errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=target, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not any(thread.is_alive() for thread in threads), "a thread hung"
    return results, errors


def _ready(order: Order, actor: User) -> Order:
    for status in (OrderStatus.CONFIRMED, OrderStatus.IN_PROGRESS, OrderStatus.READY):
        order = order_transition(actor=actor, order=order, to_status=status)
    return order


def test_fifty_orders_created_at_once_get_fifty_gap_free_numbers(sales, plain_customer, products):
    product_id = products[0].pk

    def create(_i: int) -> str:
        actor = User.objects.get(pk=sales.pk)
        order = order_create(
            actor=actor, customer=plain_customer, items=[ItemInput(product_id=product_id, quantity=Decimal("1"))]
        )
        return order.number

    numbers, errors = run_together(50, create)
    assert errors == []
    year = timezone.localdate().year
    assert sorted(numbers) == [f"CAI-{year}-{n:06d}" for n in range(1, 51)]
    assert sorted(Order.objects.values_list("number", flat=True)) == sorted(numbers)


def test_concurrent_payments_never_exceed_the_total(sales, make_order):
    order = make_order()  # 228.00
    assert order.total == Decimal("228.00")

    def pay(_i: int) -> Payment:
        return payment_record(actor=User.objects.get(pk=sales.pk), order=order, amount=Decimal("50"))

    paid, errors = run_together(8, pay)
    assert len(paid) == 4  # 4 × 50 = 200; a fifth would make 250 > 228
    assert len(errors) == 4
    assert all(isinstance(exc, ValidationError) for exc in errors), errors
    order.refresh_from_db()
    assert order.amount_paid == Decimal("200.00")
    assert order.balance == Decimal("28.00")
    assert Payment.objects.filter(order=order).aggregate(total=Sum("amount"))["total"] == Decimal("200.00")
    assert order.version == 1 + 4


@pytest.mark.parametrize("racers", [2, 8])
def test_orders_racing_for_the_last_units_ship_only_one(world, sales, make_order, racers):
    last = ProductFactory(name="آخر قطعة")
    stock(last, world.warehouse_a, 5)
    orders = [_ready(make_order([ItemInput(product_id=last.pk, quantity=Decimal("5"))]), sales) for _ in range(racers)]

    def ship(i: int) -> Order:
        return order_transition(actor=User.objects.get(pk=sales.pk), order=orders[i], to_status=OrderStatus.SHIPPED)

    shipped, errors = run_together(racers, ship)
    assert len(shipped) == 1
    assert len(errors) == racers - 1
    assert all(isinstance(exc, ValidationError) for exc in errors), errors
    assert all("آخر قطعة" in " ".join(exc.messages) for exc in errors)
    statuses = sorted(Order.objects.filter(pk__in=[o.pk for o in orders]).values_list("status", flat=True))
    assert statuses == [OrderStatus.READY] * (racers - 1) + [OrderStatus.SHIPPED]
    level = StockLevel.objects.get(product=last, warehouse=world.warehouse_a)
    assert level.quantity == Decimal("0")
    movements = StockMovement.objects.filter(product=last, warehouse=world.warehouse_a)
    assert movements.aggregate(total=Sum("quantity"))["total"] == level.quantity
    assert movements.filter(order=shipped[0]).count() == 1
