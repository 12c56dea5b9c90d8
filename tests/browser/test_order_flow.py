"""Flow 2: a salesperson takes an order with two items and records payments on it."""

from __future__ import annotations

import re
from decimal import ROUND_HALF_UP, Decimal

import pytest
from django.conf import settings
from playwright.sync_api import Page, expect

from crm_core.accounts.models import Role
from crm_core.customers.services import customer_create
from crm_core.inventory.services import product_create
from crm_core.orders.models import Order, Payment
from tests.browser.helpers import assert_not_reloaded, login, money, nav_to, no_reload_marker, shot

pytestmark = pytest.mark.browser

CENT = Decimal("0.01")


def pick_product(page: Page, row_index: int, term: str, name: str) -> None:
    row = page.locator("[data-item-row]").nth(row_index)
    row.locator("[data-product-search]").fill(term)
    row.locator("[data-product-pick]", has_text=name).click()
    expect(row.locator("[data-product-search]")).to_have_value(name)


def test_sales_takes_an_order_and_records_payments_inline(world, new_context):
    admin = world.user(Role.ADMIN, all_branches=True)
    sales = world.user(Role.SALES)
    customer = customer_create(actor=sales, name="سلمى إبراهيم", phone="01011112222")
    pump = product_create(actor=admin, sku="PMP-100", name="مضخة مياه", price=Decimal("450.00"))
    valve = product_create(actor=admin, sku="VLV-200", name="صمام أمان", price=Decimal("125.50"))
    subtotal = pump.price * 2 + valve.price * 3
    tax = (subtotal * Decimal(str(settings.CRM_TAX_RATE))).quantize(CENT, rounding=ROUND_HALF_UP)
    total = subtotal + tax
    lang = "ar"

    page = new_context().new_page()
    login(page, sales)
    nav_to(page, "/orders/")
    page.locator("[data-testid=new-order]").click()
    expect(page).to_have_url(re.compile(r"/orders/new/$"))

    # The customer, found as typed without the hamza.
    page.locator("#customer-search").fill("سلمى ابراهيم")
    page.locator("[data-customer-pick]", has_text=customer.name).click()
    expect(page.locator("[data-customer-chosen]")).to_contain_text(customer.name)

    # Totals follow the items as they are typed, before anything is saved.
    form_total = page.locator("[data-testid=form-total]")
    expect(form_total).to_have_text(money(0, lang))
    pick_product(page, 0, "مضخه", pump.name)
    expect(form_total).to_have_text(money(pump.price * (1 + settings.CRM_TAX_RATE), lang))
    first = page.locator("[data-item-row]").nth(0)
    first.locator("[data-calc=quantity]").fill("2")
    expect(first.locator("[data-line-total]")).to_have_text(money(pump.price * 2, lang))

    page.locator("[data-testid=add-item]").click()
    expect(page.locator("[data-item-row]")).to_have_count(2)
    pick_product(page, 1, "VLV", valve.name)
    second = page.locator("[data-item-row]").nth(1)
    before = form_total.inner_text()
    second.locator("[data-calc=quantity]").fill("3")
    expect(form_total).not_to_have_text(before)
    expect(page.locator("[data-total=subtotal]")).to_have_text(money(subtotal, lang))
    expect(page.locator("[data-total=tax]")).to_have_text(money(tax, lang))
    expect(form_total).to_have_text(money(total, lang))
    shot(page, "order", "form")

    page.locator("[data-testid=save-order]").click()
    expect(page).to_have_url(re.compile(r"/orders/\d+/$"))
    order = Order.objects.get(customer=customer)
    assert order.total == total
    expect(page.locator("[data-testid=order-total]")).to_have_text(money(total, lang))
    expect(page.locator("[data-testid=order-paid]")).to_have_text(money(0, lang))
    expect(page.locator("[data-testid=order-balance]")).to_have_text(money(total, lang))
    expect(page.locator("[data-testid=item-table] tbody tr")).to_have_count(2)

    # A payment recorded inline: paid and balance change, the page is not reloaded.
    no_reload_marker(page)
    amount = page.locator("[data-testid=payment-amount]")
    expect(amount).to_have_value(str(total))
    amount.fill("500")
    page.locator("[data-testid=payment-submit]").click()
    expect(page.locator("[data-testid=order-paid]")).to_have_text(money(500, lang))
    expect(page.locator("[data-testid=order-balance]")).to_have_text(money(total - 500, lang))
    expect(page.locator("[data-testid=payment-row]")).to_have_count(1)
    assert_not_reloaded(page)
    shot(page, "order", "paid-500")

    # More than the balance: the browser refuses to send it.
    amount = page.locator("[data-testid=payment-amount]")
    amount.fill(str(total))
    page.locator("[data-testid=payment-submit]").click()
    assert amount.evaluate("el => el.validity.rangeOverflow") is True
    assert amount.evaluate("el => el.validationMessage") != ""
    expect(page.locator("[data-testid=order-paid]")).to_have_text(money(500, lang))
    assert Payment.objects.filter(order=order).count() == 1

    # Meanwhile a colleague's tab takes most of the balance; this page's limit is now stale,
    # so the server is the one that refuses, with the error on the amount, and saves nothing.
    other = page.context.new_page()
    other.goto(f"/orders/{order.pk}/")
    other.locator("[data-testid=payment-amount]").fill("900")
    other.locator("[data-testid=payment-submit]").click()
    expect(other.locator("[data-testid=order-paid]")).to_have_text(money(1400, lang))
    other.close()

    amount.fill("100")
    page.locator("[data-testid=payment-submit]").click()
    error = page.locator("[data-testid=payment-amount-error]")
    expect(error).to_be_visible()
    balance = total - 1400
    assert re.search(r"[\d٠-٩]", error.inner_text()), "the error should say how much is still due"
    expect(page.locator("[data-testid=payment-amount]")).to_have_class(re.compile(r"\bis-invalid\b"))
    # The refusal also brings the page up to date with the colleague's payment.
    expect(page.locator("[data-testid=order-paid]")).to_have_text(money(1400, lang))
    expect(page.locator("[data-testid=order-balance]")).to_have_text(money(balance, lang))
    assert_not_reloaded(page)
    assert Payment.objects.filter(order=order).count() == 2
    order.refresh_from_db()
    assert order.amount_paid == Decimal("1400.00")
    shot(page, "order", "overpayment")
