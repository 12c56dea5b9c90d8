"""Live fragments of the inspection pages, for every ``inspection.*`` event.

One renderer loads the inspection once (scoped with ``visible_to``) and renders each page's
piece of it; the browser keeps the pieces whose ids it shows (static/js/live.js):

* the dispatch board's card — ``board-card-<id>``, into its column ``board-<day>-b<branch>-insp-<user>``
  (or ``…-unassigned``), sorted by start: a reassigned card changes column, a card moved to
  another day leaves this day's board (its column is not on the page);
* the week calendar's card — ``cal-card-<id>``, into the cell of its inspector and day;
* the list's cells — ``inspection-<id>-list-when``, ``-list-inspector``, ``-list-status``;
* the detail page's fields — ``inspection-<id>-status``, ``-when``, ``-when-head``,
  ``-inspector``, ``-result``.

An inspection the audience may no longer see (an inspector whose visit went to a colleague)
is removed wherever it shows. Fragments depend on the audience alone — role (which decides
the board and the links), branch scope (through ``visible_to``) and language — never on the
representative user's identity (realtime/renderers.py).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.template.loader import render_to_string
from django.utils.html import format_html

from crm_core.inspections import selectors
from realtime.events import EVENT_TYPES
from realtime.renderers import register

if TYPE_CHECKING:
    from crm_core.accounts.models import User
    from realtime.events import Event
    from realtime.renderers import Audience

INSPECTION_EVENTS = sorted(t for t in EVENT_TYPES if t.startswith("inspection."))


def _gone(pk: int) -> str:
    return format_html('<li id="board-card-{0}" data-live-remove></li><a id="cal-card-{0}" data-live-remove></a>', pk)


def inspection_fragments(event: Event, audience: Audience, user: User) -> str | None:
    pk = event.data.get("inspection")
    if not isinstance(pk, int) or isinstance(pk, bool):
        return None
    inspection = (
        selectors.board_card_queryset(user)
        .select_related("branch", "result", "result__recorded_by")
        .filter(pk=pk)
        .first()
    )
    if inspection is None:
        return _gone(pk)
    from crm_core.inspections.views import actions_for, board_card_context

    parts = []
    if selectors.board_allowed(user):
        parts.append(render_to_string("inspections/board.html#card", board_card_context(user, inspection)))
    selectors.as_board_card(inspection)
    context = {"visit": inspection, "inspection": inspection}
    parts.append(render_to_string("inspections/calendar.html#card", context))
    parts.append(render_to_string("inspections/list.html#live_cells", context))
    parts.append(
        render_to_string(
            "inspections/detail.html#live_fields",
            {
                **context,
                "result": getattr(inspection, "result", None),
                "actions": actions_for(user, inspection),
            },
        )
    )
    return "".join(parts)


for _event_type in INSPECTION_EVENTS:
    register(_event_type, inspection_fragments)
