"""Content negotiation for endpoints that answer a file rather than JSON."""

from __future__ import annotations

from typing import Any

from rest_framework.negotiation import BaseContentNegotiation


class AnyAccept(BaseContentNegotiation):
    """Serve a file whatever ``Accept`` says (``image/*``, ``*/*``…); errors are still JSON."""

    def select_parser(self, request: Any, parsers: list[Any]) -> Any:
        return parsers[0] if parsers else None

    def select_renderer(self, request: Any, renderers: list[Any], format_suffix: str | None = None) -> tuple:
        renderer = renderers[0]
        return renderer, renderer.media_type
