"""The project's Redis channel layer (realtime/redis_layer.py) on a real Redis."""

from __future__ import annotations

import asyncio
import os
import random
import uuid

import pytest
import pytest_asyncio

from realtime.layer import queued_for_process
from realtime.redis_layer import RedisChannelLayer

pytestmark = [
    pytest.mark.asyncio,
    pytest.mark.skipif(not os.environ.get("REDIS_URL"), reason="needs Redis: set REDIS_URL"),
]


@pytest_asyncio.fixture
async def layer():
    layer = RedisChannelLayer(hosts=[{"address": os.environ["REDIS_URL"]}], prefix=f"crmtest-{uuid.uuid4().hex[:12]}")
    yield layer
    await layer.flush()


async def test_a_blocking_receive_ends_well_inside_the_socket_timeout(layer):
    """An empty wait of 5 s in Redis raced redis-py's 5 s read timeout: a receive that waits
    longer than that must neither fail nor miss what arrives afterwards."""
    channel = await layer.new_channel()
    receiving = asyncio.create_task(layer.receive(channel))
    await asyncio.sleep(7)
    assert not receiving.done(), receiving.exception() if receiving.done() else None
    await layer.send(channel, {"type": "test.after"})
    assert (await asyncio.wait_for(receiving, 3))["type"] == "test.after"


async def test_cancelled_receives_always_end(layer):
    """Streams share one blocking pop per process; closing sockets cancel their receives at every
    moment of it. Each must end, or the process's receive lock stays taken and an event loop
    that shuts down waits for ever."""
    random.seed(4)
    for _ in range(60):
        first, second = await layer.new_channel(), await layer.new_channel()
        tasks = [asyncio.create_task(layer.receive(first)), asyncio.create_task(layer.receive(second))]
        random.shuffle(tasks)
        await asyncio.sleep(random.uniform(0, 0.05))
        tasks[0].cancel()
        await asyncio.sleep(random.uniform(0, 0.01))
        tasks[1].cancel()
        _done, pending = await asyncio.wait(tasks, timeout=4)
        assert not pending, "a cancelled receive kept waiting"

    # And the layer still delivers afterwards.
    channel = await layer.new_channel()
    await layer.send(channel, {"type": "test.still"})
    assert (await asyncio.wait_for(layer.receive(channel), 3))["type"] == "test.still"


async def test_the_process_backlog_counts_what_is_queued_for_it_until_it_is_received(layer):
    """The live watch asks how far behind the process is (realtime/layer.py): messages still in
    Redis for any of its channels, and those it popped and buffered for a stream."""
    first, second = await layer.new_channel(), await layer.new_channel()
    assert await queued_for_process(layer) == 0
    for number in range(3):
        await layer.send(first, {"type": "test.one", "n": number})
    await layer.send(second, {"type": "test.two"})
    assert await queued_for_process(layer) == 4
    # Receiving for the second channel pops the first's messages into its buffer on the way.
    assert (await asyncio.wait_for(layer.receive(second), 3))["type"] == "test.two"
    assert await queued_for_process(layer) == 3
    for _ in range(3):
        await asyncio.wait_for(layer.receive(first), 3)
    assert await queued_for_process(layer) == 0
