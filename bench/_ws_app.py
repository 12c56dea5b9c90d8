"""What the fan-out benchmark's Daphne processes serve: the site's own ASGI application
(config.asgi, so /ws/live/ is exactly production's) plus a control socket at ``/bench/control/``
through which the benchmark asks the process to publish events.

Events are published in the server process the way a request handled there publishes them:
``realtime.publish.publish`` inside ``transaction.atomic()`` in a worker thread (Django's sync
code under Daphne), numbered and handed to the channel layer after the commit on the process's
event loop (``_deliver``: group sequence numbers, one ``group_send`` of ``crm.event`` per group).
It is also the only way to reach the in-memory channel layer of the embedded default, which
exists inside one process. The control socket is the benchmark's alone; never route it in the
site.

Control protocol (JSON text frames):

* server → ``{"type": "ready", "pid", "layer", "layer_config", "renderers"}`` on connect;
* client → ``{"action": "publish", "run", "type", "rate", "start_at", "plan": [[n, branch], …]}``:
  event ``n`` is published at wall time ``start_at + n / rate`` to ``branch``, with
  ``data.bench = {"run", "n", "sent"}`` (``sent``: ``time.time()`` just before ``publish``);
* server → ``{"type": "published", "attempted", "delivered", "errors", "lag_max"}`` once every
  publish of the plan returned: ``delivered`` counts the events the channel layer accepted
  (``event_published``), ``lag_max`` how late (s) the last publish started against its schedule.
"""

from __future__ import annotations

import asyncio
import collections
import json
import os
import threading
import time
from typing import Any

from asgiref.sync import sync_to_async
from django.db import close_old_connections, transaction

from bench._ws_protocol import CONTROL_PATH, EVENT_TYPE, event_data
from config.asgi import application as site
from realtime.events import Event
from realtime.publish import event_published, publish

_lock = threading.Lock()
_delivered: collections.Counter[str] = collections.Counter()


def _count_delivery(sender: Any, event: Event, **kwargs: Any) -> None:
    bench = event.data.get("bench")
    if isinstance(bench, dict):
        with _lock:
            _delivered[str(bench.get("run"))] += 1


event_published.connect(_count_delivery, weak=False, dispatch_uid="bench-ws-fanout")


def _publish_one(event_type: str, branch_id: int, run: str, n: int) -> None:
    data = event_data(run, n)
    try:
        with transaction.atomic():
            publish(event_type, branch_id=branch_id, data=data)
    finally:
        # What the end of a request does: hand the connection back to the pool.
        close_old_connections()


def describe_layer() -> dict[str, Any]:
    from channels.layers import get_channel_layer

    from realtime.renderers import renderers_for

    layer = get_channel_layer()
    config = {
        name: getattr(layer, name, None) for name in ("capacity", "expiry", "group_expiry") if hasattr(layer, name)
    }
    renderers = {EVENT_TYPE: [f"{r.__module__}.{r.__qualname__}" for r in renderers_for(EVENT_TYPE)]}
    return {"layer": type(layer).__name__, "layer_config": config, "renderers": renderers}


async def _run_plan(command: dict[str, Any]) -> dict[str, Any]:
    run, rate, start_at = str(command["run"]), float(command["rate"]), float(command["start_at"])
    event_type = str(command.get("type", EVENT_TYPE))
    with _lock:
        before = _delivered[run]
    publisher = sync_to_async(_publish_one, thread_sensitive=False)
    pending = []
    lag_max = 0.0
    for n, branch in command["plan"]:
        due = start_at + n / rate
        delay = due - time.time()
        if delay > 0:
            await asyncio.sleep(delay)
        lag_max = max(lag_max, time.time() - due)
        # Not awaited one by one: requests publish concurrently, and a slow publish must not
        # push the schedule back.
        pending.append(asyncio.ensure_future(publisher(event_type, int(branch), run, int(n))))
    results = await asyncio.gather(*pending, return_exceptions=True)
    errors = [repr(r) for r in results if isinstance(r, BaseException)]
    with _lock:
        delivered = _delivered[run] - before
    return {
        "type": "published",
        "attempted": len(pending),
        "delivered": delivered,
        "errors": errors[:5],
        "lag_max": lag_max,
    }


async def control(scope: dict, receive: Any, send: Any) -> None:
    message = await receive()
    if message["type"] != "websocket.connect":
        return
    await send({"type": "websocket.accept"})

    async def reply(payload: dict[str, Any]) -> None:
        await send({"type": "websocket.send", "text": json.dumps(payload)})

    await reply({"type": "ready", "pid": os.getpid(), **await sync_to_async(describe_layer)()})
    while True:
        message = await receive()
        if message["type"] == "websocket.disconnect":
            return
        if message["type"] != "websocket.receive" or not message.get("text"):
            continue
        command = json.loads(message["text"])
        if command.get("action") == "publish":
            await reply(await _run_plan(command))
        else:
            await reply({"type": "error", "detail": f"unknown action {command.get('action')!r}"})


def _without_dispatch_db_hop() -> None:
    """The benchmark's what-if (``--what-if``), never the site's behaviour: Channels 4.2+ runs
    ``close_old_connections`` in the sync thread before EVERY message a consumer handles, so each
    event costs each connection a round trip through that one thread. ``crm_event`` touches the
    database only through ``database_sync_to_async`` (renderers), which closes old connections
    itself; this measures what skipping the hop for ``crm.event`` would save."""
    from channels.consumer import get_handler_name
    from channels.db import aclose_old_connections

    from consumers.base import StreamConsumer

    async def dispatch(self: StreamConsumer, message: dict) -> None:
        handler = getattr(self, get_handler_name(message), None)
        if handler is None:
            raise ValueError(f"No handler for message type {message['type']}")
        if message["type"] != "crm.event":
            await aclose_old_connections()
        await handler(message)

    StreamConsumer.dispatch = dispatch


if os.environ.get("CRM_BENCH_NO_DISPATCH_DB_HOP") == "1":
    _without_dispatch_db_hop()


async def application(scope: dict, receive: Any, send: Any) -> None:
    if scope["type"] == "websocket" and scope.get("path") == CONTROL_PATH:
        await control(scope, receive, send)
    else:
        await site(scope, receive, send)
