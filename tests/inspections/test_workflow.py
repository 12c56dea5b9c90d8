"""Rescheduling, assigning and the field workflow: start, cancel, no-show."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from crm_core.accounts.models import ActivityLog, Role
from crm_core.common.exceptions import StaleVersionError
from crm_core.inspections.models import Inspection, InspectionStatus
from crm_core.inspections.services import (
    inspection_assign,
    inspection_cancel,
    inspection_mark_no_show,
    inspection_reschedule,
    inspection_start,
)
from tests.factories import slot
from tests.inspections.helpers import counts, types


def _state(inspection: Inspection) -> tuple:
    row = Inspection.objects.get(pk=inspection.pk)
    return (
        row.status,
        row.inspector_id,
        row.scheduled_start,
        row.scheduled_end,
        row.version,
        row.started_at,
        row.cancel_reason,
    )


@pytest.fixture
def refused(published, django_capture_on_commit_callbacks):
    """Run a call that must be refused; assert it left rows, audit and events untouched."""

    def _refused(error, call, inspection: Inspection | None = None):
        published.clear()
        before = counts()
        state = _state(inspection) if inspection is not None else None
        with django_capture_on_commit_callbacks(execute=True) as callbacks, pytest.raises(error) as exc:
            call()
        assert counts() == before
        if inspection is not None:
            assert _state(inspection) == state
        assert callbacks == []
        assert published == []
        return exc.value

    return _refused


@pytest.fixture
def run(django_capture_on_commit_callbacks, published):
    """Run a service with its on-commit events delivered; return its result."""

    def _run(call):
        published.clear()
        with django_capture_on_commit_callbacks(execute=True):
            return call()

    return _run


# --- reschedule -------------------------------------------------------------------------------


def test_reschedule_moves_the_visit_and_tells_everyone(crew, world, book, run, published):
    inspection = book(24)
    start, end = slot(48, 2)

    moved = run(
        lambda: inspection_reschedule(
            actor=crew.dispatcher, inspection=inspection, scheduled_start=start, scheduled_end=end, expected_version=1
        )
    )

    row = Inspection.objects.get(pk=inspection.pk)
    assert (row.scheduled_start, row.scheduled_end) == (start, end)
    assert row.inspector == crew.inspector
    assert row.version == 2 == moved.version
    log = ActivityLog.objects.get(action="inspection.reschedule", target_id=str(row.pk))
    assert log.changes["scheduled_start"] == [inspection.scheduled_start.isoformat(), start.isoformat()]
    assert "inspector" not in log.changes
    assert types(published) == ["inspection.rescheduled"]
    assert set(published[0][1]) == {f"b{world.branch_a.pk}.inspections", "all.inspections", f"u{crew.inspector.pk}"}
    assert published[0][2].data["start"] == start.isoformat()


def test_reschedule_may_overlap_the_visits_own_old_slot(crew, book, run):
    inspection = book(24, 2)
    start = inspection.scheduled_start + timedelta(minutes=30)
    run(
        lambda: inspection_reschedule(
            actor=crew.dispatcher,
            inspection=inspection,
            scheduled_start=start,
            scheduled_end=start + timedelta(hours=2),
        )
    )
    assert Inspection.objects.get(pk=inspection.pk).scheduled_start == start


def test_reschedule_to_another_inspector_tells_both_inspectors(crew, book, run, published):
    inspection = book(24)
    start, end = slot(30)

    run(
        lambda: inspection_reschedule(
            actor=crew.dispatcher,
            inspection=inspection,
            scheduled_start=start,
            scheduled_end=end,
            inspector=crew.inspector2,
        )
    )

    assert Inspection.objects.get(pk=inspection.pk).inspector == crew.inspector2
    event_type, groups, event = published[0]
    assert event_type == "inspection.rescheduled"
    assert {f"u{crew.inspector.pk}", f"u{crew.inspector2.pk}"} <= set(groups)
    assert event.data["previous_inspector"] == crew.inspector.pk
    assert event.data["inspector"] == crew.inspector2.pk
    assert ActivityLog.objects.get(action="inspection.reschedule").changes["inspector"] == [
        crew.inspector.pk,
        crew.inspector2.pk,
    ]


def test_reschedule_into_a_clash_is_refused(crew, book, refused):
    taken = book(24)
    other = book(30)
    err = refused(
        ValidationError,
        lambda: inspection_reschedule(
            actor=crew.dispatcher,
            inspection=other,
            scheduled_start=taken.scheduled_start + timedelta(minutes=30),
            scheduled_end=taken.scheduled_end + timedelta(minutes=30),
        ),
        other,
    )
    assert taken.number in str(err)


def test_reschedule_onto_a_busy_inspector_is_refused(crew, book, refused):
    busy = book(24, inspector=crew.inspector2)
    mine = book(24)
    err = refused(
        ValidationError,
        lambda: inspection_reschedule(
            actor=crew.dispatcher,
            inspection=mine,
            scheduled_start=mine.scheduled_start,
            scheduled_end=mine.scheduled_end,
            inspector=crew.inspector2,
        ),
        mine,
    )
    assert busy.number in str(err)


def test_inspectors_cannot_hand_their_visit_to_someone_else_by_rescheduling(crew, book, refused):
    """Reassigning is a dispatcher's decision (see inspection_assign); rescheduling is no way around it."""
    inspection = book(24)
    start, end = slot(48)
    refused(
        PermissionDenied,
        lambda: inspection_reschedule(
            actor=crew.inspector,
            inspection=inspection,
            scheduled_start=start,
            scheduled_end=end,
            inspector=crew.inspector2,
        ),
        inspection,
    )
    refused(
        PermissionDenied,
        lambda: inspection_reschedule(
            actor=crew.inspector, inspection=inspection, scheduled_start=start, scheduled_end=end, inspector=None
        ),
        inspection,
    )


