"""The Redis channel layer, with a blocking receive that ends well inside the socket timeout and
that a cancellation always ends.

* channels-redis waits for a message with ``BZPOPMIN … 5`` and loops; redis-py 8 reads every
  reply with a 5 s ``socket_timeout`` by default. Redis answers an empty wait after 5 s, so the
  reply and the client's timeout arrive together, and now and then the read fails with "Timeout
  reading". The receive then raises, every stream of the process is told the layer is down and
  must resync, and a message popped in that instant is lost. Waiting 2 s in Redis leaves 3 s of
  margin without giving up the socket timeout, which is what detects a Redis that stopped
  answering. A wait that ends empty costs one round trip.
* A cancellation that lands at the wrong moment of a blocking read is lost inside redis-py: the
  pop comes back empty, and channels-redis waits again, and again, holding the process's receive
  lock. A stream whose socket closed then never finishes, and neither does a shutting-down event
  loop. So an empty (or any) pop of a task that was asked to stop ends it. A message popped at
  that moment is safe: it sits in the channel's backup queue, which the next receive puts back.
"""

from __future__ import annotations

import asyncio

from channels_redis.core import RedisChannelLayer as BaseRedisChannelLayer


class RedisChannelLayer(BaseRedisChannelLayer):
    brpop_timeout = 2

    async def _brpop_with_clean(self, index: int, channel: str, timeout: float) -> bytes | None:
        member = await super()._brpop_with_clean(index, channel, timeout)
        task = asyncio.current_task()
        if task is not None and task.cancelling():
            raise asyncio.CancelledError
        return member
