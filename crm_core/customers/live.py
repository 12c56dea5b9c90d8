"""Fragments the live stream sends with customer events (realtime/renderers.py).

Each is rendered once per audience (role, branch scope, language) and swapped in by id by
static/js/live.js wherever it is on the page:

* ``customer-row-<id>`` — the customer's row in the list; a new customer's row goes on top of
  the list's unfiltered first page (``customer-rows``, which only that page has);
* ``customer-header-<id>`` and ``customer-details-<id>`` — the customer's own page;
* ``timeline-note-<id>`` — a note someone added goes on top of the customer's timeline.

Their content depends on the role (buttons, the branch column) and the branch scope, never on
the particular user.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.template.loader import render_to_string

from crm_core.customers import selectors
from crm_core.customers.models import Customer, CustomerNote
from realtime.renderers import register

if TYPE_CHECKING:
    from crm_core.accounts.models import User
    from realtime.events import Event
    from realtime.renderers import Audience


def _visible_customer(user: User, event: Event) -> Customer | None:
    pk = event.data.get("customer")
    if not isinstance(pk, int) or not user.has_perm("customers.view_customer"):
        return None
    return selectors.customer_detail_queryset(user).filter(pk=pk).first()


@register("customer.created")
@register("customer.updated")
def customer_row(event: Event, audience: Audience, user: User) -> str | None:
    customer = _visible_customer(user, event)
    if customer is None:
        return None
    context = {
        "customer": customer,
        "show_branch": user.sees_all_branches,
        "live_into": "customer-rows" if event.type == "customer.created" else "",
    }
    return render_to_string("customers/list.html#row", context)


@register("customer.updated")
def customer_page(event: Event, audience: Audience, user: User) -> str | None:
    from crm_core.customers.views import header_context

    customer = _visible_customer(user, event)
    if customer is None:
        return None
    context = header_context(user, customer)
    return render_to_string("customers/detail.html#header", context) + render_to_string(
        "customers/detail.html#details", context
    )


@register("customer.note_added")
def customer_note(event: Event, audience: Audience, user: User) -> str | None:
    pk = event.data.get("note")
    if not isinstance(pk, int) or not user.has_perm("customers.view_customernote"):
        return None
    if _visible_customer(user, event) is None:
        return None
    note = CustomerNote.objects.visible_to(user).select_related("author").filter(pk=pk).first()
    if note is None:
        return None
    entry = selectors.TimelineEntry(kind="note", at=note.created_at, obj=note)
    return render_to_string("customers/detail.html#live-note", {"entry": entry})
