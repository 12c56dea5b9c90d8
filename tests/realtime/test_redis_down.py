"""Redis down, inside one process: the cache answers "miss" instead of 500, within a bounded time,
and a publish that cannot reach the channel layer neither fails nor holds up the change.

(The same with real Daphne processes and a real Redis stopped and restarted: tests/live/.)
"""

from __future__ import annotations

import asyncio
import logging
import socket
import time

import pytest
from django.core.cache import cache
from django.db import transaction

from crm_core.accounts.models import ActivityLog, Role
from crm_core.common.api.tickets import consume_ws_ticket, issue_ws_ticket
from crm_core.common.cache import DegradingRedisCache
from crm_core.customers.models import Customer
from crm_core.customers.services import customer_create
from crm_core.reports.selectors import invalidate_dashboard
from realtime import layer as layer_module
from realtime import publish as publish_module

OPTIONS = {"socket_connect_timeout": 1, "socket_timeout": 1}


@pytest.fixture
def silent_redis():
    """A port that accepts connections and never answers: a hung Redis, the worst case."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(16)
    yield f"redis://127.0.0.1:{server.getsockname()[1]}/0"
    server.close()


@pytest.fixture
def refused_redis():
    """A port nothing listens on: Redis stopped."""
    probe = socket.socket()
    probe.bind(("127.0.0.1", 0))
    port = probe.getsockname()[1]
    probe.close()
    return f"redis://127.0.0.1:{port}/0"


def degraded(location: str) -> DegradingRedisCache:
    return DegradingRedisCache(location, {"OPTIONS": OPTIONS, "KEY_PREFIX": "crmtest"})


@pytest.mark.parametrize("where", ["refused_redis", "silent_redis"])
def test_every_cache_call_answers_as_a_miss_within_the_timeout(request, where):
    dead = degraded(request.getfixturevalue(where))
    calls = [
        (lambda: dead.get("k", "default"), "default"),
        (lambda: dead.set("k", 1), None),
        (lambda: dead.add("k", 1), False),
        (lambda: dead.delete("k"), False),
        (lambda: dead.touch("k"), False),
        (lambda: dead.has_key("k"), False),
        (lambda: dead.get_many(["a", "b"]), {}),
        (lambda: dead.set_many({"a": 1}), ["a"]),
        (lambda: dead.delete_many(["a"]), None),
        (lambda: dead.clear(), False),
        (lambda: dead.get_or_set("k", 5), 5),  # get, add, get: three round trips
    ]
    for call, expected in calls:
        started = time.monotonic()
        assert call() == expected
        # Bounded by the socket timeouts (1 s a round trip), never a hang.
        assert time.monotonic() - started < 3.5
    with pytest.raises(ValueError):
        dead.incr("k")  # as for a missing key, which callers already handle


def test_an_outage_is_logged_without_flooding_the_log(refused_redis, caplog, monkeypatch):
    monkeypatch.setattr(DegradingRedisCache, "_last_logged", 0.0)
    caplog.set_level(logging.WARNING, logger="crm_core.common.cache")
    dead = degraded(refused_redis)
    for _ in range(20):
        dead.get("k")
    assert len([r for r in caplog.records if r.name == "crm_core.common.cache"]) == 1


def test_errors_that_are_not_about_reaching_redis_still_raise(settings):
    dead = degraded("redis://127.0.0.1:1/0")
    with pytest.raises(TypeError):
        dead.get_many(None)  # a programming error must not be swallowed


@pytest.fixture
def cache_down(settings, refused_redis):
    settings.CACHES = {
        "default": {
            "BACKEND": "crm_core.common.cache.DegradingRedisCache",
            "LOCATION": refused_redis,
            "OPTIONS": OPTIONS,
        }
    }


def test_dashboard_invalidation_survives_the_cache_being_down(cache_down):
    invalidate_dashboard(3)  # incr fails, set fails: neither raises
    assert cache.get("dashboard-version:all") is None


@pytest.mark.django_db
def test_a_websocket_ticket_is_refused_not_an_error_while_the_cache_is_down(cache_down, world):
    ticket = issue_ws_ticket(world.user(Role.SALES))
    assert consume_ws_ticket(ticket) is None


class _HangingLayer:
    """A channel layer on a Redis that accepted the connection and then stopped answering."""

    async def group_send(self, group, message):
        await asyncio.sleep(3600)


@pytest.mark.django_db(transaction=True)
def test_a_hung_channel_layer_does_not_hold_up_the_change(world, settings, monkeypatch, caplog):
    settings.CRM_PUBLISH_TIMEOUT_SECONDS = 1
    monkeypatch.setattr(publish_module, "get_channel_layer", lambda *args, **kwargs: _HangingLayer())
    monkeypatch.setattr(layer_module, "_lost_events", False)
    caplog.set_level(logging.ERROR, logger="realtime.publish")
    salesperson = world.user(Role.SALES)

    started = time.monotonic()
    with transaction.atomic():
        customer = customer_create(actor=salesperson, name="بطيء", phone="01001230000")
    elapsed = time.monotonic() - started

    assert elapsed < 3, elapsed  # the deadline, not an hour
    assert Customer.objects.filter(pk=customer.pk).exists()
    assert ActivityLog.objects.filter(action="customer.create", target_id=str(customer.pk)).exists()
    assert any("customer.created" in r.getMessage() for r in caplog.records)
    assert layer_module.lost_events_pending()  # every live client will be told to resync


class _RefusingLayer:
    async def group_send(self, group, message):
        raise ConnectionRefusedError("Redis is down")


@pytest.mark.django_db(transaction=True)
def test_dashboard_figures_follow_a_change_whose_push_failed(world, monkeypatch):
    """The cached figures are invalidated by the commit, not by the live push."""
    from decimal import Decimal

    from crm_core.orders.services import ItemInput, order_create
    from crm_core.reports.selectors import dashboard_figures
    from tests.factories import CustomerFactory, ProductFactory, stock

    monkeypatch.setattr(layer_module, "_lost_events", False)
    manager = world.user(Role.MANAGER)
    product = ProductFactory(sku="P-1", price=Decimal("10.00"))
    stock(product, world.warehouse_a, 10, actor=world.user(Role.STOREKEEPER))
    customer = CustomerFactory(branch=world.branch_a)
    before = dashboard_figures(manager).open_orders  # now cached

    monkeypatch.setattr(publish_module, "get_channel_layer", lambda *args, **kwargs: _RefusingLayer())
    order_create(
        actor=world.user(Role.SALES), customer=customer, items=[ItemInput(product_id=product.pk, quantity=Decimal("1"))]
    )

    assert layer_module.lost_events_pending()  # the push did fail
    assert dashboard_figures(manager).open_orders == before + 1
