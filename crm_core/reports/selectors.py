"""Read-only queries behind the dashboard and the reports. Every one starts from visible_to."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, time, timedelta
from decimal import Decimal
from typing import Any

from django.core.cache import cache
from django.db.models import Count, QuerySet, Sum
from django.utils import timezone

from crm_core.accounts.models import Notification, User
from crm_core.inspections.models import Inspection
from crm_core.inventory.models import StockLevel
from crm_core.orders.models import OPEN_ORDER_STATUSES, Order, OrderStatus, Payment

DASHBOARD_TTL = 300
VERSION_KEY = "dashboard-version:{scope}"


def scope_key(user: User) -> str:
    return "all" if user.sees_all_branches else f"b{user.branch_id}"


def dashboard_version(scope: str) -> int:
    return cache.get(VERSION_KEY.format(scope=scope), 0)


def invalidate_dashboard(branch_id: int | None) -> None:
    """Called for every published event: the branch's figures and the all-branches ones go stale."""
    for scope in ("all", f"b{branch_id}") if branch_id else ("all",):
        key = VERSION_KEY.format(scope=scope)
        try:
            cache.incr(key)
        except ValueError:
            cache.set(key, 1, None)


def local_day_bounds(day=None) -> tuple[datetime, datetime]:
    day = day or timezone.localdate()
    start = timezone.make_aware(datetime.combine(day, time.min))
    return start, start + timedelta(days=1)


@dataclass
class DashboardFigures:
    orders_by_status: list[dict[str, Any]] = field(default_factory=list)
    open_orders: int = 0
    revenue_this_month: Decimal = Decimal("0")
    payments_this_month: int = 0
    outstanding_balance: Decimal = Decimal("0")
    orders_with_balance: int = 0
    low_stock_count: int = 0


def _compute_figures(user: User) -> DashboardFigures:
    figures = DashboardFigures()
    if user.has_perm("orders.view_order"):
        rows = (
            Order.objects.visible_to(user)
            .filter(status__in=OPEN_ORDER_STATUSES)
            .values("status")
            .annotate(count=Count("id"), total=Sum("total"))
        )
        by_status = {row["status"]: row for row in rows}
        figures.orders_by_status = [
            {
                "status": status,
                "label": OrderStatus(status).label,
                "count": by_status.get(status, {}).get("count", 0),
                "total": by_status.get(status, {}).get("total") or Decimal("0"),
            }
            for status in OPEN_ORDER_STATUSES
        ]
        figures.open_orders = sum(row["count"] for row in figures.orders_by_status)
        due = Order.objects.visible_to(user).with_balance_due().aggregate(total=Sum("balance"), count=Count("id"))
        figures.outstanding_balance = due["total"] or Decimal("0")
        figures.orders_with_balance = due["count"]
    if user.has_perm("orders.view_payment"):
        month_start, _ = local_day_bounds(timezone.localdate().replace(day=1))
        paid = (
            Payment.objects.visible_to(user)
            .filter(received_at__gte=month_start)
            .aggregate(total=Sum("amount"), count=Count("id"))
        )
        figures.revenue_this_month = paid["total"] or Decimal("0")
        figures.payments_this_month = paid["count"]
    if user.has_perm("inventory.view_stocklevel"):
        figures.low_stock_count = StockLevel.objects.visible_to(user).filter(is_low=True).count()
    return figures


def dashboard_figures(user: User) -> DashboardFigures:
    """Aggregates for the user's scope, cached per scope and role until an event changes them."""
    scope = scope_key(user)
    key = f"dashboard:{scope}:{user.role}:{int(user.is_superuser)}:{timezone.localdate()}:{dashboard_version(scope)}"
    figures = cache.get(key)
    if figures is None:
        figures = _compute_figures(user)
        cache.set(key, figures, DASHBOARD_TTL)
    return figures


def todays_inspections(user: User, limit: int = 25) -> QuerySet[Inspection]:
    start, end = local_day_bounds()
    return (
        Inspection.objects.visible_to(user)
        .filter(scheduled_start__gte=start, scheduled_start__lt=end)
        .select_related("customer", "inspector")
        .order_by("scheduled_start", "id")[:limit]
    )


def recent_unread_notifications(user: User, limit: int = 5) -> QuerySet[Notification]:
    return Notification.objects.visible_to(user).unread().order_by("-created_at", "-id")[:limit]
