"""The orders board: who may open it and what it shows them, moving a card (the detail page's
transition, with its refusals), the filters, and a query budget that ignores the number of orders."""

from __future__ import annotations

import json
from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from crm_core.accounts.models import Role
from crm_core.orders.models import Order, OrderStatus
from crm_core.orders.selectors import BOARD_COLUMN_LIMIT
from crm_core.orders.services import ItemInput, order_transition, payment_record
from tests.factories import ProductFactory, stock
from tests.orders.helpers import db_state

BOARD = reverse("orders:board")
# Session, user, permissions (2), the seven columns, the unread count, the branch filter's and the
# menu's branches, the salespeople, the event id (PostgreSQL): nothing per card or per order.
BOARD_BUDGET = 16
HX = {"HTTP_HX_REQUEST": "true"}


def _move_url(order: Order) -> str:
    return reverse("orders:board_move", args=[order.pk])


def _move(client, order: Order, to_status: str, *, version: int | None = None, note: str = "", htmx: bool = True):
    data = {"to_status": to_status, "version": order.version if version is None else version, "note": note}
    return client.post(_move_url(order), data, **(HX if htmx else {}))


def _toasts(response) -> list[dict]:
    return json.loads(response.headers["HX-Trigger"])["crm:toast"]["messages"]


def _column(html: str, status: str) -> str:
    """The HTML of one column: its header, its cards and its link to the list."""
    start = html.index(f'data-board-column="{status}"')
    return html[start : html.index("</section>", start)]


@pytest.fixture
def order(make_order) -> Order:
    return make_order()


# --- Who may open it ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "role", [Role.SALES, Role.MANAGER, Role.DISPATCHER, Role.STOREKEEPER, Role.ACCOUNTANT, Role.ADMIN]
)
def test_every_role_that_sees_orders_opens_the_board_of_its_branch(login, world, order, outsider_order, role):
    html = login(world.user(role)).get(BOARD).content.decode()
    assert 'data-live-topic="orders.board"' in html
    assert f'id="board-card-{order.pk}"' in _column(html, "new")
    assert outsider_order.number not in html
    # One column per status, in the order's life order.
    positions = [html.index(f'id="board-col-{status}"') for status in OrderStatus.values]
    assert positions == sorted(positions)


def test_an_inspector_may_not_open_the_board(login, world):
    assert login(world.user(Role.INSPECTOR)).get(BOARD).status_code == 403


def test_the_board_asks_to_sign_in(client):
    response = client.get(BOARD)
    assert response.status_code == 302
    assert "/accounts/login/" in response["Location"]


def test_the_board_is_in_the_menu_of_those_who_see_orders(login, world):
    assert 'data-testid="nav-orders-board"' in login(world.user(Role.ACCOUNTANT)).get("/").content.decode()
    assert 'data-testid="nav-orders-board"' not in login(world.user(Role.INSPECTOR)).get("/").content.decode()


def test_all_branch_users_see_every_branch_and_may_narrow_it(login, hq_manager, world, order, outsider_order):
    client = login(hq_manager)
    html = client.get(BOARD).content.decode()
    assert order.number in html and outsider_order.number in html
    assert 'name="branch"' in html
    html = client.get(BOARD, {"branch": world.branch_b.pk}).content.decode()
    assert outsider_order.number in html and order.number not in html
    assert f'data-filter-branch="{world.branch_b.pk}"' in html


def test_a_branch_user_has_no_branch_filter_and_cannot_force_one(login, sales, world, order, outsider_order):
    html = login(sales).get(BOARD, {"branch": world.branch_b.pk}).content.decode()
    assert 'name="branch"' not in html
    assert outsider_order.number not in html
    assert order.number in html


def test_mine_and_salesperson_filters(login, world, make_order, sales):
    other = world.user(Role.SALES, first_name="منى")
    mine = make_order()
    theirs = make_order(salesperson=other)
    client = login(sales)
    html = client.get(BOARD, {"mine": "on"}).content.decode()
    assert mine.number in html and theirs.number not in html
    assert f'data-filter-salesperson="{sales.pk}"' in html
    html = client.get(BOARD, {"salesperson": other.pk}).content.decode()
    assert theirs.number in html and mine.number not in html


