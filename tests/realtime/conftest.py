"""Every test starts with no lost events on record (a failed publish leaves one behind)."""

from __future__ import annotations

import pytest

from realtime import layer as layer_module


@pytest.fixture(autouse=True)
def no_lost_events():
    layer_module._lost_events = False
    yield
    layer_module._lost_events = False
