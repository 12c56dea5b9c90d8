"""The browser's live stream: the user's scoped events as they are committed."""

from __future__ import annotations

import logging
from typing import Any

from channels.generic.websocket import AsyncJsonWebsocketConsumer

from realtime.audiences import groups_for_user, user_may_receive
from realtime.events import Event

logger = logging.getLogger(__name__)

# Close codes in the 4000 range are the application's own; the page shows why.
CLOSE_UNAUTHENTICATED = 4401
CLOSE_ACCESS_CHANGED = 4403


class LiveConsumer(AsyncJsonWebsocketConsumer):
    """Joins only the groups realtime.audiences grants this user, and re-checks every event."""

    groups: list[str]

    async def connect(self) -> None:
        user = self.scope.get("user")
        if user is None or not user.is_authenticated or not user.is_active:
            await self.close(code=CLOSE_UNAUTHENTICATED)
            return
        self.user = user
        self.groups = groups_for_user(user)
        for group in self.groups:
            await self.channel_layer.group_add(group, self.channel_name)
        await self.accept()
        await self.send_json({"type": "hello", "groups": len(self.groups)})

    async def disconnect(self, code: int) -> None:
        for group in getattr(self, "groups", []):
            await self.channel_layer.group_discard(group, self.channel_name)

    async def receive_json(self, content: Any, **kwargs: Any) -> None:
        # Clients never choose groups; the only message they may send is a keep-alive.
        if isinstance(content, dict) and content.get("type") == "ping":
            await self.send_json({"type": "pong"})

    async def crm_event(self, message: dict[str, Any]) -> None:
        payload = message["event"]
        event = Event(
            type=payload["type"],
            id=payload["id"],
            at=payload["at"],
            branch=payload["branch"],
            data=payload["data"],
            users=tuple(message.get("users", ())),
        )
        if event.type == "user.access_changed" and self.user.pk in event.users:
            # Role, branch or activity changed: this socket's groups are no longer right.
            await self.close(code=CLOSE_ACCESS_CHANGED)
            return
        if not user_may_receive(self.user, event):
            logger.warning("Dropped %s #%s not meant for user %s", event.type, event.id, self.user.pk)
            return
        await self.send_json({"type": "event", "event": event.as_message()})
