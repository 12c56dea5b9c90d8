"""The browser's live stream (/ws/live/): the signed-in user's scoped events, with HTML fragments.

Authenticated by the Django session (AuthMiddlewareStack) and reachable only from the site's own
origin (AllowedHostsOriginValidator), see consumers/routing.py. Pages declare what they show
(``data-live-topic``) and static/js/live.js subscribes; the frames are those of every stream
(consumers/base.py), and an event that has a registered renderer (realtime/renderers.py) carries
``"html"``, rendered once per audience and language, not once per connection.
"""

from __future__ import annotations

from typing import Any

from consumers.base import CLOSE_ACCESS_CHANGED, CLOSE_UNAUTHENTICATED, StreamConsumer
from consumers.hub import SharedEvent
from realtime.events import Event
from realtime.renderers import Audience, render_cache, renderer_for

__all__ = ["CLOSE_ACCESS_CHANGED", "CLOSE_UNAUTHENTICATED", "LiveConsumer"]


class LiveConsumer(StreamConsumer):
    render_html = True

    async def authenticate(self) -> Any | None:
        user = self.scope.get("user")
        if user is None or not user.is_authenticated or not user.is_active:
            return None
        return user

    async def _html(self, event: Event) -> str | None:
        if not self.render_html or renderer_for(event.type) is None:
            return None
        cache = getattr(self, "_render_cache", None)
        if cache is None:
            cache = self._render_cache = render_cache()
            self._audience = Audience(role=self.audience[0], scope=self.audience[1], language=self.language())
        return await cache.render(event, self._audience, self.user)

    async def event_frame(self, event: Event) -> dict[str, Any]:
        frame = await super().event_frame(event)
        html = await self._html(event)
        if html:
            frame["html"] = html
        return frame

    async def encoded_frame(self, shared: SharedEvent) -> str:
        html = await self._html(shared.event)
        return shared.encoded_with_html(html) if html else shared.encoded()
