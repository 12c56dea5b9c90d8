"""The dashboard's figures follow what others do: a manager keeps the dashboard open while a
salesperson, in a browser of their own, takes an order, confirms one and cancels it. The
manager's open-orders figure and orders by status change without a reload."""

from __future__ import annotations

import re
from decimal import Decimal

import pytest
from playwright.sync_api import expect

from crm_core.accounts.models import Role
from crm_core.customers.services import customer_create
from crm_core.inventory.services import product_create
from crm_core.orders.services import ItemInput, order_create
from tests.browser.helpers import assert_not_reloaded, login, no_reload_marker, shot

pytestmark = pytest.mark.browser


@pytest.mark.parametrize("lang", ["ar", "en"])
def test_the_open_orders_figure_follows_another_users_orders(world, new_context, lang):
    admin = world.user(Role.ADMIN, all_branches=True)
    manager = world.user(Role.MANAGER, first_name="منى", last_name="فؤاد", language=lang)
    sales = world.user(Role.SALES, first_name="كريم", last_name="سعيد")
    customer = customer_create(actor=sales, name="سلمى إبراهيم", phone="01011112222")
    pump = product_create(actor=admin, sku="PMP-100", name="مضخة مياه", price=Decimal("450.00"))
    first = order_create(actor=sales, customer=customer, items=[ItemInput(pump.pk, Decimal("1"))])

    board = new_context().new_page()
    login(board, manager)
    board.goto("/")
    open_orders = board.locator("[data-testid=open-orders]")
    expect(open_orders).to_have_text(re.compile("^(1|١)$"))
    expect(board.locator("#live-status")).to_be_hidden()
    no_reload_marker(board)

    # The salesperson takes a second order for the same customer, through the form.
    other = new_context().new_page()
    login(other, sales)
    other.goto(f"/orders/new/?customer={customer.pk}")
    row = other.locator("[data-item-row]").nth(0)
    row.locator("[data-product-search]").fill("مضخه")
    row.locator("[data-product-pick]", has_text=pump.name).click()
    other.locator("[data-testid=save-order]").click()
    expect(other).to_have_url(re.compile(r"/orders/\d+/$"))
    expect(open_orders).to_have_text(re.compile("^(2|٢)$"))

    # Confirming the first order moves it from "new" to "confirmed".
    other.goto(f"/orders/{first.pk}/")
    other.locator("[data-testid=transition-confirmed]").click()
    expect(other.locator("[data-testid=order-status]")).to_have_text(re.compile(r"\S"))
    expect(board.locator("[data-testid=orders-confirmed]")).to_have_text(re.compile("^(1|١)$"))
    expect(board.locator("[data-testid=orders-new]")).to_have_text(re.compile("^(1|١)$"))
    expect(open_orders).to_have_text(re.compile("^(2|٢)$"))

    # Cancelling it takes it off the open orders.
    other.goto(f"/orders/{first.pk}/")
    other.locator("[data-testid=cancel-toggle]").click()
    other.locator("#cancel-note").fill("العميل ألغى الطلب")
    other.locator("[data-testid=cancel-submit]").click()
    other.locator("[data-testid=confirm-ok]").click()
    expect(board.locator("[data-testid=orders-confirmed]")).to_have_text(re.compile("^(0|٠)$"))
    expect(open_orders).to_have_text(re.compile("^(1|١)$"))
    assert_not_reloaded(board)
    shot(board, "dashboard", "live")
