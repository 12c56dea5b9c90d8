"""The orders board in two browsers at once: a salesperson drags an order to its next status and
the branch manager, watching the same board, sees the card arrive without reloading; a move the
server refuses snaps back with its message; two people saving the same order — the second is told
who changed what, and nothing of their save is stored."""

from __future__ import annotations

import re
from decimal import Decimal

import pytest
from playwright.sync_api import Page, expect

from crm_core.accounts.models import Role
from crm_core.customers.services import customer_create
from crm_core.inventory.services import product_create
from crm_core.orders.models import Order, OrderStatus
from crm_core.orders.services import ItemInput, order_create, order_transition, payment_record
from realtime import layer as layer_module
from tests.browser.helpers import (
    WATCH_SUBSCRIBED,
    assert_not_reloaded,
    login,
    money,
    no_reload_marker,
    shot,
    translated,
    wait_until,
)
from tests.factories import stock

pytestmark = pytest.mark.browser

DROP_OK = re.compile(r"\bboard-drop-ok\b")
DROP_NO = re.compile(r"\bboard-drop-no\b")


def open_live(page: Page, user, path: str) -> None:
    page.add_init_script(WATCH_SUBSCRIBED)
    login(page, user)
    page.goto(path)
    # Polled from here: the CSP forbids the string evaluation page.wait_for_function would use.
    wait_until(page, lambda: page.evaluate("window.__crmSubscribed > 0"), "the live subscription")


@pytest.fixture
def shop(world):
    """A branch-A salesperson and manager, products in stock and three orders in different states."""
    admin = world.user(Role.ADMIN, all_branches=True)
    sales = world.user(Role.SALES, first_name="مروان", last_name="سعيد", language="ar")
    manager = world.user(Role.MANAGER, first_name="Laila", last_name="Kamal", language="en")
    keeper = world.user(Role.STOREKEEPER)
    pump = product_create(actor=admin, sku="PMP-100", name="مضخة مياه", price=Decimal("450.00"))
    valve = product_create(actor=admin, sku="VLV-200", name="صمام أمان", price=Decimal("125.50"))
    stock(pump, world.warehouse_a, 10, actor=keeper)
    nile = customer_create(actor=sales, name="شركة النيل للمقاولات", phone="0223456789")
    huda = customer_create(actor=sales, name="هدى كامل", phone="01055554444")
    fresh = order_create(actor=sales, customer=nile, items=[ItemInput(product_id=pump.pk, quantity=Decimal("2"))])
    short = order_create(actor=sales, customer=huda, items=[ItemInput(product_id=valve.pk, quantity=Decimal("3"))])
    for status in (OrderStatus.CONFIRMED, OrderStatus.IN_PROGRESS, OrderStatus.READY):
        short = order_transition(actor=sales, order=short, to_status=status)
    done = order_create(actor=sales, customer=huda, items=[ItemInput(product_id=pump.pk, quantity=Decimal("1"))])
    for status in (OrderStatus.CONFIRMED, OrderStatus.IN_PROGRESS, OrderStatus.READY, OrderStatus.SHIPPED):
        done = order_transition(actor=sales, order=done, to_status=status)
    payment_record(actor=sales, order=done, amount=Decimal("100"))
    return {"sales": sales, "manager": manager, "fresh": fresh, "short": short, "done": done}


def card(page: Page, order: Order):
    return page.locator(f"#board-card-{order.pk}")


def test_a_card_dragged_by_one_user_arrives_in_the_other_users_board(shop, new_context):
    sales, manager, fresh = shop["sales"], shop["manager"], shop["fresh"]
    mover = new_context().new_page()
    watcher = new_context().new_page()
    open_live(mover, sales, "/orders/board/")
    open_live(watcher, manager, "/orders/board/")
    no_reload_marker(watcher)
    no_reload_marker(mover)
    expect(watcher.locator(f"#board-col-new #board-card-{fresh.pk}")).to_be_visible()
    shot(mover, "orders-board", "before")
    shot(watcher, "orders-board", "before")

    # While dragging, the valid columns are highlighted and the others refuse.
    mover_card = card(mover, fresh)
    mover_card.dispatch_event("dragstart", {"dataTransfer": mover.evaluate_handle("new DataTransfer()")})
    expect(mover.locator('[data-board-column="confirmed"]')).to_have_class(DROP_OK)
    expect(mover.locator('[data-board-column="cancelled"]')).to_have_class(DROP_OK)
    expect(mover.locator('[data-board-column="shipped"]')).to_have_class(DROP_NO)
    mover_card.dispatch_event("dragend")
    expect(mover.locator(".board-drop-ok")).to_have_count(0)

    mover_card.drag_to(mover.locator("#board-col-confirmed"))
    expect(mover.locator(f"#board-col-confirmed #board-card-{fresh.pk}")).to_be_visible()
    expect(mover.locator("#toasts")).to_contain_text(
        translated("Order %(number)s is now %(status)s.", "ar", number=fresh.number, status="")[:-1].strip()
    )
    wait_until(mover, lambda: Order.objects.get(pk=fresh.pk).status == OrderStatus.CONFIRMED, "the move to be saved")

    # The manager's board follows without a reload, in English.
    arrived = watcher.locator(f"#board-col-confirmed #board-card-{fresh.pk}")
    expect(arrived).to_be_visible()
    expect(watcher.locator(f"#board-col-new #board-card-{fresh.pk}")).to_have_count(0)
    expect(arrived).to_contain_text(money(fresh.total, "en"))
    assert_not_reloaded(watcher)
    assert_not_reloaded(mover)

    # A payment recorded on the order's page updates the card's balance on both boards.
    payer = new_context().new_page()
    login(payer, sales)
    payer.goto(f"/orders/{fresh.pk}/")
    payer.locator("[data-testid=payment-amount]").fill("26.00")
    payer.locator("[data-testid=payment-submit]").click()
    expect(arrived.locator("[data-testid=board-card-balance]")).to_have_text(money(fresh.total - 26, "en"))
    expect(card(mover, fresh).locator("[data-testid=board-card-balance]")).to_have_text(money(fresh.total - 26, "ar"))
    shot(mover, "orders-board", "after")
    shot(watcher, "orders-board", "after")


