"""What every signed-in page shows: the menu the user may use and their unread count."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.http import HttpRequest
from django.urls import NoReverseMatch, reverse
from django.utils.translation import gettext_lazy as _


@dataclass(frozen=True)
class NavItem:
    label: str
    url: str
    icon: str
    active: bool = False
    testid: str = ""


def _may_use_dispatch_board(user: Any) -> bool:
    from crm_core.inspections.selectors import board_allowed

    return board_allowed(user)


def _follows_stock_alerts(user: Any) -> bool:
    from crm_core.inventory.selectors import follows_stock_alerts

    return follows_stock_alerts(user)


# (url name, label, icon, permission that shows it)
MAIN_MENU = (
    ("dashboard", _("Dashboard"), "bi-speedometer2", None),
    ("customers:list", _("Customers"), "bi-people", "customers.view_customer"),
    ("orders:list", _("Orders"), "bi-receipt", "orders.view_order"),
    ("inspections:list", _("Inspections"), "bi-clipboard-check", "inspections.view_inspection"),
    ("inventory:stock", _("Inventory"), "bi-box-seam", "inventory.view_stocklevel"),
    ("reports:index", _("Reports"), "bi-graph-up", "accounts.view_reports"),
)
# The live boards, in one menu of their own: the main bar stays on one line in both languages.
BOARDS_MENU = (
    ("inspections:board", _("Dispatch board"), "bi-kanban", _may_use_dispatch_board),
    ("orders:board", _("Orders board"), "bi-view-stacked", "orders.view_order"),
    ("inventory:alerts", _("Stock alerts"), "bi-exclamation-triangle", _follows_stock_alerts),
)
TEST_IDS = {
    "inspections:board": "nav-dispatch-board",
    "orders:board": "nav-orders-board",
    "inventory:alerts": "nav-alerts",
}
ADMIN_MENU = (
    ("accounts:users", _("Users"), "bi-person-gear", "accounts.change_user"),
    ("accounts:branches", _("Branches"), "bi-building", "accounts.change_branch"),
    ("accounts:departments", _("Departments"), "bi-diagram-3", "accounts.change_department"),
    ("accounts:activity", _("Activity log"), "bi-journal-text", "accounts.view_activitylog"),
)


def _allowed(user: Any, check: str | Callable[[Any], bool] | None) -> bool:
    if check is None:
        return True
    if callable(check):
        return check(user)
    return user.has_perm(check)


def _items(request: HttpRequest, menu: tuple) -> list[NavItem]:
    items = []
    for name, label, icon, check in menu:
        if not _allowed(request.user, check):
            continue
        try:
            url = reverse(name)
        except NoReverseMatch:
            continue
        items.append(NavItem(label=str(label), url=url, icon=icon, testid=TEST_IDS.get(name, "")))
    return items


def _mark_active(request: HttpRequest, *menus: list[NavItem]) -> list[list[NavItem]]:
    """The one item whose address is the longest prefix of this page's is active: the dispatch
    board (/inspections/board/) lights up itself, not Inspections (/inspections/)."""
    path = request.path
    candidates = [
        item for menu in menus for item in menu if (path == item.url if item.url == "/" else path.startswith(item.url))
    ]
    best = max(candidates, key=lambda item: len(item.url), default=None)
    return [[NavItem(**{**item.__dict__, "active": item is best}) for item in menu] for menu in menus]


def navigation(request: HttpRequest) -> dict[str, Any]:
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    from crm_core.accounts.selectors import unread_notification_count

    main, boards, admin = _mark_active(
        request, _items(request, MAIN_MENU), _items(request, BOARDS_MENU), _items(request, ADMIN_MENU)
    )
    return {
        "nav_items": main,
        "board_nav_items": boards,
        "boards_active": any(item.active for item in boards),
        "admin_nav_items": admin,
        "admin_active": any(item.active for item in admin),
        "unread_notifications": unread_notification_count(user),
        "CRM_CURRENCY": _currency(),
    }


def _currency() -> str:
    from django.conf import settings

    return settings.CRM_CURRENCY
