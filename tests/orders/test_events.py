"""Every order service publishes its events once the transaction commits, and nothing at all
when the surrounding transaction rolls back."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal

import pytest
from django.db import transaction

from crm_core.orders.models import Order, OrderStatus
from crm_core.orders.services import (
    ItemInput,
    order_create,
    order_item_add,
    order_item_remove,
    order_item_update,
    order_set_shipping,
    order_transition,
    order_update,
    payment_record,
)
from tests.orders.helpers import db_state, event_types


class Rollback(Exception):
    pass


def _ready(order: Order, actor) -> Order:
    for status in (OrderStatus.CONFIRMED, OrderStatus.IN_PROGRESS, OrderStatus.READY):
        order = order_transition(actor=actor, order=order, to_status=status)
    return order


SCENARIOS: dict[str, tuple[Callable, list[str]]] = {
    "create": (
        lambda o, s, c, p: order_create(
            actor=s, customer=c, items=[ItemInput(product_id=p[2].pk, quantity=Decimal("1"))]
        ),
        ["order.created"],
    ),
    "item_add": (
        lambda o, s, c, p: order_item_add(actor=s, order=o, item=ItemInput(product_id=p[2].pk, quantity=Decimal("1"))),
        ["order.updated"],
    ),
    "item_update": (
        lambda o, s, c, p: order_item_update(actor=s, item=o.items.first(), quantity=Decimal("7")),
        ["order.updated"],
    ),
    "item_remove": (lambda o, s, c, p: order_item_remove(actor=s, item=o.items.first()), ["order.updated"]),
    "update": (
        lambda o, s, c, p: order_update(actor=s, order=o, expected_version=None, notes="ملاحظة"),
        ["order.updated"],
    ),
    "confirm": (
        lambda o, s, c, p: order_transition(actor=s, order=o, to_status=OrderStatus.CONFIRMED),
        ["order.status_changed"],
    ),
    "cancel": (
        lambda o, s, c, p: order_transition(actor=s, order=o, to_status=OrderStatus.CANCELLED),
        ["order.status_changed"],
    ),
    # The order is made ready beforehand (see PREPARE); only the shipping step is measured.
    "ship": (
        lambda o, s, c, p: order_transition(actor=s, order=o, to_status=OrderStatus.SHIPPED),
        ["stock.changed", "stock.changed", "order.status_changed"],
    ),
    "payment": (
        lambda o, s, c, p: payment_record(actor=s, order=o, amount=Decimal("10")),
        ["order.payment_recorded"],
    ),
    "shipping": (
        lambda o, s, c, p: order_set_shipping(actor=s, order=o, recipient_name="هدى", phone="0122", cost=Decimal("5")),
        ["order.shipping_updated"],
    ),
}


PREPARE: dict[str, Callable] = {"ship": _ready}


@pytest.fixture
def order(request, make_order, products, sales) -> Order:
    """Two lines; made ready to ship first for the scenarios that need it."""
    order = make_order(
        [ItemInput(product_id=products[0].pk, quantity=Decimal("2")), ItemInput(product_id=products[1].pk, quantity=1)]
    )
    prepare = PREPARE.get(request.node.callspec.params["name"])
    return prepare(order, sales) if prepare else order


@pytest.mark.parametrize("name", list(SCENARIOS))
def test_events_are_published_on_commit(
    name, order, sales, plain_customer, products, published, django_capture_on_commit_callbacks
):
    call, expected = SCENARIOS[name]
    published.clear()
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        call(order, sales, plain_customer, products)
        # Nothing goes out while the transaction is still open.
        assert published == []
    assert published == []
    for callback in callbacks:
        callback()
    assert event_types(published) == expected
    assert all(event.branch == order.branch_id for _t, _g, event in published)
    ids = [event.id for _t, _g, event in published]
    assert ids == sorted(ids)
    assert len(set(ids)) == len(ids)


@pytest.mark.parametrize("name", list(SCENARIOS))
def test_a_rolled_back_change_publishes_nothing(
    name, order, sales, plain_customer, products, published, django_capture_on_commit_callbacks
):
    call, _expected = SCENARIOS[name]
    before = db_state()
    published.clear()
    with (
        django_capture_on_commit_callbacks(execute=True) as callbacks,
        pytest.raises(Rollback),
        transaction.atomic(),
    ):
        call(order, sales, plain_customer, products)
        raise Rollback
    assert callbacks == []
    assert published == []
    assert db_state() == before
