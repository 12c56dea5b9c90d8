"""The API clients' live stream (/ws/events/?ticket=…): JSON events, nothing else.

A mobile app or an integration holds a JWT, which a WebSocket handshake cannot carry in a
header. It asks ``POST /api/v1/auth/ws-ticket/`` for a one-time ticket (valid
``CRM_WS_TICKET_SECONDS``) and opens ``/ws/events/?ticket=<ticket>`` with it. The ticket is the
only credential this stream accepts — no session cookie, no token in the URL — and it works
once: a missing, unknown, expired or already used ticket is refused before the handshake
completes (close code 4401; under Daphne the client sees HTTP 403).

Origin: an API client usually sends no ``Origin`` header, and needs none, since the ticket is
the credential and a cross-site page cannot obtain one. A request that does carry an Origin
(a browser) must come from one of ALLOWED_HOSTS, as on /ws/live/ (consumers/routing.py).

Frames, topics, resync and close codes are those of every stream (consumers/base.py,
docs/REALTIME.md).
"""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qs

from channels.db import database_sync_to_async

from consumers.base import CLOSE_ACCESS_CHANGED, CLOSE_UNAUTHENTICATED, StreamConsumer
from crm_core.common.api.tickets import consume_ws_ticket

__all__ = ["CLOSE_ACCESS_CHANGED", "CLOSE_UNAUTHENTICATED", "EventsConsumer"]


class EventsConsumer(StreamConsumer):
    render_html = False

    async def authenticate(self) -> Any | None:
        try:
            query = parse_qs(self.scope.get("query_string", b"").decode("latin1"), max_num_fields=4)
        except ValueError:  # more fields than any real client sends
            return None
        tickets = query.get("ticket") or []
        if len(tickets) != 1:
            return None
        return await database_sync_to_async(consume_ws_ticket)(tickets[0])
