"""The stock ledger: receive, issue, adjust, transfer — and every refusal."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction

from crm_core.accounts.models import ActivityLog, Role
from crm_core.inventory.models import MovementKind, StockLevel, StockMovement, Warehouse
from crm_core.inventory.services import stock_adjust, stock_issue, stock_receive, stock_transfer
from tests.factories import stock
from tests.inventory.helpers import db_state, event_types, ledger_sum, level_of

BAD_QUANTITIES = [
    pytest.param(Decimal("0"), id="zero"),
    pytest.param(Decimal("-3"), id="negative"),
    pytest.param("ثلاثة", id="not-a-number"),
    pytest.param(None, id="missing"),
    pytest.param("NaN", id="nan"),
    pytest.param("Infinity", id="infinite"),
    pytest.param(Decimal("1.0001"), id="four-decimals"),
]


# --- receive ---------------------------------------------------------------------------------


def test_receiving_creates_the_level_and_a_movement(
    world, keeper, product, published, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        movement = stock_receive(
            actor=keeper,
            product=product,
            warehouse=world.warehouse_a,
            quantity=Decimal("12.5"),
            unit_cost=Decimal("80.00"),
            reference="PO-991",
            note="شحنة المورد",
        )
    movement.refresh_from_db()
    assert (movement.kind, movement.quantity, movement.balance_after) == (
        MovementKind.RECEIVE,
        Decimal("12.5"),
        Decimal("12.5"),
    )
    assert (movement.unit_cost, movement.reference, movement.note, movement.actor) == (
        Decimal("80.00"),
        "PO-991",
        "شحنة المورد",
        keeper,
    )
    assert (movement.warehouse, movement.branch_id) == (world.warehouse_a, world.branch_a.pk)
    assert level_of(product, world.warehouse_a) == Decimal("12.5")
    log = ActivityLog.objects.get(action="stock.receive")
    assert (log.actor, log.branch_id, log.target_id) == (keeper, world.branch_a.pk, str(movement.pk))
    assert event_types(published) == ["stock.changed"]
    _type, groups, event = published[0]
    assert set(groups) == {f"b{world.branch_a.pk}.inventory", "all.inventory"}
    assert event.data == {
        "movement": movement.pk,
        "level": StockLevel.objects.get(product=product, warehouse=world.warehouse_a).pk,
        "kind": "receive",
        "product": product.pk,
        "warehouse": world.warehouse_a.pk,
        "quantity": "12.500",
        "low": False,
        "first": True,
    }

    second = stock_receive(actor=keeper, product=product, warehouse=world.warehouse_a, quantity=Decimal("0.5"))
    assert second.balance_after == Decimal("13")
    assert level_of(product, world.warehouse_a) == Decimal("13")
    assert StockLevel.objects.filter(product=product).count() == 1


def test_a_negative_unit_cost_is_refused(world, keeper, product, assert_refused):
    with assert_refused(ValidationError) as info:
        stock_receive(actor=keeper, product=product, warehouse=world.warehouse_a, quantity=1, unit_cost=Decimal("-1"))
    assert "unit_cost" in info.value.message_dict


# --- issue -----------------------------------------------------------------------------------


def test_issuing_takes_stock_out(world, keeper, product, published, django_capture_on_commit_callbacks):
    stock(product, world.warehouse_a, 10, actor=keeper)
    published.clear()
    with django_capture_on_commit_callbacks(execute=True):
        movement = stock_issue(
            actor=keeper, product=product, warehouse=world.warehouse_a, quantity=Decimal("3.25"), reference="صرف"
        )
    assert (movement.kind, movement.quantity, movement.balance_after) == (
        MovementKind.ISSUE,
        Decimal("-3.25"),
        Decimal("6.75"),
    )
    assert level_of(product, world.warehouse_a) == Decimal("6.75")
    assert ledger_sum(product, world.warehouse_a) == Decimal("6.75")
    assert ActivityLog.objects.filter(action="stock.issue").count() == 1
    assert event_types(published) == ["stock.changed"]


def test_issuing_everything_leaves_zero(world, keeper, product):
    stock(product, world.warehouse_a, 4, actor=keeper)
    stock_issue(actor=keeper, product=product, warehouse=world.warehouse_a, quantity=Decimal("4"))
    assert level_of(product, world.warehouse_a) == Decimal("0")


def test_issuing_more_than_in_stock_is_refused(world, keeper, product, assert_refused):
    stock(product, world.warehouse_a, 10, actor=keeper)
    with assert_refused(ValidationError) as info:
        stock_issue(actor=keeper, product=product, warehouse=world.warehouse_a, quantity=Decimal("10.001"))
    message = info.value.message_dict["quantity"][0]
    assert product.name in message
    assert world.warehouse_a.name in message
    # Available and wanted, as people write them (not 1E+1).
    assert "10" in message and "10.001" in message and "E+" not in message
    assert level_of(product, world.warehouse_a) == Decimal("10")


def test_issuing_a_product_never_stocked_is_refused(world, keeper, product, assert_refused):
    with assert_refused(ValidationError):
        stock_issue(actor=keeper, product=product, warehouse=world.warehouse_a, quantity=Decimal("1"))
    assert level_of(product, world.warehouse_a) is None


# --- adjust ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("counted", "delta"), [(Decimal("7.5"), Decimal("-2.5")), (Decimal("13"), Decimal("3")), (Decimal("0"), -10)]
)
def test_adjusting_sets_the_level_to_the_count(
    world, keeper, product, counted, delta, published, django_capture_on_commit_callbacks
):
    stock(product, world.warehouse_a, 10, actor=keeper)
    published.clear()
    with django_capture_on_commit_callbacks(execute=True):
        movement = stock_adjust(
            actor=keeper, product=product, warehouse=world.warehouse_a, counted_quantity=counted, reason=" جرد سنوي "
        )
    assert (movement.kind, movement.quantity, movement.balance_after, movement.note) == (
        MovementKind.ADJUST,
        delta,
        counted,
        "جرد سنوي",
    )
    assert level_of(product, world.warehouse_a) == counted
    assert ledger_sum(product, world.warehouse_a) == counted
    assert ActivityLog.objects.filter(action="stock.adjust").count() == 1
    assert event_types(published) == ["stock.changed"]


def test_adjusting_a_product_never_stocked(world, keeper, product):
    stock_adjust(actor=keeper, product=product, warehouse=world.warehouse_a, counted_quantity=Decimal("3"), reason="x")
    assert level_of(product, world.warehouse_a) == Decimal("3")


@pytest.mark.parametrize("reason", ["", "   ", None])
def test_an_adjustment_needs_a_reason(world, keeper, product, reason, assert_refused):
    stock(product, world.warehouse_a, 10, actor=keeper)
    with assert_refused(ValidationError) as info:
        stock_adjust(actor=keeper, product=product, warehouse=world.warehouse_a, counted_quantity=5, reason=reason)
    assert "reason" in info.value.message_dict


@pytest.mark.parametrize(
    "counted",
    [Decimal("10"), Decimal("10.000"), Decimal("-1"), "عشرة", "NaN", Decimal("9.9995")],
    ids=["equal", "equal-with-places", "negative", "not-a-number", "nan", "four-decimals"],
)
def test_bad_counts_are_refused(world, keeper, product, counted, assert_refused):
    stock(product, world.warehouse_a, 10, actor=keeper)
    with assert_refused(ValidationError) as info:
        stock_adjust(actor=keeper, product=product, warehouse=world.warehouse_a, counted_quantity=counted, reason="جرد")
    assert "counted_quantity" in info.value.message_dict


# --- transfer --------------------------------------------------------------------------------


def test_a_transfer_moves_stock_between_warehouses(
    world, keeper, product, second_warehouse, published, django_capture_on_commit_callbacks
):
    stock(product, world.warehouse_a, 10, actor=keeper)
    stock(product, second_warehouse, 1, actor=keeper)
    published.clear()
    with django_capture_on_commit_callbacks(execute=True):
        out_leg, in_leg = stock_transfer(
            actor=keeper,
            product=product,
            from_warehouse=world.warehouse_a,
            to_warehouse=second_warehouse,
            quantity=Decimal("4"),
            note="لفرع العبور",
        )
    out_leg.refresh_from_db()
    in_leg.refresh_from_db()
    assert (out_leg.kind, out_leg.warehouse, out_leg.quantity, out_leg.balance_after) == (
        MovementKind.TRANSFER_OUT,
        world.warehouse_a,
        Decimal("-4"),
        Decimal("6"),
    )
    assert (in_leg.kind, in_leg.warehouse, in_leg.quantity, in_leg.balance_after) == (
        MovementKind.TRANSFER_IN,
        second_warehouse,
        Decimal("4"),
        Decimal("5"),
    )
    # The two legs point at each other: from the out-leg directly, from the in-leg by lookup.
    assert out_leg.transfer_peer == in_leg
    assert StockMovement.objects.get(transfer_peer=in_leg) == out_leg
    assert out_leg.reference == in_leg.reference
    assert "CAI-W1" in out_leg.reference and "CAI-W2" in out_leg.reference
    assert (level_of(product, world.warehouse_a), level_of(product, second_warehouse)) == (Decimal("6"), Decimal("5"))
    assert ledger_sum(product, world.warehouse_a) == Decimal("6")
    assert ledger_sum(product, second_warehouse) == Decimal("5")
    log = ActivityLog.objects.get(action="stock.transfer")
    assert log.changes["quantity"] == [None, "4"]
    assert event_types(published) == ["stock.changed", "stock.changed"]
    assert [e.data["warehouse"] for _t, _g, e in published] == [world.warehouse_a.pk, second_warehouse.pk]


def test_a_transfer_into_an_empty_warehouse_creates_its_level(world, keeper, product, second_warehouse):
    stock(product, second_warehouse, 3, actor=keeper)
    stock_transfer(
        actor=keeper, product=product, from_warehouse=second_warehouse, to_warehouse=world.warehouse_a, quantity=3
    )
    assert (level_of(product, second_warehouse), level_of(product, world.warehouse_a)) == (Decimal("0"), Decimal("3"))


def test_a_transfer_to_the_same_warehouse_is_refused(world, keeper, product, assert_refused):
    stock(product, world.warehouse_a, 10, actor=keeper)
    with assert_refused(ValidationError) as info:
        stock_transfer(
            actor=keeper, product=product, from_warehouse=world.warehouse_a, to_warehouse=world.warehouse_a, quantity=1
        )
    assert "to_warehouse" in info.value.message_dict


def test_a_transfer_short_of_stock_is_refused(world, keeper, product, second_warehouse, assert_refused):
    stock(product, world.warehouse_a, 2, actor=keeper)
    with assert_refused(ValidationError) as info:
        stock_transfer(
            actor=keeper,
            product=product,
            from_warehouse=world.warehouse_a,
            to_warehouse=second_warehouse,
            quantity=Decimal("2.5"),
        )
    assert product.name in info.value.message_dict["quantity"][0]
    # No half-transfer: the destination did not even get an empty level row.
    assert level_of(product, second_warehouse) is None
    assert level_of(product, world.warehouse_a) == Decimal("2")


def test_a_transfer_to_a_closed_warehouse_is_refused(world, keeper, product, second_warehouse, assert_refused):
    stock(product, world.warehouse_a, 2, actor=keeper)
    Warehouse.objects.filter(pk=second_warehouse.pk).update(is_active=False)
    with assert_refused(ValidationError) as info:
        stock_transfer(
            actor=keeper, product=product, from_warehouse=world.warehouse_a, to_warehouse=second_warehouse, quantity=1
        )
    assert "warehouse" in info.value.message_dict


# --- refusals common to every stock operation -------------------------------------------------


def _receive(actor, product, warehouse, quantity, other=None):
    return stock_receive(actor=actor, product=product, warehouse=warehouse, quantity=quantity)


def _issue(actor, product, warehouse, quantity, other=None):
    return stock_issue(actor=actor, product=product, warehouse=warehouse, quantity=quantity)


def _transfer_out(actor, product, warehouse, quantity, other=None):
    return stock_transfer(actor=actor, product=product, from_warehouse=warehouse, to_warehouse=other, quantity=quantity)


def _transfer_in(actor, product, warehouse, quantity, other=None):
    return stock_transfer(actor=actor, product=product, from_warehouse=other, to_warehouse=warehouse, quantity=quantity)


def _adjust(actor, product, warehouse, quantity, other=None):
    return stock_adjust(actor=actor, product=product, warehouse=warehouse, counted_quantity=quantity, reason="جرد")


OPERATIONS = [_receive, _issue, _transfer_out]


@pytest.mark.parametrize("operation", OPERATIONS, ids=lambda f: f.__name__.strip("_"))
@pytest.mark.parametrize("quantity", BAD_QUANTITIES)
def test_bad_quantities_are_refused(operation, quantity, world, keeper, product, second_warehouse, assert_refused):
    stock(product, world.warehouse_a, 10, actor=keeper)
    with assert_refused(ValidationError) as info:
        operation(keeper, product, world.warehouse_a, quantity, second_warehouse)
    assert "quantity" in info.value.message_dict


@pytest.mark.parametrize("operation", [*OPERATIONS, _transfer_in, _adjust], ids=lambda f: f.__name__.strip("_"))
def test_another_branchs_warehouse_does_not_exist_for_the_user(
    operation, world, keeper, product, second_warehouse, assert_refused
):
    stock(product, world.warehouse_b, 10)
    stock(product, second_warehouse, 10, actor=keeper)
    with assert_refused(Warehouse.DoesNotExist):
        operation(keeper, product, world.warehouse_b, Decimal("1"), second_warehouse)


@pytest.mark.parametrize("operation", [*OPERATIONS, _transfer_in, _adjust], ids=lambda f: f.__name__.strip("_"))
@pytest.mark.parametrize("role", [Role.SALES, Role.ACCOUNTANT, Role.INSPECTOR])
def test_users_without_stock_permission_are_refused(
    operation, role, world, keeper, product, second_warehouse, assert_refused
):
    stock(product, world.warehouse_a, 10, actor=keeper)
    with assert_refused(PermissionDenied):
        operation(world.user(role), product, world.warehouse_a, Decimal("1"), second_warehouse)


def test_a_manager_can_move_stock(world, manager, product):
    stock_receive(actor=manager, product=product, warehouse=world.warehouse_a, quantity=Decimal("2"))
    stock_adjust(actor=manager, product=product, warehouse=world.warehouse_a, counted_quantity=1, reason="تالف")
    assert level_of(product, world.warehouse_a) == Decimal("1")


def test_an_hq_manager_moves_stock_in_any_branch(world, product):
    hq = world.user(Role.MANAGER, branch=None, all_branches=True)
    stock_receive(actor=hq, product=product, warehouse=world.warehouse_b, quantity=Decimal("2"))
    assert level_of(product, world.warehouse_b) == Decimal("2")


@pytest.mark.parametrize("operation", [*OPERATIONS, _adjust], ids=lambda f: f.__name__.strip("_"))
def test_a_rolled_back_stock_change_publishes_nothing(
    operation, world, keeper, product, second_warehouse, published, django_capture_on_commit_callbacks
):
    stock(product, world.warehouse_a, 10, actor=keeper)
    before = db_state()
    published.clear()
    with (
        django_capture_on_commit_callbacks(execute=True) as callbacks,
        pytest.raises(RuntimeError),
        transaction.atomic(),
    ):
        operation(keeper, product, world.warehouse_a, Decimal("2"), second_warehouse)
        raise RuntimeError("rolled back")
    assert callbacks == []
    assert published == []
    assert db_state() == before
