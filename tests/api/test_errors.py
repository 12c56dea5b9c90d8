"""One error shape for every failure, and the right status for each kind of failure."""

from __future__ import annotations

import pytest
from django.db import IntegrityError
from rest_framework.test import APIClient

from crm_core.orders.models import Order
from tests.api.conftest import API, bearer


def error_of(response, status: int, code: str | None = None) -> dict:
    assert response.status_code == status, response.content
    assert response["Content-Type"].startswith("application/json")
    body = response.json()
    assert list(body) == ["error"]
    error = body["error"]
    assert isinstance(error["message"], str) and error["message"]
    assert isinstance(error["fields"], dict)
    if code:
        assert error["code"] == code, error
    return error


def test_a_service_validation_error_is_400_with_its_fields(api, scene):
    response = api(scene.a.sales).post(
        f"{API}/orders/{scene.a.order.pk}/payments/", {"amount": "99999.00"}, format="json"
    )
    error = error_of(response, 400, "invalid")
    assert "amount" in error["fields"]
    assert "99999" not in str(Order.objects.get(pk=scene.a.order.pk).amount_paid)


def test_service_field_names_are_translated_to_the_apis(api, scene):
    response = api(scene.a.sales).post(f"{API}/orders/{scene.a.order.pk}/transition/", {"to": "shipped"}, format="json")
    error = error_of(response, 400, "invalid")
    assert list(error["fields"]) == ["to"]


def test_a_non_field_service_error_is_the_message(api, scene):
    client = api(scene.a.sales)
    client.post(f"{API}/orders/{scene.a.order.pk}/transition/", {"to": "cancelled"}, format="json")
    response = client.post(f"{API}/orders/{scene.a.order.pk}/payments/", {"amount": "1.00"}, format="json")
    error = error_of(response, 400, "invalid")
    assert error["fields"] == {}
    assert error["message"]


def test_serializer_errors_name_each_field(api, scene):
    response = api(scene.a.sales).post(f"{API}/customers/", {"phone": "x" * 40}, format="json")
    error = error_of(response, 400, "invalid")
    assert set(error["fields"]) == {"name", "phone"}


def test_nested_field_errors_keep_their_place(api, scene):
    response = api(scene.a.sales).post(
        f"{API}/orders/",
        {"customer": scene.a.customer.pk, "items": [{"product": scene.product.pk, "quantity": "abc"}]},
        format="json",
    )
    error = error_of(response, 400, "invalid")
    items = error["fields"]["items"]
    first = items[0] if isinstance(items, list) else items["0"]
    assert "quantity" in first


@pytest.mark.parametrize(
    ("who", "url", "body", "field"),
    [
        (
            "sales",
            "/orders/",
            lambda s: {"customer": s.b.customer.pk, "items": [{"product": s.product.pk, "quantity": "1"}]},
            "customer",
        ),
        (
            "sales",
            "/orders/",
            lambda s: {"customer": s.a.customer.pk, "items": [{"product": 987654, "quantity": "1"}]},
            "product",
        ),
        (
            "storekeeper",
            "/stock-movements/",
            lambda s: {"kind": "receive", "product": s.product.pk, "warehouse": s.b.warehouse.pk, "quantity": "1"},
            "warehouse",
        ),
        (
            "storekeeper",
            "/stock-movements/",
            lambda s: {
                "kind": "transfer",
                "product": s.product.pk,
                "warehouse": s.a.warehouse.pk,
                "to_warehouse": s.b.warehouse.pk,
                "quantity": "1",
            },
            "to_warehouse",
        ),
        (
            "dispatcher",
            "/inspections/",
            lambda s: {
                "customer": s.a.customer.pk,
                "inspector": s.b.inspector.pk,
                "scheduled_start": "2030-01-01T10:00:00+02:00",
                "scheduled_end": "2030-01-01T11:00:00+02:00",
            },
            "inspector",
        ),
    ],
    ids=["customer-of-B", "unknown-product", "warehouse-of-B", "transfer-to-B", "inspector-of-B"],
)
def test_an_id_in_the_body_that_the_user_cannot_see_is_404(who, url, body, field, api, scene):
    error = error_of(api(getattr(scene.a, who)).post(API + url, body(scene), format="json"), 404, "not_found")
    assert list(error["fields"]) == [field]


def test_a_non_numeric_id_in_the_body_is_400(api, scene):
    response = api(scene.a.sales).post(f"{API}/orders/", {"customer": "abc", "items": []}, format="json")
    error = error_of(response, 400, "invalid")
    assert "customer" in error["fields"]


def test_405_for_a_method_the_endpoint_does_not_have(api, scene):
    error_of(api(scene.a.sales).delete(f"{API}/customers/{scene.a.customer.pk}/"), 405, "method_not_allowed")


def test_415_for_a_body_the_api_does_not_read(api, scene):
    response = api(scene.a.sales).post(f"{API}/customers/", "name=x", content_type="text/plain")
    error_of(response, 415, "unsupported_media_type")


def test_malformed_json_is_400(api, scene):
    response = api(scene.a.sales).post(f"{API}/customers/", "{not json", content_type="application/json")
    error_of(response, 400, "parse_error")


@pytest.mark.parametrize(
    "path", ["/nothing-here/", "/customers/abc/", "/customers/99999999999999999999999/", "/orders/1/items/x/"]
)
def test_unknown_paths_and_ids_are_a_json_404(path, api, scene):
    error_of(api(scene.a.sales).get(API + path), 404, "not_found")


def test_an_unexpected_error_is_a_json_500_without_a_traceback(scene, monkeypatch):
    def broken(**kwargs):
        raise RuntimeError("secret internals /srv/app/crm_core/customers/services.py")

    monkeypatch.setattr("crm_core.customers.services.customer_add_note", broken)
    client = APIClient(raise_request_exception=False)
    client.credentials(HTTP_AUTHORIZATION=bearer(scene.a.sales))
    response = client.post(f"{API}/customers/{scene.a.customer.pk}/notes/", {"body": "x"}, format="json")
    error = error_of(response, 500, "server_error")
    assert "secret" not in response.content.decode()
    assert "Traceback" not in response.content.decode()
    assert error["fields"] == {}


def test_a_database_constraint_is_409(scene, api, monkeypatch):
    def clash(**kwargs):
        raise IntegrityError("duplicate key value violates unique constraint")

    monkeypatch.setattr("crm_core.customers.services.customer_add_note", clash)
    response = api(scene.a.sales).post(f"{API}/customers/{scene.a.customer.pk}/notes/", {"body": "x"}, format="json")
    error_of(response, 409, "conflict")


def test_pages_outside_the_api_keep_their_html_500(scene, monkeypatch):
    from django.test import RequestFactory
    from django.utils.module_loading import import_string

    from config.urls import handler500

    response = import_string(handler500)(RequestFactory().get("/customers/"))
    assert response.status_code == 500
    assert not response["Content-Type"].startswith("application/json")
