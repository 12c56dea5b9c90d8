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

    async def event_frame(self, event: Event) -> dict[str, Any]:
        frame = await super().event_frame(event)
        if self.render_html and renderer_for(event.type) is not None:
            audience = Audience(role=self.audience[0], scope=self.audience[1], language=self.language())
            html = await render_cache().render(event, audience, self.user)
            if html:
                frame["html"] = html
        return frame
