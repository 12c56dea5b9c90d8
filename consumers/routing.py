"""WebSocket routes, each with the checks its kind of client needs.

* ``/ws/live/`` — the browser: Origin must be one of ALLOWED_HOSTS (against cross-site
  WebSocket hijacking, since the session cookie would go along) and the Django session
  authenticates, once, when the socket opens (consumers/auth.py).
* ``/ws/events/`` — API clients: no session at all; the one-time ticket in the query string
  authenticates (consumers/events.py). A missing Origin is allowed (API clients send none);
  a present one must be allowed like on /ws/live/.
"""

from __future__ import annotations

from typing import Any

from channels.security.websocket import AllowedHostsOriginValidator, OriginValidator, WebsocketDenier
from django.conf import settings
from django.urls import path, re_path

from consumers.auth import SessionUserMiddleware
from consumers.events import EventsConsumer
from consumers.live import LiveConsumer


class OptionalOriginValidator(OriginValidator):
    """Like OriginValidator, but a request without any Origin header passes."""

    async def __call__(self, scope: dict, receive: Any, send: Any) -> Any:
        if not any(name == b"origin" for name, _value in scope.get("headers", [])):
            return await self.application(scope, receive, send)
        return await super().__call__(scope, receive, send)


def optional_origin_validator(application: Any) -> OptionalOriginValidator:
    allowed_hosts = settings.ALLOWED_HOSTS
    if settings.DEBUG and not allowed_hosts:
        allowed_hosts = ["localhost", "127.0.0.1", "[::1]"]
    return OptionalOriginValidator(application, allowed_hosts)


websocket_urlpatterns = [
    path("ws/live/", AllowedHostsOriginValidator(SessionUserMiddleware(LiveConsumer.as_asgi()))),
    path("ws/events/", optional_origin_validator(EventsConsumer.as_asgi())),
    # Anything else is refused at the handshake rather than failing with "no route found".
    re_path(r"", WebsocketDenier.as_asgi()),
]
