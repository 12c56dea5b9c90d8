"""The WebSocket fan-out benchmark in smoke mode: CI runs it on every change, on the embedded
default (one Daphne process on the in-memory layer, and the bare ceiling server) and on
PostgreSQL + Redis (also two Daphne processes sharing the Redis layer).

Real server processes and real sockets: 20 signed-in dispatchers (18 of branch A, 2 of branch B)
on /ws/live/, each subscribed to its orders board, while 60 events are published through
``realtime.publish`` inside the server. Nothing here is timed against a threshold; the figures of
the full run live in docs/PERFORMANCE.md.
"""

from __future__ import annotations

import pytest
from django.conf import settings

from bench import ws_fanout

pytestmark = pytest.mark.django_db(transaction=True)


def test_every_event_reaches_every_board_of_its_branch_and_no_other():
    lines: list[str] = []

    outcomes = ws_fanout.run(smoke=True, log=lines.append)

    expected = ["daphne-1", "daphne-2", "bare"] if settings.REDIS_URL else ["daphne-1", "bare"]
    assert [o.scenario.key for o in outcomes] == expected, lines
    events = round(ws_fanout.RATE * ws_fanout.SMOKE_SECONDS)
    for o in outcomes:
        label = f"{o.scenario.label}: {'; '.join(o.problems)}\n" + "\n".join(lines)
        assert o.ok, label
        assert o.connected == o.scenario.clients and not o.failed, label
        # Both branches had events: every 10th went to branch B.
        assert sorted(o.events.values()) == [events // ws_fanout.B_EVERY, events - events // ws_fanout.B_EVERY]
        assert o.expected > 0 and o.delivered == o.expected, label
        assert o.foreign == 0 and o.duplicates == 0 and o.lost == 0, label
        # Frames were numbered 1, 2, 3… on every connection (a resync may still happen on a busy
        # machine: a frame late by more than the grace period counts as missing).
        assert o.seq_jumps == 0, label
        # Every frame's latency was recorded: one per delivered frame.
        assert len(o.latencies_ms) == o.delivered
        assert len(o.server_cpu_s) == o.scenario.processes
    daphne = outcomes[0]
    # The Daphne process served production's channel layer, whichever is configured.
    assert daphne.layer == ("RedisChannelLayer" if settings.REDIS_URL else "InMemoryChannelLayer")
    assert daphne.layer_config["capacity"] == settings.CRM_CHANNEL_CAPACITY
    table = ws_fanout.table(outcomes)
    assert "1 Daphne" in table and "bare websockets" in table
    assert any(line.startswith("Daphne+Channels : bare websockets") for line in ws_fanout.details(outcomes))


def test_profile_samples_are_attributed_to_the_innermost_known_frame():
    raw = "\n".join(
        [
            "run (asyncio/base_events.py:1);crm_event (consumers/base.py:330);"
            "user_may_receive (realtime/audiences.py:150) 3",
            "run (asyncio/base_events.py:1);crm_event (consumers/base.py:330);_send_frame (consumers/base.py:180);"
            "dumps (json/__init__.py:238);encode (json/encoder.py:200) 5",
            "run (asyncio/base_events.py:1);receive (channels_redis/core.py:300) 2",
            "<module> (x.py:1) 0",
        ]
    )

    shares, inclusive, samples = ws_fanout.classify(raw)

    assert samples == 10
    assert dict(shares) == {
        "JSON encode/decode": 50.0,
        "scope check (user_may_receive)": 30.0,
        "channels-redis + redis-py + msgpack": 20.0,
    }
    crm_event = next(name for name, mark in ws_fanout.INCLUSIVE if mark == "crm_event (")
    assert dict(inclusive)[crm_event] == 80.0


def test_percentiles_are_nearest_rank():
    ordered = [float(i) for i in range(1, 101)]
    assert ws_fanout.nearest_rank(ordered, 0.5) == 50.0
    assert ws_fanout.nearest_rank(ordered, 0.99) == 99.0
    assert ws_fanout.nearest_rank(ordered, 1.0) == 100.0