def test_a_refused_move_snaps_back_with_the_servers_message(shop, new_context):
    sales, short = shop["sales"], shop["short"]
    page = new_context().new_page()
    open_live(page, sales, "/orders/board/")
    no_reload_marker(page)
    # Not enough stock of the valve: the keyboard/phone button asks first, then the server refuses.
    card(page, short).locator("[data-board-move=shipped]").click()
    page.locator("#confirm-ok").click()
    expect(page.locator("#toasts .text-bg-danger")).to_be_visible()
    expect(page.locator(f"#board-col-ready #board-card-{short.pk}")).to_be_visible()
    assert Order.objects.get(pk=short.pk).status == OrderStatus.READY
    assert_not_reloaded(page)


def test_cancelling_from_the_board_asks_for_the_reason(shop, new_context):
    sales, fresh = shop["sales"], shop["fresh"]
    page = new_context().new_page()
    open_live(page, sales, "/orders/board/")
    card(page, fresh).drag_to(page.locator("#board-col-cancelled"))
    expect(page.locator("#board-cancel-modal")).to_be_visible()
    page.locator("[data-board-cancel-note]").fill("العميل اعتذر")
    page.locator("[data-testid=board-cancel-submit]").click()
    expect(page.locator(f"#board-col-cancelled #board-card-{fresh.pk}")).to_be_visible()
    wait_until(page, lambda: Order.objects.get(pk=fresh.pk).status == OrderStatus.CANCELLED, "the cancellation")
    assert Order.objects.get(pk=fresh.pk).status_changes.last().note == "العميل اعتذر"


def test_the_second_of_two_saves_is_told_who_changed_what_and_stores_nothing(shop, new_context):
    sales, manager, fresh = shop["sales"], shop["manager"], shop["fresh"]
    first = new_context().new_page()
    second = new_context().new_page()
    login(first, manager)
    login(second, sales)
    first.goto(f"/orders/{fresh.pk}/edit/")
    second.goto(f"/orders/{fresh.pk}/edit/")

    first.locator("#id_notes").fill("التوصيل بعد العصر")
    first.locator("[data-testid=save-order]").click()
    expect(first).to_have_url(f"{first.url.split('/orders/')[0]}/orders/{fresh.pk}/")
    saved = Order.objects.get(pk=fresh.pk)
    assert saved.notes == "التوصيل بعد العصر"

    second.locator("[data-item-row]").first.locator("[data-calc=quantity]").fill("5")
    second.locator("#id_discount_amount").fill("50")
    second.locator("[data-testid=save-order]").click()
    conflict = second.locator("[data-testid=conflict]")
    expect(conflict).to_be_visible()
    expect(conflict).to_contain_text("Laila Kamal")
    expect(conflict).to_contain_text(translated("notes", "ar"))
    expect(conflict).to_contain_text("التوصيل بعد العصر")
    # The second user's input is still there to re-apply.
    expect(second.locator("[data-item-row]").first.locator("[data-calc=quantity]")).to_have_value("5")
    expect(second.locator("#id_discount_amount")).to_have_value("50")
    shot(second, "orders-edit", "conflict")
    after = Order.objects.get(pk=fresh.pk)
    assert after.version == saved.version
    assert after.discount_amount == Decimal("0")
    assert after.items.get().quantity == Decimal("2")


