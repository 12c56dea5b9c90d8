"""The order page: what it shows to each persona, status buttons and transitions, inline
payments (and overpayment), shipping details, and a query budget that ignores the order's size."""

from __future__ import annotations

import json
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from crm_core.accounts.models import Role
from crm_core.inventory.models import StockLevel, StockMovement
from crm_core.orders.models import Order, OrderStatus, OrderStatusChange, Payment, ShippingDetails
from crm_core.orders.services import ItemInput, order_set_shipping, order_transition, payment_record
from tests.factories import ProductFactory, stock
from tests.orders.helpers import db_state

DETAIL_BUDGET = 13


def _url(name: str, order: Order) -> str:
    return reverse(f"orders:{name}", args=[order.pk])


@pytest.fixture
def order(make_order) -> Order:
    """2 × tile at 100.00 for a plain customer: total 228.00."""
    return make_order()


# --- What the page shows -------------------------------------------------------------------------


def test_the_page_shows_items_totals_and_history(login, sales, order, products):
    html = login(sales).get(_url("detail", order)).content.decode()
    assert order.number in html
    assert products[0].name in html
    assert 'data-testid="order-total">228.00 EGP' in html
    assert 'data-testid="order-balance">228.00 EGP' in html
    assert "Created as New" in html
    assert "No payments yet." in html


def test_another_branchs_order_is_not_found(login, sales, outsider_order):
    assert login(sales).get(_url("detail", outsider_order)).status_code == 404


def test_a_colleague_of_the_branch_sees_the_order(login, personas, order):
    assert login(personas.colleague).get(_url("detail", order)).status_code == 200


def test_the_customer_link_appears_once_the_customer_page_exists(login, sales, order):
    from django.urls import NoReverseMatch

    html = login(sales).get(_url("detail", order)).content.decode()
    try:
        url = reverse("customers:detail", args=[order.customer_id])
    except NoReverseMatch:
        assert 'data-testid="customer-link"' not in html
    else:
        assert f'href="{url}" data-testid="customer-link"' in html


@pytest.mark.parametrize(
    ("role", "edit", "transitions", "pay"),
    [
        (Role.SALES, True, True, True),
        (Role.STOREKEEPER, False, True, False),
        (Role.ACCOUNTANT, False, False, True),
        (Role.DISPATCHER, False, False, False),
    ],
)
def test_buttons_follow_the_users_permissions(login, world, order, role, edit, transitions, pay):
    html = login(world.user(role)).get(_url("detail", order)).content.decode()
    assert ('data-testid="edit-order"' in html) is edit
    assert ('data-testid="transition-confirmed"' in html) is transitions
    assert ('data-testid="cancel-toggle"' in html) is transitions
    assert ('data-testid="payment-form"' in html) is pay


def test_only_the_next_statuses_are_offered(login, sales, order):
    order = order_transition(actor=sales, order=order, to_status=OrderStatus.CONFIRMED)
    html = login(sales).get(_url("detail", order)).content.decode()
    assert 'data-testid="transition-in_progress"' in html
    assert 'data-testid="transition-confirmed"' not in html
    assert 'data-testid="transition-shipped"' not in html
    assert 'data-testid="edit-order"' in html  # a confirmed order is still editable


def test_cancel_asks_for_confirmation_and_a_reason(login, sales, order):
    html = login(sales).get(_url("detail", order)).content.decode()
    start = html.index('id="cancel-panel"')
    panel = html[start : html.index("</form>", start)]
    assert "data-confirm=" in panel
    assert 'name="note"' in panel and "required" in panel


# --- Transitions ---------------------------------------------------------------------------------


def _transition(client, order: Order, to_status: str, **extra):
    return client.post(_url("transition", order), {"to_status": to_status, "version": order.version, **extra})