def test_a_card_shows_number_customer_total_balance_salesperson_and_age(login, sales, order):
    payment_record(actor=sales, order=order, amount=Decimal("28.00"))
    html = login(sales).get(BOARD).content.decode()
    card = html[html.index(f'id="board-card-{order.pk}"') :]
    card = card[: card.index("</article>")]
    assert order.number in card
    assert order.customer.name in card
    assert "228.00" in card and "200.00" in card  # total, and the balance after the payment
    assert str(sales.get_full_name() or sales.username) in card
    assert "Just now" in card or "minute" in card


def test_closed_columns_show_only_recent_orders_and_link_to_the_list(login, sales, make_order):
    recent = make_order()
    old = make_order()
    for target in (recent, old):
        order_transition(actor=sales, order=target, to_status=OrderStatus.CANCELLED, note="لا يريد")
    Order.objects.filter(pk=old.pk).update(status_changed_at=timezone.now() - timedelta(days=30))
    html = login(sales).get(BOARD).content.decode()
    cancelled = _column(html, "cancelled")
    assert recent.number in cancelled
    assert old.number not in html
    assert f"{reverse('orders:list')}?status=cancelled" in cancelled


def test_a_column_shows_at_most_its_limit_with_a_link_to_the_rest(login, sales, make_order, monkeypatch):
    monkeypatch.setattr("crm_core.orders.selectors.BOARD_COLUMN_LIMIT", 2)
    orders = [make_order() for _ in range(3)]
    html = login(sales).get(BOARD).content.decode()
    column = _column(html, "new")
    assert column.count('data-testid="board-card"') == 2
    assert orders[0].number not in column  # the oldest arrival is left for the list
    assert orders[2].number in column
    assert 'data-column-limit="2"' in html
    more = column[column.index("data-board-more") :].split(">", 1)[0]
    assert "hidden" not in more
    assert "2+" in column


# --- Moving a card ----------------------------------------------------------------------------------


def test_moving_a_card_transitions_the_order_and_answers_with_the_card_in_its_new_column(login, sales, order):
    response = _move(login(sales), order, OrderStatus.CONFIRMED)
    assert response.status_code == 200
    html = response.content.decode()
    assert f'id="board-card-{order.pk}"' in html
    assert 'data-live-into="board-col-confirmed"' in html
    assert 'data-version="2"' in html
    assert _toasts(response) == [{"text": f"Order {order.number} is now Confirmed.", "level": "success"}]
    order.refresh_from_db()
    assert order.status == OrderStatus.CONFIRMED
    assert order.status_changes.last().changed_by == sales


def test_a_card_offers_only_the_moves_the_role_may_make(login, world, order):
    sales_html = login(world.user(Role.SALES)).get(BOARD).content.decode()
    card = sales_html[sales_html.index(f'id="board-card-{order.pk}"') :]
    card = card[: card.index("</article>")]
    assert 'data-targets="confirmed cancelled"' in card
    assert 'draggable="true"' in card
    assert 'data-board-move="confirmed"' in card
    dispatcher_html = login(world.user(Role.DISPATCHER)).get(BOARD).content.decode()
    card = dispatcher_html[dispatcher_html.index(f'id="board-card-{order.pk}"') :]
    card = card[: card.index("</article>")]
    assert 'data-targets=""' in card
    assert 'draggable="true"' not in card and "data-board-move=" not in card
    assert "board-move-form" not in dispatcher_html


@pytest.mark.parametrize("role", [Role.DISPATCHER, Role.ACCOUNTANT])
def test_a_role_without_the_transition_permission_is_refused(login, world, order, role):
    client = login(world.user(role))
    before = db_state()
    response = _move(client, order, OrderStatus.CONFIRMED)
    assert response.status_code == 403
    assert db_state() == before


def test_another_branchs_order_is_not_found(login, sales, outsider_order):
    client = login(sales)
    before = db_state()
    assert _move(client, outsider_order, OrderStatus.CONFIRMED).status_code == 404
    assert db_state() == before


def test_an_inspector_moving_a_card_is_refused(login, world, order):
    assert _move(login(world.user(Role.INSPECTOR)), order, OrderStatus.CONFIRMED).status_code == 403


