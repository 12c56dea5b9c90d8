"""The ceiling for the fan-out benchmark: a bare ``websockets`` server on one asyncio loop that
speaks just enough of /ws/live/ for the benchmark's clients (``hello``, ``subscribe`` →
``subscribed``, ``ping`` → ``pong``) and broadcasts the same event frames, numbered per
connection (``seq``) and JSON-encoded per connection as the real consumer does them, with
nothing else: no Django, no channel layer, no session, no scope check.

    python -m bench._ws_bare --port 8765

A client says its branch in the URL (``/ws/live/?branch=7``), since there is no session. The
control socket (``/bench/control/``) takes the same ``publish`` command as bench/_ws_app.py.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import json
import os
import resource
import time
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qs, urlparse

from websockets.asyncio.server import ServerConnection, broadcast, serve

from bench._ws_protocol import CONTROL_PATH, EVENT_TYPE, event_data

_event_ids = itertools.count(1)


class Peer:
    __slots__ = ("connection", "seq")

    def __init__(self, connection: ServerConnection) -> None:
        self.connection = connection
        self.seq = 0

    def send(self, frame: dict[str, Any]) -> None:
        self.seq += 1
        frame["seq"] = self.seq
        # Writes into the transport at once, as Daphne does; no per-connection await.
        broadcast([self.connection], json.dumps(frame, ensure_ascii=False, separators=(",", ":")))


boards: dict[int, set[Peer]] = {}


def publish(event_type: str, branch: int, run: str, n: int) -> None:
    data = event_data(run, n)
    event = {
        "type": event_type,
        "id": next(_event_ids),
        "at": datetime.now(UTC).isoformat(),
        "branch": branch,
        "data": data,
    }
    for peer in list(boards.get(branch, ())):
        peer.send(dict(event))


async def _run_plan(command: dict[str, Any]) -> dict[str, Any]:
    run, rate, start_at = str(command["run"]), float(command["rate"]), float(command["start_at"])
    event_type = str(command.get("type", EVENT_TYPE))
    lag_max = 0.0
    count = 0
    for n, branch in command["plan"]:
        due = start_at + n / rate
        delay = due - time.time()
        if delay > 0:
            await asyncio.sleep(delay)
        lag_max = max(lag_max, time.time() - due)
        publish(event_type, int(branch), run, int(n))
        count += 1
    return {"type": "published", "attempted": count, "delivered": count, "errors": [], "lag_max": lag_max}


async def control(connection: ServerConnection) -> None:
    await connection.send(json.dumps({"type": "ready", "pid": os.getpid(), "layer": "none", "renderers": {}}))
    async for raw in connection:
        command = json.loads(raw)
        if command.get("action") == "publish":
            await connection.send(json.dumps(await _run_plan(command)))


async def handler(connection: ServerConnection) -> None:
    url = urlparse(connection.request.path)
    if url.path == CONTROL_PATH:
        await control(connection)
        return
    branch = int(parse_qs(url.query).get("branch", ["0"])[0])
    peer = Peer(connection)
    peer.send({"type": "hello", "last_event_id": 0, "live": True})
    try:
        async for raw in connection:
            try:
                content = json.loads(raw)
            except ValueError:
                peer.send({"type": "error", "code": "bad_request"})
                continue
            action = content.get("action") if isinstance(content, dict) else None
            if action == "subscribe":
                boards.setdefault(branch, set()).add(peer)
                peer.send({"type": "subscribed", "topic": content.get("topic"), "last_event_id": 0})
            elif action == "ping":
                peer.send({"type": "pong"})
            else:
                peer.send({"type": "error", "code": "bad_request"})
    finally:
        boards.get(branch, set()).discard(peer)


async def main(port: int) -> None:
    # Same keepalive as Daphne's defaults; no compression (Daphne negotiates none either).
    async with serve(
        handler, "127.0.0.1", port, compression=None, ping_interval=20, ping_timeout=30, max_queue=None
    ) as server:
        await server.serve_forever()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--port", type=int, required=True)
    options = parser.parse_args()
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    asyncio.run(main(options.port))
