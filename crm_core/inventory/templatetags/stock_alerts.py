"""The stock-alerts panel other pages include (the dashboard), and the rows' sort key.

``{% stock_alerts_panel %}`` renders ``inventory/alerts.html#panel`` for a user who may see stock
levels: live for the roles that follow alerts, a plain list for the others, nothing for the rest.
"""

from __future__ import annotations

from typing import Any

from django import template
from django.template.loader import get_template
from django.templatetags.static import static
from django.utils.html import format_html
from django.utils.safestring import mark_safe

from crm_core.inventory import selectors
from crm_core.inventory.models import StockLevel

register = template.Library()


@register.filter
def alert_sort_key(level: StockLevel) -> str:
    return selectors.alert_sort_key(level)


@register.simple_tag(takes_context=True)
def stock_alerts_panel(context: template.Context) -> str:
    user = context.get("user")
    if user is None or not user.is_authenticated or not user.has_perm("inventory.view_stocklevel"):
        return ""
    values: dict[str, Any] = {
        "alerts": selectors.stock_alerts(user, limit=selectors.PANEL_LIMIT),
        "live_alerts": selectors.follows_stock_alerts(user),
        "user": user,
        "perms": context.get("perms"),
    }
    # Without the request: the page's context processors already ran, the panel needs none of them.
    panel = get_template("inventory/alerts.html#panel").render(values)
    if not values["live_alerts"]:
        return panel
    script = format_html('<script src="{}" defer></script>', static("js/stock_alerts.js"))
    return mark_safe(script + panel)  # noqa: S308 - both parts are escaped templates


@register.filter
def follows_stock_alerts(user: Any) -> bool:
    return bool(user and user.is_authenticated) and selectors.follows_stock_alerts(user)
