"""One channel-layer membership per process for a board, whatever the number of its streams."""

from __future__ import annotations

import os

import pytest
from channels.layers import get_channel_layer

from tests.consumers.helpers import open_live, publish_now
from tests.consumers.test_resilience import make_people

pytestmark = [pytest.mark.asyncio, pytest.mark.django_db(transaction=True)]


def _members(layer, group: str) -> set[str]:
    return set(getattr(layer, "groups", {}).get(group, {}))


@pytest.mark.skipif(bool(os.environ.get("REDIS_URL")), reason="reads the in-memory layer's groups")
async def test_three_streams_on_one_board_are_one_member_and_all_hear_the_event():
    branch, sales, _ = await make_people()
    clients = [await open_live(sales) for _ in range(3)]
    for client in clients:
        await client.subscribe("orders.board")
    layer = get_channel_layer()
    group = f"b{branch.pk}.orders"
    assert len(_members(layer, group)) == 1  # the process's hub, not three sockets

    await publish_now("order.created", branch_id=branch.pk, data={"order": 5})
    for client in clients:
        assert (await client.receive())["data"]["order"] == 5

    await clients[0].close()
    await clients[1].close()
    assert len(_members(layer, group)) == 1  # one stream still listens
    await clients[2].close()
    assert _members(layer, group) == set()  # the last one leaving takes the membership away
