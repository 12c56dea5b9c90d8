"""Lists: filters, Arabic-aware search, whitelisted ordering, keyset and numbered pages, and a
query budget for every list that does not grow with the number of rows."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from crm_core.accounts.models import NotificationKind, Role
from crm_core.accounts.services import notify_users
from crm_core.customers.services import customer_add_note, customer_create
from crm_core.inspections.services import inspection_add_photo, inspection_schedule
from crm_core.inventory.services import product_create, stock_receive
from crm_core.orders.services import ItemInput, order_create, order_item_add, order_transition, payment_record
from tests.api.conftest import API, png_upload
from tests.factories import (
    BranchFactory,
    CategoryFactory,
    CustomerCategoryFactory,
    CustomerFactory,
    DepartmentFactory,
    ProductFactory,
    UserFactory,
    WarehouseFactory,
    slot,
)


def rows(response) -> list[dict]:
    assert response.status_code == 200, response.content
    data = response.json()
    return data["results"] if isinstance(data, dict) else data


# --- Search -----------------------------------------------------------------------------------------


def test_customer_search_matches_arabic_as_people_type_it(api, world):
    sales = world.user(Role.SALES)
    found = customer_create(actor=sales, name="أحمد إبراهيم", phone="٠١٠١٢٣٤٥٦٧٨")
    customer_create(actor=sales, name="محمود سعيد", phone="01199999999")
    client = api(sales)
    for term in ("احمد", "ابراهيم", "أحمد", "01012345678", "٠١٠١٢٣", found.code.lower()):
        assert [row["id"] for row in rows(client.get(f"{API}/customers/", {"search": term}))] == [found.pk], term


def test_product_and_order_search(api, scene):
    product = product_create(actor=scene.a.storekeeper, sku="tl-9", name="بلاطة أرضية", price=Decimal("10"))
    customer = customer_create(actor=scene.a.sales, name="مؤسسة الإيمان", phone="01234567890")
    order = order_create(actor=scene.a.sales, customer=customer, items=[ItemInput(product.pk, Decimal("1"))])
    client = api(scene.a.sales)
    assert [row["id"] for row in rows(client.get(f"{API}/products/", {"search": "بلاطه ارضيه"}))] == [product.pk]
    assert [row["id"] for row in rows(client.get(f"{API}/products/", {"search": "TL-9"}))] == [product.pk]
    assert [row["id"] for row in rows(client.get(f"{API}/orders/", {"search": "الايمان"}))] == [order.pk]
    assert [row["id"] for row in rows(client.get(f"{API}/orders/", {"search": order.number}))] == [order.pk]


def test_a_search_with_a_null_character_is_400_not_500(api, scene):
    response = api(scene.a.sales).get(f"{API}/customers/", {"search": "a\x00b"})
    assert response.status_code == 400


# --- Filters ----------------------------------------------------------------------------------------


def test_order_filters(api, scene):
    client = api(scene.a.sales)
    order = scene.a.order
    assert [r["id"] for r in rows(client.get(f"{API}/orders/", {"status": "new"}))] == [order.pk]
    assert rows(client.get(f"{API}/orders/", {"status": "confirmed"})) == []
    assert [r["id"] for r in rows(client.get(f"{API}/orders/", {"balance_due": "true"}))] == [order.pk]
    assert rows(client.get(f"{API}/orders/", {"balance_due": "false"})) == []
    assert [r["id"] for r in rows(client.get(f"{API}/orders/", {"customer": scene.a.customer.pk}))] == [order.pk]
    bad = client.get(f"{API}/orders/", {"status": "lost"})
    assert bad.status_code == 400
    assert "status" in bad.json()["error"]["fields"]


def test_notification_and_stock_filters(api, scene):
    client = api(scene.a.sales)
    assert len(rows(client.get(f"{API}/notifications/", {"unread": "true"}))) == 1
    client.post(f"{API}/notifications/read-all/")
    assert rows(client.get(f"{API}/notifications/", {"unread": "true"})) == []
    assert len(rows(client.get(f"{API}/notifications/", {"unread": "false"}))) == 1
    levels = rows(client.get(f"{API}/stock-levels/", {"warehouse": scene.a.warehouse.pk}))
    assert {row["product"] for row in levels} == {scene.product.pk, scene.product2.pk}
    assert rows(client.get(f"{API}/stock-levels/", {"low": "true"})) == []


# --- Ordering and pages ---------------------------------------------------------------------------------


def test_ordering_is_whitelisted(api, scene):
    client = api(scene.a.sales)
    bad = client.get(f"{API}/customers/", {"ordering": "phone"})
    assert bad.status_code == 400
    assert "ordering" in bad.json()["error"]["fields"]
    assert client.get(f"{API}/customers/", {"ordering": "-name"}).status_code == 200


@pytest.mark.parametrize("ordering", ["-created_at", "created_at", "name", "-name"])
def test_cursor_pages_walk_every_row_once_in_order(ordering, api, world):
    sales = world.user(Role.SALES)
    for n in range(7):
        CustomerFactory(branch=world.branch_a, name=f"عميل {n % 3}")  # equal names: the id breaks ties
    client = api(sales)
    everything = rows(client.get(f"{API}/customers/", {"ordering": ordering, "page_size": 100}))
    assert len(everything) == 7
    seen, url, pages = [], f"{API}/customers/?ordering={ordering}&page_size=3", 0
    while url:
        page = client.get(url).json()
        seen += [row["id"] for row in page["results"]]
        last, url, pages = page, page["next"], pages + 1
    assert seen == [row["id"] for row in everything]
    assert pages == 3
    back = client.get(last["previous"]).json()
    assert [row["id"] for row in back["results"]] == seen[3:6]
    assert "count" not in last  # keyset pages never count the table


@pytest.mark.parametrize("cursor", ["garbage", "n.", "x.abc", "n.WzFd"])
def test_a_forged_cursor_is_400(cursor, api, scene):
    response = api(scene.a.sales).get(f"{API}/customers/", {"cursor": cursor})
    assert response.status_code == 400
    assert "cursor" in response.json()["error"]["fields"]


@pytest.mark.parametrize(
    ("params", "status"),
    [({"page": 0}, 400), ({"page": "x"}, 400), ({"page": 9}, 404), ({"page_size": 0}, 400), ({"page_size": 1000}, 400)],
)
def test_page_numbers_are_checked(params, status, api, scene):
    assert api(scene.a.sales).get(f"{API}/branches/", params).status_code == status


# --- Query budgets ----------------------------------------------------------------------------------------

LISTS = {
    "customers": (lambda s: "/customers/", 5),
    "customer notes": (lambda s: f"/customers/{s.a.customer.pk}/notes/", 6),
    "customer categories": (lambda s: "/customer-categories/", 5),
    "orders": (lambda s: "/orders/", 5),
    "order items": (lambda s: f"/orders/{s.a.order.pk}/items/", 5),
    "payments": (lambda s: f"/orders/{s.a.order.pk}/payments/", 5),
    "status history": (lambda s: f"/orders/{s.a.order.pk}/status-history/", 5),
    "inspections": (lambda s: "/inspections/", 5),
    "photos": (lambda s: f"/inspections/{s.a.inspection.pk}/photos/", 5),
    "products": (lambda s: "/products/", 5),
    "categories": (lambda s: "/categories/", 5),
    "warehouses": (lambda s: "/warehouses/", 5),
    "stock levels": (lambda s: "/stock-levels/", 5),
    "stock movements": (lambda s: "/stock-movements/", 5),
    "users": (lambda s: "/users/", 5),
    "branches": (lambda s: "/branches/", 5),
    "departments": (lambda s: "/departments/", 5),
    "notifications": (lambda s: "/notifications/", 5),
}


def _grow(scene) -> None:
    """Many more rows of every kind the lists show."""
    a, admin = scene.a, scene.head_admin
    for _ in range(12):
        CustomerFactory(branch=a.branch)
        CustomerCategoryFactory()
        CategoryFactory()
        DepartmentFactory()
        UserFactory(branch=a.branch)
        customer_add_note(actor=a.sales, customer=a.customer, body="متابعة")
    for _ in range(4):
        BranchFactory()
        WarehouseFactory(branch=a.branch, is_default=False)
    products = [ProductFactory() for _ in range(8)]
    for product in products:
        stock_receive(actor=a.storekeeper, product=product, warehouse=a.warehouse, quantity=Decimal("9"))
        order_item_add(actor=a.sales, order=a.order, item=ItemInput(product.pk, Decimal("1")))
    for _ in range(5):
        order_create(actor=a.sales, customer=a.customer, items=[ItemInput(products[0].pk, Decimal("1"))])
        payment_record(actor=a.sales, order=a.order, amount=Decimal("1.00"))
        inspection_add_photo(actor=a.inspector, inspection=a.inspection, image=png_upload())
    for hours in (100, 102, 104, 106):
        start, end = slot(hours)
        inspection_schedule(actor=a.dispatcher, customer=a.customer, scheduled_start=start, scheduled_end=end)
    for status in ("confirmed", "in_progress", "ready"):
        order_transition(actor=a.sales, order=a.order, to_status=status)
    notify_users(recipients=[admin] * 12, kind=NotificationKind.SYSTEM, title="تنبيه")


def test_no_list_grows_its_queries_with_its_rows(api, scene, django_assert_max_num_queries):
    client = api(scene.head_admin)
    notify_users(recipients=[scene.head_admin], kind=NotificationKind.SYSTEM, title="أول")

    def measure() -> dict[str, tuple[int, int]]:
        counts = {}
        for name, (path, _budget) in LISTS.items():
            with CaptureQueriesContext(connection) as queries:
                response = client.get(API + path(scene))
            counts[name] = (len(queries), len(rows(response)))
        return counts

    few = measure()
    _grow(scene)
    many = measure()
    for name, (path, budget) in LISTS.items():
        assert many[name][1] > few[name][1], f"{name}: the test did not add rows"
        assert many[name][0] == few[name][0], f"{name}: {few[name][0]} queries for few rows, {many[name][0]} for many"
        with django_assert_max_num_queries(budget):
            client.get(API + path(scene))
