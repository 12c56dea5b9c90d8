"""Writes for inspections: scheduling without double booking, the field workflow, results."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _

from crm_core.accounts.audit import log_activity
from crm_core.accounts.models import Role, User
from crm_core.common.models import next_number
from crm_core.common.services import check_version, lock_visible, require_perm
from crm_core.customers.models import Customer, CustomerStatus
from crm_core.inspections.models import (
    ACTIVE_INSPECTION_STATUSES,
    Inspection,
    InspectionOutcome,
    InspectionPhoto,
    InspectionResult,
    InspectionStatus,
)
from realtime.publish import publish

MAX_DURATION = timedelta(hours=12)
MAX_PHOTO_BYTES = 8 * 1024 * 1024
# Served inline; any other upload is sent as a download so it can never render as a page.
SAFE_IMAGE_TYPES = frozenset({"image/jpeg", "image/png", "image/webp", "image/gif"})


def _event_data(inspection: Inspection, **extra: Any) -> dict[str, Any]:
    return {
        "inspection": inspection.pk,
        "number": inspection.number,
        "status": inspection.status,
        "inspector": inspection.inspector_id,
        "customer": inspection.customer_id,
        "start": inspection.scheduled_start.isoformat(),
        "end": inspection.scheduled_end.isoformat(),
        "version": inspection.version,
        **extra,
    }


def _audience(*inspector_ids: int | None) -> tuple[int, ...]:
    return tuple(sorted({pk for pk in inspector_ids if pk}))


def _check_slot(start: datetime, end: datetime) -> None:
    if start is None or end is None:
        raise ValidationError({"scheduled_start": _("Choose a start and an end time.")})
    if timezone.is_naive(start) or timezone.is_naive(end):
        raise ValidationError({"scheduled_start": _("Times must include a time zone.")})
    if end <= start:
        raise ValidationError({"scheduled_end": _("The end must be after the start.")})
    if end - start > MAX_DURATION:
        raise ValidationError({"scheduled_end": _("An inspection may last at most 12 hours.")})


def _lock_inspector(actor: User, inspector: User | None, branch_id: int) -> User | None:
    """Lock the inspector's row: bookings for one inspector are made one at a time."""
    if inspector is None:
        return None
    found = User.objects.select_for_update(no_key=True).filter(pk=inspector.pk).first()
    if (
        found is None
        or not found.is_active
        or found.role != Role.INSPECTOR
        or not (found.branch_id == branch_id or found.all_branches)
        or not User.objects.visible_to(actor).filter(pk=found.pk).exists()
    ):
        raise ValidationError({"inspector": _("Choose an active inspector of the inspection's branch.")})
    return found


def _refuse_double_booking(inspector: User | None, start: datetime, end: datetime, exclude_pk: int | None) -> None:
    if inspector is None:
        return
    clash = (
        Inspection.objects.filter(inspector=inspector, status__in=ACTIVE_INSPECTION_STATUSES)
        .overlapping(start, end)
        .exclude(pk=exclude_pk)
        .order_by("scheduled_start")
        .first()
    )
    if clash is not None:
        raise ValidationError(
            {
                # Each value in Unicode isolates: a Latin number or time inside an Arabic sentence
                # (or an Arabic name inside an English one) keeps its place and its brackets.
                "inspector": _("%(inspector)s is already booked from %(start)s to %(end)s (%(number)s).")
                % {
                    "inspector": f"\u2068{inspector}\u2069",
                    "start": f"\u2068{date_format(timezone.localtime(clash.scheduled_start), 'd/m/Y H:i')}\u2069",
                    "end": f"\u2068{date_format(timezone.localtime(clash.scheduled_end), 'H:i')}\u2069",
                    "number": f"\u2068{clash.number}\u2069",
                }
            }
        )


