"""payment_record and order_set_shipping."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from crm_core.accounts.models import ActivityLog, Role
from crm_core.common.exceptions import StaleVersionError
from crm_core.orders.models import Order, OrderStatus, Payment, PaymentMethod, ShippingDetails
from crm_core.orders.services import order_set_shipping, order_transition, payment_record
from tests.orders.helpers import event_types


@pytest.fixture
def order(make_order) -> Order:
    """2 × 100.00 + 14 % = 228.00."""
    order = make_order()
    assert order.total == Decimal("228.00")
    return order


def _money_state(order: Order) -> tuple[Decimal, Decimal, Decimal]:
    order.refresh_from_db()
    return order.total, order.amount_paid, order.balance


def _advance(order: Order, actor, *statuses: str) -> Order:
    for status in statuses:
        order = order_transition(actor=actor, order=order, to_status=status)
    return order


# --- payments --------------------------------------------------------------------------------


def test_partial_then_full_payment(world, order, sales, published, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        first = payment_record(
            actor=sales, order=order, amount=Decimal("100"), method=PaymentMethod.CARD, reference=" POS-77 "
        )
    assert _money_state(order) == (Decimal("228.00"), Decimal("100.00"), Decimal("128.00"))
    assert (first.amount, first.method, first.reference, first.received_by, first.branch_id) == (
        Decimal("100"),
        PaymentMethod.CARD,
        "POS-77",
        sales,
        world.branch_a.pk,
    )
    assert event_types(published) == ["order.payment_recorded"]
    assert published[0][2].data["balance"] == "128.00"
    assert set(published[0][1]) == {f"b{world.branch_a.pk}.orders", "all.orders"}

    accountant = world.user(Role.ACCOUNTANT)
    yesterday = timezone.now() - timedelta(days=1)
    payment_record(actor=accountant, order=order, amount="128.00", received_at=yesterday)
    assert _money_state(order) == (Decimal("228.00"), Decimal("228.00"), Decimal("0.00"))
    assert order.version == 3
    assert Payment.objects.filter(order=order).count() == 2
    assert Payment.objects.get(order=order, received_by=accountant).received_at == yesterday
    assert ActivityLog.objects.filter(action="order.payment", target_id=str(order.pk)).count() == 2


def test_a_payment_leaving_cents_due(make_order, customer, sales):
    order = make_order(customer=customer)  # 2 × 100.00 less 10 % = 180.00 + 14 % = 205.20
    payment_record(actor=sales, order=order, amount=Decimal("200"))
    assert _money_state(order) == (Decimal("205.20"), Decimal("200.00"), Decimal("5.20"))


@pytest.mark.parametrize(
    "amount",
    [Decimal("0"), Decimal("-10"), "مية", "NaN", Decimal("10.005")],
    ids=["zero", "negative", "not-a-number", "nan", "three-decimals"],
)
def test_bad_amounts_are_refused(order, sales, amount, assert_refused):
    with assert_refused(ValidationError) as info:
        payment_record(actor=sales, order=order, amount=amount)
    assert "amount" in info.value.message_dict


def test_an_overpayment_is_refused(order, sales, assert_refused):
    payment_record(actor=sales, order=order, amount=Decimal("100"))
    with assert_refused(ValidationError) as info:
        payment_record(actor=sales, order=order, amount=Decimal("128.01"))
    assert "amount" in info.value.message_dict
    assert "128" in info.value.message_dict["amount"][0]  # tells what is still due
    assert _money_state(order) == (Decimal("228.00"), Decimal("100.00"), Decimal("128.00"))


def test_a_cancelled_order_takes_no_payment(order, sales, assert_refused):
    order = _advance(order, sales, OrderStatus.CANCELLED)
    with assert_refused(ValidationError):
        payment_record(actor=sales, order=order, amount=Decimal("10"))


def test_a_payment_in_the_future_is_refused(order, sales, assert_refused):
    with assert_refused(ValidationError) as info:
        payment_record(actor=sales, order=order, amount=Decimal("10"), received_at=timezone.now() + timedelta(hours=1))
    assert "received_at" in info.value.message_dict


def test_an_unknown_method_is_refused(order, sales, assert_refused):
    with assert_refused(ValidationError) as info:
        payment_record(actor=sales, order=order, amount=Decimal("10"), method="bitcoin")
    assert "method" in info.value.message_dict


def test_another_branchs_order_does_not_exist_for_the_payer(order, personas, assert_refused):
    with assert_refused(Order.DoesNotExist):
        payment_record(actor=personas.outsider, order=order, amount=Decimal("10"))


@pytest.mark.parametrize("role", [Role.STOREKEEPER, Role.INSPECTOR])
def test_roles_without_payment_permission_are_refused(world, order, role, assert_refused):
    with assert_refused(PermissionDenied):
        payment_record(actor=world.user(role), order=order, amount=Decimal("10"))


# --- shipping details ------------------------------------------------------------------------


def test_shipping_details_are_created_then_updated(world, order, sales, published, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        shipping = order_set_shipping(
            actor=sales,
            order=order,
            expected_version=1,
            recipient_name=" عمرو خالد ",
            phone="01001234567",
            city="القاهرة",
            address="١٢ شارع التحرير",
            scheduled_date=date(2031, 5, 4),
            cost=Decimal("50"),
        )
    assert ShippingDetails.objects.filter(order=order).count() == 1
    assert (shipping.recipient_name, shipping.cost, shipping.method) == ("عمرو خالد", Decimal("50.00"), "delivery")
    # 228.00 + 50.00 shipping (not taxed)
    assert _money_state(order) == (Decimal("278.00"), Decimal("0.00"), Decimal("278.00"))
    assert order.tax_amount == Decimal("28.00")
    assert order.version == 2
    assert event_types(published) == ["order.shipping_updated"]
    assert published[0][2].data["total"] == "278.00"

    order_set_shipping(actor=sales, order=order, expected_version=2, cost=Decimal("30.50"), carrier="أرامكس")
    shipping.refresh_from_db()
    assert ShippingDetails.objects.filter(order=order).count() == 1
    assert (shipping.cost, shipping.carrier, shipping.recipient_name) == (Decimal("30.50"), "أرامكس", "عمرو خالد")
    assert _money_state(order) == (Decimal("258.50"), Decimal("0.00"), Decimal("258.50"))
    log = ActivityLog.objects.filter(action="order.shipping").order_by("-id").first()
    assert log.changes["cost"] == ["50.00", "30.50"]


def test_shipping_cost_after_a_payment_leaves_it_due(order, sales):
    payment_record(actor=sales, order=order, amount=Decimal("228"))
    order_set_shipping(actor=sales, order=order, recipient_name="عمرو", phone="0100", cost=Decimal("10"))
    assert _money_state(order) == (Decimal("238.00"), Decimal("228.00"), Decimal("10.00"))


@pytest.mark.parametrize(
    "path", [(OrderStatus.CONFIRMED, OrderStatus.IN_PROGRESS, OrderStatus.READY, OrderStatus.SHIPPED), ("cancelled",)]
)
def test_shipping_is_frozen_once_shipped_or_cancelled(order, sales, path, assert_refused):
    order_set_shipping(actor=sales, order=order, recipient_name="عمرو", phone="0100", cost=Decimal("10"))
    order = _advance(order, sales, *path)
    with assert_refused(ValidationError):
        order_set_shipping(actor=sales, order=order, cost=Decimal("0"))


@pytest.mark.parametrize(
    ("values", "field"),
    [
        ({"recipient_name": "عمرو", "phone": "0100", "cost": Decimal("-1")}, "cost"),
        ({"recipient_name": "عمرو", "phone": "0100", "cost": "غالي"}, "cost"),
        ({"phone": "0100"}, "recipient_name"),
        ({"recipient_name": "عمرو", "phone": "0100", "method": "camel"}, "method"),
    ],
)
def test_bad_shipping_details_are_refused(order, sales, values, field, assert_refused):
    with assert_refused(ValidationError) as info:
        order_set_shipping(actor=sales, order=order, **values)
    assert field in info.value.message_dict


def test_shipping_with_a_stale_version_is_refused(order, sales, assert_refused):
    payment_record(actor=sales, order=order, amount=Decimal("1"))
    with assert_refused(StaleVersionError):
        order_set_shipping(actor=sales, order=order, expected_version=1, recipient_name="عمرو", phone="0100")


def test_shipping_of_another_branchs_order_does_not_exist(order, personas, assert_refused):
    with assert_refused(Order.DoesNotExist):
        order_set_shipping(actor=personas.outsider, order=order, recipient_name="عمرو", phone="0100")
