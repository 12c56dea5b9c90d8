"""Fixtures for order services: a branch-A customer with a category discount, products in
stock, an order factory that goes through ``order_create``, and a check that a refused call
left the database and the event stream exactly as they were."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from decimal import Decimal
from typing import Any

import pytest

from crm_core.accounts.models import Role
from crm_core.customers.models import Customer
from crm_core.inventory.models import Product
from crm_core.orders.models import Order
from crm_core.orders.services import ItemInput, order_create
from tests.factories import CustomerCategoryFactory, CustomerFactory, ProductFactory, stock
from tests.orders.helpers import db_state


@pytest.fixture(autouse=True)
def _fixed_tax_rate(settings):
    # Expected totals below are worked out by hand at 14 %; pin it whatever the environment says.
    settings.CRM_TAX_RATE = Decimal("0.14")


@pytest.fixture
def sales(personas):
    return personas.owner


@pytest.fixture
def customer(world) -> Customer:
    """A branch-A customer in a category with a standing 10 % discount."""
    category = CustomerCategoryFactory(name="جملة", discount_percent=Decimal("10.00"))
    return CustomerFactory(branch=world.branch_a, category=category, name="شركة النور")


@pytest.fixture
def plain_customer(world) -> Customer:
    return CustomerFactory(branch=world.branch_a, name="محمد علي")


@pytest.fixture
def products(world) -> list[Product]:
    """Three products, each with 100 units in branch A's warehouse."""
    made = [
        ProductFactory(sku="TILE-1", name="سيراميك أبيض", price=Decimal("100.00")),
        ProductFactory(sku="GLUE-1", name="لاصق بلاط", price=Decimal("25.50")),
        ProductFactory(sku="GROUT-1", name="روبة", price=Decimal("19.99")),
    ]
    keeper = world.user(Role.STOREKEEPER)
    for product in made:
        stock(product, world.warehouse_a, 100, actor=keeper)
    return made


@pytest.fixture
def make_order(sales, plain_customer, products) -> Callable[..., Order]:
    """An order through the service: by default 2 × the first product for a plain customer."""

    def make(items: list[ItemInput] | None = None, *, actor=None, customer=None, **kwargs: Any) -> Order:
        return order_create(
            actor=actor or sales,
            customer=customer or plain_customer,
            items=items or [ItemInput(product_id=products[0].pk, quantity=Decimal("2"))],
            **kwargs,
        )

    return make


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


# --- Fixtures for the view tests (test_views*.py) ------------------------------------------------


@pytest.fixture
def login(client):
    """Sign a user in on the test client, the interface in English unless asked otherwise."""

    def _login(user, language: str = "en"):
        client.force_login(user)
        client.cookies["django_language"] = language
        return client

    return _login


@pytest.fixture
def hq_manager(world):
    return world.user(Role.MANAGER, branch=None, all_branches=True, username="hq.manager")


@pytest.fixture
def outsider_customer(world) -> Customer:
    return CustomerFactory(branch=world.branch_b, name="عميل الإسكندرية")


@pytest.fixture
def outsider_order(personas, outsider_customer, products) -> Order:
    """An order of branch B (products are company-wide; branch B has its own warehouse)."""
    return order_create(
        actor=personas.outsider,
        customer=outsider_customer,
        items=[ItemInput(product_id=products[0].pk, quantity=Decimal("1"))],
    )
