"""Shared fixtures: the three personas of DESIGN.md and a branch with stock to sell."""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from django.db import connection

from crm_core.accounts.models import Branch, Role, User
from crm_core.inventory.models import Warehouse
from realtime.publish import event_published
from tests.factories import BranchFactory, UserFactory, WarehouseFactory


def pytest_collection_modifyitems(config, items):
    on_postgres = connection.vendor == "postgresql"
    skip_pg = pytest.mark.skip(reason="needs PostgreSQL: set DATABASE_URL")
    for item in items:
        if "postgres" in item.keywords and not on_postgres:
            item.add_marker(skip_pg)


@dataclass
class World:
    branch_a: Branch
    branch_b: Branch
    warehouse_a: Warehouse
    warehouse_b: Warehouse

    def user(self, role: str = Role.SALES, branch: Branch | None = None, **kwargs) -> User:
        return UserFactory(role=role, branch=branch or self.branch_a, **kwargs)


@pytest.fixture
def world(db) -> World:
    branch_a = BranchFactory(code="CAI", name="القاهرة")
    branch_b = BranchFactory(code="ALX", name="الإسكندرية")
    return World(
        branch_a=branch_a,
        branch_b=branch_b,
        warehouse_a=WarehouseFactory(code="CAI-W1", name="مخزن القاهرة", branch=branch_a),
        warehouse_b=WarehouseFactory(code="ALX-W1", name="مخزن الإسكندرية", branch=branch_b),
    )


@pytest.fixture
def personas(world: World):
    """A user of branch A, a colleague in A with another role, an outsider in branch B."""

    @dataclass
    class Personas:
        owner: User
        colleague: User
        outsider: User

    return Personas(
        owner=world.user(Role.SALES),
        colleague=world.user(Role.STOREKEEPER),
        outsider=world.user(Role.SALES, branch=world.branch_b),
    )


@pytest.fixture
def published():
    """Events handed to the channel layer during the test, as (type, groups, event)."""
    seen: list = []

    def receiver(sender, event, groups, **kwargs):
        seen.append((event.type, groups, event))

    event_published.connect(receiver, dispatch_uid="test-published")
    yield seen
    event_published.disconnect(dispatch_uid="test-published")
