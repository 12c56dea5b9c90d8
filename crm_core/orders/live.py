"""Fragments the live stream sends with every order event (docs/REALTIME.md).

Each is rendered once per audience — role, branch scope, language — and shared by all of its
connections, so nothing here depends on who the representative user is beyond what their role
and branch allow: the queries start from ``visible_to(user)`` (another branch's order renders
nothing) and the buttons follow the role's permissions.

* the board's card, which moves to its status's column (``data-live-into``);
* the list's row (``order-row-<id>``);
* the detail page's changing parts, chosen by what the event changes.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.template.loader import render_to_string

from crm_core.orders import selectors
from crm_core.orders.models import Order
from crm_core.orders.views import detail_context, render_board_card
from realtime.events import EVENT_TOPICS
from realtime.renderers import register

if TYPE_CHECKING:
    from crm_core.accounts.models import User
    from realtime.events import Event
    from realtime.renderers import Audience

ORDER_EVENTS = tuple(sorted(name for name, topic in EVENT_TOPICS.items() if topic == "orders"))

# The detail page's partials each event changes (orders/detail.html). Every change bumps the
# order's version, so the status buttons, which carry it, come with each one.
DETAIL_PARTS: dict[str, tuple[str, ...]] = {
    "order.created": (),
    "order.updated": ("items", "totals", "actions"),
    "order.status_changed": ("status_badge", "actions", "history"),
    "order.payment_recorded": ("payments_list", "payments_paid", "totals", "actions"),
    "order.shipping_updated": ("shipping_details", "totals", "actions"),
}


def _order_id(event: Event, user: User) -> int | None:
    pk = event.data.get("order")
    if not isinstance(pk, int) or isinstance(pk, bool) or not user.has_perm("orders.view_order"):
        return None
    return pk


def board_card(event: Event, audience: Audience, user: User) -> str | None:
    pk = _order_id(event, user)
    order = selectors.board_card(user, pk) if pk else None
    return render_board_card(user, order) if order is not None else None


def list_row(event: Event, audience: Audience, user: User) -> str | None:
    pk = _order_id(event, user)
    order = selectors.board_card(user, pk) if pk else None
    return render_to_string("orders/list.html#row", {"order": order}) if order is not None else None


def detail_parts(event: Event, audience: Audience, user: User) -> str | None:
    pk = _order_id(event, user)
    names = DETAIL_PARTS.get(event.type, ())
    if not pk or not names:
        return None
    try:
        order = selectors.order_detail(user, pk)
    except Order.DoesNotExist:
        return None
    context = detail_context(user, order)
    return "".join(render_to_string(f"orders/detail.html#{name}", context) for name in names)


for _event_type in ORDER_EVENTS:
    register(_event_type, board_card)
    register(_event_type, list_row)
    register(_event_type, detail_parts)