def test_only_a_scheduled_visit_can_be_rescheduled(crew, book, run, refused):
    inspection = book(24)
    run(lambda: inspection_start(actor=crew.inspector, inspection=inspection))
    start, end = slot(48)
    refused(
        ValidationError,
        lambda: inspection_reschedule(
            actor=crew.dispatcher, inspection=inspection, scheduled_start=start, scheduled_end=end
        ),
        inspection,
    )


def test_reschedule_from_a_stale_version_is_refused(crew, book, run, refused):
    inspection = book(24)
    run(lambda: inspection_assign(actor=crew.dispatcher, inspection=inspection, inspector=crew.inspector2))
    start, end = slot(48)
    err = refused(
        StaleVersionError,
        lambda: inspection_reschedule(
            actor=crew.dispatcher, inspection=inspection, scheduled_start=start, scheduled_end=end, expected_version=1
        ),
        inspection,
    )
    assert (err.expected, err.current) == (1, 2)
    assert err.changed_by == str(crew.dispatcher)


@pytest.mark.parametrize(
    "make_actor",
    [
        pytest.param(lambda crew, world: world.user(Role.SALES), id="sales-lacks-change"),
        pytest.param(lambda crew, world: world.user(Role.STOREKEEPER), id="storekeeper"),
    ],
)
def test_reschedule_needs_change_permission(crew, world, book, refused, make_actor):
    inspection = book(24)
    start, end = slot(48)
    actor = make_actor(crew, world)
    refused(
        PermissionDenied,
        lambda: inspection_reschedule(actor=actor, inspection=inspection, scheduled_start=start, scheduled_end=end),
        inspection,
    )


def test_another_branch_cannot_even_see_the_visit_to_reschedule(crew, world, book, refused):
    inspection = book(24)
    outsider = world.user(Role.DISPATCHER, branch=world.branch_b)
    start, end = slot(48)
    refused(
        Inspection.DoesNotExist,
        lambda: inspection_reschedule(actor=outsider, inspection=inspection, scheduled_start=start, scheduled_end=end),
        inspection,
    )


