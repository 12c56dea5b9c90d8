"""Helpers shared by the order tests."""

from __future__ import annotations

from typing import Any

from crm_core.accounts.models import ActivityLog, Notification
from crm_core.common.models import Counter
from crm_core.inventory.models import StockLevel, StockMovement
from crm_core.orders.models import Order, OrderItem, OrderStatusChange, Payment, ShippingDetails

# Tables an order service may write; a refused call must leave every row of them as it was.
WATCHED = (
    Order,
    OrderItem,
    OrderStatusChange,
    Payment,
    ShippingDetails,
    ActivityLog,
    StockLevel,
    StockMovement,
    Notification,
    Counter,
)


def db_state() -> dict[str, list[dict[str, Any]]]:
    """Every row (every field) of the watched tables, in primary-key order."""
    return {model._meta.label: list(model.objects.order_by("pk").values()) for model in WATCHED}


def event_types(published) -> list[str]:
    return [event_type for event_type, _groups, _event in published]
