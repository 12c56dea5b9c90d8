"""A fresh channel layer for every live-stream test."""

from __future__ import annotations

import uuid
from copy import deepcopy

import pytest
from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer

from realtime import layer as layer_module


@pytest.fixture(autouse=True)
def fresh_layer(settings):
    """Each test gets its own channel layer (a prefix of its own on a shared Redis) and starts
    with no lost events on record."""
    layers = deepcopy(settings.CHANNEL_LAYERS)
    if "redis" in layers["default"]["BACKEND"].lower():
        layers["default"].setdefault("CONFIG", {})["prefix"] = f"crmtest-{uuid.uuid4().hex[:12]}"
    settings.CHANNEL_LAYERS = layers
    layer_module._lost_events = False
    yield
    layer_module._lost_events = False
    if "redis" in layers["default"]["BACKEND"].lower():
        # Leave the shared Redis as we found it: groups, sequence numbers, the epoch.
        async_to_sync(get_channel_layer().flush)()