def _save_booking(inspection: Inspection, update_fields: list[str] | None = None) -> None:
    try:
        with transaction.atomic():
            inspection.save(update_fields=update_fields)
    except IntegrityError as exc:
        # The exclusion constraint caught a booking the locked check could not see.
        if "inspection_no_double_booking" in str(exc):
            raise ValidationError({"inspector": _("This inspector is already booked at that time.")}) from None
        raise


def inspection_schedule(
    *,
    actor: User,
    customer: Customer,
    scheduled_start: datetime,
    scheduled_end: datetime,
    inspector: User | None = None,
    address: str = "",
    notes: str = "",
) -> Inspection:
    require_perm(actor, "inspections.add_inspection")
    _check_slot(scheduled_start, scheduled_end)
    with transaction.atomic():
        customer = Customer.objects.visible_to(actor).select_related("branch").get(pk=customer.pk)
        if customer.status == CustomerStatus.BLOCKED:
            raise ValidationError({"customer": _("This customer is blocked.")})
        inspector = _lock_inspector(actor, inspector, customer.branch_id)
        _refuse_double_booking(inspector, scheduled_start, scheduled_end, None)
        branch = customer.branch
        inspection = Inspection(
            number=f"{branch.code}-I{next_number(f'inspection:{branch.pk}'):06d}",
            branch=branch,
            customer=customer,
            inspector=inspector,
            scheduled_start=scheduled_start,
            scheduled_end=scheduled_end,
            address=(address or customer.address).strip()[:255],
            notes=notes.strip(),
            created_by=actor,
        )
        _save_booking(inspection)
        log_activity(
            actor=actor,
            action="inspection.schedule",
            target=inspection,
            branch_id=branch.pk,
            changes={
                "customer": [None, customer.pk],
                "inspector": [None, inspector.pk if inspector else None],
                "scheduled_start": [None, scheduled_start.isoformat()],
                "scheduled_end": [None, scheduled_end.isoformat()],
            },
        )
        publish(
            "inspection.scheduled",
            branch_id=branch.pk,
            data=_event_data(inspection),
            users=_audience(inspection.inspector_id),
        )
    return inspection


def _lock_for_change(
    actor: User, inspection: Inspection, expected_version: int | None, allowed: tuple[str, ...]
) -> Inspection:
    locked = lock_visible(Inspection.objects, actor, inspection.pk)
    check_version(locked, expected_version)
    if locked.status not in allowed:
        raise ValidationError(
            {
                "status": _("A %(status)s inspection cannot be changed this way.")
                % {"status": locked.get_status_display()}
            }
        )
    return locked


def inspection_reschedule(
    *,
    actor: User,
    inspection: Inspection,
    scheduled_start: datetime,
    scheduled_end: datetime,
    inspector: User | bool | None = False,
    expected_version: int | None = None,
) -> Inspection:
    """Move an inspection in time, and to another inspector when ``inspector`` is given."""
    require_perm(actor, "inspections.change_inspection")
    _check_slot(scheduled_start, scheduled_end)
    with transaction.atomic():
        locked = lock_visible(Inspection.objects, actor, inspection.pk)
        new_inspector_id = locked.inspector_id if inspector is False else (inspector.pk if inspector else None)
        if new_inspector_id != locked.inspector_id and actor.role == Role.INSPECTOR and not actor.sees_all_branches:
            # The same rule as inspection_assign: rescheduling is no way around it.
            raise PermissionDenied(_("Inspectors cannot reassign inspections."))
        # Lock the inspector rows first, in id order, then the inspection (already locked above:
        # its lock never waits on an inspector lock held by a booking of another inspection).
        new_inspector = _lock_inspector(
            actor, User(pk=new_inspector_id) if new_inspector_id else None, locked.branch_id
        )
        inspection = _lock_for_change(actor, locked, expected_version, (InspectionStatus.SCHEDULED,))
        _refuse_double_booking(new_inspector, scheduled_start, scheduled_end, inspection.pk)
        before = {
            "scheduled_start": inspection.scheduled_start.isoformat(),
            "scheduled_end": inspection.scheduled_end.isoformat(),
            "inspector": inspection.inspector_id,
        }
        previous_inspector = inspection.inspector_id
        previous_start = inspection.scheduled_start
        inspection.scheduled_start = scheduled_start
        inspection.scheduled_end = scheduled_end
        inspection.inspector = new_inspector
        inspection.version += 1
        _save_booking(inspection)
        after = {
            "scheduled_start": scheduled_start.isoformat(),
            "scheduled_end": scheduled_end.isoformat(),
            "inspector": inspection.inspector_id,
        }
        log_activity(
            actor=actor,
            action="inspection.reschedule",
            target=inspection,
            branch_id=inspection.branch_id,
            changes={k: [before[k], v] for k, v in after.items() if before[k] != v},
        )
        publish(
            "inspection.rescheduled",
            branch_id=inspection.branch_id,
            # The day it left: that day's boards must drop the card (realtime/topics.py).
            data=_event_data(
                inspection, previous_inspector=previous_inspector, previous_start=previous_start.isoformat()
            ),
            users=_audience(previous_inspector, inspection.inspector_id),
        )
    return inspection


