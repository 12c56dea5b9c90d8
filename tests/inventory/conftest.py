"""Fixtures for inventory services: branch A's staff, products, a second warehouse, and a
check that a refused call left the database and the event stream as they were."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from decimal import Decimal
from types import SimpleNamespace
from typing import Any

import pytest
from django.conf import settings
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from crm_core.accounts.models import Role, User
from crm_core.inventory.models import Product, Warehouse
from crm_core.inventory.services import product_create
from tests.factories import CategoryFactory, ProductFactory, UserFactory, WarehouseFactory, stock
from tests.inventory.helpers import db_state


@pytest.fixture
def keeper(personas) -> User:
    """Branch A's storekeeper."""
    return personas.colleague


@pytest.fixture
def manager(world) -> User:
    return world.user(Role.MANAGER, first_name="منى", last_name="المدير")


@pytest.fixture
def product(db) -> Product:
    return ProductFactory(sku="TILE-60", name="بلاط 60×60", price=Decimal("150.00"))


@pytest.fixture
def second_warehouse(world) -> Warehouse:
    """Another warehouse of branch A (not the default)."""
    return WarehouseFactory(code="CAI-W2", name="مخزن العبور", branch=world.branch_a, is_default=False)


@pytest.fixture
def assert_refused(published, django_capture_on_commit_callbacks):
    """``with assert_refused(ValidationError) as info: service(...)`` — the call raises, and no
    row of the watched tables changed and no event was published or even scheduled."""

    @contextmanager
    def check(exc: type[BaseException] | tuple[type[BaseException], ...]) -> Iterator[Any]:
        before = db_state()
        published.clear()
        with django_capture_on_commit_callbacks(execute=True) as callbacks, pytest.raises(exc) as info:
            yield info
        assert callbacks == []
        assert published == []
        assert db_state() == before

    return check


# --- Fixtures for the page tests (test_views_*.py) -------------------------------------------


@pytest.fixture
def login(db):
    """``login(user)`` → a test client signed in as that user (one client per user).

    Pages are asked for in English, the source language, so assertions on their text hold
    whatever the Arabic catalogue translates; ``language="ar"`` asks for the default instead.
    """

    def sign_in(user: User, language: str = "en") -> Client:
        client = Client()
        client.force_login(user)
        client.cookies[settings.LANGUAGE_COOKIE_NAME] = language
        return client

    return sign_in


@pytest.fixture
def catalogue(world, keeper):
    """A small category tree with stock in both branches.

    Flooring ─┬─ Ceramic ── tile (A: 50, B: 30; reorder 10)
              └─ Porcelain ── porcelain (A: 5 — below its reorder level 20)
    Paints ──── paint (A: 7)
    cement (no category): only in branch B's warehouse.
    """
    flooring = CategoryFactory(name="أرضيات")
    ceramic = CategoryFactory(name="سيراميك", parent=flooring)
    porcelain_cat = CategoryFactory(name="بورسلين", parent=flooring)
    paints = CategoryFactory(name="دهانات")

    def product(sku: str, name: str, **values: Any) -> Product:
        # Through the service, so search_text is built as in real use.
        return product_create(actor=keeper, sku=sku, name=name, price=Decimal("100"), **values)

    tile = product("CER-001", "بلاط سيراميك أبيض", category=ceramic, reorder_level=Decimal("10"))
    porcelain = product("POR-002", "بورسلين رمادي", category=porcelain_cat, reorder_level=Decimal("20"))
    paint = product("PNT-003", "دهان أبيض", category=paints)
    cement = product("CEM-009", "أسمنت أبيض")
    keeper_b = UserFactory(role=Role.STOREKEEPER, branch=world.branch_b)
    return SimpleNamespace(
        flooring=flooring,
        ceramic=ceramic,
        porcelain_cat=porcelain_cat,
        paints=paints,
        tile=tile,
        porcelain=porcelain,
        paint=paint,
        cement=cement,
        keeper_b=keeper_b,
        tile_a=stock(tile, world.warehouse_a, 50, actor=keeper),
        porcelain_a=stock(porcelain, world.warehouse_a, 5, actor=keeper),
        paint_a=stock(paint, world.warehouse_a, 7, actor=keeper),
        tile_b=stock(tile, world.warehouse_b, 30, actor=keeper_b),
        cement_b=stock(cement, world.warehouse_b, 12, actor=keeper_b),
    )


@pytest.fixture
def count_queries(db):
    """``count_queries(client, url)`` → how many queries a GET of the page ran (and it answered 200)."""

    def count(client, url: str, **extra: Any) -> int:
        with CaptureQueriesContext(connection) as captured:
            response = client.get(url, **extra)
        assert response.status_code == 200, response.status_code
        return len(captured)

    return count
