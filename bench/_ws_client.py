"""The fan-out benchmark's browsers: N WebSocket connections from one asyncio loop (the
``websockets`` library), each signed in with its own session cookie and an allowed Origin,
subscribed to one board, recording every frame it gets.

Latency of an event at a client is ``time.time()`` when the frame was read minus
``data.bench.sent`` (stamped by the server just before it called ``publish``): both clocks are
this machine's. Reading includes this loop's own queueing: the client shares the CPU with the
servers, so a busy client adds to what it measures.
"""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from array import array
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from websockets.asyncio.client import ClientConnection, connect

from bench._ws_protocol import CONTROL_PATH, TOPIC

CONNECT_CONCURRENCY = 64
PUBLISH_GRACE = 60.0  # seconds past the last scheduled publish


@dataclass
class Browser:
    index: int
    url: str  # ws://host:port/ws/live/...
    origin: str
    branch: int
    cookie: str | None
    connection: ClientConnection | None = None
    reader: asyncio.Task | None = None
    error: str = ""
    # n → how many times that event arrived (0, 1, or more: a duplicate)
    seen: dict[int, int] = field(default_factory=dict)
    foreign: int = 0  # events of another branch than the client's
    resyncs: int = 0
    resync_reasons: Counter = field(default_factory=Counter)
    paused: bool = False  # the server said "live: false" (hello or status): it could not join its groups
    other_frames: int = 0
    last_seq: int = 0
    seq_jumps: int = 0


@dataclass
class Fleet:
    browsers: list[Browser]
    latencies: array = field(default_factory=lambda: array("d"))
    run: str = field(default_factory=lambda: uuid.uuid4().hex[:12])
    connect_seconds: float = 0.0
    last_frame_at: float = 0.0
    frames: int = 0

    @property
    def connected(self) -> list[Browser]:
        return [b for b in self.browsers if b.connection is not None and not b.error]

    @property
    def failed(self) -> list[Browser]:
        return [b for b in self.browsers if b.error]


async def _recv_json(connection: ClientConnection, timeout: float) -> dict[str, Any]:
    return json.loads(await asyncio.wait_for(connection.recv(), timeout))


async def _open(browser: Browser, timeout: float) -> None:
    headers = {"Cookie": browser.cookie} if browser.cookie else None
    connection = await connect(
        browser.url,
        origin=browser.origin,
        additional_headers=headers,
        proxy=None,
        open_timeout=timeout,
        # Like a browser: no protocol-level pings of its own (live.js pings in the protocol every
        # 25 s), no compression (Daphne does not negotiate it), and it reads whatever comes.
        ping_interval=None,
        compression=None,
        max_queue=None,
    )
    browser.connection = connection
    hello = await _recv_json(connection, timeout)
    if hello.get("type") != "hello":
        raise RuntimeError(f"first frame {hello!r}")
    browser.last_seq = hello.get("seq", 0)
    browser.paused = not hello.get("live", True)
    await connection.send(json.dumps({"action": "subscribe", "topic": TOPIC}))
    while True:
        answer = await _recv_json(connection, timeout)
        browser.last_seq = answer.get("seq", browser.last_seq)
        # A status or resync may come first (the server could not join the groups at once).
        if answer.get("type") == "status":
            browser.paused = browser.paused or not answer.get("live", True)
        elif answer.get("type") == "resync":
            browser.resyncs += 1
        elif answer.get("type") == "subscribed":
            return
        else:
            raise RuntimeError(f"subscribe answered {answer!r}")


async def connect_all(fleet: Fleet, *, timeout: float = 60, concurrency: int = CONNECT_CONCURRENCY) -> None:
    """Open every connection (``concurrency`` handshakes at a time), say hello, subscribe, and
    start reading. A browser that fails keeps its error; the others go on."""
    gate = asyncio.Semaphore(concurrency)

    async def one(browser: Browser) -> None:
        async with gate:
            try:
                await _open(browser, timeout)
            except Exception as exc:
                browser.error = f"{type(exc).__name__}: {exc}"[:200]
                return
        browser.reader = asyncio.create_task(_read(fleet, browser))

    began = time.monotonic()
    await asyncio.gather(*(one(b) for b in fleet.browsers))
    fleet.connect_seconds = time.monotonic() - began