def inspection_assign(
    *, actor: User, inspection: Inspection, inspector: User | None, expected_version: int | None = None
) -> Inspection:
    require_perm(actor, "inspections.change_inspection")
    if actor.role == Role.INSPECTOR and not actor.sees_all_branches:
        raise PermissionDenied(_("Inspectors cannot reassign inspections."))
    with transaction.atomic():
        locked = lock_visible(Inspection.objects, actor, inspection.pk)
        new_inspector = _lock_inspector(actor, inspector, locked.branch_id)
        inspection = _lock_for_change(actor, locked, expected_version, (InspectionStatus.SCHEDULED,))
        if inspection.inspector_id == (new_inspector.pk if new_inspector else None):
            return inspection
        _refuse_double_booking(new_inspector, inspection.scheduled_start, inspection.scheduled_end, inspection.pk)
        previous_inspector = inspection.inspector_id
        inspection.inspector = new_inspector
        inspection.version += 1
        _save_booking(inspection, ["inspector", "version", "updated_at"])
        log_activity(
            actor=actor,
            action="inspection.assign",
            target=inspection,
            branch_id=inspection.branch_id,
            changes={"inspector": [previous_inspector, inspection.inspector_id]},
        )
        publish(
            "inspection.assigned",
            branch_id=inspection.branch_id,
            data=_event_data(inspection, previous_inspector=previous_inspector),
            users=_audience(previous_inspector, inspection.inspector_id),
        )
    return inspection


def _status_change(
    *,
    actor: User,
    inspection: Inspection,
    expected_version: int | None,
    allowed: tuple[str, ...],
    to_status: str,
    event: str,
    extra_fields: dict[str, Any] | None = None,
    check: Callable[[Inspection], None] | None = None,
) -> Inspection:
    with transaction.atomic():
        inspection = _lock_for_change(actor, inspection, expected_version, allowed)
        if check is not None:
            # Checked on the locked row, not on the caller's (possibly stale) copy.
            check(inspection)
        from_status = inspection.status
        inspection.status = to_status
        for key, value in (extra_fields or {}).items():
            setattr(inspection, key, value)
        inspection.version += 1
        inspection.save(update_fields=["status", "version", "updated_at", *(extra_fields or {})])
        log_activity(
            actor=actor,
            action=event.replace("inspection.", "inspection."),
            target=inspection,
            branch_id=inspection.branch_id,
            changes={
                "status": [from_status, to_status],
                **{k: [None, str(v)] for k, v in (extra_fields or {}).items()},
            },
        )
        publish(
            event,
            branch_id=inspection.branch_id,
            data=_event_data(inspection),
            users=_audience(inspection.inspector_id),
        )
    return inspection


