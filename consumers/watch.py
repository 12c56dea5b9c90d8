"""One watch per process (per event loop) over the channel layer, for every live consumer in it.

Every ``CRM_LIVE_CHECK_SECONDS`` it reads the layer's epoch (realtime/layer.py):

* the read fails → the layer is down: each consumer tells its client ``{"type": "status",
  "live": false}`` (the page shows "live updates paused"); the pages and forms keep working;
* it answers again, or the epoch changed (Redis restarted empty and lost every group, or a
  process that lost events bumped it) → each consumer re-joins its groups, re-baselines its
  gap detector and sends ``{"type": "status", "live": true}`` and ``{"type": "resync"}``;
* otherwise it reads the current sequence number of every group its consumers are in (one
  ``MGET`` per Redis shard for the whole process) and how many messages are still queued for the
  process (one ``ZCARD``), and each consumer resyncs its client if a message has been missing for
  longer than the grace period — not counting, while the process is behind, those that may be
  queued (realtime/gaps.py); one whose joins failed retries them.

Live push thus resumes by itself when Redis comes back, without the page reconnecting.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import TYPE_CHECKING, Any

from django.conf import settings

from consumers.hub import hub_dispatching
from realtime.layer import current_group_seqs, layer_epoch, queued_for_process, settle_lost_events

if TYPE_CHECKING:
    from consumers.base import StreamConsumer

logger = logging.getLogger(__name__)

_watches: dict[tuple[int, int], LayerWatch] = {}


def check_interval() -> float:
    return float(getattr(settings, "CRM_LIVE_CHECK_SECONDS", 5))


def read_timeout() -> float:
    """How long one read of the layer may take before the layer counts as down: an interval, but
    never less than a second, which a busy Redis may need without being down."""
    return max(check_interval(), 1.0)


class LayerWatch:
    def __init__(self, layer: Any, loop: asyncio.AbstractEventLoop) -> None:
        self.layer = layer
        self.loop = loop
        self.consumers: set[StreamConsumer] = set()
        self.up = True
        self.epoch: str | None = None
        self._task: asyncio.Task | None = None
        self._wake = asyncio.Event()

    async def register(self, consumer: StreamConsumer) -> None:
        self.consumers.add(consumer)
        if self.epoch is None and self.up:
            try:
                self.epoch = await asyncio.wait_for(layer_epoch(self.layer), read_timeout())
            except Exception:
                self.report_failure()
        if self._task is None or self._task.done():
            self._task = self.loop.create_task(self._run(), name="crm-live-watch")

    def unregister(self, consumer: StreamConsumer) -> None:
        self.consumers.discard(consumer)

    def report_failure(self) -> None:
        """A consumer's receive or join failed: check now rather than at the next tick."""
        self._wake.set()

    async def _run(self) -> None:
        try:
            while self.consumers:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._wake.wait(), check_interval())
                self._wake.clear()
                await self.tick()
                # asyncio.wait_for on Python 3.11 can swallow a cancellation that lands as its
                # inner wait completes; without this the loop would outlive its event loop.
                task = asyncio.current_task()
                if task is not None and task.cancelling():
                    raise asyncio.CancelledError
        except asyncio.CancelledError:
            raise
        except Exception:
            logger.exception("The live watch stopped")
        finally:
            _watches.pop((id(self.loop), id(self.layer)), None)

    async def tick(self) -> None:
        consumers = list(self.consumers)
        try:
            await settle_lost_events(self.layer)
            epoch = await asyncio.wait_for(layer_epoch(self.layer), read_timeout())
        except Exception as exc:
            if self.up:
                logger.warning("Channel layer unreachable, live updates paused: %s", exc)
                self.up = False
                for consumer in consumers:
                    await consumer.layer_down()
            return
        lost_state = not self.up or (self.epoch is not None and epoch != self.epoch)
        if lost_state:
            logger.warning("Channel layer back%s: re-joining %s streams", "" if self.up else " up", len(consumers))
        self.up = True
        self.epoch = epoch
        current: dict[str, int] = {}
        queued: bool | None = None
        if not lost_state:
            watched = sorted({group for consumer in consumers for group in consumer.gaps.groups()})
            try:
                current = await asyncio.wait_for(current_group_seqs(self.layer, watched), read_timeout())
                queued = await asyncio.wait_for(self.queued(), read_timeout())
            except Exception as exc:
                logger.info("Could not read group sequence numbers: %s", exc)
        for consumer in consumers:
            if lost_state or consumer.needs_rejoin:
                await consumer.layer_recovered()
            else:
                await consumer.check(current, queued)

    async def queued(self) -> bool:
        """Whether messages for this process are still on their way to its streams."""
        return hub_dispatching(self.layer) or await queued_for_process(self.layer) > 0


def watch_for(layer: Any) -> LayerWatch:
    loop = asyncio.get_running_loop()
    key = (id(loop), id(layer))
    watch = _watches.get(key)
    if watch is None or watch.layer is not layer or watch.loop is not loop:
        watch = _watches[key] = LayerWatch(layer, loop)
    return watch