def test_confirming_through_the_page(login, sales, order):
    client = login(sales)
    response = _transition(client, order, "confirmed")
    assert response.status_code == 302
    order.refresh_from_db()
    assert order.status == OrderStatus.CONFIRMED
    change = OrderStatusChange.objects.filter(order=order).last()
    assert (change.from_status, change.to_status, change.changed_by) == ("new", "confirmed", sales)
    page = client.get(response["Location"]).content.decode()
    assert f"Order {order.number} is now Confirmed." in page
    assert "New → Confirmed" in page


def test_cancelling_needs_a_reason(login, sales, order):
    client = login(sales)
    before = db_state()
    response = _transition(client, order, "cancelled", note="  ")
    assert response.status_code == 400
    assert "Say why the order is cancelled." in response.content.decode()
    assert db_state() == before

    response = _transition(client, order, "cancelled", note="العميل ألغى")
    assert response.status_code == 302
    order.refresh_from_db()
    assert order.status == OrderStatus.CANCELLED
    assert OrderStatusChange.objects.filter(order=order).last().note == "العميل ألغى"


def test_a_transition_the_status_does_not_allow_changes_nothing(login, sales, order):
    client = login(sales)
    before = db_state()
    response = _transition(client, order, "delivered")
    assert response.status_code == 302
    assert db_state() == before
    assert "A New order cannot become Delivered." in client.get(response["Location"]).content.decode()


def test_shipping_short_of_stock_is_refused_and_changes_nothing(login, sales, world, make_order):
    scarce = ProductFactory(name="بلاط نادر", price=Decimal("50.00"))
    stock(scarce, world.warehouse_a, 1)
    order = make_order([ItemInput(product_id=scarce.pk, quantity=Decimal("3"))])
    for status in (OrderStatus.CONFIRMED, OrderStatus.IN_PROGRESS, OrderStatus.READY):
        order = order_transition(actor=sales, order=order, to_status=status)
    client = login(sales)
    before = db_state()

    response = _transition(client, order, "shipped")
    assert response.status_code == 302
    assert db_state() == before
    order.refresh_from_db()
    assert order.status == OrderStatus.READY
    assert StockLevel.objects.get(product=scarce, warehouse=world.warehouse_a).quantity == Decimal("1")
    page = client.get(response["Location"]).content.decode()
    assert "Not enough stock in" in page and "بلاط نادر" in page


def test_shipping_with_stock_issues_it(login, sales, order, products, world):
    for status in (OrderStatus.CONFIRMED, OrderStatus.IN_PROGRESS, OrderStatus.READY):
        order = order_transition(actor=sales, order=order, to_status=status)
    page = login(sales).get(_url("detail", order)).content.decode()
    assert "data-confirm=" in page[page.index('data-testid="transition-shipped"') - 600 :]
    response = _transition(login(sales), order, "shipped")
    assert response.status_code == 302
    assert StockMovement.objects.filter(order=order).count() == 1
    assert StockLevel.objects.get(product=products[0], warehouse=world.warehouse_a).quantity == Decimal("98")


def test_a_stale_transition_is_refused_with_the_conflict_message(login, sales, world, order):
    other = world.user(Role.SALES, first_name="سارة", last_name="حسن")
    client = login(sales)
    stale_version = order.version
    order_transition(actor=other, order=order, to_status=OrderStatus.CONFIRMED)
    before = db_state()
    response = client.post(_url("transition", order), {"to_status": "cancelled", "note": "x", "version": stale_version})
    assert db_state() == before
    assert "سارة حسن changed this record" in client.get(response["Location"]).content.decode()


def test_transitions_of_another_branch_are_not_found(login, sales, outsider_order):
    client = login(sales)
    before = db_state()
    assert _transition(client, outsider_order, "confirmed").status_code == 404
    assert db_state() == before


def test_a_role_without_the_transition_permission_is_refused(login, world, order):
    client = login(world.user(Role.ACCOUNTANT))
    before = db_state()
    assert _transition(client, order, "confirmed").status_code == 403
    assert db_state() == before


# --- Payments ------------------------------------------------------------------------------------


