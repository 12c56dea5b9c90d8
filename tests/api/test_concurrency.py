"""Concurrent edits and retried writes: ETag / If-Match (412) and Idempotency-Key."""

from __future__ import annotations

import threading
from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import connection
from django.utils import timezone

from crm_core.common.models import IdempotencyKey
from crm_core.customers.models import Customer
from crm_core.inspections.models import Inspection
from crm_core.inventory.models import Product, StockLevel, StockMovement
from crm_core.orders.models import Order, OrderStatusChange, Payment
from tests.api.conftest import API, bearer
from tests.factories import slot

# --- ETag / If-Match --------------------------------------------------------------------------------


def _etag(obj) -> str:
    return f'"{obj.pk}-{obj.version}"'


@pytest.mark.parametrize(
    ("url", "model", "user", "body"),
    [
        (lambda s: f"/customers/{s.a.customer.pk}/", Customer, "sales", {"city": "طنطا"}),
        (lambda s: f"/orders/{s.a.order.pk}/", Order, "sales", {"notes": "اتصل قبل التسليم"}),
        (lambda s: f"/products/{s.product.pk}/", Product, "storekeeper", {"price": "120.00"}),
    ],
    ids=["customer", "order", "product"],
)
def test_a_stale_if_match_is_412_and_changes_nothing(url, model, user, body, api, scene):
    path = API + url(scene)
    me_, other = api(getattr(scene.a, user)), api(getattr(scene.a, user))
    read = me_.get(path)
    assert read.status_code == 200
    record = model.objects.get(pk=read.json()["id"])
    assert read["ETag"] == _etag(record)
    # Somebody else saves first, based on the same copy.
    first = other.patch(path, body, format="json", HTTP_IF_MATCH=read["ETag"])
    assert first.status_code == 200, first.content
    assert first["ETag"] == f'"{record.pk}-{record.version + 1}"'
    # My change, based on the old copy, is refused.
    stale = me_.patch(
        path, {k: "x1" if k != "price" else "1.00" for k in body}, format="json", HTTP_IF_MATCH=read["ETag"]
    )
    assert stale.status_code == 412, stale.content
    error = stale.json()["error"]
    assert error["code"] == "precondition_failed"
    assert error["current_version"] == record.version + 1
    after = model.objects.get(pk=record.pk)
    assert after.version == record.version + 1
    for key, value in body.items():
        assert str(getattr(after, key)) == value
    # With the fresh ETag it goes through.
    fresh = me_.patch(path, body, format="json", HTTP_IF_MATCH=first["ETag"])
    assert fresh.status_code == 200


def test_no_if_match_or_a_star_skips_the_check(api, scene):
    client = api(scene.a.sales)
    path = f"{API}/customers/{scene.a.customer.pk}/"
    assert client.patch(path, {"city": "أسوان"}, format="json").status_code == 200
    assert client.patch(path, {"city": "قنا"}, format="json", HTTP_IF_MATCH="*").status_code == 200


@pytest.mark.parametrize("header", ['"999999-1"', "garbage", '"1-x"', 'W/"0-0"'])
def test_an_if_match_for_another_record_or_malformed_is_412(header, api, scene):
    response = api(scene.a.sales).patch(
        f"{API}/customers/{scene.a.customer.pk}/", {"city": "أسوان"}, format="json", HTTP_IF_MATCH=header
    )
    assert response.status_code == 412
    assert Customer.objects.get(pk=scene.a.customer.pk).city == ""


def test_a_stale_transition_is_412_and_writes_no_history(api, scene):
    order = scene.a.order
    stale = f'"{order.pk}-{order.version - 1}"'
    before = OrderStatusChange.objects.filter(order=order).count()
    response = api(scene.a.sales).post(
        f"{API}/orders/{order.pk}/transition/", {"to": "confirmed"}, format="json", HTTP_IF_MATCH=stale
    )
    assert response.status_code == 412
    assert Order.objects.get(pk=order.pk).status == "new"
    assert OrderStatusChange.objects.filter(order=order).count() == before
    ok = api(scene.a.sales).post(
        f"{API}/orders/{order.pk}/transition/", {"to": "confirmed"}, format="json", HTTP_IF_MATCH=_etag(order)
    )
    assert ok.status_code == 200
    assert ok.json()["status"] == "confirmed"
    assert ok["ETag"] == f'"{order.pk}-{order.version + 1}"'


