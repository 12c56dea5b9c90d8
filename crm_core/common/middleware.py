"""Messages for htmx requests: a swapped fragment has no toast container, so they travel in a header."""

from __future__ import annotations

import json
from collections.abc import Callable

from django.contrib import messages
from django.http import HttpRequest, HttpResponse

LEVELS = {"error": "danger", "warning": "warning", "success": "success", "info": "primary", "debug": "secondary"}


class HtmxMessagesMiddleware:
    """Moves queued messages into ``HX-Trigger: {"crm:toast": {...}}`` on htmx responses.

    A redirect keeps its messages for the page it leads to; a full-page htmx navigation
    (``HX-Boosted``) renders them itself.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        htmx = getattr(request, "htmx", None)
        if not htmx or htmx.boosted or 300 <= response.status_code < 400 or "HX-Redirect" in response:
            return response
        queued = [
            {"text": str(message), "level": LEVELS.get(message.level_tag, "primary")}
            for message in messages.get_messages(request)
        ]
        if not queued:
            return response
        triggers: dict = {}
        if "HX-Trigger" in response:
            existing = response["HX-Trigger"]
            try:
                triggers = json.loads(existing)
            except ValueError:
                triggers = {name.strip(): None for name in existing.split(",")}
        triggers["crm:toast"] = {"messages": queued}
        response["HX-Trigger"] = json.dumps(triggers)  # ASCII: header values must be latin-1
        return response