def _pay(client, order: Order, amount: str, htmx: bool = True, **extra):
    headers = {"HTTP_HX_REQUEST": "true"} if htmx else {}
    return client.post(_url("add_payment", order), {"amount": amount, "method": "cash", **extra}, **headers)


def test_an_inline_payment_updates_the_list_and_the_figures(login, world, order):
    accountant = world.user(Role.ACCOUNTANT)
    response = _pay(login(accountant), order, "100.50", reference="RCPT-7")
    html = response.content.decode()
    assert response.status_code == 200
    assert "<html" not in html
    assert html.lstrip().startswith('<div class="card shadow-sm" id="order-payments"')
    assert "RCPT-7" in html and "100.50 EGP" in html
    # The totals card is swapped out of band with the new paid and balance figures.
    assert 'id="order-totals" hx-swap-oob="true"' in html
    assert 'data-testid="order-paid">100.50 EGP' in html
    assert 'data-testid="order-balance">127.50 EGP' in html
    order.refresh_from_db()
    assert (order.amount_paid, order.balance) == (Decimal("100.50"), Decimal("127.50"))
    assert f'data-version="{order.version}"' in html  # the page's other forms pick up the new version
    assert json.loads(response["HX-Trigger"])["crm:toast"]["messages"][0]["text"] == "The payment was recorded."


def test_an_overpayment_shows_the_error_in_place_and_writes_nothing(login, sales, order):
    client = login(sales)
    before = db_state()
    response = _pay(client, order, "228.01")
    html = response.content.decode()
    assert response.status_code == 200  # htmx swaps only successful responses
    assert 'data-testid="payment-amount-error"' in html
    assert "This payment would exceed the order total: at most 228.00 is due." in html
    assert 'value="228.01"' in html  # the typed amount is kept
    assert db_state() == before


def test_a_payment_without_htmx_redirects_back_to_the_order(login, sales, order):
    response = _pay(login(sales), order, "28", htmx=False)
    assert response.status_code == 302
    assert Payment.objects.get(order=order).amount == Decimal("28.00")


def test_a_cancelled_order_takes_no_payment(login, sales, order):
    order = order_transition(actor=sales, order=order, to_status=OrderStatus.CANCELLED, note="x")
    client = login(sales)
    assert 'data-testid="payment-form"' not in client.get(_url("detail", order)).content.decode()
    before = db_state()
    response = _pay(client, order, "10")
    assert "A cancelled order cannot take payments." in response.content.decode()
    assert db_state() == before


def test_payments_on_another_branchs_order_are_not_found(login, sales, outsider_order):
    client = login(sales)
    before = db_state()
    assert _pay(client, outsider_order, "1").status_code == 404
    assert db_state() == before


def test_a_role_without_the_payment_permission_is_refused(login, world, order):
    client = login(world.user(Role.STOREKEEPER))
    before = db_state()
    assert _pay(client, order, "1").status_code == 403
    assert db_state() == before


# --- Shipping ------------------------------------------------------------------------------------


def _shipping(order: Order, **changes) -> dict:
    data = {
        "method": "delivery",
        "recipient_name": "محمد علي",
        "phone": "01001234567",
        "city": "القاهرة",
        "address": "12 شارع النيل",
        "scheduled_date": "2026-12-01",
        "carrier": "",
        "tracking_number": "",
        "cost": "50.00",
        "notes": "",
        "version": order.version,
    }
    data.update(changes)
    return data


def test_shipping_details_are_saved_and_their_cost_goes_into_the_total(login, sales, order):
    client = login(sales)
    response = client.post(_url("shipping", order), _shipping(order))
    assert response.status_code == 302
    order.refresh_from_db()
    assert ShippingDetails.objects.get(order=order).cost == Decimal("50.00")
    assert order.total == Decimal("278.00")
    html = client.get(_url("detail", order)).content.decode()
    assert 'data-testid="shipping-details"' in html and "12 شارع النيل" in html


