"""What the live streams need from the channel layer beyond send and groups.

* **Group sequence numbers.** Every message published to a group carries ``gseq``, the group's
  next number (an ``INCR`` next to the group in Redis, a counter in the in-memory layer). A
  consumer that sees a number skipped knows the layer dropped something on the way — a full
  channel (``capacity``), an expired message (``expiry``), a send that failed half-way — and
  tells its client to resync. Event ids cannot serve: they are global, so a user who may not
  see most events sees gaps all the time.
* **The layer's epoch.** A token kept in Redis. If Redis restarts empty (or is flushed), the
  token is gone, and so are the groups every consumer joined: a process that finds the token
  changed re-joins its consumers' groups and tells their clients to resync. A process that
  failed to publish (Redis down) bumps the token once Redis is back, so every process learns
  that events were lost, not only the one that lost them.

Both rely on channels-redis internals that have been stable since 4.0 (``connection(index)``,
``consistent_hash``, ``prefix``, ``group_expiry``); any other layer simply gets no sequence
numbers and a constant epoch.
"""

from __future__ import annotations

import collections
import threading
import time
import uuid
from typing import Any

_MEMORY_EPOCH_GROUP = "crm-epoch"
_lost_lock = threading.Lock()
_lost_events = False


def _is_redis(layer: Any) -> bool:
    return all(hasattr(layer, name) for name in ("connection", "consistent_hash", "prefix", "ring_size"))


def _seq_key(layer: Any, group: str) -> str:
    return f"{layer.prefix}:gseq:{group}"


def _epoch_key(layer: Any) -> str:
    return f"{layer.prefix}:epoch"


def _local_seqs(layer: Any) -> collections.Counter:
    seqs = getattr(layer, "_crm_group_seqs", None)
    if seqs is None:
        seqs = collections.Counter()
        layer._crm_group_seqs = seqs
    return seqs


def _by_shard(layer: Any, groups: list[str]) -> dict[int, list[str]]:
    shards: dict[int, list[str]] = collections.defaultdict(list)
    for group in groups:
        shards[layer.consistent_hash(group)].append(group)
    return shards


async def next_group_seqs(layer: Any, groups: list[str]) -> dict[str, int]:
    """Draw the next sequence number of each group (one round trip per Redis shard)."""
    if not groups:
        return {}
    if _is_redis(layer):
        result: dict[str, int] = {}
        for index, names in _by_shard(layer, groups).items():
            pipe = layer.connection(index).pipeline(transaction=False)
            for group in names:
                pipe.incr(_seq_key(layer, group))
                pipe.expire(_seq_key(layer, group), int(layer.group_expiry))
            replies = await pipe.execute()
            result.update({group: int(value) for group, value in zip(names, replies[::2], strict=True)})
        return result
    if hasattr(layer, "groups"):
        seqs = _local_seqs(layer)
        for group in groups:
            seqs[group] += 1
        return {group: seqs[group] for group in groups}
    return {}


async def current_group_seqs(layer: Any, groups: list[str]) -> dict[str, int]:
    """The last number drawn for each group (0 if none), without drawing."""
    if not groups:
        return {}
    if _is_redis(layer):
        result: dict[str, int] = {}
        for index, names in _by_shard(layer, groups).items():
            values = await layer.connection(index).mget([_seq_key(layer, group) for group in names])
            result.update({group: int(value or 0) for group, value in zip(names, values, strict=True)})
        return result
    if hasattr(layer, "groups"):
        seqs = _local_seqs(layer)
        return {group: seqs[group] for group in groups}
    return {}


async def queued_for_process(layer: Any) -> int:
    """How many messages addressed to this process's channels have not been received yet: those
    still in Redis (channels-redis keeps one queue per process for them) and those it popped and
    buffered. A number in that backlog is late, not lost."""
    if _is_redis(layer):
        local = f"specific.{layer.client_prefix}!"  # what new_channel() names every channel here
        waiting = await layer.connection(layer.consistent_hash(local)).zcard(layer.prefix + local)
        return int(waiting) + sum(queue.qsize() for queue in list(layer.receive_buffer.values()))
    channels = getattr(layer, "channels", None)
    if isinstance(channels, dict):
        return sum(queue.qsize() for queue in list(channels.values()))
    return 0


async def layer_epoch(layer: Any) -> str:
    """A token that changes when the layer lost its state (or someone bumped it). Raises if
    the layer is unreachable."""
    if _is_redis(layer):
        tokens = []
        for index in range(layer.ring_size):
            pipe = layer.connection(index).pipeline(transaction=False)
            pipe.set(_epoch_key(layer), uuid.uuid4().hex, nx=True)
            pipe.get(_epoch_key(layer))
            _created, token = await pipe.execute()
            tokens.append(token.decode() if isinstance(token, bytes) else str(token))
        return "|".join(tokens)
    groups = getattr(layer, "groups", None)
    if isinstance(groups, dict):
        # The in-memory layer keeps the token as a pseudo-group beside the real ones: emptying
        # the groups table (what a restarted Redis amounts to) loses it too.
        entry = groups.setdefault(_MEMORY_EPOCH_GROUP, {})
        if not entry:
            entry[uuid.uuid4().hex] = time.time()
        token = next(iter(entry))
        entry[token] = time.time()  # keep it clear of the layer's group expiry
        return token
    return "constant"


async def bump_epoch(layer: Any) -> None:
    """Tell every process that events were lost: their consumers resync their clients."""
    if _is_redis(layer):
        for index in range(layer.ring_size):
            await layer.connection(index).set(_epoch_key(layer), uuid.uuid4().hex)
    elif isinstance(getattr(layer, "groups", None), dict):
        layer.groups[_MEMORY_EPOCH_GROUP] = {uuid.uuid4().hex: time.time()}


def note_lost_events() -> None:
    """A publish failed: some clients missed an event. Settled by :func:`settle_lost_events`."""
    global _lost_events
    with _lost_lock:
        _lost_events = True


def lost_events_pending() -> bool:
    return _lost_events


async def settle_lost_events(layer: Any) -> None:
    """If this process lost events, bump the epoch now that the layer answers again."""
    global _lost_events
    if not _lost_events:
        return
    await bump_epoch(layer)
    with _lost_lock:
        _lost_events = False