def _check_field_actor(actor: User, inspection: Inspection) -> None:
    """Inspectors act only on their own inspections: anyone else's is not even visible to them,
    so it is DoesNotExist (a 404), never a 403 that confirms it exists (DESIGN.md rule 3). Looked
    up afresh: the caller's copy may be stale."""
    if actor.role == Role.INSPECTOR and not actor.sees_all_branches:
        Inspection.objects.visible_to(actor).only("pk").get(pk=inspection.pk)


def _require_inspector(inspection: Inspection) -> None:
    if inspection.inspector_id is None:
        raise ValidationError({"inspector": _("Assign an inspector before starting.")})


def _require_started_time(inspection: Inspection) -> None:
    if inspection.scheduled_start > timezone.now():
        raise ValidationError({"status": _("A visit cannot be a no-show before its start time.")})


def inspection_start(*, actor: User, inspection: Inspection, expected_version: int | None = None) -> Inspection:
    require_perm(actor, "inspections.change_inspection")
    _check_field_actor(actor, inspection)
    return _status_change(
        actor=actor,
        inspection=inspection,
        expected_version=expected_version,
        allowed=(InspectionStatus.SCHEDULED,),
        to_status=InspectionStatus.IN_PROGRESS,
        event="inspection.started",
        extra_fields={"started_at": timezone.now()},
        check=_require_inspector,
    )


def inspection_cancel(
    *, actor: User, inspection: Inspection, reason: str, expected_version: int | None = None
) -> Inspection:
    require_perm(actor, "inspections.change_inspection")
    if actor.role == Role.INSPECTOR and not actor.sees_all_branches:
        raise PermissionDenied(_("Inspectors cannot cancel inspections; ask a dispatcher."))
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"cancel_reason": _("Say why the inspection is cancelled.")})
    return _status_change(
        actor=actor,
        inspection=inspection,
        expected_version=expected_version,
        allowed=ACTIVE_INSPECTION_STATUSES,
        to_status=InspectionStatus.CANCELLED,
        event="inspection.cancelled",
        extra_fields={"cancel_reason": reason[:255]},
    )


def inspection_mark_no_show(
    *, actor: User, inspection: Inspection, reason: str = "", expected_version: int | None = None
) -> Inspection:
    require_perm(actor, "inspections.change_inspection")
    _check_field_actor(actor, inspection)
    return _status_change(
        actor=actor,
        inspection=inspection,
        expected_version=expected_version,
        allowed=(InspectionStatus.SCHEDULED, InspectionStatus.IN_PROGRESS),
        to_status=InspectionStatus.NO_SHOW,
        event="inspection.no_show",
        extra_fields={"cancel_reason": (reason or "").strip()[:255]},
        check=_require_started_time,
    )


def _clean_measurements(measurements: Any) -> dict[str, str]:
    if measurements in (None, ""):
        return {}
    if not isinstance(measurements, dict):
        raise ValidationError({"measurements": _("Measurements must be pairs of a name and a value.")})
    cleaned: dict[str, str] = {}
    for key, value in measurements.items():
        name = str(key).strip()[:60]
        if not name:
            raise ValidationError({"measurements": _("Every measurement needs a name.")})
        cleaned[name] = str(value).strip()[:120]
    if len(cleaned) > 50:
        raise ValidationError({"measurements": _("At most 50 measurements.")})
    return cleaned


def _check_photo(image: UploadedFile) -> None:
    if image.size is not None and image.size > MAX_PHOTO_BYTES:
        raise ValidationError({"photos": _("A photo may be at most 8 MB.")})
    from PIL import Image, UnidentifiedImageError

    try:
        position = image.tell() if hasattr(image, "tell") else 0
        with Image.open(image) as picture:
            picture.verify()
        image.seek(position)
    except (UnidentifiedImageError, Image.DecompressionBombError, OSError, SyntaxError):
        raise ValidationError({"photos": _("Upload a JPEG, PNG or WebP picture.")}) from None


