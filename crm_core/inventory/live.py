"""Fragments the browser stream sends for stock events (realtime/renderers.py).

Each renderer reads the level as it is now, through ``visible_to`` the audience's representative,
so events that arrive late or out of order still leave the page right. What it renders depends on
the audience's role and scope only (the rows, the counts of the scope, the actions the role may
take), never on the person. Rows come first in the output: a ``<tr>`` that follows other markup
at the top level of a fragment is dropped by the browser's parser.

* stock.low / stock.restored — the alerts page's row and the dashboard panel's row appear or go
  (``data-live-into`` / ``data-live-remove``), and the counts follow; only for the roles that
  follow alerts.
* stock.changed — the level's row on the stock levels page and on its product's page, and its
  alert rows (a low level's quantity moved, or it went back above the level).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.contrib.auth.context_processors import PermWrapper
from django.template.loader import render_to_string

from crm_core.inventory import selectors
from realtime.renderers import register

if TYPE_CHECKING:
    from crm_core.accounts.models import User
    from crm_core.inventory.models import StockLevel
    from realtime.events import Event
    from realtime.renderers import Audience

ALERTS = "inventory/alerts.html"


def _context(user: User, **values: Any) -> dict[str, Any]:
    return {"user": user, "perms": PermWrapper(user), **values}


def _alert_fragments(user: User, level: StockLevel | None, level_id: int) -> str:
    """The level's alert rows as they should be now, then the counts."""
    if level is not None and level.is_low:
        context = _context(user, level=level)
        rows = render_to_string(f"{ALERTS}#row", context) + render_to_string(f"{ALERTS}#panel_row", context)
    else:
        rows = render_to_string(f"{ALERTS}#gone", {"level_id": level_id})
    counts = _context(user, alerts={"count": selectors.stock_alert_count(user)})
    return rows + render_to_string(f"{ALERTS}#summary", counts) + render_to_string(f"{ALERTS}#panel_count", counts)


def _level_id(event: Event) -> int | None:
    value = event.data.get("level")
    return value if isinstance(value, int) and not isinstance(value, bool) else None


@register("stock.low")
@register("stock.restored")
def alert_rows(event: Event, audience: Audience, user: User) -> str | None:
    level_id = _level_id(event)
    if level_id is None or not selectors.follows_stock_alerts(user):
        return None
    level = selectors.stock_level_for_row(user, level_id)
    if level is None:
        # Out of this audience's scope (or gone): say nothing, not even that it went.
        return None
    return _alert_fragments(user, level, level_id)


@register("stock.changed")
def stock_rows(event: Event, audience: Audience, user: User) -> str | None:
    level_id = _level_id(event)
    if level_id is None or not selectors.follows_stock_board(user):
        return None
    level = selectors.stock_level_for_row(user, level_id)
    if level is None:
        return None
    context = _context(user, level=level, product=level.product)
    html = render_to_string("inventory/stock.html#row", context)
    html += render_to_string("inventory/product_detail.html#level_row", context)
    if selectors.follows_stock_alerts(user):
        html += _alert_fragments(user, level, level_id)
    return html
