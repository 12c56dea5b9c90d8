"""The Redis cache shares its database with the channel layer: clearing it must not touch the
layer's groups, queued messages or sequence numbers (crm_core/common/cache.py)."""

from __future__ import annotations

import os
import uuid

import pytest
import redis

from crm_core.common.cache import DegradingRedisCache

pytestmark = pytest.mark.skipif(not os.environ.get("REDIS_URL"), reason="needs Redis: set REDIS_URL")


@pytest.fixture
def space():
    """A key space of its own on the shared Redis, removed afterwards."""
    prefix = f"crmtest-{uuid.uuid4().hex[:12]}"
    client = redis.Redis.from_url(os.environ["REDIS_URL"])
    yield prefix, client
    keys = list(client.scan_iter(match=f"{prefix}*"))
    if keys:
        client.delete(*keys)
    client.close()


def test_clearing_the_cache_leaves_the_channel_layers_keys_alone(space):
    prefix, client = space
    cache = DegradingRedisCache(os.environ["REDIS_URL"], {"KEY_PREFIX": f"{prefix}:cache"})
    for number in range(1_500):  # more than one SCAN batch
        cache.set(f"figure-{number}", number)
    cache.set("ticket", "abc", version=2)
    # What channels-redis and realtime/layer.py keep beside it, under the same project prefix.
    layer_keys = [f"{prefix}:group:b1.orders", f"{prefix}:gseq:b1.orders", f"{prefix}:epoch"]
    for key in layer_keys:
        client.set(key, "1")
    client.zadd(f"{prefix}specific.abc!", {"queued message": 1})

    assert cache.clear() is True
    assert cache.get("figure-7") is None and cache.get("ticket", version=2) is None
    assert not list(client.scan_iter(match=f"{prefix}:cache:*"))
    assert all(client.exists(key) for key in layer_keys)
    assert client.zcard(f"{prefix}specific.abc!") == 1
