"""Session authentication for the browser's stream, done once when the socket opens.

Channels' ``AuthMiddlewareStack`` wraps the socket's ``send`` to save the session whenever it
was modified, and hands the consumer lazy objects for the session and the user. A live stream
never changes its session, but it sends thousands of frames: bench/ws_fanout.py found that
wrapper and the lazy user behind more than half the CPU of a frame. So the stream reads the
session cookie, loads the session and resolves the user once, in the database thread, and
passes the concrete user on; every frame then goes straight to the server.

The user is checked as Django checks it on a page (``channels.auth.get_user``: the session's
user id, its backend, and the password hash the session was signed with), so a password change
still signs the stream out, and an inactive user is refused by the consumer.
"""

from __future__ import annotations

from importlib import import_module
from typing import Any

from channels.auth import get_user
from django.conf import settings
from django.http.cookie import parse_cookie


class SessionUserMiddleware:
    def __init__(self, inner: Any) -> None:
        self.inner = inner

    async def __call__(self, scope: dict, receive: Any, send: Any) -> Any:
        cookies: dict[str, str] = {}
        for name, value in scope.get("headers", ()):
            if name == b"cookie":
                cookies = parse_cookie(value.decode("latin1"))
                break
        engine = import_module(settings.SESSION_ENGINE)
        session = engine.SessionStore(cookies.get(settings.SESSION_COOKIE_NAME))
        scope = {**scope, "cookies": cookies, "session": session}
        scope["user"] = await get_user(scope)
        return await self.inner(scope, receive, send)
