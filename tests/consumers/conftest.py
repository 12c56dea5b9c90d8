"""A fresh channel layer for every live-stream test."""

from __future__ import annotations

import pytest

from realtime import layer as layer_module
from tests.channel_layers import delete_layer_keys, with_own_prefix


@pytest.fixture(autouse=True)
def fresh_layer(settings):
    """Each test gets its own channel layer (a prefix of its own on a shared Redis) and starts
    with no lost events on record."""
    layers, prefix = with_own_prefix(settings.CHANNEL_LAYERS)
    settings.CHANNEL_LAYERS = layers
    layer_module._lost_events = False
    yield
    layer_module._lost_events = False
    if prefix is not None:
        delete_layer_keys(layers, prefix)