def test_bad_shipping_input_shows_errors_and_writes_nothing(login, sales, order):
    client = login(sales)
    before = db_state()
    response = client.post(_url("shipping", order), _shipping(order, recipient_name="", cost="-1"))
    html = response.content.decode()
    assert response.status_code == 400
    assert "This field is required." in html
    assert "Ensure this value is greater than or equal to 0." in html
    assert db_state() == before


def test_stale_shipping_details_are_refused(login, sales, order):
    client = login(sales)
    stale = _shipping(order)
    payment_record(actor=sales, order=order, amount=Decimal("1"))
    before = db_state()
    response = client.post(_url("shipping", order), stale)
    assert response.status_code == 400
    assert "changed this record while you were editing it" in response.content.decode()
    assert db_state() == before


def test_shipping_of_another_branchs_order_is_not_found(login, sales, outsider_order):
    client = login(sales)
    before = db_state()
    assert client.post(_url("shipping", outsider_order), _shipping(outsider_order)).status_code == 404
    assert db_state() == before


# --- Query budget --------------------------------------------------------------------------------


def _count(client, order: Order) -> int:
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(_url("detail", order))
    assert response.status_code == 200
    return len(ctx.captured_queries)


def _busy_order(sales, customer, products: list) -> Order:
    """An order with every kind of row: items, payments, shipping and a status history."""
    from crm_core.orders.services import order_create

    order = order_create(
        actor=sales, customer=customer, items=[ItemInput(product_id=p.pk, quantity=Decimal("1")) for p in products]
    )
    order_set_shipping(actor=sales, order=order, method="pickup", recipient_name="x", phone="0100", cost=Decimal("5"))
    for _ in range(len(products)):
        payment_record(actor=sales, order=order, amount=Decimal("1"))
    for status in (OrderStatus.CONFIRMED, OrderStatus.IN_PROGRESS)[: 1 if len(products) < 5 else 2]:
        order = order_transition(actor=sales, order=order, to_status=status)
    return order


def test_the_detail_query_count_does_not_grow_with_items_payments_or_history(
    login, sales, plain_customer, products, django_assert_max_num_queries
):
    extra = [ProductFactory(price=Decimal("5.00")) for _ in range(12)]
    small = _busy_order(sales, plain_customer, products[:2])
    large = _busy_order(sales, plain_customer, [*products, *extra])
    client = login(sales)
    client.get(_url("detail", small))  # warm the per-process caches
    with django_assert_max_num_queries(DETAIL_BUDGET):
        few = _count(client, small)
    with django_assert_max_num_queries(DETAIL_BUDGET):
        many = _count(client, large)
    assert few == many


def test_an_inline_payment_response_has_a_fixed_query_budget(login, sales, plain_customer, products):
    extra = [ProductFactory(price=Decimal("5.00")) for _ in range(12)]
    small = _busy_order(sales, plain_customer, products[:2])
    large = _busy_order(sales, plain_customer, [*products, *extra])
    client = login(sales)
    counts = []
    for order in (small, large, small):
        with CaptureQueriesContext(connection) as ctx:
            assert _pay(client, order, "1").status_code == 200
        counts.append(len(ctx.captured_queries))
    assert counts[1] == counts[2]


def test_a_linked_inspection_is_shown_with_its_link(login, sales, plain_customer, products):
    from django.urls import NoReverseMatch

    from crm_core.inspections.services import inspection_schedule
    from crm_core.orders.services import order_create
    from tests.factories import slot

    start, end = slot(24)
    inspection = inspection_schedule(actor=sales, customer=plain_customer, scheduled_start=start, scheduled_end=end)
    order = order_create(
        actor=sales,
        customer=plain_customer,
        items=[ItemInput(product_id=products[0].pk, quantity=Decimal("1"))],
        inspection=inspection,
    )
    html = login(sales).get(_url("detail", order)).content.decode()
    assert inspection.number in html
    try:
        url = reverse("inspections:detail", args=[inspection.pk])
    except NoReverseMatch:
        assert 'data-testid="inspection-link"' not in html
    else:
        assert f'href="{url}" data-testid="inspection-link"' in html
