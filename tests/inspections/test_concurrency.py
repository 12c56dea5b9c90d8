"""Double booking under real concurrency, and the database's own guarantee (PostgreSQL only)."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from django.apps import apps
from django.contrib.auth.models import Group
from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, transaction

from crm_core.accounts.models import Role, User
from crm_core.accounts.roles import sync_role_groups
from crm_core.customers.models import Customer
from crm_core.inspections.models import Inspection, InspectionStatus
from crm_core.inspections.services import inspection_schedule
from tests.factories import BranchFactory, CustomerFactory, UserFactory, slot


@pytest.fixture
def role_groups(transactional_db):
    """A transactional test starts from whatever the last flush left: make sure the roles exist."""
    if Group.objects.filter(name__in=Role.values).count() != len(Role.values):
        sync_role_groups(apps)


def _race(calls: list) -> tuple[list, list]:
    """Run every call in its own thread, released at the same moment by a barrier."""
    barrier = threading.Barrier(len(calls))
    results: list = []
    errors: list = []
    lock = threading.Lock()

    def worker(call):
        try:
            barrier.wait(timeout=10)
            value = call()
            with lock:
                results.append(value)
        except Exception as exc:
            with lock:
                errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=worker, args=(call,)) for call in calls]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not any(thread.is_alive() for thread in threads), "a booking thread hung"
    return results, errors


def _booking(dispatcher_id: int, customer_id: int, inspector_id: int, start, end):
    def call():
        # Each thread loads its own rows on its own connection, as two requests would.
        return inspection_schedule(
            actor=User.objects.get(pk=dispatcher_id),
            customer=Customer.objects.get(pk=customer_id),
            inspector=User.objects.get(pk=inspector_id),
            scheduled_start=start,
            scheduled_end=end,
        )

    return call


@pytest.fixture
def field_team(role_groups):
    branch = BranchFactory(code="CAI", name="القاهرة")
    return {
        "dispatchers": [UserFactory(role=Role.DISPATCHER, branch=branch) for _ in range(10)],
        "inspector": UserFactory(role=Role.INSPECTOR, branch=branch),
        "customer": CustomerFactory(branch=branch),
    }


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_dispatchers_booking_the_same_inspector_at_once(field_team):
    inspector, customer = field_team["inspector"], field_team["customer"]
    first, second = field_team["dispatchers"][:2]
    start, end = slot(24, 2)

    results, errors = _race(
        [
            _booking(first.pk, customer.pk, inspector.pk, start, end),
            _booking(second.pk, customer.pk, inspector.pk, start + timedelta(hours=1), end + timedelta(hours=1)),
        ]
    )

    assert len(results) == 1, errors
    assert len(errors) == 1
    assert isinstance(errors[0], ValidationError), repr(errors[0])
    assert "inspector" in errors[0].message_dict
    assert Inspection.objects.filter(inspector=inspector).count() == 1
    assert Inspection.objects.get().number == results[0].number


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_ten_overlapping_bookings_at_once_leave_exactly_one(field_team):
    inspector, customer = field_team["inspector"], field_team["customer"]
    start, _ = slot(24)
    calls = [
        _booking(
            dispatcher.pk,
            customer.pk,
            inspector.pk,
            start + timedelta(minutes=10 * i),
            start + timedelta(minutes=10 * i + 120),
        )
        for i, dispatcher in enumerate(field_team["dispatchers"])
    ]

    results, errors = _race(calls)

    assert len(results) == 1, errors
    assert len(errors) == 9
    assert all(isinstance(e, ValidationError) for e in errors), [repr(e) for e in errors]
    assert Inspection.objects.filter(inspector=inspector).count() == 1
    # The refused bookings gave their numbers back: the one booking is number 1.
    assert results[0].number == "CAI-I000001"


def _raw(customer: Customer, inspector: User, number: str, start, end, status=InspectionStatus.SCHEDULED):
    return Inspection.objects.create(
        number=number,
        branch_id=customer.branch_id,
        customer=customer,
        inspector=inspector,
        status=status,
        scheduled_start=start,
        scheduled_end=end,
    )


@pytest.mark.postgres
@pytest.mark.django_db
def test_the_database_itself_refuses_a_double_booking(world):
    inspector = world.user(Role.INSPECTOR)
    other = world.user(Role.INSPECTOR)
    customer = CustomerFactory(branch=world.branch_a)
    start, end = slot(24, 2)
    _raw(customer, inspector, "RAW-1", start, end)

    with pytest.raises(IntegrityError, match="inspection_no_double_booking"), transaction.atomic():
        _raw(customer, inspector, "RAW-2", start + timedelta(hours=1), end + timedelta(hours=1))

    # What the constraint still allows: touching slots, another inspector, inactive visits.
    _raw(customer, inspector, "RAW-3", end, end + timedelta(hours=1))
    _raw(customer, other, "RAW-4", start, end)
    _raw(customer, inspector, "RAW-5", start, end, status=InspectionStatus.CANCELLED)
    _raw(customer, None, "RAW-6", start, end)
    assert Inspection.objects.filter(number__startswith="RAW-").count() == 5