def inspection_record_result(
    *,
    actor: User,
    inspection: Inspection,
    outcome: str,
    findings: str,
    measurements: dict[str, Any] | None = None,
    recommendations: str = "",
    photos: list[tuple[UploadedFile, str]] | None = None,
    expected_version: int | None = None,
) -> InspectionResult:
    """Record what was found on site; this completes the inspection."""
    require_perm(actor, "inspections.add_inspectionresult")
    _check_field_actor(actor, inspection)
    if outcome not in InspectionOutcome.values:
        raise ValidationError({"outcome": _("Choose an outcome.")})
    findings = (findings or "").strip()
    if not findings:
        raise ValidationError({"findings": _("Describe what was found.")})
    cleaned = _clean_measurements(measurements)
    for image, _caption in photos or []:
        _check_photo(image)
    with transaction.atomic():
        inspection = _lock_for_change(actor, inspection, expected_version, ACTIVE_INSPECTION_STATUSES)
        if inspection.inspector_id is None:
            raise ValidationError({"inspector": _("Assign an inspector before recording a result.")})
        now = timezone.now()
        result = InspectionResult.objects.create(
            inspection=inspection,
            outcome=outcome,
            findings=findings,
            measurements=cleaned,
            recommendations=(recommendations or "").strip(),
            recorded_by=actor,
        )
        for image, caption in photos or []:
            InspectionPhoto.objects.create(inspection=inspection, image=image, caption=caption[:200], uploaded_by=actor)
        from_status = inspection.status
        inspection.status = InspectionStatus.COMPLETED
        inspection.started_at = inspection.started_at or now
        inspection.completed_at = now
        inspection.version += 1
        inspection.save(update_fields=["status", "started_at", "completed_at", "version", "updated_at"])
        log_activity(
            actor=actor,
            action="inspection.result",
            target=inspection,
            branch_id=inspection.branch_id,
            changes={
                "status": [from_status, InspectionStatus.COMPLETED],
                "outcome": [None, outcome],
                "photos": [None, len(photos or [])],
            },
        )
        publish(
            "inspection.completed",
            branch_id=inspection.branch_id,
            data=_event_data(inspection, outcome=outcome),
            users=_audience(inspection.inspector_id),
        )
    return result


def inspection_add_photo(
    *, actor: User, inspection: Inspection, image: UploadedFile, caption: str = ""
) -> InspectionPhoto:
    require_perm(actor, "inspections.add_inspectionphoto")
    _check_field_actor(actor, inspection)
    _check_photo(image)
    with transaction.atomic():
        inspection = lock_visible(Inspection.objects, actor, inspection.pk)
        if inspection.status in (InspectionStatus.CANCELLED, InspectionStatus.NO_SHOW):
            raise ValidationError({"photos": _("Photos cannot be added to a cancelled inspection.")})
        photo = InspectionPhoto.objects.create(
            inspection=inspection, image=image, caption=caption.strip()[:200], uploaded_by=actor
        )
        log_activity(
            actor=actor,
            action="inspection.photo",
            target=inspection,
            branch_id=inspection.branch_id,
            changes={"photo": [None, photo.image.name]},
        )
    return photo


def inspection_create_order(*, actor: User, inspection: Inspection, items: list[Any], **order_fields: Any):
    """Turn what an inspection found into an order for the same customer, linked to it."""
    from crm_core.orders.services import order_create

    current = Inspection.objects.visible_to(actor).select_related("customer").get(pk=inspection.pk)
    if current.status in (InspectionStatus.CANCELLED, InspectionStatus.NO_SHOW):
        raise ValidationError(_("An order cannot be created from a cancelled inspection."))
    return order_create(actor=actor, customer=current.customer, items=items, inspection=current, **order_fields)
