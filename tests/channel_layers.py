"""Test channel layers on a shared Redis: each under a prefix of its own, removed afterwards."""

from __future__ import annotations

import uuid
from copy import deepcopy
from typing import Any

import redis


def with_own_prefix(layers: dict[str, Any]) -> tuple[dict[str, Any], str | None]:
    """A copy of CHANNEL_LAYERS whose Redis layer has a prefix of its own (None for the
    in-memory layer), so runs sharing one Redis never hear each other."""
    layers = deepcopy(layers)
    if "redis" not in layers["default"]["BACKEND"].lower():
        return layers, None
    prefix = f"crmtest-{uuid.uuid4().hex[:12]}"
    layers["default"].setdefault("CONFIG", {})["prefix"] = prefix
    return layers, prefix


def delete_layer_keys(layers: dict[str, Any], prefix: str) -> None:
    """Leave the shared Redis as it was found: the layer's groups, messages, sequence numbers and
    epoch. With a connection of its own: ``layer.flush()`` also closes the layer's pools, which
    belong to the test's event loop, still running its live hub and watch at this point; closing
    them from another thread broke a receive in the middle of a read and could hang the loop's
    teardown."""
    address = layers["default"]["CONFIG"]["hosts"][0]["address"]
    client = redis.Redis.from_url(address)
    try:
        keys = list(client.scan_iter(match=f"{prefix}*", count=1000))
        for start in range(0, len(keys), 1000):
            client.delete(*keys[start : start + 1000])
    finally:
        client.close()
