"""The orders list: scoping per persona, filters, search, keyset pages, htmx partial, query budget."""

from __future__ import annotations

import re
from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from crm_core.accounts.models import Role
from crm_core.orders.models import OrderStatus
from crm_core.orders.selectors import PER_PAGE
from crm_core.orders.services import ItemInput, order_create, order_transition, payment_record
from tests.factories import CustomerFactory

LIST = reverse("orders:list")
# One more on PostgreSQL than on SQLite: the live stream's last event id, read from its sequence.
LIST_BUDGET = 11


def _numbers(response) -> list[str]:
    return re.findall(r'href="/orders/\d+/">([A-Z]+-\d{4}-\d{6})<', response.content.decode())


def test_a_user_sees_only_their_branch_orders(login, personas, make_order, outsider_order):
    mine = make_order()
    page = login(personas.owner).get(LIST)
    assert page.status_code == 200
    assert _numbers(page) == [mine.number]

    theirs = login(personas.outsider).get(LIST)
    assert _numbers(theirs) == [outsider_order.number]


def test_a_colleague_with_another_role_sees_the_branch_orders(login, personas, make_order):
    order = make_order()
    assert _numbers(login(personas.colleague).get(LIST)) == [order.number]


def test_a_role_without_the_orders_permission_is_refused(login, world):
    inspector = world.user(Role.INSPECTOR)
    assert login(inspector).get(LIST).status_code == 403


def test_the_list_shows_number_customer_status_and_money(login, sales, make_order):
    order = make_order()
    html = login(sales).get(LIST).content.decode()
    assert order.number in html
    assert order.customer.name in html
    assert "text-bg-secondary" in html  # status_colour of "new"
    assert "228.00 EGP" in html  # 2 × 100 + 14 % tax, total and balance


def test_the_branch_filter_is_offered_only_to_users_of_several_branches(
    login, sales, hq_manager, make_order, outsider_order
):
    assert 'name="branch"' not in login(sales).get(LIST).content.decode()

    mine = make_order()
    client = login(hq_manager)
    everything = client.get(LIST)
    assert 'name="branch"' in everything.content.decode()
    assert set(_numbers(everything)) == {mine.number, outsider_order.number}
    only_b = client.get(LIST, {"branch": outsider_order.branch_id})
    assert _numbers(only_b) == [outsider_order.number]


def test_a_branch_outside_the_users_scope_cannot_be_filtered_on(login, sales, world, make_order):
    mine = make_order()
    page = login(sales).get(LIST, {"branch": world.branch_b.pk})
    # The field does not exist for a one-branch user: the parameter is ignored, never widening the scope.
    assert _numbers(page) == [mine.number]


def test_status_filter(login, sales, make_order):
    new = make_order()
    confirmed = make_order()
    order_transition(actor=sales, order=confirmed, to_status=OrderStatus.CONFIRMED)
    client = login(sales)
    assert _numbers(client.get(LIST, {"status": "confirmed"})) == [confirmed.number]
    assert _numbers(client.get(LIST, {"status": "new"})) == [new.number]


def test_balance_due_filter_leaves_out_paid_and_cancelled_orders(login, sales, make_order):
    unpaid = make_order()
    paid = make_order()
    payment_record(actor=sales, order=paid, amount=paid.total)
    cancelled = make_order()
    order_transition(actor=sales, order=cancelled, to_status=OrderStatus.CANCELLED, note="x")
    assert _numbers(login(sales).get(LIST, {"balance": "on"})) == [unpaid.number]


def test_customer_filter_from_the_customer_page_link(login, sales, make_order, customer, plain_customer):
    theirs = make_order(customer=customer)
    make_order(customer=plain_customer)
    page = login(sales).get(LIST, {"customer": customer.pk})
    assert _numbers(page) == [theirs.number]
    assert 'data-testid="customer-filter"' in page.content.decode()


def test_a_customer_of_another_branch_in_the_filter_shows_nothing_of_theirs(
    login, sales, make_order, outsider_customer, outsider_order
):
    mine = make_order()
    page = login(sales).get(LIST, {"customer": outsider_customer.pk})
    # Not a visible customer: the filter is refused and the list stays the user's own.
    assert _numbers(page) == [mine.number]
    assert outsider_customer.name not in page.content.decode()


def test_salesperson_and_date_range_filters(login, sales, world, plain_customer, products, make_order):
    colleague = world.user(Role.SALES)
    by_me = make_order(order_date=date(2026, 1, 10))
    by_colleague = make_order(actor=colleague, order_date=date(2026, 3, 5))
    client = login(sales)
    assert _numbers(client.get(LIST, {"salesperson": colleague.pk})) == [by_colleague.number]
    assert _numbers(client.get(LIST, {"date_from": "2026-01-01", "date_to": "2026-01-31"})) == [by_me.number]
    assert _numbers(client.get(LIST, {"date_from": "2026-03-01"})) == [by_colleague.number]


def test_a_reversed_date_range_is_reported(login, sales, make_order):
    make_order()
    page = login(sales).get(LIST, {"date_from": "2026-05-01", "date_to": "2026-04-01"})
    assert "The end date is before the start date." in page.content.decode()


def test_search_by_order_number_prefix_or_customer_name_as_typed(login, sales, make_order, world):
    ahmed = CustomerFactory(branch=world.branch_a, name="أحمد إبراهيم", search_text="احمد ابراهيم")
    first = make_order(customer=ahmed)
    second = make_order()
    client = login(sales)
    # Without hamza, as people type it, finds "أحمد".
    assert _numbers(client.get(LIST, {"q": "احمد"})) == [first.number]
    assert _numbers(client.get(LIST, {"q": second.number.lower()})) == [second.number]
    assert set(_numbers(client.get(LIST, {"q": "CAI-"}))) == {first.number, second.number}
    # Letters alone may start a number or a Latin name: both are searched.
    assert set(_numbers(client.get(LIST, {"q": "cai"}))) == {first.number, second.number}
    empty = client.get(LIST, {"q": "لا يوجد"})
    assert _numbers(empty) == []
    assert "No orders match these filters" in empty.content.decode()


