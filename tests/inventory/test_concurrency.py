"""Real threads against PostgreSQL: the ledger under contention."""

from __future__ import annotations

import threading
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import pytest
from django.core.exceptions import ValidationError
from django.db import connection

from crm_core.accounts.models import User
from crm_core.inventory.models import StockLevel, StockMovement
from crm_core.inventory.services import stock_issue, stock_receive, stock_transfer
from tests.factories import stock
from tests.inventory.helpers import assert_ledger_matches_levels, level_of

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


def test_twenty_issues_of_one_against_ten_in_stock(world, keeper, product):
    stock(product, world.warehouse_a, 10, actor=keeper)

    def issue(_i: int):
        return stock_issue(
            actor=User.objects.get(pk=keeper.pk), product=product, warehouse=world.warehouse_a, quantity=Decimal("1")
        )

    issued, errors = run_together(20, issue)
    assert len(issued) == 10
    assert len(errors) == 10
    assert all(isinstance(exc, ValidationError) for exc in errors), errors
    assert level_of(product, world.warehouse_a) == Decimal("0")
    # Each success saw a different balance: 9, 8, ... 0.
    assert sorted(m.balance_after for m in issued) == [Decimal(n) for n in range(10)]
    assert StockMovement.objects.filter(product=product).count() == 11  # the receipt and ten issues
    assert_ledger_matches_levels()


def test_first_receipts_at_once_make_one_level(world, keeper, product):
    def receive(_i: int):
        return stock_receive(
            actor=User.objects.get(pk=keeper.pk), product=product, warehouse=world.warehouse_a, quantity=Decimal("2")
        )

    received, errors = run_together(15, receive)
    assert errors == []
    assert len(received) == 15
    assert StockLevel.objects.filter(product=product, warehouse=world.warehouse_a).count() == 1
    assert level_of(product, world.warehouse_a) == Decimal("30")
    assert_ledger_matches_levels()


def test_transfers_both_ways_at_once_neither_deadlock_nor_lose_stock(world, keeper, product, second_warehouse):
    stock(product, world.warehouse_a, 10, actor=keeper)
    stock(product, second_warehouse, 10, actor=keeper)
    routes = [(world.warehouse_a, second_warehouse), (second_warehouse, world.warehouse_a)]

    def transfer(i: int):
        source, target = routes[i % 2]
        return stock_transfer(
            actor=User.objects.get(pk=keeper.pk),
            product=product,
            from_warehouse=source,
            to_warehouse=target,
            quantity=Decimal("1"),
        )

    legs, errors = run_together(16, transfer)
    assert errors == []  # a deadlock would surface here as an OperationalError
    assert len(legs) == 16
    assert level_of(product, world.warehouse_a) == Decimal("10")
    assert level_of(product, second_warehouse) == Decimal("10")
    assert_ledger_matches_levels()
