"""When each list asks the server for its rows again (crm_core/common/live_lists.py): a filtered
or re-sortable list on any event of its records, the first page of a newest-first list on a new
record, other pages never. The attribute the page's script reads is checked on the real pages."""

from __future__ import annotations

import re
from decimal import Decimal

import pytest
from django.urls import reverse

from crm_core.accounts.models import Role
from crm_core.common.live_lists import REFETCH_ANY, REFETCH_CREATED, REFETCH_NONE, list_refetch
from crm_core.inventory.services import stock_receive
from tests.factories import CustomerFactory, ProductFactory, stock

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("filtered", "fixed_order", "takes_new_rows", "expected"),
    [
        (True, True, True, REFETCH_ANY),
        (True, True, False, REFETCH_ANY),
        (False, False, False, REFETCH_ANY),
        (False, True, True, REFETCH_CREATED),
        (False, True, False, REFETCH_NONE),
    ],
)
def test_the_rule(filtered, fixed_order, takes_new_rows, expected):
    assert list_refetch(filtered=filtered, fixed_order=fixed_order, takes_new_rows=takes_new_rows) == expected


def live_list(client, url: str) -> dict[str, str]:
    """The data-live-* attributes of the page's live list."""
    html = client.get(url).content.decode()
    tag = re.search(r"<div[^>]*data-live-list=[^>]*>", html)
    assert tag, f"{url} has no live list"
    return dict(re.findall(r'data-live-([a-z-]+)="([^"]*)"', tag.group(0)))


@pytest.fixture
def manager_client(client, world):
    client.force_login(world.user(Role.MANAGER))
    return client


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("", "created"),
        ("?status=new", "any"),
        ("?q=ORD", "any"),
        ("?sort=oldest", ""),
        ("?sort=date", "any"),  # an order's date can be edited
    ],
)
def test_the_orders_list(manager_client, query, expected):
    attributes = live_list(manager_client, reverse("orders:list") + query)
    assert attributes["refetch"] == expected
    assert (attributes["list"], attributes["key"], attributes["rows"]) == ("order.", "order", "order-row-")
    assert attributes["created"] == "order.created"


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("", "any"),  # newest visit first: a reschedule moves it
        ("?sort=-number", "created"),
        ("?sort=number", ""),
        ("?sort=-number&status=scheduled", "any"),
    ],
)
def test_the_inspections_list(manager_client, query, expected):
    attributes = live_list(manager_client, reverse("inspections:list") + query)
    assert attributes["refetch"] == expected
    assert attributes["created"] == "inspection.scheduled"


def test_the_customers_list(manager_client, world):
    CustomerFactory.create_batch(26, branch=world.branch_a)
    url = reverse("customers:list")
    assert live_list(manager_client, url)["refetch"] == "created"
    assert live_list(manager_client, url + "?q=x")["refetch"] == "any"
    assert live_list(manager_client, url + "?sort=name")["refetch"] == "any"
    assert live_list(manager_client, url + "?sort=code")["refetch"] == ""

    first = manager_client.get(url).content.decode()
    cursor = re.search(r'href="\?[^"]*cursor=([^"&]+)', first).group(1)
    assert live_list(manager_client, f"{url}?cursor={cursor}")["refetch"] == ""


def test_the_stock_list(manager_client, world):
    product = ProductFactory()
    stock(product, world.warehouse_a, 5)
    url = reverse("inventory:stock")
    attributes = live_list(manager_client, url)
    # A level new to a warehouse may land on any page of the name order.
    assert attributes["refetch"] == "created"
    assert attributes["created"] == "stock.changed:first"
    assert live_list(manager_client, url + "?low=1")["refetch"] == "any"
    assert live_list(manager_client, f"{url}?warehouse={world.warehouse_a.pk}")["refetch"] == "any"


def test_a_stock_event_says_whether_the_level_was_empty(world, published, django_capture_on_commit_callbacks):
    keeper = world.user(Role.STOREKEEPER)
    product = ProductFactory()
    for quantity in ("3", "2"):
        with django_capture_on_commit_callbacks(execute=True):
            stock_receive(actor=keeper, product=product, warehouse=world.warehouse_a, quantity=Decimal(quantity))
    firsts = [event.data["first"] for type_, _groups, event in published if type_ == "stock.changed"]
    assert firsts == [True, False]