async def _read(fleet: Fleet, browser: Browser) -> None:
    connection = browser.connection
    latencies = fleet.latencies
    seen = browser.seen
    loads = json.loads
    try:
        async for raw in connection:
            now = time.time()
            frame = loads(raw)
            seq = frame.get("seq", 0)
            if seq != browser.last_seq + 1:
                browser.seq_jumps += 1
            browser.last_seq = seq
            kind = frame.get("type", "")
            if "." not in kind:
                if kind == "resync":
                    browser.resyncs += 1
                    browser.resync_reasons[frame.get("reason", "")] += 1
                elif kind == "status" and not frame.get("live", True):
                    browser.paused = True
                else:
                    browser.other_frames += 1
                continue
            bench = frame["data"].get("bench")
            if not bench or bench.get("run") != fleet.run:
                browser.other_frames += 1
                continue
            if frame.get("branch") != browser.branch:
                browser.foreign += 1
            n = bench["n"]
            seen[n] = seen.get(n, 0) + 1
            latencies.append(now - bench["sent"])
            fleet.frames += 1
            fleet.last_frame_at = now
    except Exception as exc:
        if not browser.error:
            browser.error = f"reading: {type(exc).__name__}: {exc}"[:200]


def delivered(fleet: Fleet, expected: dict[int, set[int]]) -> int:
    return sum(len(expected.get(b.branch, set()) & b.seen.keys()) for b in fleet.connected)


async def wait_delivered(fleet: Fleet, expected: dict[int, set[int]], *, stall: float, cap: float) -> bool:
    """Until every connected browser has every event of its branch; or until no frame came for
    ``stall`` seconds; or ``cap`` seconds from now."""
    want = sum(len(expected.get(b.branch, ())) for b in fleet.connected)
    deadline = time.monotonic() + cap
    frames, progress = fleet.frames, time.monotonic()
    while time.monotonic() < deadline:
        if fleet.frames >= want and delivered(fleet, expected) >= want:
            return True
        if fleet.frames != frames:
            frames, progress = fleet.frames, time.monotonic()
        elif time.monotonic() - progress > stall:
            break
        await asyncio.sleep(0.1)
    return delivered(fleet, expected) >= want


async def close_all(fleet: Fleet) -> None:
    async def one(browser: Browser) -> None:
        if browser.connection is not None:
            try:
                await asyncio.wait_for(browser.connection.close(), 10)
            except Exception:
                browser.connection.transport.abort()
        if browser.reader is not None:
            browser.reader.cancel()

    gate = asyncio.Semaphore(CONNECT_CONCURRENCY * 4)

    async def gated(browser: Browser) -> None:
        async with gate:
            await one(browser)

    await asyncio.gather(*(gated(b) for b in fleet.browsers), return_exceptions=True)


class Control:
    """The control socket of one server process (bench/_ws_app.py or bench/_ws_bare.py)."""

    def __init__(self, base: str, origin: str) -> None:
        self.url = base + CONTROL_PATH
        self.origin = origin
        self.connection: ClientConnection | None = None
        self.ready: dict[str, Any] = {}

    async def open(self) -> dict[str, Any]:
        self.connection = await connect(
            self.url, origin=self.origin, proxy=None, open_timeout=30, ping_interval=None, compression=None
        )
        self.ready = await _recv_json(self.connection, 30)
        return self.ready

    async def publish(self, *, run: str, rate: float, start_at: float, plan: list[tuple[int, int]]) -> dict[str, Any]:
        assert self.connection is not None
        command = {"action": "publish", "run": run, "rate": rate, "start_at": start_at, "plan": plan}
        await self.connection.send(json.dumps(command))
        # Long enough for a saturated server to work through some backlog; a server that has not
        # finished publishing by then is reported, and what did arrive is still counted.
        timeout = max(plan[-1][0] / rate if plan else 0, 0) + PUBLISH_GRACE
        try:
            return await _recv_json(self.connection, timeout)
        except TimeoutError:
            return {"type": "timeout", "detail": f"publishing did not finish within {timeout:.0f} s"}

    async def close(self) -> None:
        if self.connection is not None:
            await self.connection.close()