def test_a_stale_version_is_refused_with_its_message_and_nothing_changes(login, world, sales, order):
    other = world.user(Role.SALES, first_name="سارة", last_name="حسن")
    stale = order.version
    order_transition(actor=other, order=order, to_status=OrderStatus.CONFIRMED)
    client = login(sales)
    before = db_state()
    response = _move(client, order, OrderStatus.CONFIRMED, version=stale)
    assert response.status_code == 409
    assert _toasts(response) == [
        {
            "text": "سارة حسن changed this record while you were editing it; nothing of yours was saved.",
            "level": "danger",
        }
    ]
    # The card comes back as it is now, so the board puts it where it really is.
    assert 'data-live-into="board-col-confirmed"' in response.content.decode()
    assert db_state() == before


def test_a_move_the_order_may_not_make_is_refused_and_the_card_snaps_back(login, sales, order):
    client = login(sales)
    before = db_state()
    response = _move(client, order, OrderStatus.SHIPPED)
    assert response.status_code == 400
    assert _toasts(response)[0]["text"] == "A New order cannot become Shipped."
    assert 'data-live-into="board-col-new"' in response.content.decode()
    assert db_state() == before


def test_shipping_without_stock_is_refused_with_the_servers_message(login, sales, world, make_order):
    scarce = ProductFactory(sku="RARE-1", name="قطعة نادرة", price=Decimal("50"))
    stock(scarce, world.warehouse_a, 1, actor=world.user(Role.STOREKEEPER))
    order = make_order([ItemInput(product_id=scarce.pk, quantity=Decimal("3"))])
    for status in (OrderStatus.CONFIRMED, OrderStatus.IN_PROGRESS, OrderStatus.READY):
        order = order_transition(actor=sales, order=order, to_status=status)
    client = login(sales)
    before = db_state()
    response = _move(client, order, OrderStatus.SHIPPED)
    assert response.status_code == 400
    assert scarce.name in _toasts(response)[0]["text"] or "stock" in _toasts(response)[0]["text"].lower()
    assert 'data-live-into="board-col-ready"' in response.content.decode()
    assert db_state() == before


def test_cancelling_needs_a_reason(login, sales, order):
    client = login(sales)
    before = db_state()
    response = _move(client, order, OrderStatus.CANCELLED)
    assert response.status_code == 400
    assert _toasts(response)[0]["text"] == "Say why the order is cancelled."
    assert db_state() == before
    response = _move(client, order, OrderStatus.CANCELLED, note="العميل اعتذر")
    assert response.status_code == 200
    order.refresh_from_db()
    assert order.status == OrderStatus.CANCELLED
    assert order.status_changes.last().note == "العميل اعتذر"


def test_the_refusal_is_in_the_users_language(login, sales, order):
    response = _move(login(sales, language="ar"), order, OrderStatus.SHIPPED)
    assert response.status_code == 400
    text = _toasts(response)[0]["text"]
    assert "Shipped" not in text and "جديد" in text


def test_a_move_without_htmx_goes_back_to_the_board(login, sales, order):
    response = _move(login(sales), order, OrderStatus.CONFIRMED, htmx=False)
    assert response.status_code == 302
    assert response["Location"] == BOARD


def test_moving_needs_post_and_the_csrf_token(login, sales, order, client):
    assert login(sales).get(_move_url(order)).status_code == 405
    from django.test import Client

    strict = Client(enforce_csrf_checks=True)
    strict.force_login(sales)
    before = db_state()
    assert strict.post(_move_url(order), {"to_status": "confirmed", "version": order.version}).status_code == 403
    assert db_state() == before


# --- Speed ------------------------------------------------------------------------------------------


def _board_queries(client, params: dict | None = None) -> int:
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(BOARD, params or {})
    assert response.status_code == 200
    return len(ctx.captured_queries)


def test_the_board_has_a_query_budget_that_does_not_grow_with_orders(
    login, sales, hq_manager, make_order, django_assert_max_num_queries
):
    make_order()
    client = login(sales)
    few = _board_queries(client)
    for _ in range(6):
        order = make_order()
        payment_record(actor=sales, order=order, amount=Decimal("10"))
    many = [make_order() for _ in range(4)]
    for target in many:
        order_transition(actor=sales, order=target, to_status=OrderStatus.CONFIRMED)
    assert _board_queries(client) == few
    with django_assert_max_num_queries(BOARD_BUDGET):
        client.get(BOARD, {"mine": "on"})
    all_branches = login(hq_manager)
    with django_assert_max_num_queries(BOARD_BUDGET):
        all_branches.get(BOARD)
    assert BOARD_COLUMN_LIMIT == 50
