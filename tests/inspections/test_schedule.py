"""inspection_schedule: numbering, defaults, audit, events, every refusal and double booking."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from crm_core.accounts.models import ActivityLog, Role
from crm_core.customers.models import Customer, CustomerStatus
from crm_core.inspections.models import Inspection, InspectionOutcome, InspectionStatus
from crm_core.inspections.services import (
    inspection_cancel,
    inspection_mark_no_show,
    inspection_record_result,
    inspection_schedule,
)
from tests.factories import slot
from tests.inspections.helpers import counts

# --- the happy path -------------------------------------------------------------------------


def test_schedule_numbers_by_branch_defaults_address_and_logs(crew, world, book, published):
    first = book(24)
    second = book(30)

    first.refresh_from_db()
    assert first.number == "CAI-I000001"
    assert second.number == "CAI-I000002"
    assert first.branch == world.branch_a
    assert first.customer == crew.customer
    assert first.inspector == crew.inspector
    assert first.status == InspectionStatus.SCHEDULED
    assert first.address == "١٢ شارع التحرير، الدقي"
    assert first.created_by == crew.dispatcher
    assert first.version == 1

    log = ActivityLog.objects.get(action="inspection.schedule", target_id=str(first.pk))
    assert log.actor == crew.dispatcher
    assert log.branch == world.branch_a
    assert log.changes["inspector"] == [None, crew.inspector.pk]
    assert log.changes["customer"] == [None, crew.customer.pk]


def test_schedule_publishes_to_branch_board_hq_board_and_the_inspector(crew, world, book, published):
    inspection = book(24)

    assert len(published) == 1
    event_type, groups, event = published[0]
    assert event_type == "inspection.scheduled"
    assert set(groups) == {
        f"b{world.branch_a.pk}.inspections",
        "all.inspections",
        f"u{crew.inspector.pk}",
    }
    assert event.branch == world.branch_a.pk
    assert event.data["inspection"] == inspection.pk
    assert event.data["number"] == "CAI-I000001"
    assert event.data["inspector"] == crew.inspector.pk
    assert event.data["start"] == inspection.scheduled_start.isoformat()


def test_unassigned_visit_goes_to_no_personal_group(crew, world, book, published):
    inspection = book(24, inspector=None)

    assert inspection.inspector is None
    assert set(published[0][1]) == {f"b{world.branch_a.pk}.inspections", "all.inspections"}


def test_explicit_address_and_notes_are_kept_trimmed(crew, book):
    inspection = book(24, address="  برج النيل، الدور ٧  ", notes="  اتصل قبل الوصول  ")
    inspection.refresh_from_db()
    assert inspection.address == "برج النيل، الدور ٧"
    assert inspection.notes == "اتصل قبل الوصول"


def test_branch_comes_from_the_customer_not_the_actor(crew, world, book, published):
    hq_manager = world.user(Role.MANAGER, all_branches=True)
    inspection = book(24, actor=hq_manager, customer=crew.customer_b, inspector=crew.inspector_b)

    assert inspection.branch == world.branch_b
    assert inspection.number == "ALX-I000001"
    assert f"b{world.branch_b.pk}.inspections" in published[0][1]
    assert f"b{world.branch_a.pk}.inspections" not in published[0][1]
    # Each branch numbers its own inspections.
    assert book(24).number == "CAI-I000001"


def test_sales_may_book_a_visit(crew, world, book):
    sales = world.user(Role.SALES)
    inspection = book(24, actor=sales)
    assert inspection.created_by == sales
    assert Inspection.objects.filter(pk=inspection.pk).exists()


def test_a_twelve_hour_visit_is_allowed(crew, django_capture_on_commit_callbacks):
    start, _ = slot(24)
    inspection = inspection_schedule(
        actor=crew.dispatcher,
        customer=crew.customer,
        inspector=crew.inspector,
        scheduled_start=start,
        scheduled_end=start + timedelta(hours=12),
    )
    assert inspection.scheduled_end - inspection.scheduled_start == timedelta(hours=12)


# --- refusals change nothing ------------------------------------------------------------------


def _other_role(crew, world):
    return {"inspector": world.user(Role.SALES)}


def _inactive(crew, world):
    return {"inspector": world.user(Role.INSPECTOR, is_active=False)}


def _other_branch_inspector(crew, world):
    return {"inspector": crew.inspector_b}


def _blocked(crew, world):
    from tests.factories import CustomerFactory

    return {"customer": CustomerFactory(branch=world.branch_a, status=CustomerStatus.BLOCKED)}


def _naive(crew, world):
    start, end = slot(24)
    return {"scheduled_start": start.replace(tzinfo=None), "scheduled_end": end.replace(tzinfo=None)}


def _end_before_start(crew, world):
    start, _ = slot(24)
    return {"scheduled_start": start, "scheduled_end": start - timedelta(hours=1)}


def _zero_length(crew, world):
    start, _ = slot(24)
    return {"scheduled_start": start, "scheduled_end": start}


def _too_long(crew, world):
    start, _ = slot(24)
    return {"scheduled_start": start, "scheduled_end": start + timedelta(hours=12, minutes=1)}


def _storekeeper(crew, world):
    return {"actor": world.user(Role.STOREKEEPER)}


def _accountant(crew, world):
    return {"actor": world.user(Role.ACCOUNTANT)}


def _inactive_dispatcher(crew, world):
    return {"actor": world.user(Role.DISPATCHER, is_active=False)}


def _other_branch_customer(crew, world):
    return {"customer": crew.customer_b}


REFUSALS = [
    pytest.param(_end_before_start, ValidationError, "scheduled_end", id="end-before-start"),
    pytest.param(_zero_length, ValidationError, "scheduled_end", id="end-equals-start"),
    pytest.param(_too_long, ValidationError, "scheduled_end", id="longer-than-12h"),
    pytest.param(_naive, ValidationError, "scheduled_start", id="naive-datetimes"),
    pytest.param(_other_role, ValidationError, "inspector", id="inspector-not-an-inspector"),
    pytest.param(_inactive, ValidationError, "inspector", id="inspector-inactive"),
    pytest.param(_other_branch_inspector, ValidationError, "inspector", id="inspector-other-branch"),
    pytest.param(_blocked, ValidationError, "customer", id="customer-blocked"),
    pytest.param(_other_branch_customer, Customer.DoesNotExist, None, id="customer-other-branch"),
    pytest.param(_storekeeper, PermissionDenied, None, id="storekeeper-lacks-add"),
    pytest.param(_accountant, PermissionDenied, None, id="accountant-lacks-add"),
    pytest.param(_inactive_dispatcher, PermissionDenied, None, id="inactive-actor"),
]


@pytest.mark.parametrize(("change", "error", "field"), REFUSALS)
def test_refused_bookings_change_nothing(
    crew, world, published, django_capture_on_commit_callbacks, change, error, field
):
    start, end = slot(24)
    kwargs = {
        "actor": crew.dispatcher,
        "customer": crew.customer,
        "inspector": crew.inspector,
        "scheduled_start": start,
        "scheduled_end": end,
        **change(crew, world),
    }
    before = counts()

    with django_capture_on_commit_callbacks(execute=True) as callbacks, pytest.raises(error) as exc:
        inspection_schedule(**kwargs)

    if field is not None:
        assert field in exc.value.message_dict
    assert counts() == before
    assert callbacks == []
    assert published == []


# --- double booking -----------------------------------------------------------------------------


OVERLAPS = [
    pytest.param(0, 60, id="same-slot"),
    pytest.param(15, 30, id="inside"),
    pytest.param(-30, 120, id="covering"),
    pytest.param(-30, 31, id="overlaps-start"),
    pytest.param(59, 60, id="overlaps-end-by-a-minute"),
]


@pytest.mark.parametrize(("offset", "minutes"), OVERLAPS)
def test_overlapping_slot_for_the_same_inspector_is_refused_naming_the_clash(
    crew, book, published, django_capture_on_commit_callbacks, offset, minutes
):
    booked = book(24)
    published.clear()
    start = booked.scheduled_start + timedelta(minutes=offset)
    before = counts()

    with django_capture_on_commit_callbacks(execute=True), pytest.raises(ValidationError) as exc:
        inspection_schedule(
            actor=crew.dispatcher,
            customer=crew.customer,
            inspector=crew.inspector,
            scheduled_start=start,
            scheduled_end=start + timedelta(minutes=minutes),
        )

    assert booked.number in " ".join(exc.value.message_dict["inspector"])
    assert counts() == before
    assert published == []


def test_touching_slots_are_allowed(crew, book):
    middle = book(24, 2)
    before = inspection_schedule(
        actor=crew.dispatcher,
        customer=crew.customer,
        inspector=crew.inspector,
        scheduled_start=middle.scheduled_start - timedelta(hours=1),
        scheduled_end=middle.scheduled_start,
    )
    after = inspection_schedule(
        actor=crew.dispatcher,
        customer=crew.customer,
        inspector=crew.inspector,
        scheduled_start=middle.scheduled_end,
        scheduled_end=middle.scheduled_end + timedelta(hours=1),
    )
    assert Inspection.objects.filter(inspector=crew.inspector).count() == 3
    assert before.scheduled_end == middle.scheduled_start
    assert after.scheduled_start == middle.scheduled_end


def test_another_inspector_may_take_the_same_slot(crew, book):
    first = book(24)
    second = book(24, inspector=crew.inspector2)
    assert (first.scheduled_start, first.inspector) != (second.scheduled_start, second.inspector)
    assert second.inspector == crew.inspector2


def test_unassigned_visits_never_clash(crew, book):
    book(24, inspector=None)
    book(24, inspector=None)
    assert Inspection.objects.filter(inspector__isnull=True).count() == 2


def _rebook_same_slot(crew, old):
    return inspection_schedule(
        actor=crew.dispatcher,
        customer=crew.customer,
        inspector=crew.inspector,
        scheduled_start=old.scheduled_start,
        scheduled_end=old.scheduled_end,
    )


def test_a_cancelled_visit_frees_the_slot(crew, book):
    old = book(24)
    inspection_cancel(actor=crew.dispatcher, inspection=old, reason="العميل مسافر")
    new = _rebook_same_slot(crew, old)
    assert new.status == InspectionStatus.SCHEDULED
    assert new.pk != old.pk


def test_a_completed_visit_frees_the_slot(crew, book):
    old = book(24)
    inspection_record_result(
        actor=crew.inspector, inspection=old, outcome=InspectionOutcome.PASSED, findings="كل شيء سليم"
    )
    new = _rebook_same_slot(crew, old)
    assert new.status == InspectionStatus.SCHEDULED


def test_a_no_show_frees_the_slot(crew, book):
    old = book(-3, 2)
    inspection_mark_no_show(actor=crew.dispatcher, inspection=old, reason="لم يرد أحد")
    new = _rebook_same_slot(crew, old)
    assert new.status == InspectionStatus.SCHEDULED


def test_a_scheduled_visit_still_blocks_after_another_is_cancelled(crew, book):
    """Only the cancelled one stops counting: the other active booking still blocks."""
    keep = book(24)
    dropped = book(24, inspector=crew.inspector2)
    inspection_cancel(actor=crew.dispatcher, inspection=dropped, reason="تكرار")
    with pytest.raises(ValidationError) as exc:
        _rebook_same_slot(crew, keep)
    assert keep.number in str(exc.value)
