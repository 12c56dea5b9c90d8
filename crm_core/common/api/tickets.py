"""One-time tickets that let an API client open the event WebSocket (``/ws/events/?ticket=…``).

A browser opens WebSockets with its session cookie; a mobile app or an integration holds a JWT,
which a WebSocket handshake cannot carry in a header (and which must not sit in a URL that
proxies log). So the client asks ``POST /api/v1/auth/ws-ticket/`` for a ticket: a random value
that names the user for ``CRM_WS_TICKET_SECONDS`` (30 s by default) and can be used once.

Storage is the Django cache — Redis in production, local memory in the embedded default — keyed
by the ticket's SHA-256, so the cache never holds a usable ticket.

**One use only, under concurrency.** :func:`consume_ws_ticket` reads the entry, then deletes it,
and accepts the ticket only if *its own* delete removed the key: ``cache.delete()`` returns
whether a key was deleted, and on Redis that is the reply of ``DEL``, a single atomic command —
of any number of handshakes racing with the same ticket, on any number of servers, exactly one
sees ``DEL`` answer 1. (LocMemCache deletes under a lock and answers the same way within its
one process.) A ticket that expires between the read and the delete is refused too.
"""

from __future__ import annotations

import hashlib
import secrets
from typing import Any

from django.conf import settings
from django.core.cache import cache

_PREFIX = "ws-ticket:"
_MAX_TICKET_LENGTH = 128


def _cache_key(ticket: str) -> str:
    return _PREFIX + hashlib.sha256(ticket.encode()).hexdigest()


def issue_ws_ticket(user: Any) -> str:
    """A fresh one-time ticket for ``user`` (an active, signed-in user)."""
    ticket = secrets.token_urlsafe(32)
    cache.set(_cache_key(ticket), {"user": user.pk}, timeout=settings.CRM_WS_TICKET_SECONDS)
    return ticket


def consume_ws_ticket(ticket: str | None) -> Any | None:
    """The user a ticket was issued to, or None; a ticket works once, and only while fresh.

    Synchronous (it reads the user from the database): call it from an async consumer through
    ``channels.db.database_sync_to_async``. A user deactivated since the ticket was issued gets None.
    """
    if not ticket or not isinstance(ticket, str) or len(ticket) > _MAX_TICKET_LENGTH:
        return None
    key = _cache_key(ticket)
    entry = cache.get(key)
    if not isinstance(entry, dict) or "user" not in entry:
        return None
    if not cache.delete(key):
        return None  # another handshake used it first, or it just expired
    from crm_core.accounts.models import User

    return User.objects.filter(pk=entry["user"], is_active=True).select_related("branch").first()
