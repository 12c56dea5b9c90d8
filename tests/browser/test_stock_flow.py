"""Flow 4: a storekeeper receives and issues stock, and is stopped from issuing what is not there."""

from __future__ import annotations

import re
from decimal import Decimal

import pytest
from playwright.sync_api import Page, expect

from crm_core.accounts.models import Role
from crm_core.inventory.models import StockLevel, StockMovement
from crm_core.inventory.services import product_create
from tests.browser.helpers import login, nav_to, qty, shot, translated

pytestmark = pytest.mark.browser

LANG = "ar"


def pick_product(page: Page, term: str, product) -> str:
    page.locator("#product-search").fill(term)
    page.locator(f"[data-pick-product='{product.pk}']").click()
    label = f"{product.name} ({product.sku})"
    expect(page.locator("#product-search")).to_have_value(label)
    expect(page.locator("#id_product")).to_have_value(str(product.pk))
    return label


def stock_row(page: Page, product) -> object:
    return page.locator("#stock-list tr[data-level]", has_text=product.sku)


def test_storekeeper_receives_and_issues_stock(world, new_context):
    admin = world.user(Role.ADMIN, all_branches=True)
    storekeeper = world.user(Role.STOREKEEPER)
    cement = product_create(actor=admin, sku="CEM-50", name="أسمنت بورتلاندي", price=Decimal("95.00"))
    product_create(actor=admin, sku="SND-01", name="رمل ناعم", price=Decimal("40.00"))
    label = f"{cement.name} ({cement.sku})"
    warehouse = world.warehouse_a

    page = new_context().new_page()
    login(page, storekeeper)
    nav_to(page, "/inventory/")
    expect(page.locator("#stock-list tr[data-level]")).to_have_count(0)

    # Receive 40: the ledger shows the receipt, the stock page the level.
    page.locator("[data-testid=stock-actions] a[href='/inventory/receive/']").click()
    pick_product(page, "اسمنت", cement)
    # The storekeeper's own branch warehouse is already chosen.
    expect(page.locator("#id_warehouse")).to_have_value(str(warehouse.pk))
    page.locator("#id_quantity").fill("40")
    page.locator("#id_reference").fill("PO-7781")
    shot(page, "stock", "receive")
    page.locator("[data-testid=stock-form] button[type=submit]").click()
    expect(page).to_have_url(re.compile(rf"/inventory/movements/\?product={cement.pk}$"))
    ledger = page.locator("[data-testid=ledger] tbody tr")
    expect(ledger).to_have_count(1)
    expect(ledger.nth(0)).to_contain_text(f"+{qty(40, LANG)}")
    expect(ledger.nth(0)).to_contain_text("PO-7781")

    nav_to(page, "/inventory/")
    row = stock_row(page, cement)
    expect(row).to_have_count(1)
    expect(row).to_contain_text(warehouse.name)
    expect(row.locator("td.text-end .fw-semibold")).to_have_text(qty(40, LANG))

    # Issue 15 from the level's own row: 25 left, two ledger rows, newest first.
    row.locator("a[href*='/inventory/issue/']").click()
    expect(page.locator("#product-search")).to_have_value(label)
    expect(page.locator("#id_warehouse")).to_have_value(str(warehouse.pk))
    page.locator("#id_quantity").fill("15")
    page.locator("#id_note").fill("عينة للمعرض")
    page.locator("[data-testid=stock-form] button[type=submit]").click()
    expect(page).to_have_url(re.compile(r"/inventory/movements/"))
    expect(ledger).to_have_count(2)
    expect(ledger.nth(0)).to_contain_text(f"-{qty(15, LANG)}")
    expect(ledger.nth(0).locator("td").nth(5)).to_have_text(qty(25, LANG))
    expect(ledger.nth(1).locator("td").nth(5)).to_have_text(qty(40, LANG))
    shot(page, "stock", "ledger")

    nav_to(page, "/inventory/")
    expect(stock_row(page, cement).locator("td.text-end .fw-semibold")).to_have_text(qty(25, LANG))
    shot(page, "stock", "levels")

    # Issue 100 of the 25 there are: a clear error on the quantity, and nothing changes.
    page.locator("[data-testid=stock-actions] a[href='/inventory/issue/']").click()
    pick_product(page, "CEM", cement)
    page.locator("#id_quantity").fill("100")
    page.locator("[data-testid=stock-form] button[type=submit]").click()
    expect(page).to_have_url(re.compile(r"/inventory/issue/$"))
    error = page.locator("[data-testid=stock-form] .invalid-feedback")
    expect(error).to_have_text(
        translated(
            "Not enough stock of %(product)s in %(warehouse)s: %(available)s available, %(wanted)s needed.",
            LANG,
            product=cement.name,
            warehouse=warehouse.name,
            available=qty(25, LANG),
            wanted=qty(100, LANG),
        )
    )
    expect(page.locator("#id_quantity")).to_have_value("100")
    expect(page.locator("#product-search")).to_have_value(label)
    shot(page, "stock", "issue-refused")
    assert StockLevel.objects.get(product=cement, warehouse=warehouse).quantity == Decimal("25")
    assert StockMovement.objects.filter(product=cement).count() == 2

    nav_to(page, "/inventory/")
    expect(stock_row(page, cement).locator("td.text-end .fw-semibold")).to_have_text(qty(25, LANG))
    page.locator(".inventory-tabs a[href='/inventory/movements/']").click()
    expect(page.locator("[data-testid=ledger] tbody tr")).to_have_count(2)
