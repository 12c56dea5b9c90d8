"""What every signed-in page shows: the menu the user may use and their unread count."""

from __future__ import annotations

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


# (url name, label, icon, permission that shows it)
MAIN_MENU = (
    ("dashboard", _("Dashboard"), "bi-speedometer2", None),
    ("customers:list", _("Customers"), "bi-people", "customers.view_customer"),
    ("orders:list", _("Orders"), "bi-receipt", "orders.view_order"),
    ("inspections:list", _("Inspections"), "bi-clipboard-check", "inspections.view_inspection"),
    ("inventory:stock", _("Inventory"), "bi-box-seam", "inventory.view_stocklevel"),
    ("reports:index", _("Reports"), "bi-graph-up", "accounts.view_reports"),
)
ADMIN_MENU = (
    ("accounts:users", _("Users"), "bi-person-gear", "accounts.change_user"),
    ("accounts:branches", _("Branches"), "bi-building", "accounts.change_branch"),
    ("accounts:departments", _("Departments"), "bi-diagram-3", "accounts.change_department"),
    ("accounts:activity", _("Activity log"), "bi-journal-text", "accounts.view_activitylog"),
)


def _items(request: HttpRequest, menu: tuple) -> list[NavItem]:
    items = []
    for name, label, icon, perm in menu:
        if perm and not request.user.has_perm(perm):
            continue
        try:
            url = reverse(name)
        except NoReverseMatch:
            continue
        active = request.path == url if url == "/" else request.path.startswith(url)
        items.append(NavItem(label=str(label), url=url, icon=icon, active=active))
    return items


def navigation(request: HttpRequest) -> dict[str, Any]:
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    from crm_core.accounts.selectors import unread_notification_count

    return {
        "nav_items": _items(request, MAIN_MENU),
        "admin_nav_items": _items(request, ADMIN_MENU),
        "unread_notifications": unread_notification_count(user),
        "CRM_CURRENCY": _currency(),
    }


def _currency() -> str:
    from django.conf import settings

    return settings.CRM_CURRENCY
