"""``{% live_since %}``: the id of the latest event, for ``data-live-since`` on a live container.

A page rendered with it tells static/js/live.js which events its content already reflects, so
the stream resyncs it only if something happened between rendering and subscribing::

    {% load live %}
    <div data-live-topic="orders.board" data-live-since="{% live_since %}"
         hx-get="{% url 'orders:board' %}" hx-trigger="crm:resync from:body">…</div>

Render the tag before the query that fills the container, never after: an event committed in
between then makes the page resync rather than be missed.
"""

from __future__ import annotations

from django import template

from realtime.events import last_event_id

register = template.Library()


@register.simple_tag
def live_since() -> int:
    return last_event_id()
