"""The pages that declare a presence room: orders, the dispatch board, the stock alerts board
(the customer pages are in tests/customers/test_live.py)."""

from __future__ import annotations

from decimal import Decimal

import pytest

from crm_core.accounts.models import Role
from crm_core.customers.services import customer_create
from crm_core.inventory.services import product_create
from crm_core.orders.services import ItemInput, order_create


@pytest.fixture
def login(client):
    def _login(user):
        client.force_login(user)
        client.cookies["django_language"] = "en"
        return client

    return _login


def test_order_pages_and_the_dispatch_board_declare_their_presence_rooms(world, login, personas):
    admin = world.user(Role.ADMIN, all_branches=True)
    product = product_create(actor=admin, sku="P-1", name="مضخة", price=Decimal("10"))
    customer = customer_create(actor=personas.owner, name="عميل", phone="01000000001")
    order = order_create(actor=personas.owner, customer=customer, items=[ItemInput(product.pk, Decimal("1"))])
    client = login(personas.owner)
    detail = client.get(f"/orders/{order.pk}/").text
    assert f'data-presence="order:{order.pk}"' in detail and "data-presence-editing" not in detail
    edit = client.get(f"/orders/{order.pk}/edit/").text
    assert f'data-presence="order:{order.pk}"' in edit and "data-presence-editing" in edit
    assert "is editing this order" in edit

    board = login(world.user(Role.DISPATCHER)).get("/inspections/board/", {"date": "2026-11-24"}).text
    assert 'data-presence="inspections.board" data-presence-date="2026-11-24"' in board


def test_the_stock_alerts_board_declares_its_presence_room(world, login):
    page = login(world.user(Role.MANAGER)).get("/inventory/alerts/").text
    assert 'data-presence="stock.alerts"' in page


def test_the_orders_board_declares_its_presence_room(world, login):
    page = login(world.user(Role.DISPATCHER)).get("/orders/board/").text
    assert 'data-presence="orders.board"' in page


def test_product_pages_declare_their_presence_rooms(world, login):
    admin = world.user(Role.ADMIN, all_branches=True)
    product = product_create(actor=admin, sku="P-2", name="صمام", price=Decimal("15"))
    client = login(world.user(Role.STOREKEEPER))
    detail = client.get(f"/inventory/products/{product.pk}/").text
    assert f'data-presence="product:{product.pk}"' in detail and "data-presence-editing" not in detail
    edit = client.get(f"/inventory/products/{product.pk}/edit/").text
    assert f'data-presence="product:{product.pk}"' in edit and "data-presence-editing" in edit
    assert "is editing this product" in edit
