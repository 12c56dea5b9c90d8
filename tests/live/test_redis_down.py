"""Redis stops in the middle of the day, then comes back empty.

What a user notices, across two Daphne processes (A serves the HTTP requests, B the live page):
while Redis is down the page says live updates are paused, saving still works (HTTP 201) and the
notification it raises is stored; when Redis returns the same page — no reconnect, no reload — is
told to resync and hears the next change within seconds.
"""

from __future__ import annotations

import asyncio
import time
import uuid

import pytest
from channels.db import database_sync_to_async

from crm_core.accounts.models import Notification
from crm_core.inventory.models import StockLevel
from tests.live.helpers import PASSWORD, open_socket, session_cookie
from tests.live.helpers import make_team as _make_team

pytestmark = [pytest.mark.postgres, pytest.mark.redis, pytest.mark.asyncio, pytest.mark.django_db(transaction=True)]


async def access_token(daphne, user) -> str:
    status, body = await asyncio.to_thread(
        daphne.request, "POST", "/api/v1/auth/token/", {"username": user.username, "password": PASSWORD}
    )
    assert status == 200, (status, body)
    return body["access"]


async def issue(daphne, access: str, team, quantity: int) -> tuple[int, object]:
    return await asyncio.to_thread(
        daphne.request,
        "POST",
        "/api/v1/stock-movements/",
        {
            "kind": "issue",
            "product": team.product.pk,
            "warehouse": team.warehouse.pk,
            "quantity": str(quantity),
            "reference": "live-test",
        },
        {"Authorization": f"Bearer {access}", "Idempotency-Key": uuid.uuid4().hex},
    )


async def test_redis_down_then_back_empty(redis_server, daphnes):
    team = await database_sync_to_async(_make_team)()
    a, b = await asyncio.to_thread(daphnes, 2, redis_server.url)
    access = await access_token(a, team.storekeeper)
    cookie = await database_sync_to_async(session_cookie)(team.storekeeper)

    page = await open_socket(b.ws("/ws/live/"), origin=b.origin, cookie=cookie)
    assert (await page.subscribe("stock.board"))["type"] == "subscribed"
    assert (await page.subscribe("stock.alerts"))["type"] == "subscribed"

    # Everything works: a change through A shows on the page served by B.
    status, body = await issue(a, access, team, 10)
    assert status == 201, (status, body)
    await page.expect(lambda f: f["type"] == "stock.changed", timeout=10)

    # --- Redis stops --------------------------------------------------------------------------------
    stopped = time.monotonic()
    redis_server.stop()
    paused, paused_at = await page.expect(lambda f: f["type"] == "status", timeout=10)
    assert paused["live"] is False
    print(f"\npage told 'paused' {paused_at - stopped:.2f} s after Redis stopped")

    # Saving still works, and the stock alert's notification is a stored row.
    before = await database_sync_to_async(Notification.objects.filter(kind="stock_low").count)()
    started = time.monotonic()
    status, body = await issue(a, access, team, 86)  # 90 → 4, below the reorder level of 5
    save_seconds = time.monotonic() - started
    assert status == 201, (status, body)
    level = await database_sync_to_async(StockLevel.objects.get)(product=team.product, warehouse=team.warehouse)
    assert level.quantity == 4
    after = await database_sync_to_async(Notification.objects.filter(kind="stock_low").count)()
    assert after > before  # the storekeeper will see it on the next page load
    print(f"save while Redis is down answered {status} in {save_seconds:.2f} s")

    # A page load needs the cache (dashboard figures, throttles): it degrades, it does not fail.
    status, _html = await asyncio.to_thread(b.request, "GET", "/", None, {"Cookie": cookie, "Accept": "text/html"})
    assert status == 200

    # --- Redis comes back, empty ---------------------------------------------------------------------
    await asyncio.to_thread(redis_server.start)
    restarted = time.monotonic()
    back, back_at = await page.expect(lambda f: f["type"] == "status", timeout=15)
    assert back["live"] is True
    _resync, resync_at = await page.expect(lambda f: f["type"] == "resync", timeout=5)
    print(f"same socket: live again {back_at - restarted:.2f} s, resync {resync_at - restarted:.2f} s after restart")

    sent = time.monotonic()
    status, body = await issue(a, access, team, 1)
    assert status == 201, (status, body)
    frame, arrived = await page.expect(lambda f: f["type"] == "stock.changed", timeout=10)
    assert frame["data"]["quantity"] == "3.000"
    print(f"next change reached the page {arrived - sent:.2f} s after the save was sent")
    assert arrived - restarted < 15
    await page.close()
