"""The order form: create with items, edit header and items in one save, lookups, scoping,
bad input that writes nothing, the stale-version conflict and the page's query budget."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from crm_core.accounts.models import Role
from crm_core.customers.models import CustomerStatus
from crm_core.orders.models import Order, OrderItem, OrderStatus
from crm_core.orders.services import ItemInput, order_transition, order_update, payment_record
from tests.factories import CustomerFactory, ProductFactory
from tests.orders.helpers import db_state

CREATE = reverse("orders:create")
FORM_BUDGET = 13


def _edit_url(order: Order) -> str:
    return reverse("orders:edit", args=[order.pk])


def form_data(
    *, customer: Any = None, items: list[dict[str, Any]] = (), existing: int = 0, **header: Any
) -> dict[str, Any]:
    """What the browser posts: header fields, then one row per item (formset prefix "items")."""
    data: dict[str, Any] = {
        "order_date": "2026-11-20",
        "discount_amount": "0",
        "notes": "",
        "salesperson": "",
        "warehouse": "",
        "items-TOTAL_FORMS": str(len(items)),
        "items-INITIAL_FORMS": str(existing),
        "items-MIN_NUM_FORMS": "0",
        "items-MAX_NUM_FORMS": "1000",
    }
    if customer is not None:
        data["customer"] = customer.pk
    for index, row in enumerate(items):
        for key, value in row.items():
            if key == "DELETE":
                if value:
                    data[f"items-{index}-DELETE"] = "on"
            else:
                data[f"items-{index}-{key}"] = "" if value is None else str(value)
    data.update({key: "" if value is None else value for key, value in header.items()})
    return data


def edit_data(order: Order, rows: list[dict[str, Any]], **header: Any) -> dict[str, Any]:
    """Existing items first (as the page lists them), then new rows."""
    base = {
        "version": order.version,
        "salesperson": order.salesperson_id or "",
        "warehouse": order.warehouse_id,
        "order_date": order.order_date.isoformat(),
        "discount_amount": str(order.discount_amount),
        "notes": order.notes,
    }
    base.update(header)
    existing = OrderItem.objects.filter(order=order).count()
    return form_data(items=rows, existing=existing, **base)


def row(product=None, quantity: Any = "1", unit_price: Any = "", discount_percent: Any = "", **extra) -> dict:
    data = {"quantity": quantity, "unit_price": unit_price, "discount_percent": discount_percent, **extra}
    if product is not None:
        data["product"] = product.pk
    return data


# --- Create ------------------------------------------------------------------------------------


def test_create_with_two_items_saves_the_servers_totals(login, sales, customer, products):
    tile, glue, _ = products
    client = login(sales)
    response = client.post(
        CREATE,
        form_data(
            customer=customer,
            discount_amount="10",
            notes="  توصيل صباحا  ",
            items=[row(tile, "2"), row(glue, "3", unit_price="20", discount_percent="0")],
        ),
    )
    order = Order.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("orders:detail", args=[order.pk])
    lines = {item.product_id: item for item in order.items.all()}
    # Blank price and discount: the product's price and the customer's 10 % standing discount.
    assert (lines[tile.pk].unit_price, lines[tile.pk].discount_percent, lines[tile.pk].line_total) == (
        Decimal("100.00"),
        Decimal("10.00"),
        Decimal("180.00"),
    )
    assert (lines[glue.pk].unit_price, lines[glue.pk].line_total) == (Decimal("20.00"), Decimal("60.00"))
    # 240 - 10 = 230, + 14 % = 262.20
    assert (order.subtotal, order.discount_amount, order.tax_amount, order.total) == (
        Decimal("240.00"),
        Decimal("10.00"),
        Decimal("32.20"),
        Decimal("262.20"),
    )
    assert order.customer == customer
    assert order.salesperson == sales  # blank salesperson means "me"
    assert order.notes == "توصيل صباحا"
    detail = client.get(response["Location"])
    assert f"Order {order.number} was created." in detail.content.decode()


def test_the_form_page_prefills_the_customer_from_the_link(login, sales, customer):
    html = login(sales).get(CREATE, {"customer": customer.pk}).content.decode()
    assert f'name="customer" value="{customer.pk}"' in html
    assert customer.name in html
    assert 'data-default-discount="10.00"' in html  # the page's script applies the standing discount


def test_a_customer_of_another_branch_in_the_link_is_not_prefilled(login, sales, outsider_customer):
    html = login(sales).get(CREATE, {"customer": outsider_customer.pk}).content.decode()
    assert outsider_customer.name not in html
    assert 'name="customer" value' not in html


def test_a_posted_customer_of_another_branch_is_a_form_error_and_writes_nothing(
    login, sales, outsider_customer, products
):
    client = login(sales)
    before = db_state()
    response = client.post(CREATE, form_data(customer=outsider_customer, items=[row(products[0], "1")]))
    assert response.status_code == 400
    assert "Choose one of your customers." in response.content.decode()
    assert db_state() == before


def test_a_blocked_customer_is_refused(login, sales, world, products):
    blocked = CustomerFactory(branch=world.branch_a, status=CustomerStatus.BLOCKED)
    client = login(sales)
    before = db_state()
    response = client.post(CREATE, form_data(customer=blocked, items=[row(products[0], "1")]))
    assert "This customer is blocked; orders cannot be taken." in response.content.decode()
    assert db_state() == before


def test_an_inactive_product_is_a_row_error_and_writes_nothing(login, sales, plain_customer, products):
    retired = ProductFactory(is_active=False)
    client = login(sales)
    before = db_state()
    response = client.post(CREATE, form_data(customer=plain_customer, items=[row(products[0], "1"), row(retired, "2")]))
    html = response.content.decode()
    assert response.status_code == 400
    assert "Choose an active product." in html
    assert db_state() == before
    # The good row is kept as typed, with its product shown again.
    assert products[0].name in html


def test_one_bad_row_saves_nothing_and_shows_the_error_on_that_row(login, sales, plain_customer, products):
    client = login(sales)
    before = db_state()
    response = client.post(
        CREATE,
        form_data(
            customer=plain_customer, items=[row(products[0], "2"), row(products[1], "0"), row(products[2], "1.2345")]
        ),
    )
    html = response.content.decode()
    assert response.status_code == 400
    assert "Ensure this value is greater than or equal to 0.001." in html
    assert "Ensure that there are no more than 3 decimal places." in html
    assert db_state() == before


def test_the_same_product_twice_is_refused(login, sales, plain_customer, products):
    client = login(sales)
    before = db_state()
    response = client.post(CREATE, form_data(customer=plain_customer, items=[row(products[0]), row(products[0])]))
    assert "This product is already on the order" in response.content.decode()
    assert db_state() == before


def test_an_order_needs_an_item(login, sales, plain_customer):
    client = login(sales)
    before = db_state()
    response = client.post(CREATE, form_data(customer=plain_customer, items=[]))
    assert "Add at least one item." in response.content.decode()
    assert db_state() == before


def test_a_discount_above_the_subtotal_is_a_field_error(login, sales, plain_customer, products):
    client = login(sales)
    before = db_state()
    response = client.post(
        CREATE, form_data(customer=plain_customer, discount_amount="500", items=[row(products[0], "1")])
    )
    assert "The discount cannot exceed the items&#x27; subtotal." in response.content.decode()
    assert db_state() == before


def test_a_warehouse_or_salesperson_of_another_branch_is_refused(
    login, sales, world, personas, plain_customer, products
):
    client = login(sales)
    before = db_state()
    response = client.post(
        CREATE, form_data(customer=plain_customer, warehouse=world.warehouse_b.pk, items=[row(products[0])])
    )
    assert response.status_code == 400
    assert "Select a valid choice." in response.content.decode()
    response = client.post(
        CREATE, form_data(customer=plain_customer, salesperson=personas.outsider.pk, items=[row(products[0])])
    )
    assert response.status_code == 400
    assert db_state() == before


def test_blank_rows_added_and_left_untouched_are_ignored(login, sales, plain_customer, products):
    data = form_data(customer=plain_customer, items=[row(products[0], "1"), {"quantity": ""}])
    response = login(sales).post(CREATE, data)
    assert response.status_code == 302
    assert Order.objects.get().items.count() == 1


@pytest.mark.parametrize(
    ("role", "status"),
    [(Role.SALES, 200), (Role.DISPATCHER, 200), (Role.STOREKEEPER, 403), (Role.ACCOUNTANT, 403)],
)
def test_who_may_open_the_new_order_form(login, world, role, status):
    assert login(world.user(role)).get(CREATE).status_code == status


def test_the_new_order_button_follows_the_permission(login, world):
    assert 'data-testid="new-order"' in login(world.user(Role.SALES)).get(reverse("orders:list")).content.decode()
    assert (
        'data-testid="new-order"' not in login(world.user(Role.ACCOUNTANT)).get(reverse("orders:list")).content.decode()
    )


# --- Lookups -------------------------------------------------------------------------------------


def test_product_lookup_returns_active_matches_with_their_price(login, sales, products):
    ProductFactory(name="سيراميك قديم", is_active=False, search_text="سيراميك قديم")
    products[0].search_text = "سيراميك ابيض tile-1"
    products[0].save(update_fields=["search_text"])
    response = login(sales).get(reverse("orders:product_lookup"), {"q": "سيراميك"}, HTTP_HX_REQUEST="true")
    html = response.content.decode()
    assert response.status_code == 200
    assert "<html" not in html
    assert html.count("data-product-pick") == 1
    assert f'data-id="{products[0].pk}"' in html
    assert 'data-price="100.00"' in html
    assert "قديم" not in html


def test_customer_lookup_searches_only_visible_customers(login, sales, plain_customer, outsider_customer, world):
    plain_customer.search_text = "محمد علي"
    plain_customer.save(update_fields=["search_text"])
    CustomerFactory(branch=world.branch_a, name="محمد محظور", search_text="محمد محظور", status=CustomerStatus.BLOCKED)
    outsider_customer.search_text = "محمد الاسكندريه"
    outsider_customer.save(update_fields=["search_text"])
    html = login(sales).get(reverse("orders:customer_lookup"), {"q": "محمد"}).content.decode()
    assert html.count("data-customer-pick") == 1
    assert f'data-id="{plain_customer.pk}"' in html


# --- Edit ----------------------------------------------------------------------------------------


@pytest.fixture
def order(make_order, products) -> Order:
    """2 × tile (100.00) and 1 × glue (25.50) for a plain customer: subtotal 225.50."""
    tile, glue, _ = products
    return make_order(
        [ItemInput(product_id=tile.pk, quantity=Decimal("2")), ItemInput(product_id=glue.pk, quantity=Decimal("1"))]
    )


def test_the_edit_form_lists_the_items_and_carries_the_version(login, sales, order, products):
    html = login(sales).get(_edit_url(order)).content.decode()
    assert f'name="version" value="{order.version}"' in html
    assert html.count("data-item-row") == 2 + 1  # two rows, plus the blank row template
    assert products[0].name in html and products[1].name in html


def test_an_edit_changes_header_and_items_in_one_save(login, sales, order, products):
    tile, _glue, grout = products
    response = login(sales).post(
        _edit_url(order),
        edit_data(
            order,
            [
                row(quantity="3", unit_price="90.00", discount_percent="0"),  # tile: changed
                row(quantity="1", unit_price="25.50", discount_percent="0", DELETE=True),  # glue: removed
                row(grout, "2"),  # new
            ],
            discount_amount="10",
            notes="عدّلت",
        ),
    )
    assert response.status_code == 302
    order.refresh_from_db()
    items = {item.product_id: item for item in order.items.all()}
    assert set(items) == {tile.pk, grout.pk}
    assert (items[tile.pk].quantity, items[tile.pk].unit_price) == (Decimal("3.000"), Decimal("90.00"))
    assert items[grout.pk].line_total == Decimal("39.98")
    # 270 + 39.98 = 309.98; - 10 = 299.98; tax 42.00 (41.9972); total 341.98
    assert (order.subtotal, order.discount_amount, order.tax_amount, order.total) == (
        Decimal("309.98"),
        Decimal("10.00"),
        Decimal("42.00"),
        Decimal("341.98"),
    )
    assert order.notes == "عدّلت"
    # Header, one add, one update, one removal: four service calls, four versions.
    assert order.version == 1 + 4


def test_a_bigger_discount_and_more_items_save_in_an_order_the_services_accept(login, sales, order, products):
    # A discount of 300 is above today's subtotal (225.50) and valid only once the new item is on
    # the order (425.50), so the form must apply it after adding the item.
    response = login(sales).post(
        _edit_url(order),
        edit_data(
            order,
            [row(quantity="2"), row(quantity="1"), row(products[2], "10", unit_price="20")],
            discount_amount="300",
        ),
    )
    assert response.status_code == 302
    order.refresh_from_db()
    assert (order.subtotal, order.discount_amount) == (Decimal("425.50"), Decimal("300.00"))


def test_removing_a_row_and_adding_the_same_product_again_updates_it(login, sales, order, products):
    response = login(sales).post(
        _edit_url(order),
        edit_data(order, [row(quantity="2"), row(quantity="1", DELETE=True), row(products[1], "4")]),
    )
    assert response.status_code == 302
    glue = OrderItem.objects.get(order=order, product=products[1])
    assert glue.quantity == Decimal("4")
    assert OrderItem.objects.filter(order=order).count() == 2


def test_an_edit_with_nothing_changed_writes_nothing(login, sales, order):
    client = login(sales)
    before = db_state()
    response = client.post(_edit_url(order), edit_data(order, [row(quantity="2"), row(quantity="1")]))
    assert response.status_code == 302
    assert db_state() == before


def test_one_bad_row_in_an_edit_saves_nothing(login, sales, order, products):
    client = login(sales)
    before = db_state()
    response = client.post(
        _edit_url(order),
        edit_data(order, [row(quantity="5"), row(quantity="-1"), row(products[2], "1")], notes="changed"),
    )
    assert response.status_code == 400
    assert "Ensure this value is greater than or equal to 0.001." in response.content.decode()
    assert db_state() == before


def test_removing_every_item_is_refused(login, sales, order):
    client = login(sales)
    before = db_state()
    response = client.post(
        _edit_url(order), edit_data(order, [row(quantity="2", DELETE=True), row(quantity="1", DELETE=True)])
    )
    assert "Add at least one item." in response.content.decode()
    assert db_state() == before


def test_a_total_below_what_was_paid_is_refused_before_any_write(login, sales, order):
    payment_record(actor=sales, order=order, amount=Decimal("200"))
    order.refresh_from_db()
    client = login(sales)
    before = db_state()
    response = client.post(_edit_url(order), edit_data(order, [row(quantity="1"), row(quantity="1")]))
    assert response.status_code == 400
    assert "already paid" in response.content.decode()
    assert db_state() == before


def test_a_stale_edit_shows_who_changed_what_keeps_the_input_and_writes_nothing(login, sales, world, order):
    other = world.user(Role.SALES, first_name="سارة", last_name="حسن")
    client = login(sales)
    client.get(_edit_url(order))  # the form is loaded at version 1
    data = edit_data(order, [row(quantity="7"), row(quantity="1")], notes="my note")
    order_update(actor=other, order=order, expected_version=order.version, notes="their note")
    before = db_state()  # after the other person's save: this POST must add nothing to it

    response = client.post(_edit_url(order), data)
    html = response.content.decode()
    assert response.status_code == 409
    assert "سارة حسن changed this record while you were editing it; nothing of yours was saved." in html
    assert "changed the order&#x27;s details" in html
    assert "notes" in html
    assert 'value="7"' in html and "my note" in html  # the user's input is kept
    assert db_state() == before


def test_an_order_past_confirmed_cannot_be_edited(login, sales, order):
    for status in (OrderStatus.CONFIRMED, OrderStatus.IN_PROGRESS):
        order = order_transition(actor=sales, order=order, to_status=status)
    client = login(sales)
    response = client.get(_edit_url(order))
    assert response.status_code == 302
    before = db_state()
    response = client.post(_edit_url(order), edit_data(order, [row(quantity="9"), row(quantity="1")]))
    assert response.status_code == 302
    assert db_state() == before


def test_another_branchs_order_is_not_found_for_editing(login, sales, outsider_order):
    client = login(sales)
    assert client.get(_edit_url(outsider_order)).status_code == 404
    before = db_state()
    assert client.post(_edit_url(outsider_order), edit_data(outsider_order, [row(quantity="5")])).status_code == 404
    assert db_state() == before


def test_a_role_that_may_create_but_not_change_cannot_edit(login, world, order):
    dispatcher = world.user(Role.DISPATCHER)
    assert login(dispatcher).get(_edit_url(order)).status_code == 403


def test_a_forged_initial_count_cannot_turn_existing_rows_into_new_ones(login, sales, order, products):
    data = edit_data(order, [row(quantity="2"), row(quantity="1")])
    data["items-INITIAL_FORMS"] = "0"
    data["items-0-product"] = products[2].pk
    response = login(sales).post(_edit_url(order), data)
    assert response.status_code == 302
    # The rows still stand for the order's own items: nothing was added, nothing changed.
    assert set(OrderItem.objects.filter(order=order).values_list("product_id", flat=True)) == {
        products[0].pk,
        products[1].pk,
    }


# --- Query budget --------------------------------------------------------------------------------


def _count(client, url: str, params: dict | None = None) -> int:
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url, params or {})
    assert response.status_code == 200
    return len(ctx.captured_queries)


def test_the_form_pages_query_count_does_not_grow_with_items(
    login, sales, plain_customer, products, make_order, django_assert_max_num_queries
):
    extra = [ProductFactory(price=Decimal("5.00")) for _ in range(10)]
    small = make_order([ItemInput(product_id=p.pk, quantity=Decimal("1")) for p in products[:2]])
    large = make_order([ItemInput(product_id=p.pk, quantity=Decimal("1")) for p in [*products, *extra]])
    client = login(sales)
    client.get(_edit_url(small))  # warm the per-process caches
    with django_assert_max_num_queries(FORM_BUDGET):
        few = _count(client, _edit_url(small))
    with django_assert_max_num_queries(FORM_BUDGET):
        many = _count(client, _edit_url(large))
    assert few == many
    with django_assert_max_num_queries(FORM_BUDGET):
        _count(client, CREATE, {"customer": plain_customer.pk})


def test_a_refusal_half_way_through_an_edit_saves_none_of_it(login, sales, order, products, monkeypatch):
    from django.core.exceptions import ValidationError

    def refuse(**kwargs):
        raise ValidationError("Somebody shipped it meanwhile.")

    # The header and the new item go through their services, then the removal is refused (as a race would).
    monkeypatch.setattr("crm_core.orders.services.order_item_remove", refuse)
    before = (
        order.notes,
        order.version,
        sorted(OrderItem.objects.filter(order=order).values_list("product_id", "quantity")),
    )
    client = login(sales)
    response = client.post(
        _edit_url(order),
        edit_data(order, [row(quantity="2"), row(quantity="1", DELETE=True), row(products[2], "1")], notes="n"),
    )
    assert response.status_code == 400
    assert "Somebody shipped it meanwhile." in response.content.decode()
    order.refresh_from_db()
    after = (
        order.notes,
        order.version,
        sorted(OrderItem.objects.filter(order=order).values_list("product_id", "quantity")),
    )
    assert after == before
