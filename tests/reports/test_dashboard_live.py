"""The dashboard follows changes: it declares the boards the user's role may follow, and fetches
its own figures (of the user's own scope) through an htmx partial of the same page."""

from __future__ import annotations

import re
from decimal import Decimal

import pytest
from django.core.cache import cache
from django.utils import timezone

from crm_core.accounts.models import Role
from crm_core.customers.services import customer_create
from crm_core.inventory.services import product_create
from crm_core.orders.services import ItemInput, order_create, order_transition
from crm_core.reports.views import live_topics

HTMX = {"HX-Request": "true"}


@pytest.fixture(autouse=True)
def _no_cached_figures():
    """Figures are cached per branch scope, and branch ids repeat from one test to the next."""
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def login(client):
    def _login(user, language: str = "en"):
        client.force_login(user)
        client.cookies["django_language"] = language
        return client

    return _login


@pytest.fixture
def make_order(world):
    admin = world.user(Role.ADMIN, all_branches=True)
    product = product_create(actor=admin, sku="PMP-1", name="مضخة", price=Decimal("100.00"))

    def make(actor, branch_customer=None):
        customer = branch_customer or customer_create(actor=actor, name="عميل", phone=f"0100{actor.pk:07d}")
        return order_create(actor=actor, customer=customer, items=[ItemInput(product.pk, Decimal("1"))])

    return make


def declared(html: str) -> list[tuple[str, str]]:
    """The boards the figures follow (other panels may follow boards of their own)."""
    pattern = r'<span hidden data-dashboard-topic data-live-topic="([^"]+)"(?: data-live-date="([^"]+)")?'
    return re.findall(pattern, html)


@pytest.mark.parametrize(
    ("role", "expected"),
    [
        (Role.SALES, ["orders.board", "inspections.board", "stock.board"]),
        (Role.STOREKEEPER, ["orders.board", "stock.board"]),
        (Role.ACCOUNTANT, ["orders.board"]),
        (Role.DISPATCHER, ["orders.board", "inspections.board"]),
        (Role.INSPECTOR, ["inspections.board"]),
    ],
)
def test_the_dashboard_follows_only_the_boards_the_role_may_follow(world, login, role, expected):
    user = world.user(role)
    assert [topic["topic"] for topic in live_topics(user)] == expected
    page = login(user).get("/").text
    today = timezone.localdate().isoformat()
    assert declared(page) == [(topic, today if topic == "inspections.board" else "") for topic in expected]
    assert re.search(r'data-live-since="\d+"', page)
    assert "js/dashboard.js" in page


def test_the_figures_partial_follows_a_new_and_a_moved_order(
    world, personas, login, make_order, django_capture_on_commit_callbacks
):
    client = login(personas.owner)
    before = client.get("/?part=figures", headers=HTMX)
    assert before.status_code == 200
    assert "<html" not in before.text
    assert before.text.lstrip().startswith('<div class="row g-3 mb-4" id="dashboard-figures"')
    assert re.search(r'data-testid="open-orders">0<', before.text)
    # Today's inspections and the orders by status come along, swapped out of band.
    assert 'id="dashboard-orders-by-status" hx-swap-oob="true"' in before.text
    assert 'id="dashboard-inspections" hx-swap-oob="true"' in before.text

    with django_capture_on_commit_callbacks(execute=True):
        order = make_order(personas.owner)
    assert re.search(r'data-testid="open-orders">1<', client.get("/?part=figures", headers=HTMX).text)

    manager = world.user(Role.MANAGER)
    with django_capture_on_commit_callbacks(execute=True):
        order_transition(actor=manager, order=order, to_status="cancelled", note="طلب العميل")
    assert re.search(r'data-testid="open-orders">0<', client.get("/?part=figures", headers=HTMX).text)


def test_figures_are_of_the_users_own_scope(world, personas, login, make_order, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        make_order(personas.owner)
    outsider = login(personas.outsider).get("/?part=figures", headers=HTMX).text
    assert re.search(r'data-testid="open-orders">0<', outsider)
    hq = world.user(Role.MANAGER, all_branches=True)
    assert re.search(r'data-testid="open-orders">1<', login(hq).get("/?part=figures", headers=HTMX).text)


def test_a_plain_request_for_the_part_gets_the_whole_page(personas, login):
    page = login(personas.owner).get("/?part=figures").text
    assert "<html" in page and "data-live-topic" in page


def test_the_figures_partial_needs_a_signed_in_user(client):
    response = client.get("/?part=figures", headers=HTMX)
    assert response.status_code == 302
    assert "/accounts/login/" in response["Location"]


def test_the_figures_partial_costs_the_same_with_more_orders(
    world, personas, login, make_order, django_assert_max_num_queries, django_capture_on_commit_callbacks
):
    client = login(personas.owner)
    client.get("/")  # the session and the user's permissions are loaded once per request anyway
    cache.clear()
    with django_assert_max_num_queries(12) as few:
        client.get("/?part=figures", headers=HTMX)
    with django_capture_on_commit_callbacks(execute=True):
        for _ in range(6):
            make_order(personas.owner)
    cache.clear()
    with django_assert_max_num_queries(len(few.captured_queries)):
        client.get("/?part=figures", headers=HTMX)
    # Until the next change, every browser of the same scope and role is served from the cache.
    with django_assert_max_num_queries(len(few.captured_queries) - 3):
        client.get("/?part=figures", headers=HTMX)


def test_the_notifications_card_refetches_itself_when_one_arrives(world, personas, login):
    from crm_core.accounts.models import NotificationKind
    from crm_core.accounts.services import notify_users

    client = login(personas.owner)
    page = client.get("/").text
    assert 'hx-get="/?part=notifications"' in page
    assert "crm:notifications-changed from:body" in page
    assert "You are all caught up" in client.get("/?part=notifications", headers=HTMX).text

    notify_users(recipients=[personas.owner], kind=NotificationKind.SYSTEM, title="Stock count on Thursday")
    notify_users(recipients=[personas.outsider], kind=NotificationKind.SYSTEM, title="Not for you")

    card = client.get("/?part=notifications", headers=HTMX).text
    assert "Stock count on Thursday" in card and "just now" in card
    assert "Not for you" not in card and "<html" not in card