def test_item_changes_are_checked_against_the_orders_etag(api, scene):
    order = scene.a.order
    client = api(scene.a.sales)
    stale = client.post(
        f"{API}/orders/{order.pk}/items/",
        {"product": scene.product2.pk, "quantity": "1"},
        format="json",
        HTTP_IF_MATCH=f'"{order.pk}-{order.version - 1}"',
    )
    assert stale.status_code == 412
    fresh = client.post(
        f"{API}/orders/{order.pk}/items/",
        {"product": scene.product2.pk, "quantity": "1"},
        format="json",
        HTTP_IF_MATCH=_etag(order),
    )
    assert fresh.status_code == 201
    assert fresh["ETag"] == f'"{order.pk}-{order.version + 1}"'


def test_a_stale_reschedule_is_412(api, scene):
    inspection = scene.a.inspection
    start, end = slot(40)
    body = {"scheduled_start": start.isoformat(), "scheduled_end": end.isoformat()}
    client = api(scene.a.dispatcher)
    ok = client.post(
        f"{API}/inspections/{inspection.pk}/reschedule/", body, format="json", HTTP_IF_MATCH=_etag(inspection)
    )
    assert ok.status_code == 200
    again = client.post(
        f"{API}/inspections/{inspection.pk}/reschedule/", body, format="json", HTTP_IF_MATCH=_etag(inspection)
    )
    assert again.status_code == 412
    assert Inspection.objects.get(pk=inspection.pk).version == inspection.version + 1


# --- Idempotency-Key ---------------------------------------------------------------------------------


def _pay(client, order, key: str | None, amount: str = "5.00", **extra):
    headers = {"HTTP_IDEMPOTENCY_KEY": key} if key else {}
    return client.post(f"{API}/orders/{order.pk}/payments/", {"amount": amount, **extra}, format="json", **headers)


def test_a_retried_payment_is_answered_from_the_first_and_written_once(api, scene):
    order = scene.a.order
    client = api(scene.a.sales)
    first = _pay(client, order, "pay-0001")
    assert first.status_code == 201
    assert "Idempotent-Replayed" not in first
    again = _pay(client, order, "pay-0001")
    assert again.status_code == 201
    assert again.json() == first.json()
    assert again["Idempotent-Replayed"] == "true"
    assert Payment.objects.filter(order=order).count() == 2  # the scene's own and this one
    assert Order.objects.get(pk=order.pk).amount_paid == order.amount_paid + Decimal("5.00")


def test_the_same_key_with_another_body_is_422_and_writes_nothing(api, scene):
    order = scene.a.order
    client = api(scene.a.sales)
    assert _pay(client, order, "pay-0002").status_code == 201
    payments = Payment.objects.count()
    other = _pay(client, order, "pay-0002", amount="6.00")
    assert other.status_code == 422
    assert other.json()["error"]["code"] == "idempotency_key_reused"
    assert Payment.objects.count() == payments


def test_keys_belong_to_one_endpoint_and_one_user(api, scene):
    a = scene.a
    assert _pay(api(a.sales), a.order, "shared-key").status_code == 201
    # Another user may use the same key for their own write.
    manager = api(a.manager)
    assert _pay(manager, a.order, "shared-key").status_code == 201
    assert Payment.objects.filter(order=a.order).count() == 3
    # The same user, the same key, another endpoint: refused, nothing written.
    movements = StockMovement.objects.count()
    movement = manager.post(
        f"{API}/stock-movements/",
        {"kind": "receive", "product": scene.product.pk, "warehouse": a.warehouse.pk, "quantity": "1"},
        format="json",
        HTTP_IDEMPOTENCY_KEY="shared-key",
    )
    assert movement.status_code == 422
    assert StockMovement.objects.count() == movements


def test_a_refused_request_does_not_spend_its_key(api, scene):
    order = scene.a.order
    client = api(scene.a.sales)
    too_much = _pay(client, order, "pay-0003", amount="999999.00")
    assert too_much.status_code == 400
    assert not IdempotencyKey.objects.filter(key="pay-0003").exists()
    assert _pay(client, order, "pay-0003").status_code == 201