def test_reschedule_refuses_a_bad_slot(crew, book, refused):
    inspection = book(24)
    start, _ = slot(48)
    refused(
        ValidationError,
        lambda: inspection_reschedule(
            actor=crew.dispatcher,
            inspection=inspection,
            scheduled_start=start,
            scheduled_end=start - timedelta(hours=1),
        ),
        inspection,
    )


# --- assign -----------------------------------------------------------------------------------


def test_assign_an_unassigned_visit(crew, world, book, run, published):
    inspection = book(24, inspector=None)

    run(lambda: inspection_assign(actor=crew.dispatcher, inspection=inspection, inspector=crew.inspector))

    row = Inspection.objects.get(pk=inspection.pk)
    assert row.inspector == crew.inspector
    assert row.version == 2
    assert ActivityLog.objects.get(action="inspection.assign").changes == {"inspector": [None, crew.inspector.pk]}
    assert types(published) == ["inspection.assigned"]
    assert set(published[0][1]) == {f"b{world.branch_a.pk}.inspections", "all.inspections", f"u{crew.inspector.pk}"}


def test_unassign_tells_the_inspector_who_lost_the_visit(crew, book, run, published):
    inspection = book(24)

    run(lambda: inspection_assign(actor=crew.dispatcher, inspection=inspection, inspector=None))

    assert Inspection.objects.get(pk=inspection.pk).inspector is None
    assert f"u{crew.inspector.pk}" in published[0][1]
    assert published[0][2].data["previous_inspector"] == crew.inspector.pk
    assert published[0][2].data["inspector"] is None


def test_assign_onto_a_busy_inspector_is_refused(crew, book, refused):
    busy = book(24, inspector=crew.inspector2)
    free = book(24, inspector=None)
    err = refused(
        ValidationError,
        lambda: inspection_assign(actor=crew.dispatcher, inspection=free, inspector=crew.inspector2),
        free,
    )
    assert busy.number in str(err)


def test_assign_an_inspector_of_another_branch_is_refused(crew, book, refused):
    inspection = book(24, inspector=None)
    refused(
        ValidationError,
        lambda: inspection_assign(actor=crew.dispatcher, inspection=inspection, inspector=crew.inspector_b),
        inspection,
    )


def test_inspectors_cannot_reassign(crew, book, refused):
    inspection = book(24)
    refused(
        PermissionDenied,
        lambda: inspection_assign(actor=crew.inspector, inspection=inspection, inspector=crew.inspector2),
        inspection,
    )


def test_assign_from_a_stale_version_is_refused(crew, book, run, refused):
    inspection = book(24)
    start, end = slot(48)
    run(
        lambda: inspection_reschedule(
            actor=crew.dispatcher, inspection=inspection, scheduled_start=start, scheduled_end=end
        )
    )
    refused(
        StaleVersionError,
        lambda: inspection_assign(
            actor=crew.dispatcher, inspection=inspection, inspector=crew.inspector2, expected_version=1
        ),
        inspection,
    )


# --- start ------------------------------------------------------------------------------------


def test_inspector_starts_their_own_visit(crew, world, book, run, published):
    inspection = book(0.1)
    before = timezone.now()

    run(lambda: inspection_start(actor=crew.inspector, inspection=inspection))

    row = Inspection.objects.get(pk=inspection.pk)
    assert row.status == InspectionStatus.IN_PROGRESS
    assert before <= row.started_at <= timezone.now()
    assert row.version == 2
    assert ActivityLog.objects.filter(action="inspection.started", target_id=str(row.pk), actor=crew.inspector).exists()
    assert types(published) == ["inspection.started"]
    assert set(published[0][1]) == {f"b{world.branch_a.pk}.inspections", "all.inspections", f"u{crew.inspector.pk}"}


def test_someone_elses_visit_is_not_even_visible_to_an_inspector(crew, book, refused):
    inspection = book(0.1)
    refused(Inspection.DoesNotExist, lambda: inspection_start(actor=crew.inspector2, inspection=inspection), inspection)


def test_an_unassigned_visit_cannot_be_started(crew, book, refused):
    inspection = book(0.1, inspector=None)
    refused(ValidationError, lambda: inspection_start(actor=crew.dispatcher, inspection=inspection), inspection)