def test_empty_list_tells_what_to_do_next(login, sales):
    html = login(sales).get(LIST).content.decode()
    assert "No orders yet" in html
    assert reverse("orders:create") in html


def test_htmx_filtering_returns_only_the_table_partial(login, sales, make_order):
    order = make_order()
    response = login(sales).get(LIST, {"status": "new"}, HTTP_HX_REQUEST="true")
    html = response.content.decode()
    assert response.status_code == 200
    assert "<html" not in html
    assert html.lstrip().startswith('<div id="order-results">')
    assert order.number in html


def test_a_history_restore_gets_the_whole_page(login, sales, make_order):
    # Back after htmx pushed the URL: htmx swaps the whole body, so the filters must come too.
    make_order()
    response = login(sales).get(LIST, {"status": "new"}, HTTP_HX_REQUEST="true", HTTP_HX_HISTORY_RESTORE_REQUEST="true")
    assert 'id="order-filters"' in response.content.decode()


def test_the_pager_gets_the_table_partial(login, sales, make_order):
    make_order()
    response = login(sales).get(LIST, HTTP_HX_REQUEST="true", HTTP_HX_BOOSTED="true", HTTP_HX_TARGET="order-results")
    assert "<html" not in response.content.decode()


def test_the_filter_form_pushes_the_url_it_filters_with(login, sales):
    html = login(sales).get(LIST).content.decode()
    assert 'hx-push-url="true"' in html
    assert 'hx-target="#order-results"' in html


@pytest.fixture
def thirty_orders(sales, plain_customer, products):
    return [
        order_create(
            actor=sales, customer=plain_customer, items=[ItemInput(product_id=products[0].pk, quantity=Decimal("1"))]
        )
        for _ in range(30)
    ]


def test_keyset_pages_walk_forward_and_back_without_overlap(login, sales, thirty_orders):
    client = login(sales)
    first = client.get(LIST)
    first_numbers = _numbers(first)
    assert len(first_numbers) == PER_PAGE
    assert first_numbers[0] == thirty_orders[-1].number  # newest first
    cursor = re.search(r'href="\?cursor=([^"&]+)" rel="next"', first.content.decode()).group(1)

    second = client.get(LIST, {"cursor": cursor})
    second_numbers = _numbers(second)
    assert len(second_numbers) == 30 - PER_PAGE
    assert not set(first_numbers) & set(second_numbers)
    assert 'rel="next"' not in second.content.decode()

    back = re.search(r'href="\?cursor=([^"&]+)&amp;dir=prev" rel="prev"', second.content.decode()).group(1)
    assert _numbers(client.get(LIST, {"cursor": back, "dir": "prev"})) == first_numbers


def test_sort_by_oldest_and_by_order_date(login, sales, make_order):
    early = make_order(order_date=date.today() - timedelta(days=10))
    late = make_order(order_date=date.today() - timedelta(days=20))
    client = login(sales)
    assert _numbers(client.get(LIST, {"sort": "oldest"})) == [early.number, late.number]
    assert _numbers(client.get(LIST, {"sort": "date"})) == [early.number, late.number]
    assert _numbers(client.get(LIST, {"sort": "date_asc"})) == [late.number, early.number]
    # An unknown sort key is not passed to ORDER BY: the form refuses it and the default applies.
    assert _numbers(client.get(LIST, {"sort": "total"})) == [late.number, early.number]


def test_filtered_by_order_date_newest_means_by_order_date(login, sales, make_order):
    # Entered late for an earlier day: created second, dated first.
    dated_later = make_order(order_date=date(2026, 2, 10))
    dated_earlier = make_order(order_date=date(2026, 2, 1))
    client = login(sales)
    assert _numbers(client.get(LIST)) == [dated_earlier.number, dated_later.number]
    in_range = client.get(LIST, {"date_from": "2026-01-01", "date_to": "2026-03-01", "sort": "newest"})
    assert _numbers(in_range) == [dated_later.number, dated_earlier.number]


def test_a_garbled_cursor_starts_from_the_first_page(login, sales, make_order):
    order = make_order()
    assert _numbers(login(sales).get(LIST, {"cursor": "not-a-cursor"})) == [order.number]


def _count(client, params=None) -> int:
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(LIST, params or {})
    assert response.status_code == 200
    return len(ctx.captured_queries)


def test_the_list_query_count_does_not_grow_with_rows(
    login, sales, plain_customer, products, django_assert_max_num_queries
):
    client = login(sales)
    filtered = {"customer": plain_customer.pk, "q": "CAI", "balance": "on", "salesperson": sales.pk}

    def add(n: int) -> None:
        for _ in range(n):
            order_create(
                actor=sales,
                customer=plain_customer,
                items=[ItemInput(product_id=products[0].pk, quantity=Decimal("1"))],
            )

    add(2)
    client.get(LIST)  # warm the per-process caches (content types)
    few, few_filtered = _count(client), _count(client, filtered)
    add(PER_PAGE + 3)
    with django_assert_max_num_queries(LIST_BUDGET):
        many = _count(client)
    with django_assert_max_num_queries(LIST_BUDGET):
        many_filtered = _count(client, filtered)
    assert (many, many_filtered) == (few, few_filtered)