def test_the_order_page_and_the_list_follow_changes_made_elsewhere(shop, new_context):
    sales, manager, fresh = shop["sales"], shop["manager"], shop["fresh"]
    detail = new_context().new_page()
    listing = new_context().new_page()
    other = new_context().new_page()
    open_live(detail, manager, f"/orders/{fresh.pk}/")
    open_live(listing, manager, "/orders/")
    no_reload_marker(detail)
    no_reload_marker(listing)
    login(other, sales)
    other.goto(f"/orders/{fresh.pk}/")

    other.locator("[data-testid=transition-confirmed]").click()
    expect(other.locator("#order-status-badge")).to_have_text("مؤكد")
    expect(detail.locator("#order-status-badge")).to_have_text("Confirmed")
    expect(detail.locator("#order-history")).to_contain_text("New → Confirmed")
    expect(listing.locator(f"#order-row-{fresh.pk} [data-testid=order-row-status]")).to_have_text("Confirmed")

    other.locator("[data-testid=payment-amount]").fill("26.00")
    other.locator("[data-testid=payment-submit]").click()
    expect(other.locator("#order-payments-list [data-testid=payment-row]")).to_have_count(1)
    expect(detail.locator("[data-testid=order-balance]")).to_have_text(money(fresh.total - 26, "en"))
    expect(detail.locator("#order-payments-list [data-testid=payment-row]")).to_have_count(1)
    assert_not_reloaded(detail)
    assert_not_reloaded(listing)
    shot(detail, "orders-detail", "live")

    # The buttons the stream brought get the page's CSRF token when sent.
    detail.locator("[data-testid=transition-in_progress]").click()
    expect(detail.locator("#order-status-badge")).to_have_text("In progress")
    assert Order.objects.get(pk=fresh.pk).status == OrderStatus.IN_PROGRESS

    # The cancel form, which the stream leaves alone so a half-typed reason survives, follows the
    # order's version: a payment made meanwhile does not make the cancellation stale.
    no_reload_marker(detail)
    detail.locator("[data-testid=cancel-toggle]").click()
    detail.locator("#cancel-note").fill("العميل اعتذر")
    other.locator("[data-testid=payment-amount]").fill("10.00")
    other.locator("[data-testid=payment-submit]").click()
    expect(detail.locator("[data-testid=order-balance]")).to_have_text(money(fresh.total - 36, "en"))
    expect(detail.locator("#cancel-note")).to_have_value("العميل اعتذر")
    assert_not_reloaded(detail)
    detail.locator("[data-testid=cancel-submit]").click()
    detail.locator("#confirm-ok").click()
    expect(detail.locator("#order-status-badge")).to_have_text("Cancelled")


def test_lists_gain_and_lose_the_orders_that_start_or_stop_matching_them(shop, new_context):
    """The manager watches three lists: new orders, confirmed orders and every order. The
    salesperson confirms one order and takes another; each list follows without a reload."""
    sales, manager, fresh = shop["sales"], shop["manager"], shop["fresh"]
    # A resync (after events recorded as lost) would refetch every list and hide one that does not
    # follow by itself; the fixture's services, run in this thread, published theirs.
    assert not layer_module._lost_events
    new_only, confirmed, everything = (new_context().new_page() for _ in range(3))
    open_live(new_only, manager, "/orders/?status=new")
    open_live(confirmed, manager, "/orders/?status=confirmed")
    open_live(everything, manager, "/orders/")
    for page in (new_only, confirmed, everything):
        no_reload_marker(page)
    expect(new_only.locator(f"#order-row-{fresh.pk}")).to_have_count(1)
    expect(confirmed.locator("[data-testid=order-row]")).to_have_count(0)
    rows_before = everything.locator("[data-testid=order-row]").count()

    other = new_context().new_page()
    login(other, sales)
    other.goto(f"/orders/{fresh.pk}/")
    other.locator("[data-testid=transition-confirmed]").click()
    expect(other.locator("#order-status-badge")).to_have_text("مؤكد")

    expect(new_only.locator(f"#order-row-{fresh.pk}")).to_have_count(0)
    expect(confirmed.locator(f"#order-row-{fresh.pk} [data-testid=order-row-status]")).to_have_text("Confirmed")
    expect(everything.locator(f"#order-row-{fresh.pk} [data-testid=order-row-status]")).to_have_text("Confirmed")
    expect(everything.locator("[data-testid=order-row]")).to_have_count(rows_before)

    # A second order for the same customer, taken through the form: it goes on top of the
    # newest-first list and on the list of new orders, not on the confirmed one.
    other.goto(f"/orders/new/?customer={fresh.customer_id}")
    row = other.locator("[data-item-row]").nth(0)
    row.locator("[data-product-search]").fill("PMP")
    row.locator("[data-product-pick]", has_text="مضخة مياه").click()
    other.locator("[data-testid=save-order]").click()
    expect(other).to_have_url(re.compile(r"/orders/\d+/$"))
    taken = Order.objects.exclude(pk__in=[fresh.pk, shop["short"].pk, shop["done"].pk]).get()

    expect(everything.locator("[data-testid=order-row]").first).to_have_id(f"order-row-{taken.pk}")
    expect(everything.locator("[data-testid=order-row]")).to_have_count(rows_before + 1)
    expect(new_only.locator(f"#order-row-{taken.pk}")).to_have_count(1)
    expect(confirmed.locator("[data-testid=order-row]")).to_have_count(1)
    for page in (new_only, confirmed, everything):
        assert_not_reloaded(page)
    shot(new_only, "orders-list", "live-filtered")
