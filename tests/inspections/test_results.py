"""Results, photos, orders made from a visit, and events only after commit."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import transaction
from django.utils import timezone
from PIL import Image

from crm_core.accounts.models import ActivityLog, Role
from crm_core.inspections.models import (
    Inspection,
    InspectionOutcome,
    InspectionPhoto,
    InspectionResult,
    InspectionStatus,
)
from crm_core.inspections.services import (
    inspection_add_photo,
    inspection_cancel,
    inspection_create_order,
    inspection_record_result,
    inspection_reschedule,
    inspection_schedule,
    inspection_start,
)
from crm_core.orders.models import Order
from crm_core.orders.services import ItemInput
from tests.factories import ProductFactory, slot
from tests.inspections.helpers import counts, huge_png, png, types


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


def _not_a_picture() -> SimpleUploadedFile:
    return SimpleUploadedFile("site.png", b"%PDF-1.4 this is not a picture", content_type="image/png")


def _rows() -> tuple:
    return (*counts(), InspectionResult.objects.count(), InspectionPhoto.objects.count(), Order.objects.count())


@pytest.fixture
def refused(published, django_capture_on_commit_callbacks):
    def _refused(error, call, inspection: Inspection):
        published.clear()
        before = _rows()
        row = Inspection.objects.get(pk=inspection.pk)
        with django_capture_on_commit_callbacks(execute=True) as callbacks, pytest.raises(error) as exc:
            call()
        after = Inspection.objects.get(pk=inspection.pk)
        assert _rows() == before
        assert (after.status, after.version, after.completed_at, after.order_id) == (
            row.status,
            row.version,
            row.completed_at,
            row.order_id,
        )
        assert callbacks == []
        assert published == []
        return exc.value

    return _refused


# --- results ------------------------------------------------------------------------------------


def test_recording_the_result_completes_the_visit(crew, world, book, published, django_capture_on_commit_callbacks):
    inspection = book(-1, 2)
    published.clear()
    before = timezone.now()

    with django_capture_on_commit_callbacks(execute=True):
        result = inspection_record_result(
            actor=crew.inspector,
            inspection=inspection,
            outcome=InspectionOutcome.FOLLOW_UP,
            findings="  تسريب بسيط في الحمام  ",
            measurements={" width_m ": 3.2, "height_m": "2.75"},
            recommendations=" تغيير الجوان ",
            photos=[(png("kitchen.png"), "المطبخ"), (png("bath.png", color="blue"), "الحمام")],
            expected_version=1,
        )

    row = Inspection.objects.get(pk=inspection.pk)
    assert row.status == InspectionStatus.COMPLETED
    assert before <= row.completed_at <= timezone.now()
    assert row.started_at == row.completed_at  # never started explicitly: started when the result came
    assert row.version == 2

    stored = InspectionResult.objects.get(inspection=row)
    assert stored == result
    assert stored.outcome == InspectionOutcome.FOLLOW_UP
    assert stored.findings == "تسريب بسيط في الحمام"
    assert stored.measurements == {"width_m": "3.2", "height_m": "2.75"}
    assert stored.recommendations == "تغيير الجوان"
    assert stored.recorded_by == crew.inspector

    photos = list(row.photos.all())
    assert [p.caption for p in photos] == ["المطبخ", "الحمام"]
    for photo in photos:
        assert photo.uploaded_by == crew.inspector
        assert photo.image.name.startswith(f"inspections/{row.pk}/")
        with default_storage.open(photo.image.name) as fh, Image.open(fh) as picture:
            assert picture.format == "PNG"

    log = ActivityLog.objects.get(action="inspection.result", target_id=str(row.pk))
    assert log.changes["outcome"] == [None, "follow_up"]
    assert log.changes["photos"] == [None, 2]

    assert types(published) == ["inspection.completed"]
    _, groups, event = published[0]
    assert set(groups) == {f"b{world.branch_a.pk}.inspections", "all.inspections", f"u{crew.inspector.pk}"}
    assert event.data["outcome"] == "follow_up"
    assert event.data["status"] == "completed"


def test_a_started_visit_keeps_its_start_time(crew, book):
    inspection = book(-1, 2)
    started = inspection_start(actor=crew.inspector, inspection=inspection).started_at
    inspection_record_result(
        actor=crew.inspector, inspection=inspection, outcome=InspectionOutcome.PASSED, findings="سليم"
    )
    row = Inspection.objects.get(pk=inspection.pk)
    assert row.started_at == started
    assert row.completed_at >= started


def _record(crew, inspection, actor=None, **overrides):
    kwargs = {"outcome": InspectionOutcome.PASSED, "findings": "كل شيء سليم", **overrides}
    return lambda: inspection_record_result(actor=actor or crew.inspector, inspection=inspection, **kwargs)


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        pytest.param({"photos": [(png("ok.png"), "جيد"), (_not_a_picture(), "ملف")]}, "photos", id="non-image-upload"),
        pytest.param({"photos": [(huge_png(), "بانوراما")]}, "photos", id="decompression-bomb"),
        pytest.param({"findings": "   "}, "findings", id="blank-findings"),
        pytest.param({"findings": None}, "findings", id="no-findings"),
        pytest.param({"outcome": "excellent"}, "outcome", id="invalid-outcome"),
        pytest.param({"outcome": ""}, "outcome", id="no-outcome"),
        pytest.param({"measurements": ["3.2", "2.75"]}, "measurements", id="measurements-not-pairs"),
        pytest.param({"measurements": {"  ": "3"}}, "measurements", id="measurement-without-name"),
    ],
)
def test_a_bad_result_is_refused_and_changes_nothing(crew, book, refused, overrides, field):
    inspection = book(-1, 2)
    err = refused(ValidationError, _record(crew, inspection, **overrides), inspection)
    assert field in err.message_dict
    assert not default_storage.exists(f"inspections/{inspection.pk}")


def test_a_completed_visit_cannot_get_a_second_result(crew, book, refused):
    inspection = book(-1, 2)
    first = _record(crew, inspection)()
    refused(
        ValidationError, _record(crew, inspection, outcome=InspectionOutcome.FAILED, findings="رأي آخر"), inspection
    )
    assert InspectionResult.objects.get(inspection=inspection) == first
    assert InspectionResult.objects.get(inspection=inspection).outcome == InspectionOutcome.PASSED


def test_a_cancelled_visit_cannot_get_a_result(crew, book, refused):
    inspection = book(-1, 2)
    inspection_cancel(actor=crew.dispatcher, inspection=inspection, reason="ألغاه العميل")
    refused(ValidationError, _record(crew, inspection), inspection)


def test_a_dispatcher_cannot_record_results(crew, book, refused):
    inspection = book(-1, 2)
    refused(PermissionDenied, _record(crew, inspection, actor=crew.dispatcher), inspection)


def test_another_inspector_cannot_see_the_visit_to_record_a_result(crew, book, refused):
    inspection = book(-1, 2)
    refused(Inspection.DoesNotExist, _record(crew, inspection, actor=crew.inspector2), inspection)
    refused(Inspection.DoesNotExist, _record(crew, inspection, actor=crew.inspector2, outcome="bad"), inspection)


def test_a_result_for_an_unassigned_visit_is_refused(crew, world, book, refused):
    manager = world.user(Role.MANAGER)
    inspection = book(-1, 2, inspector=None)
    refused(ValidationError, _record(crew, inspection, actor=manager), inspection)


# --- photos -------------------------------------------------------------------------------------


def test_inspector_adds_a_photo_to_their_visit(crew, book):
    inspection = book(-1, 2)

    photo = inspection_add_photo(actor=crew.inspector, inspection=inspection, image=png("roof.png"), caption=" السطح ")

    assert list(inspection.photos.all()) == [photo]
    assert photo.caption == "السطح"
    assert photo.uploaded_by == crew.inspector
    assert default_storage.exists(photo.image.name)
    log = ActivityLog.objects.get(action="inspection.photo", target_id=str(inspection.pk))
    assert log.changes["photo"] == [None, photo.image.name]


def test_a_photo_that_is_not_a_picture_is_refused(crew, book, refused):
    inspection = book(-1, 2)
    err = refused(
        ValidationError,
        lambda: inspection_add_photo(actor=crew.inspector, inspection=inspection, image=_not_a_picture()),
        inspection,
    )
    assert "photos" in err.message_dict


def test_a_picture_too_large_to_open_is_refused_not_a_crash(crew, book, refused):
    inspection = book(-1, 2)
    err = refused(
        ValidationError,
        lambda: inspection_add_photo(actor=crew.inspector, inspection=inspection, image=huge_png()),
        inspection,
    )
    assert "photos" in err.message_dict


def test_no_photos_for_a_cancelled_visit(crew, book, refused):
    inspection = book(-1, 2)
    inspection_cancel(actor=crew.dispatcher, inspection=inspection, reason="ألغاه العميل")
    refused(
        ValidationError,
        lambda: inspection_add_photo(actor=crew.inspector, inspection=inspection, image=png()),
        inspection,
    )


def test_another_inspector_cannot_add_photos(crew, book, refused):
    inspection = book(-1, 2)
    refused(
        Inspection.DoesNotExist,
        lambda: inspection_add_photo(actor=crew.inspector2, inspection=inspection, image=png()),
        inspection,
    )


def test_a_dispatcher_cannot_add_photos(crew, book, refused):
    inspection = book(-1, 2)
    refused(
        PermissionDenied,
        lambda: inspection_add_photo(actor=crew.dispatcher, inspection=inspection, image=png()),
        inspection,
    )


# --- an order from a visit ----------------------------------------------------------------------


@pytest.fixture
def items():
    product = ProductFactory(price=Decimal("250.00"))
    return [ItemInput(product_id=product.pk, quantity=Decimal("2"))]


def test_create_order_from_a_visit(crew, world, book, items, published, django_capture_on_commit_callbacks):
    inspection = _completed(crew, book)
    published.clear()

    with django_capture_on_commit_callbacks(execute=True):
        order = inspection_create_order(actor=crew.dispatcher, inspection=inspection, items=items, notes="من المعاينة")

    order.refresh_from_db()
    assert order.customer == crew.customer
    assert order.branch == world.branch_a
    assert order.items.count() == 1
    assert order.subtotal == Decimal("500.00")
    row = Inspection.objects.get(pk=inspection.pk)
    assert row.order == order
    assert row.version == 3  # scheduled, completed, linked
    assert list(order.inspections.all()) == [row]
    assert types(published) == ["inspection.order_linked", "order.created"]
    assert published[0][2].data == {"inspection": row.pk, "order": order.pk, "status": "completed"}
    assert f"u{crew.inspector.pk}" in published[0][1]


def _completed(crew, book) -> Inspection:
    inspection = book(-1, 2)
    inspection_record_result(
        actor=crew.inspector, inspection=inspection, outcome=InspectionOutcome.FOLLOW_UP, findings="يحتاج بلاط جديد"
    )
    return inspection


def test_a_second_order_from_the_same_visit_is_refused(crew, book, items, refused):
    inspection = _completed(crew, book)
    first = inspection_create_order(actor=crew.dispatcher, inspection=inspection, items=items)
    refused(
        ValidationError,
        lambda: inspection_create_order(actor=crew.dispatcher, inspection=inspection, items=items),
        inspection,
    )
    assert Inspection.objects.get(pk=inspection.pk).order == first
    assert Order.objects.count() == 1


def test_no_order_from_a_cancelled_visit(crew, book, items, refused):
    inspection = book(24)
    inspection_cancel(actor=crew.dispatcher, inspection=inspection, reason="لا حاجة")
    refused(
        ValidationError,
        lambda: inspection_create_order(actor=crew.dispatcher, inspection=inspection, items=items),
        inspection,
    )


def test_an_inspector_cannot_create_orders(crew, book, items, refused):
    inspection = _completed(crew, book)
    refused(
        PermissionDenied,
        lambda: inspection_create_order(actor=crew.inspector, inspection=inspection, items=items),
        inspection,
    )


def test_another_branch_cannot_order_from_the_visit(crew, world, book, items, refused):
    inspection = _completed(crew, book)
    outsider = world.user(Role.DISPATCHER, branch=world.branch_b)
    refused(
        Inspection.DoesNotExist,
        lambda: inspection_create_order(actor=outsider, inspection=inspection, items=items),
        inspection,
    )


# --- events after commit, none on rollback -------------------------------------------------------


def test_the_event_waits_for_the_commit(crew, published, django_capture_on_commit_callbacks):
    start, end = slot(24)
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        inspection_schedule(
            actor=crew.dispatcher,
            customer=crew.customer,
            inspector=crew.inspector,
            scheduled_start=start,
            scheduled_end=end,
        )
        assert published == []  # still inside the transaction
    assert len(callbacks) == 1
    assert types(published) == ["inspection.scheduled"]


def _schedule(crew, inspection):
    start, end = slot(72)
    return inspection_schedule(
        actor=crew.dispatcher,
        customer=crew.customer,
        inspector=crew.inspector,
        scheduled_start=start,
        scheduled_end=end,
    )


def _reschedule(crew, inspection):
    start, end = slot(72)
    return inspection_reschedule(actor=crew.dispatcher, inspection=inspection, scheduled_start=start, scheduled_end=end)


def _cancel(crew, inspection):
    return inspection_cancel(actor=crew.dispatcher, inspection=inspection, reason="سبب")


def _result(crew, inspection):
    return inspection_record_result(
        actor=crew.inspector, inspection=inspection, outcome=InspectionOutcome.PASSED, findings="سليم"
    )


@pytest.mark.parametrize("change", [_schedule, _reschedule, _cancel, _result], ids=lambda f: f.__name__[1:])
def test_a_rolled_back_change_publishes_nothing(crew, book, published, django_capture_on_commit_callbacks, change):
    inspection = book(24)
    published.clear()
    before = _rows()
    row = Inspection.objects.get(pk=inspection.pk)

    with (
        django_capture_on_commit_callbacks(execute=True) as callbacks,
        pytest.raises(RuntimeError),
        transaction.atomic(),
    ):
        change(crew, inspection)
        raise RuntimeError("the request failed later")

    assert callbacks == []
    assert published == []
    assert _rows() == before
    after = Inspection.objects.get(pk=inspection.pk)
    assert (after.status, after.scheduled_start, after.version) == (row.status, row.scheduled_start, row.version)