def test_an_expired_key_may_be_used_again(api, scene, settings):
    order = scene.a.order
    client = api(scene.a.sales)
    assert _pay(client, order, "pay-0004").status_code == 201
    IdempotencyKey.objects.filter(key="pay-0004").update(
        created_at=timezone.now() - timedelta(hours=settings.CRM_IDEMPOTENCY_TTL_HOURS + 1)
    )
    again = _pay(client, order, "pay-0004")
    assert again.status_code == 201
    assert "Idempotent-Replayed" not in again
    assert Payment.objects.filter(order=order).count() == 3


@pytest.mark.parametrize("key", ["", "   ", "k" * 256])
def test_a_malformed_key_is_400(key, api, scene):
    response = api(scene.a.sales).post(
        f"{API}/orders/{scene.a.order.pk}/payments/", {"amount": "1.00"}, format="json", HTTP_IDEMPOTENCY_KEY=key
    )
    assert response.status_code == 400
    assert "Idempotency-Key" in response.json()["error"]["fields"]


def test_a_retried_stock_movement_is_written_once(api, scene):
    client = api(scene.a.storekeeper)
    body = {
        "kind": "transfer",
        "product": scene.product.pk,
        "warehouse": scene.a.warehouse.pk,
        "quantity": "3",
        "to_warehouse": scene.a.warehouse.pk,
    }
    same_place = client.post(f"{API}/stock-movements/", body, format="json", HTTP_IDEMPOTENCY_KEY="mv-1")
    assert same_place.status_code == 400  # a transfer needs another warehouse
    body = {"kind": "issue", "product": scene.product.pk, "warehouse": scene.a.warehouse.pk, "quantity": "3"}
    first = client.post(f"{API}/stock-movements/", body, format="json", HTTP_IDEMPOTENCY_KEY="mv-1")
    again = client.post(f"{API}/stock-movements/", body, format="json", HTTP_IDEMPOTENCY_KEY="mv-1")
    assert first.status_code == again.status_code == 201
    assert again.json() == first.json()
    assert StockMovement.objects.filter(kind="issue", warehouse=scene.a.warehouse).count() == 1
    level = StockLevel.objects.get(product=scene.product, warehouse=scene.a.warehouse)
    assert level.quantity == Decimal("47")


# --- The same key from two requests at once (PostgreSQL, real threads) ---------------------------------


def _race(count: int, send) -> list:
    barrier = threading.Barrier(count, timeout=60)
    results: list = []
    lock = threading.Lock()

    def work() -> None:
        try:
            barrier.wait()
            response = send()
            with lock:
                results.append(response)
        except BaseException as exc:  # pragma: no cover - reported by the assertion below
            with lock:
                results.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=work) for _ in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not any(thread.is_alive() for thread in threads), "a request hung"
    return results


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("racers", [2, 8])
def test_concurrent_requests_with_one_key_write_one_payment(racers, scene):
    from rest_framework.test import APIClient

    order = scene.a.order
    token = bearer(scene.a.sales)

    def send():
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=token)
        return _pay(client, order, f"race-{racers}", amount="7.00")

    responses = _race(racers, send)
    assert all(not isinstance(r, BaseException) for r in responses), responses
    assert [r.status_code for r in responses] == [201] * racers, [r.content for r in responses]
    assert all(r.json() == responses[0].json() for r in responses)  # every racer got the same answer
    assert sum(1 for r in responses if "Idempotent-Replayed" not in r) == 1
    assert Payment.objects.filter(order=order, amount=Decimal("7.00")).count() == 1
    assert IdempotencyKey.objects.filter(key=f"race-{racers}").count() == 1
    assert Order.objects.get(pk=order.pk).amount_paid == order.amount_paid + Decimal("7.00")


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_requests_with_one_key_write_one_stock_movement(scene):
    from rest_framework.test import APIClient

    token = bearer(scene.a.storekeeper)
    body = {"kind": "receive", "product": scene.product.pk, "warehouse": scene.a.warehouse.pk, "quantity": "4"}

    def send():
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=token)
        return client.post(f"{API}/stock-movements/", body, format="json", HTTP_IDEMPOTENCY_KEY="race-mv")

    responses = _race(6, send)
    assert [r.status_code for r in responses] == [201] * 6, [getattr(r, "content", r) for r in responses]
    assert len({r.json()["id"] for r in responses}) == 1
    receipts = StockMovement.objects.filter(kind="receive", warehouse=scene.a.warehouse, quantity=Decimal("4"))
    assert receipts.count() == 1
    assert StockLevel.objects.get(product=scene.product, warehouse=scene.a.warehouse).quantity == Decimal("54")
