"""HTML for the browser stream, rendered once per audience rather than once per connection.

An app registers renderers for an event type (in its ``live.py``, imported by its AppConfig)::

    from realtime.renderers import register

    @register("order.status_changed")
    def order_row(event, audience, user):
        order = Order.objects.visible_to(user).filter(pk=event.data["order"]).first()
        if order is None:
            return None
        return render_to_string("orders/board.html#row", {"order": order, "oob": True})

The browser stream (consumers/live.py) adds what it returns as ``"html"`` to the event frame,
and static/js/live.js swaps every element in it that has an ``id`` out of band (the way htmx's
``hx-swap-oob`` does). ``None`` means "no fragment": the client gets the JSON hint alone.

**Render once per audience.** Users who may see exactly the same things share an
:class:`Audience` (role, scope — see ``realtime.audiences.audience_key`` — and language). The
first connection of an audience to need a fragment renders it, with that connection's user as
the audience's representative; every other connection of the same audience in this process
awaits the same result. So 1,000 dispatchers of one branch on one board cost one render per
language, not 1,000. The consequence for renderers: **the output may depend on the audience,
never on the representative's own identity** (their name, their unread count...) — that goes in
a per-user fetch, not in a broadcast fragment.

Renderers run in Django's sync thread (they may query the database) under the audience's
language. A renderer that raises is logged and treated as ``None``; the others still count.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import logging
import weakref
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from channels.db import database_sync_to_async
from django.utils import translation

from realtime.events import EVENT_TYPES

if TYPE_CHECKING:
    from crm_core.accounts.models import User
    from realtime.events import Event

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Audience:
    role: str
    scope: str
    language: str


Renderer = Callable[["Event", Audience, "User"], "str | None"]

# event type → its renderers, in registration order. Several pages show the same change (an
# order's card on the board, its row in the list, its figures on its own page), so each app
# registers the fragments it owns and the frame carries them all; an element whose id is not on
# the page is ignored by the browser.
_registry: dict[str, list[Renderer]] = {}


def register(event_type: str, renderer: Renderer | None = None) -> Any:
    """Add ``renderer`` to ``event_type``'s renderers; usable as a decorator. Registering the same
    function again is harmless (an app's ``ready`` may run twice in tests)."""
    if event_type not in EVENT_TYPES:
        raise ValueError(f"Unknown event type {event_type!r}")

    def decorator(func: Renderer) -> Renderer:
        registered = _registry.setdefault(event_type, [])
        if not any(_same(func, existing) for existing in registered):
            registered.append(func)
        return func

    return decorator(renderer) if renderer is not None else decorator


def _same(a: Renderer, b: Renderer) -> bool:
    if a is b:
        return True
    # The same function object re-created by a module imported twice: compare by qualified name.
    key = lambda f: (getattr(f, "__module__", None), getattr(f, "__qualname__", None))  # noqa: E731
    return key(a) == key(b) and key(a)[1] is not None and "<lambda>" not in key(a)[1]


def unregister(event_type: str, renderer: Renderer | None = None) -> None:
    """Remove one renderer of ``event_type``, or all of them."""
    if renderer is None:
        _registry.pop(event_type, None)
        return
    remaining = [f for f in _registry.get(event_type, []) if not _same(f, renderer)]
    if remaining:
        _registry[event_type] = remaining
    else:
        _registry.pop(event_type, None)


def renderers_for(event_type: str) -> list[Renderer]:
    return list(_registry.get(event_type, ()))


def renderer_for(event_type: str) -> Renderer | None:
    """Something renders ``event_type`` (the combined renderer), or None."""
    registered = _registry.get(event_type)
    if not registered:
        return None
    return lambda event, audience, user: _combined(registered, event, audience, user)


@contextlib.contextmanager
def isolated(**renderers: Renderer) -> Iterator[None]:
    """Run with only the given renderers (``isolated(**{"order.created": f})``), then restore the
    registry: for tests that must not see the apps' own fragments."""
    saved = {k: list(v) for k, v in _registry.items()}
    _registry.clear()
    try:
        for event_type, renderer in renderers.items():
            register(event_type, renderer)
        yield
    finally:
        _registry.clear()
        _registry.update(saved)


def _combined(registered: list[Renderer], event: Event, audience: Audience, user: User) -> str | None:
    parts = []
    for renderer in list(registered):
        try:
            html = renderer(event, audience, user)
        except Exception:
            # One broken fragment must not cost the others: log it and send the rest.
            logger.exception("Renderer %r for %s #%s failed for %s", renderer, event.type, event.id, audience)
            continue
        if html:
            # Its own <template>: the browser parses each part in its own context (a <tr> after
            # another page's <div> would otherwise be dropped by the HTML parser).
            parts.append(f"<template>{html}</template>")
    return "".join(parts) or None


def _render_sync(renderer: Renderer, event: Event, audience: Audience, user: User) -> str | None:
    with translation.override(audience.language):
        html = renderer(event, audience, user)
    return None if html is None else str(html)


class RenderCache:
    """A per-process LRU of rendered fragments keyed by (event id, event type, audience), with
    single flight: concurrent requests for one key share one render."""

    def __init__(self, maxsize: int = 512) -> None:
        self.maxsize = maxsize
        self._entries: collections.OrderedDict[tuple, asyncio.Future] = collections.OrderedDict()
        self.renders = 0

    async def render(self, event: Event, audience: Audience, user: User) -> str | None:
        renderer = renderer_for(event.type)
        if renderer is None:
            return None
        key = (event.id, event.type, audience)
        future = self._entries.get(key)
        if future is not None:
            self._entries.move_to_end(key)
            if future.done():
                return future.result()  # the common case: a thousand streams, one render
            return await asyncio.shield(future)
        future = asyncio.get_running_loop().create_future()
        self._entries[key] = future
        while len(self._entries) > self.maxsize:
            self._entries.popitem(last=False)
        self.renders += 1
        try:
            html = await database_sync_to_async(_render_sync)(renderer, event, audience, user)
        except Exception:
            logger.exception("Renderer for %s #%s failed for %s", event.type, event.id, audience)
            html = None
        if not future.done():
            future.set_result(html)
        return html


_caches: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, RenderCache] = weakref.WeakKeyDictionary()


def render_cache() -> RenderCache:
    """This event loop's cache (Daphne runs one loop per process)."""
    loop = asyncio.get_running_loop()
    cache = _caches.get(loop)
    if cache is None:
        cache = _caches[loop] = RenderCache()
    return cache