def test_start_looks_at_the_visit_as_it_is_now_not_an_old_copy(crew, book, run, refused):
    """A dispatcher's page still shows the inspector; meanwhile a colleague unassigned them."""
    on_screen = book(0.1)
    run(
        lambda: inspection_assign(
            actor=crew.dispatcher, inspection=Inspection.objects.get(pk=on_screen.pk), inspector=None
        )
    )
    assert on_screen.inspector_id == crew.inspector.pk  # the stale copy

    refused(ValidationError, lambda: inspection_start(actor=crew.dispatcher, inspection=on_screen), on_screen)
    assert Inspection.objects.get(pk=on_screen.pk).status == InspectionStatus.SCHEDULED


def test_a_started_visit_cannot_be_started_again(crew, book, run, refused):
    inspection = book(0.1)
    run(lambda: inspection_start(actor=crew.inspector, inspection=inspection))
    refused(ValidationError, lambda: inspection_start(actor=crew.inspector, inspection=inspection), inspection)


# --- cancel -----------------------------------------------------------------------------------


def test_cancel_records_the_reason_and_tells_the_inspector(crew, world, book, run, published):
    inspection = book(24)

    run(lambda: inspection_cancel(actor=crew.dispatcher, inspection=inspection, reason="  العميل أجّل الموعد  "))

    row = Inspection.objects.get(pk=inspection.pk)
    assert row.status == InspectionStatus.CANCELLED
    assert row.cancel_reason == "العميل أجّل الموعد"
    assert ActivityLog.objects.filter(action="inspection.cancelled", target_id=str(row.pk)).exists()
    assert types(published) == ["inspection.cancelled"]
    assert set(published[0][1]) == {f"b{world.branch_a.pk}.inspections", "all.inspections", f"u{crew.inspector.pk}"}


@pytest.mark.parametrize("reason", ["", "   ", None])
def test_cancel_needs_a_reason(crew, book, refused, reason):
    inspection = book(24)
    err = refused(
        ValidationError,
        lambda: inspection_cancel(actor=crew.dispatcher, inspection=inspection, reason=reason),
        inspection,
    )
    assert "cancel_reason" in err.message_dict


def test_inspectors_cannot_cancel(crew, book, refused):
    inspection = book(24)
    refused(
        PermissionDenied,
        lambda: inspection_cancel(actor=crew.inspector, inspection=inspection, reason="مريض"),
        inspection,
    )


def test_a_cancelled_visit_cannot_be_cancelled_or_started_again(crew, book, run, refused):
    inspection = book(0.1)
    run(lambda: inspection_cancel(actor=crew.dispatcher, inspection=inspection, reason="تكرار"))
    refused(
        ValidationError,
        lambda: inspection_cancel(actor=crew.dispatcher, inspection=inspection, reason="مرة أخرى"),
        inspection,
    )
    refused(ValidationError, lambda: inspection_start(actor=crew.inspector, inspection=inspection), inspection)


# --- no-show ----------------------------------------------------------------------------------


def test_no_show_is_refused_before_the_start_time(crew, book, refused):
    inspection = book(2)
    err = refused(
        ValidationError, lambda: inspection_mark_no_show(actor=crew.inspector, inspection=inspection), inspection
    )
    assert "status" in err.message_dict


def test_no_show_after_the_start_time(crew, book, run, published):
    inspection = book(-1, 2)

    run(lambda: inspection_mark_no_show(actor=crew.inspector, inspection=inspection, reason=" الباب مغلق "))

    row = Inspection.objects.get(pk=inspection.pk)
    assert row.status == InspectionStatus.NO_SHOW
    assert row.cancel_reason == "الباب مغلق"
    assert types(published) == ["inspection.no_show"]
    assert f"u{crew.inspector.pk}" in published[0][1]


def test_no_show_of_someone_elses_visit_is_not_visible(crew, book, refused):
    inspection = book(-1, 2)
    refused(
        Inspection.DoesNotExist,
        lambda: inspection_mark_no_show(actor=crew.inspector2, inspection=inspection),
        inspection,
    )
