"""Every endpoint, four ways (DESIGN.md "Tests"): anonymous → 401; a colleague of the same branch
whose role may not do it → 403; an outsider of branch B with the right role → 404 for a record
of branch A (also when A's id is only in the request body), or a list without A's rows; and the
owner, whose request succeeds. Refused requests write nothing."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
from django.utils import timezone

from crm_core.accounts.models import ActivityLog
from tests.api.conftest import API, ApiScene, png_upload
from tests.factories import slot

S = ApiScene


@dataclass
class Case:
    name: str
    method: str
    path: Callable[[S], str]
    allowed: str  # the Side attribute of the user who may do it
    status: int  # their success status
    forbidden: str | None = None  # a role of the same branch that may not (None: every role may)
    body: Callable[[S], Any] | None = None
    # The outsider (branch B, the allowed role): the expected status, or "hides" for a list that
    # must not show ``hidden(scene)``; None where nothing is branch-owned (company-wide records).
    outsider: int | str | None = 404
    hidden: Callable[[S], int] | None = None
    forbidden_status: int = 403
    multipart: bool = False

    def __str__(self) -> str:
        return self.name


def _iso(hours: float, length: float = 1) -> dict[str, str]:
    start, end = slot(hours, length)
    return {"scheduled_start": start.isoformat(), "scheduled_end": end.isoformat()}


CASES = [
    # --- customers ---
    Case(
        "customers.list",
        "GET",
        lambda s: "/customers/",
        "sales",
        200,
        "storekeeper",
        outsider="hides",
        hidden=lambda s: s.a.customer.pk,
    ),
    Case(
        "customers.create",
        "POST",
        lambda s: "/customers/",
        "sales",
        201,
        "storekeeper",
        body=lambda s: {"name": "شركة الأمل", "phone": "01011112222", "branch": s.a.branch.pk},
    ),
    Case("customers.retrieve", "GET", lambda s: f"/customers/{s.a.customer.pk}/", "sales", 200, "storekeeper"),
    Case(
        "customers.patch",
        "PATCH",
        lambda s: f"/customers/{s.a.customer.pk}/",
        "sales",
        200,
        "storekeeper",
        body=lambda s: {"city": "الجيزة"},
    ),
    Case(
        "customers.put",
        "PUT",
        lambda s: f"/customers/{s.a.customer.pk}/",
        "sales",
        200,
        "storekeeper",
        body=lambda s: {"name": "أحمد علي", "phone": "01099998888"},
    ),
    Case("customers.notes.list", "GET", lambda s: f"/customers/{s.a.customer.pk}/notes/", "sales", 200, "storekeeper"),
    Case(
        "customers.notes.create",
        "POST",
        lambda s: f"/customers/{s.a.customer.pk}/notes/",
        "sales",
        201,
        "storekeeper",
        body=lambda s: {"body": "اتصل العميل"},
    ),
    # --- customer categories (company-wide) ---
    Case(
        "customer_categories.list", "GET", lambda s: "/customer-categories/", "sales", 200, "storekeeper", outsider=200
    ),
    Case(
        "customer_categories.create",
        "POST",
        lambda s: "/customer-categories/",
        "manager",
        201,
        "sales",
        body=lambda s: {"name": "كبار العملاء", "discount_percent": "7.50"},
        outsider=None,
    ),
    Case(
        "customer_categories.retrieve",
        "GET",
        lambda s: f"/customer-categories/{s.customer_category.pk}/",
        "sales",
        200,
        "storekeeper",
        outsider=200,
    ),
    Case(
        "customer_categories.put",
        "PUT",
        lambda s: f"/customer-categories/{s.customer_category.pk}/",
        "manager",
        200,
        "sales",
        body=lambda s: {"name": "جملة", "discount_percent": "6.00", "description": "", "is_active": True},
        outsider=None,
    ),
    Case(
        "customer_categories.patch",
        "PATCH",
        lambda s: f"/customer-categories/{s.customer_category.pk}/",
        "manager",
        200,
        "sales",
        body=lambda s: {"description": "تجار"},
        outsider=None,
    ),
    # --- orders ---
    Case(
        "orders.list",
        "GET",
        lambda s: "/orders/",
        "sales",
        200,
        "inspector",
        outsider="hides",
        hidden=lambda s: s.a.order.pk,
    ),
    Case(
        "orders.create",
        "POST",
        lambda s: "/orders/",
        "sales",
        201,
        "storekeeper",
        body=lambda s: {"customer": s.a.customer.pk, "items": [{"product": s.product.pk, "quantity": "1"}]},
    ),
    Case("orders.retrieve", "GET", lambda s: f"/orders/{s.a.order.pk}/", "sales", 200, "inspector"),
    Case(
        "orders.patch",
        "PATCH",
        lambda s: f"/orders/{s.a.order.pk}/",
        "sales",
        200,
        "storekeeper",
        body=lambda s: {"notes": "التسليم صباحا"},
    ),
    Case(
        "orders.put",
        "PUT",
        lambda s: f"/orders/{s.a.order.pk}/",
        "sales",
        200,
        "storekeeper",
        body=lambda s: {
            "discount_amount": "5.00",
            "notes": "",
            "salesperson": s.a.sales.pk,
            "warehouse": s.a.warehouse.pk,
            "order_date": timezone.localdate().isoformat(),
        },
    ),
    Case(
        "orders.transition",
        "POST",
        lambda s: f"/orders/{s.a.order.pk}/transition/",
        "sales",
        200,
        "dispatcher",
        body=lambda s: {"to": "confirmed"},
    ),
    Case("orders.payments.list", "GET", lambda s: f"/orders/{s.a.order.pk}/payments/", "sales", 200, "inspector"),
    Case(
        "orders.payments.create",
        "POST",
        lambda s: f"/orders/{s.a.order.pk}/payments/",
        "sales",
        201,
        "storekeeper",
        body=lambda s: {"amount": "5.00", "method": "card"},
    ),
    Case("orders.shipping.get", "GET", lambda s: f"/orders/{s.a.order.pk}/shipping/", "sales", 200, "inspector"),
    Case(
        "orders.shipping.put",
        "PUT",
        lambda s: f"/orders/{s.a.order.pk}/shipping/",
        "sales",
        200,
        "storekeeper",
        body=lambda s: {"method": "courier", "recipient_name": "أحمد", "phone": "0100", "cost": "20.00"},
    ),
    Case(
        "orders.status_history", "GET", lambda s: f"/orders/{s.a.order.pk}/status-history/", "sales", 200, "inspector"
    ),
    Case("orders.items.list", "GET", lambda s: f"/orders/{s.a.order.pk}/items/", "sales", 200, "inspector"),
    Case(
        "orders.items.create",
        "POST",
        lambda s: f"/orders/{s.a.order.pk}/items/",
        "sales",
        201,
        "storekeeper",
        body=lambda s: {"product": s.product2.pk, "quantity": "2"},
    ),
    Case(
        "orders.items.retrieve",
        "GET",
        lambda s: f"/orders/{s.a.order.pk}/items/{s.a.order.items.first().pk}/",
        "sales",
        200,
        "inspector",
    ),
    Case(
        "orders.items.patch",
        "PATCH",
        lambda s: f"/orders/{s.a.order.pk}/items/{s.a.order.items.first().pk}/",
        "sales",
        200,
        "storekeeper",
        body=lambda s: {"quantity": "3"},
    ),
    Case(
        "orders.items.delete",
        "DELETE",
        lambda s: f"/orders/{s.a.order.pk}/items/{s.a.order.items.first().pk}/",
        "sales",
        204,
        "storekeeper",
    ),
    # --- inspections ---
    Case(
        "inspections.list",
        "GET",
        lambda s: "/inspections/",
        "dispatcher",
        200,
        "storekeeper",
        outsider="hides",
        hidden=lambda s: s.a.inspection.pk,
    ),
    Case(
        "inspections.create",
        "POST",
        lambda s: "/inspections/",
        "dispatcher",
        201,
        "storekeeper",
        body=lambda s: {"customer": s.a.customer.pk, **_iso(72)},
    ),
    Case(
        "inspections.inspectors",
        "GET",
        lambda s: "/inspections/inspectors/",
        "dispatcher",
        200,
        "storekeeper",
        outsider="hides",
        hidden=lambda s: s.a.inspector.pk,
    ),
    Case(
        "inspections.retrieve", "GET", lambda s: f"/inspections/{s.a.inspection.pk}/", "dispatcher", 200, "storekeeper"
    ),
    Case(
        "inspections.reschedule",
        "POST",
        lambda s: f"/inspections/{s.a.inspection.pk}/reschedule/",
        "dispatcher",
        200,
        "sales",
        body=lambda s: _iso(30),
    ),
    Case(
        "inspections.assign",
        "POST",
        lambda s: f"/inspections/{s.a.inspection.pk}/assign/",
        "dispatcher",
        200,
        "sales",
        body=lambda s: {"inspector": s.a.inspector2.pk},
    ),
    Case("inspections.start", "POST", lambda s: f"/inspections/{s.a.inspection.pk}/start/", "dispatcher", 200, "sales"),
    Case(
        "inspections.cancel",
        "POST",
        lambda s: f"/inspections/{s.a.inspection.pk}/cancel/",
        "dispatcher",
        200,
        "sales",
        body=lambda s: {"reason": "العميل مسافر"},
    ),
    Case(
        "inspections.no_show",
        "POST",
        lambda s: f"/inspections/{s.a.past_inspection.pk}/no-show/",
        "dispatcher",
        200,
        "sales",
        body=lambda s: {"reason": "لا أحد"},
    ),
    Case(
        "inspections.result",
        "POST",
        lambda s: f"/inspections/{s.a.inspection.pk}/result/",
        "inspector",
        200,
        "sales",
        body=lambda s: {"outcome": "passed", "findings": "كل شيء سليم", "measurements": {"width_m": "3.2"}},
    ),
    Case(
        "inspections.photos.list",
        "GET",
        lambda s: f"/inspections/{s.a.inspection.pk}/photos/",
        "dispatcher",
        200,
        "storekeeper",
    ),
    Case(
        "inspections.photos.create",
        "POST",
        lambda s: f"/inspections/{s.a.inspection.pk}/photos/",
        "inspector",
        201,
        "sales",
        body=lambda s: {"image": png_upload(), "caption": "السقف"},
        multipart=True,
    ),
    Case(
        "inspections.photo.download",
        "GET",
        lambda s: f"/inspections/{s.a.inspection.pk}/photos/{s.a.photo.pk}/",
        "dispatcher",
        200,
        "storekeeper",
    ),
    # --- catalogue (company-wide) ---
    Case("products.list", "GET", lambda s: "/products/", "sales", 200, outsider=200),
    Case(
        "products.create",
        "POST",
        lambda s: "/products/",
        "storekeeper",
        201,
        "sales",
        body=lambda s: {"sku": "NEW-1", "name": "بلاط جديد", "price": "55.00"},
        outsider=None,
    ),
    Case("products.retrieve", "GET", lambda s: f"/products/{s.product.pk}/", "sales", 200, outsider=200),
    Case(
        "products.patch",
        "PATCH",
        lambda s: f"/products/{s.product.pk}/",
        "storekeeper",
        200,
        "sales",
        body=lambda s: {"reorder_level": "5"},
        outsider=None,
    ),
    Case(
        "products.put",
        "PUT",
        lambda s: f"/products/{s.product.pk}/",
        "storekeeper",
        200,
        "sales",
        body=lambda s: {
            "name": "سيراميك",
            "price": "90.00",
            "category": s.category.pk,
            "unit": "m2",
            "cost": "50.00",
            "reorder_level": "1",
            "description": "",
            "is_active": True,
        },
        outsider=None,
    ),
    Case("categories.list", "GET", lambda s: "/categories/", "sales", 200, outsider=200),
    Case(
        "categories.create",
        "POST",
        lambda s: "/categories/",
        "storekeeper",
        201,
        "sales",
        body=lambda s: {"name": "سيراميك", "parent": s.category.pk},
        outsider=None,
    ),
    Case("categories.retrieve", "GET", lambda s: f"/categories/{s.category.pk}/", "sales", 200, outsider=200),
    Case(
        "categories.put",
        "PUT",
        lambda s: f"/categories/{s.category.pk}/",
        "storekeeper",
        200,
        "sales",
        body=lambda s: {"name": "أرضيات", "parent": None, "is_active": True},
        outsider=None,
    ),
    Case(
        "categories.patch",
        "PATCH",
        lambda s: f"/categories/{s.category.pk}/",
        "storekeeper",
        200,
        "sales",
        body=lambda s: {"name": "أرضيات وحوائط"},
        outsider=None,
    ),
    # --- warehouses and stock ---
    Case(
        "warehouses.list",
        "GET",
        lambda s: "/warehouses/",
        "sales",
        200,
        outsider="hides",
        hidden=lambda s: s.a.warehouse.pk,
    ),
    Case(
        "warehouses.create",
        "POST",
        lambda s: "/warehouses/",
        "manager",
        201,
        "storekeeper",
        body=lambda s: {"code": "CAI-W2", "name": "مخزن المعادي", "branch": s.a.branch.pk},
    ),
    Case("warehouses.retrieve", "GET", lambda s: f"/warehouses/{s.a.warehouse.pk}/", "sales", 200),
    Case(
        "warehouses.put",
        "PUT",
        lambda s: f"/warehouses/{s.a.warehouse.pk}/",
        "manager",
        200,
        "storekeeper",
        body=lambda s: {"name": "المخزن الرئيسي", "address": "", "is_default": True, "is_active": True},
    ),
    Case(
        "warehouses.patch",
        "PATCH",
        lambda s: f"/warehouses/{s.a.warehouse.pk}/",
        "manager",
        200,
        "storekeeper",
        body=lambda s: {"address": "طريق السويس"},
    ),
    Case(
        "stock_levels.list",
        "GET",
        lambda s: "/stock-levels/",
        "sales",
        200,
        "dispatcher",
        outsider="hides",
        hidden=lambda s: s.a.warehouse.stock_levels.first().pk,
    ),
    Case(
        "stock_levels.retrieve",
        "GET",
        lambda s: f"/stock-levels/{s.a.warehouse.stock_levels.first().pk}/",
        "sales",
        200,
        "dispatcher",
    ),
    Case(
        "stock_movements.list",
        "GET",
        lambda s: "/stock-movements/",
        "sales",
        200,
        "dispatcher",
        outsider="hides",
        hidden=lambda s: s.a.warehouse.movements.first().pk,
    ),
    Case(
        "stock_movements.retrieve",
        "GET",
        lambda s: f"/stock-movements/{s.a.warehouse.movements.first().pk}/",
        "sales",
        200,
        "dispatcher",
    ),
    Case(
        "stock_movements.create",
        "POST",
        lambda s: "/stock-movements/",
        "storekeeper",
        201,
        "sales",
        body=lambda s: {"kind": "receive", "product": s.product.pk, "warehouse": s.a.warehouse.pk, "quantity": "5"},
    ),
    # --- people and branches ---
    Case(
        "users.list",
        "GET",
        lambda s: "/users/",
        "admin",
        200,
        "manager",
        outsider="hides",
        hidden=lambda s: s.a.sales.pk,
    ),
    Case(
        "users.create",
        "POST",
        lambda s: "/users/",
        "admin",
        201,
        "manager",
        body=lambda s: {
            "username": "new.sales",
            "password": "a-Long-pass-2026",
            "role": "sales",
            "branch": s.a.branch.pk,
        },
    ),
    Case("users.retrieve", "GET", lambda s: f"/users/{s.a.sales.pk}/", "admin", 200, "manager"),
    Case(
        "users.patch",
        "PATCH",
        lambda s: f"/users/{s.a.sales.pk}/",
        "admin",
        200,
        "manager",
        body=lambda s: {"phone": "01234567890"},
    ),
    Case(
        "users.put",
        "PUT",
        lambda s: f"/users/{s.a.sales.pk}/",
        "admin",
        200,
        "manager",
        body=lambda s: {
            "first_name": "منى",
            "last_name": "سالم",
            "email": "mona@example.com",
            "phone": "",
            "role": "sales",
            "branch": s.a.branch.pk,
            "department": s.department.pk,
            "all_branches": False,
            "is_active": True,
            "language": "ar",
        },
    ),
    Case(
        "users.set_password",
        "POST",
        lambda s: f"/users/{s.a.sales.pk}/set-password/",
        "admin",
        204,
        "manager",
        body=lambda s: {"password": "another-Long-pass-2026"},
    ),
    Case("users.me", "GET", lambda s: "/users/me/", "sales", 200, outsider=200),
    Case(
        "users.me.patch",
        "PATCH",
        lambda s: "/users/me/",
        "sales",
        200,
        body=lambda s: {"language": "en"},
        outsider=None,
    ),
    Case(
        "branches.list", "GET", lambda s: "/branches/", "sales", 200, outsider="hides", hidden=lambda s: s.a.branch.pk
    ),
    Case(
        "branches.create",
        "POST",
        lambda s: "/branches/",
        "admin",
        201,
        "manager",
        body=lambda s: {"code": "GIZ", "name": "الجيزة"},
        outsider=None,
    ),
    Case("branches.retrieve", "GET", lambda s: f"/branches/{s.a.branch.pk}/", "sales", 200),
    Case(
        "branches.put",
        "PUT",
        lambda s: f"/branches/{s.a.branch.pk}/",
        "admin",
        200,
        "manager",
        body=lambda s: {"name": "القاهرة الكبرى", "address": "", "phone": "", "is_active": True},
    ),
    Case(
        "branches.patch",
        "PATCH",
        lambda s: f"/branches/{s.a.branch.pk}/",
        "admin",
        200,
        "manager",
        body=lambda s: {"phone": "0225550000"},
    ),
    Case("departments.list", "GET", lambda s: "/departments/", "manager", 200, "sales", outsider=200),
    Case(
        "departments.create",
        "POST",
        lambda s: "/departments/",
        "admin",
        201,
        "manager",
        body=lambda s: {"code": "OPS", "name": "العمليات"},
        outsider=None,
    ),
    Case(
        "departments.retrieve",
        "GET",
        lambda s: f"/departments/{s.department.pk}/",
        "manager",
        200,
        "sales",
        outsider=200,
    ),
    Case(
        "departments.put",
        "PUT",
        lambda s: f"/departments/{s.department.pk}/",
        "admin",
        200,
        "manager",
        body=lambda s: {"name": "المبيعات", "is_active": False},
        outsider=None,
    ),
    Case(
        "departments.patch",
        "PATCH",
        lambda s: f"/departments/{s.department.pk}/",
        "admin",
        200,
        "manager",
        body=lambda s: {"name": "قسم المبيعات"},
        outsider=None,
    ),
    # Notifications are personal: a colleague's is as invisible as another branch's (404).
    Case(
        "notifications.list",
        "GET",
        lambda s: "/notifications/",
        "sales",
        200,
        outsider="hides",
        hidden=lambda s: s.a.notification.pk,
    ),
    Case(
        "notifications.retrieve",
        "GET",
        lambda s: f"/notifications/{s.a.notification.pk}/",
        "sales",
        200,
        "storekeeper",
        forbidden_status=404,
    ),
    Case(
        "notifications.read",
        "POST",
        lambda s: f"/notifications/{s.a.notification.pk}/read/",
        "sales",
        200,
        "storekeeper",
        forbidden_status=404,
    ),
    Case("notifications.read_all", "POST", lambda s: "/notifications/read-all/", "sales", 200, outsider=200),
    Case("auth.ws_ticket", "POST", lambda s: "/auth/ws-ticket/", "sales", 201, outsider=201),
]


def _send(client, case: Case, scene: ApiScene):
    body = case.body(scene) if case.body else None
    kwargs = {"format": "multipart" if case.multipart else "json"}
    return getattr(client, case.method.lower())(API + case.path(scene), body, **kwargs)


def _ids(response) -> set[int]:
    data = response.json()
    rows = data["results"] if isinstance(data, dict) else data
    return {row["id"] for row in rows}


@pytest.mark.parametrize("case", CASES, ids=str)
def test_endpoint_access(case: Case, api, scene):
    a, b = scene.a, scene.b
    writes = ActivityLog.objects.count()

    anonymous = _send(api(), case, scene)
    assert anonymous.status_code == 401, anonymous.content
    assert anonymous.json()["error"]["code"] == "not_authenticated"
    assert anonymous["WWW-Authenticate"].startswith("Bearer")

    if case.forbidden:
        refused = _send(api(getattr(a, case.forbidden)), case, scene)
        assert refused.status_code == case.forbidden_status, refused.content
        assert set(refused.json()["error"]) >= {"code", "message", "fields"}

    if case.outsider == "hides":
        outside = _send(api(getattr(b, case.allowed)), case, scene)
        assert outside.status_code == 200, outside.content
        assert case.hidden(scene) not in _ids(outside)
    elif case.outsider is not None:
        outside = _send(api(getattr(b, case.allowed)), case, scene)
        assert outside.status_code == case.outsider, outside.content
        if case.outsider == 404:
            assert outside.json()["error"]["code"] == "not_found"

    if case.method != "GET" and case.outsider in (404, None):
        assert ActivityLog.objects.count() == writes, "a refused request wrote something"

    allowed = _send(api(getattr(a, case.allowed)), case, scene)
    assert allowed.status_code == case.status, allowed.content
    if case.outsider == "hides":
        assert case.hidden(scene) in _ids(allowed)


def test_every_operation_in_the_schema_has_an_access_case(scene):
    """A new endpoint without a row above fails here, so it cannot ship untested."""
    from drf_spectacular.generators import SchemaGenerator

    schema = SchemaGenerator().get_schema(request=None, public=True)
    concrete = [(case.method, API + case.path(scene)) for case in CASES]
    missing = []
    for path, item in schema["paths"].items():
        if path.startswith(f"{API}/auth/token"):
            continue  # tested in test_auth.py: no user to scope
        pattern = re.compile("^" + re.sub(r"\{[^}]+\}", "[^/]+", path) + "$")
        for method in item:
            if method != "parameters" and not any(m == method.upper() and pattern.match(p) for m, p in concrete):
                missing.append(f"{method.upper()} {path}")
    assert missing == []


def test_adjusting_stock_needs_its_own_permission(api, scene):
    """``inventory.adjust_stock`` on top of adding movements: receiving is not counting."""
    from django.contrib.auth.models import Permission

    from tests.factories import UserFactory

    clerk = UserFactory(branch=scene.a.branch, role="sales")
    clerk.groups.clear()
    clerk.user_permissions.set(
        Permission.objects.filter(content_type__app_label="inventory", codename__in=["add_stockmovement"])
    )
    body = {"product": scene.product.pk, "warehouse": scene.a.warehouse.pk}
    client = api(clerk)
    received = client.post(f"{API}/stock-movements/", {**body, "kind": "receive", "quantity": "2"}, format="json")
    assert received.status_code == 201, received.content
    adjusted = client.post(
        f"{API}/stock-movements/", {**body, "kind": "adjust", "counted_quantity": "1", "reason": "جرد"}, format="json"
    )
    assert adjusted.status_code == 403
    assert (
        api(scene.a.storekeeper)
        .post(
            f"{API}/stock-movements/",
            {**body, "kind": "adjust", "counted_quantity": "1", "reason": "جرد"},
            format="json",
        )
        .status_code
        == 201
    )


def test_only_administrators_read_the_user_directory(api, scene):
    """Managers and dispatchers hold ``view_user`` for the pages, but the API's user directory is
    administration; a dispatcher finds whom to assign at ``/inspections/inspectors/``."""
    for role in ("manager", "dispatcher", "sales"):
        assert api(getattr(scene.a, role)).get(f"{API}/users/").status_code == 403
        assert api(getattr(scene.a, role)).get(f"{API}/users/{scene.a.sales.pk}/").status_code == 403

    inspectors = api(scene.a.dispatcher).get(f"{API}/inspections/inspectors/").json()
    assert {row["id"] for row in inspectors} == {scene.a.inspector.pk, scene.a.inspector2.pk}
    assert set(inspectors[0]) == {"id", "username", "full_name", "branch"}


def test_a_deactivated_inspector_is_not_offered(api, scene):
    from crm_core.accounts.services import user_update

    user_update(actor=scene.a.admin, user=scene.a.inspector2, is_active=False)
    inspectors = api(scene.a.dispatcher).get(f"{API}/inspections/inspectors/").json()
    assert [row["id"] for row in inspectors] == [scene.a.inspector.pk]
