"""Helpers shared by the inventory tests."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from crm_core.accounts.models import ActivityLog, Notification
from crm_core.inventory.models import Category, Product, StockLevel, StockMovement, Warehouse

# Tables an inventory service may write; a refused call must leave every row of them as it was.
WATCHED = (Product, Category, Warehouse, StockLevel, StockMovement, Notification, ActivityLog)


def db_state() -> dict[str, list[dict[str, Any]]]:
    """Every row (every field) of the watched tables, in primary-key order."""
    return {model._meta.label: list(model.objects.order_by("pk").values()) for model in WATCHED}


def event_types(published) -> list[str]:
    return [event_type for event_type, _groups, _event in published]


def level_of(product: Product, warehouse: Warehouse) -> Decimal | None:
    """The stored quantity, or None when no level row exists."""
    return StockLevel.objects.filter(product=product, warehouse=warehouse).values_list("quantity", flat=True).first()


def _sum(quantities) -> Decimal:
    # Added up in Python from the stored values: SQLite's SUM() works in floating point
    # (0.066 comes back as 0.0660000000000001), which would blur what the ledger holds.
    return sum(quantities, Decimal("0"))


def ledger_sum(product: Product, warehouse: Warehouse) -> Decimal:
    return _sum(StockMovement.objects.filter(product=product, warehouse=warehouse).values_list("quantity", flat=True))


def assert_ledger_matches_levels() -> None:
    """For every (product, warehouse): the movements add up to the level, and the latest
    movement's balance_after is the level."""
    for level in StockLevel.objects.all():
        movements = StockMovement.objects.filter(product_id=level.product_id, warehouse_id=level.warehouse_id)
        total = _sum(movements.values_list("quantity", flat=True))
        assert total == level.quantity, (level, total)
        last = movements.order_by("-id").first()
        if last is not None:
            assert last.balance_after == level.quantity, (level, last)
