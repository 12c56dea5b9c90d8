"""Fixtures for inventory services: branch A's staff, products, a second warehouse, and a
check that a refused call left the database and the event stream as they were."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from decimal import Decimal
from typing import Any

import pytest

from crm_core.accounts.models import Role, User
from crm_core.inventory.models import Product, Warehouse
from tests.factories import ProductFactory, WarehouseFactory
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
