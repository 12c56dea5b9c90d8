from __future__ import annotations

from collections.abc import Callable

import pytest
from django.test import Client

from crm_core.accounts.models import Role, User
from crm_core.customers.models import Customer
from crm_core.customers.services import customer_create
from tests.common.scene import build_scene


@pytest.fixture
def scene(world, personas):
    return build_scene(world, personas)


@pytest.fixture
def login(client: Client) -> Callable[[User], Client]:
    """Sign a user in on the test client (language pinned to English unless asked otherwise)."""

    def _login(user: User, language: str = "en") -> Client:
        client.force_login(user)
        client.cookies["django_language"] = language
        return client

    return _login


@pytest.fixture
def manager(world) -> User:
    return world.user(Role.MANAGER, first_name="منى", last_name="سالم")


@pytest.fixture
def hq_manager(world) -> User:
    return world.user(Role.MANAGER, branch=None, all_branches=True, username="hq.manager")


@pytest.fixture
def make_customer(personas) -> Callable[..., Customer]:
    """A customer of branch A (or of ``actor``'s branch) created through the service."""
    counter = iter(range(10_000))

    def _make(name: str = "عميل", phone: str | None = None, actor: User | None = None, **kwargs) -> Customer:
        n = next(counter)
        return customer_create(actor=actor or personas.owner, name=name, phone=phone or f"0122{n:07d}", **kwargs)

    return _make
