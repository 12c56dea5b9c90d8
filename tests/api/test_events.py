"""API writes go through the services, so they publish the same events as the web pages."""

from __future__ import annotations

from tests.api.conftest import API


def _types(published) -> list[str]:
    return [event_type for event_type, _groups, _event in published]


def test_an_api_transition_publishes_order_status_changed(api, scene, published, django_capture_on_commit_callbacks):
    order = scene.a.order
    published.clear()
    with django_capture_on_commit_callbacks(execute=True):
        response = api(scene.a.sales).post(f"{API}/orders/{order.pk}/transition/", {"to": "confirmed"}, format="json")
    assert response.status_code == 200
    assert _types(published) == ["order.status_changed"]
    _type, groups, event = published[0]
    assert event.branch == scene.a.branch.pk
    assert event.data["order"] == order.pk
    assert event.data["status"] == "confirmed"
    assert event.data["from_status"] == "new"
    assert f"b{scene.a.branch.pk}.orders" in groups


def test_an_api_payment_publishes_once_even_when_retried(api, scene, published, django_capture_on_commit_callbacks):
    client = api(scene.a.sales)
    published.clear()
    for _ in range(2):
        with django_capture_on_commit_callbacks(execute=True):
            response = client.post(
                f"{API}/orders/{scene.a.order.pk}/payments/",
                {"amount": "3.00"},
                format="json",
                HTTP_IDEMPOTENCY_KEY="evt-1",
            )
        assert response.status_code == 201
    assert _types(published) == ["order.payment_recorded"]


def test_a_refused_api_write_publishes_nothing(api, scene, published, django_capture_on_commit_callbacks):
    order = scene.a.order
    published.clear()
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        stale = api(scene.a.sales).post(
            f"{API}/orders/{order.pk}/transition/",
            {"to": "confirmed"},
            format="json",
            HTTP_IF_MATCH=f'"{order.pk}-{order.version - 1}"',
        )
        outsider = api(scene.b.sales).post(f"{API}/orders/{order.pk}/transition/", {"to": "confirmed"}, format="json")
    assert (stale.status_code, outsider.status_code) == (412, 404)
    assert callbacks == []
    assert published == []


def test_api_stock_movements_publish_stock_changed(api, scene, published, django_capture_on_commit_callbacks):
    published.clear()
    with django_capture_on_commit_callbacks(execute=True):
        response = api(scene.a.storekeeper).post(
            f"{API}/stock-movements/",
            {"kind": "issue", "product": scene.product.pk, "warehouse": scene.a.warehouse.pk, "quantity": "2"},
            format="json",
        )
    assert response.status_code == 201
    assert _types(published) == ["stock.changed"]
