"""Flow: a manager watches stock alerts while a storekeeper of the same branch works.

Two browsers at the same time: the manager has the dashboard and the alerts page open; the
storekeeper issues stock through the forms until it falls below its reorder level. Without
reloading, the manager's pages show the new alert, the bell counts it and a toast says so; when
the storekeeper receives stock back above the level, the alert goes from both pages.
"""

from __future__ import annotations

import json
import re
from decimal import Decimal

import pytest
from playwright.sync_api import Page, expect

from crm_core.accounts.models import Role
from crm_core.inventory.models import StockLevel
from crm_core.inventory.services import product_create
from tests.browser.helpers import (
    assert_not_reloaded,
    login,
    no_reload_marker,
    qty,
    shot,
    translated,
    wait_until,
)

pytestmark = pytest.mark.browser


def watch_subscriptions(page: Page) -> list[str]:
    """The topics the page's live stream has been told it is subscribed to (collected from the frames)."""
    topics: list[str] = []

    def on_socket(socket) -> None:
        def on_frame(payload) -> None:
            try:
                frame = json.loads(payload)
            except (TypeError, ValueError):
                return
            if frame.get("type") == "subscribed":
                topics.append(frame.get("topic"))

        socket.on("framereceived", on_frame)

    page.on("websocket", on_socket)
    return topics


def open_watched(context, path: str) -> tuple[Page, list[str]]:
    page = context.new_page()
    topics = watch_subscriptions(page)
    page.goto(path)
    wait_until(page, lambda: "stock.alerts" in topics, f"{path} to subscribe to stock.alerts")
    no_reload_marker(page)
    return page, topics


def submit_stock_form(page: Page, path: str, quantity: str) -> None:
    page.goto(path)
    page.locator("#id_quantity").fill(quantity)
    page.locator("[data-testid=stock-form] button[type=submit]").click()
    expect(page).to_have_url(re.compile(r"/inventory/movements/"))


@pytest.mark.parametrize("lang", ["ar", "en"])
def test_a_manager_sees_a_storekeepers_stock_fall_below_its_reorder_level_live(world, new_context, lang):
    admin = world.user(Role.ADMIN, all_branches=True)
    manager = world.user(Role.MANAGER, first_name="منى", last_name="فؤاد", language=lang)
    keeper = world.user(Role.STOREKEEPER, first_name="سامح", last_name="علي")
    glue = product_create(
        actor=admin, sku="GLUE-25", name="لاصق سيراميك 25 كجم", price=Decimal("180"), reorder_level=Decimal("10")
    )
    warehouse = world.warehouse_a

    # The storekeeper, in a browser of their own, receives 15 (the reorder level is 10).
    keeper_page = new_context().new_page()
    login(keeper_page, keeper)
    submit_stock_form(keeper_page, f"/inventory/receive/?product={glue.pk}&warehouse={warehouse.pk}", "15")
    level = StockLevel.objects.get(product=glue, warehouse=warehouse)

    manager_context = new_context()
    login(manager_context.new_page(), manager)
    dashboard, _ = open_watched(manager_context, "/")
    alerts, _ = open_watched(manager_context, "/inventory/alerts/")
    expect(alerts.locator("html")).to_have_attribute("lang", lang)
    expect(alerts.locator("#stock-alert-rows tr")).to_have_count(0)
    expect(alerts.locator("[data-alerts-empty]")).to_be_visible()
    expect(dashboard.locator("#stock-alerts-panel [data-alerts-empty]")).to_be_visible()
    expect(alerts.locator("#unread-count")).to_be_hidden()

    # Meanwhile the storekeeper issues 6 of the 15: 9 left, below the level of 10.
    submit_stock_form(keeper_page, f"/inventory/issue/?product={glue.pk}&warehouse={warehouse.pk}", "6")

    row = alerts.locator(f"#stock-alert-{level.pk}")
    expect(row).to_be_visible()
    expect(row).to_contain_text(glue.name)
    expect(row).to_contain_text(warehouse.name)
    expect(row.locator("[data-testid=alert-quantity]")).to_have_text(qty(9, lang))
    expect(row.locator("[data-testid=alert-shortfall]")).to_have_text(qty(1, lang))
    expect(row.locator("[data-testid=alert-receive]")).to_have_attribute(
        "href", f"/inventory/receive/?product={glue.pk}&warehouse={warehouse.pk}"
    )
    expect(alerts.locator("[data-alerts-empty]")).to_be_hidden()
    expect(alerts.locator("#stock-alerts-summary")).to_contain_text(qty(1, lang))

    # The title in the manager's own language, whatever the storekeeper's (stored per recipient).
    title = translated("Low stock: %(product)s in %(warehouse)s", lang, product=glue.name, warehouse=warehouse.name)
    for page in (alerts, dashboard):
        expect(page.locator("#unread-count")).to_have_text("1")
        expect(page.locator("#unread-count")).to_be_visible()
        toast = page.locator("#toasts .toast", has_text=title)
        expect(toast).to_be_visible()
        expect(toast.locator("a.toast-link")).to_have_text(translated("Open", lang))
    panel_row = dashboard.locator(f"#panel-alert-{level.pk}")
    expect(panel_row).to_contain_text(glue.name)
    expect(dashboard.locator("[data-testid=stock-alerts-count]")).to_have_text(qty(1, lang))
    shot(alerts, "stock-alerts", "live-alert")
    shot(dashboard, "stock-alerts", "dashboard-bell-toast", full_page=False)

    # Back above the level: the alert goes from both pages, and nobody is notified of it.
    submit_stock_form(keeper_page, f"/inventory/receive/?product={glue.pk}&warehouse={warehouse.pk}", "10")
    expect(alerts.locator(f"#stock-alert-{level.pk}")).to_have_count(0)
    expect(alerts.locator("[data-alerts-empty]")).to_be_visible()
    expect(alerts.locator("[data-alerts-table]")).to_be_hidden()
    expect(dashboard.locator(f"#panel-alert-{level.pk}")).to_have_count(0)
    expect(dashboard.locator("#stock-alerts-panel [data-alerts-empty]")).to_be_visible()
    expect(dashboard.locator("[data-testid=stock-alerts-count]")).to_be_hidden()
    expect(alerts.locator("#unread-count")).to_have_text("1")
    shot(alerts, "stock-alerts", "cleared")

    for page in (alerts, dashboard):
        assert_not_reloaded(page)
    assert StockLevel.objects.get(pk=level.pk).quantity == Decimal("19")
