"""Inspection pages that write: scheduling with free slots, reschedule/assign with versions, the
field actions, recording a result with photos, and an order made from a visit."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import NoReverseMatch, reverse
from django.utils import timezone

from crm_core.accounts.models import ActivityLog, Role
from crm_core.customers.models import CustomerStatus
from crm_core.inspections.models import Inspection, InspectionPhoto, InspectionResult, InspectionStatus
from crm_core.inspections.services import inspection_reschedule, inspection_schedule
from crm_core.orders.models import Order
from tests.factories import CustomerFactory, ProductFactory
from tests.inspections.conftest import local_at
from tests.inspections.helpers import counts, png

CREATE = reverse("inspections:create")
FREE_SLOTS = reverse("inspections:free_slots")
LOOKUP = reverse("inspections:customer_lookup")


def _day(offset: int = 1) -> str:
    return (timezone.localdate() + timedelta(days=offset)).isoformat()


def _booking(crew, **overrides) -> dict:
    data = {
        "customer": crew.customer.pk,
        "inspector": crew.inspector.pk,
        "date": _day(1),
        "start_time": "10:00",
        "duration": "60",
        "address": "",
        "notes": "افحص السقف",
    }
    data.update(overrides)
    return data


def _errors(response) -> str:
    return response.content.decode()


# --- schedule ----------------------------------------------------------------------------------


def test_schedule_through_the_form_creates_the_visit_and_goes_to_it(client, crew):
    client.force_login(crew.dispatcher)

    response = client.post(CREATE, _booking(crew))

    inspection = Inspection.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("inspections:detail", args=[inspection.pk])
    assert inspection.inspector == crew.inspector
    assert inspection.scheduled_start == local_at(1, 10)
    assert inspection.scheduled_end == local_at(1, 11)
    assert inspection.address == crew.customer.address  # empty address → the customer's
    assert inspection.notes == "افحص السقف"
    assert ActivityLog.objects.filter(action="inspection.schedule", target_id=str(inspection.pk)).exists()
    follow = client.get(response["Location"])
    assert inspection.number in next(str(m) for m in follow.context["messages"])


def test_schedule_form_preselects_the_customer_from_the_url_and_shows_the_inspectors_day(client, crew, visit):
    busy = visit(1, 9, minutes=90)
    client.force_login(crew.dispatcher)

    response = client.get(CREATE, {"customer": crew.customer.pk, "inspector": crew.inspector.pk, "date": _day(1)})

    body = response.content.decode()
    assert f'value="{crew.customer.pk}" checked' in body
    assert 'data-testid="busy-slot"' in body and busy.number in body
    assert 'data-slot-start="08:00"' in body and 'data-slot-start="10:30"' in body


def test_double_booking_through_the_form_shows_the_clash_and_writes_nothing(client, crew, visit):
    taken = visit(1, 10, minutes=60)
    client.force_login(crew.dispatcher)
    before = counts()

    response = client.post(CREATE, _booking(crew, start_time="10:30"))

    assert response.status_code == 200
    assert counts() == before
    error = response.context["form"].errors["inspector"][0]
    assert "already booked" in error and taken.number in error
    # The number and times are isolated, so in Arabic the brackets stay around the number.
    assert f"(\u2068{taken.number}\u2069)" in error
    assert 'data-testid="error-inspector"' in response.content.decode()
    # The user's input is kept.
    assert response.context["form"]["start_time"].value() == "10:30"


@pytest.mark.postgres
def test_the_exclusion_constraint_path_also_ends_as_a_form_error(client, crew, visit, monkeypatch):
    """The race the locked check cannot see: the database refuses, the page still says why."""
    from crm_core.inspections import services

    visit(1, 10, minutes=60)
    monkeypatch.setattr(services, "_refuse_double_booking", lambda *args, **kwargs: None)
    client.force_login(crew.dispatcher)
    before = counts()

    response = client.post(CREATE, _booking(crew, start_time="10:30"))

    assert response.status_code == 200
    assert counts() == before
    assert "already booked" in response.context["form"].errors["inspector"][0]


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"date": "2001-01-01"}, "date"),
        ({"duration": "13"}, "duration"),
        ({"start_time": "25:99"}, "start_time"),
        ({"customer": ""}, "customer"),
        ({"notes": "x" * 2001}, "notes"),
    ],
)
def test_bad_schedule_input_shows_the_field_error_and_saves_nothing(client, crew, change, field):
    client.force_login(crew.dispatcher)

    response = client.post(CREATE, _booking(crew, **change))

    assert response.status_code == 200
    assert field in response.context["form"].errors
    assert Inspection.objects.count() == 0


def test_a_time_already_past_today_is_refused(client, crew):
    client.force_login(crew.dispatcher)
    past = timezone.localtime() - timedelta(hours=1)
    if past.date() != timezone.localdate():
        pytest.skip("just after midnight there is no earlier time today")

    response = client.post(CREATE, _booking(crew, date=_day(0), start_time=past.strftime("%H:%M")))

    assert "start_time" in response.context["form"].errors
    assert Inspection.objects.count() == 0


def test_another_branchs_customer_or_inspector_is_a_form_error(client, crew):
    client.force_login(crew.dispatcher)

    other_customer = client.post(CREATE, _booking(crew, customer=crew.customer_b.pk))
    other_inspector = client.post(CREATE, _booking(crew, inspector=crew.inspector_b.pk))

    assert "customer" in other_customer.context["form"].errors
    assert "inspector" in other_inspector.context["form"].errors
    assert Inspection.objects.count() == 0


def test_a_blocked_customer_cannot_be_booked(client, crew, world):
    blocked = CustomerFactory(branch=world.branch_a, status=CustomerStatus.BLOCKED)
    client.force_login(crew.dispatcher)

    response = client.post(CREATE, _booking(crew, customer=blocked.pk))

    assert "customer" in response.context["form"].errors
    assert Inspection.objects.count() == 0


def test_sales_may_schedule_but_inspectors_may_not(client, crew, world):
    client.force_login(world.user(Role.SALES))
    assert client.post(CREATE, _booking(crew)).status_code == 302

    client.force_login(crew.inspector)
    assert client.get(CREATE).status_code == 403
    assert client.post(CREATE, _booking(crew, start_time="14:00")).status_code == 403
    assert Inspection.objects.count() == 1


# --- free slots and the customer lookup --------------------------------------------------------


def test_free_slots_partial_lists_busy_and_free_time_of_the_inspector(client, crew, visit):
    busy = visit(1, 10, minutes=90)
    visit(1, 14, minutes=60, inspector=crew.inspector2)
    client.force_login(crew.dispatcher)

    response = client.get(FREE_SLOTS, {"inspector": crew.inspector.pk, "date": _day(1)}, HTTP_HX_REQUEST="true")

    body = response.content.decode()
    assert "<html" not in body
    assert body.count('data-testid="busy-slot"') == 1 and busy.number in body
    assert body.count('data-testid="free-slot"') == 2
    assert 'data-slot-start="08:00"' in body and 'data-slot-start="11:30"' in body


def test_free_slots_for_a_reschedule_leave_out_the_visit_being_moved(client, crew, visit):
    moving = visit(1, 10)
    client.force_login(crew.dispatcher)

    body = client.get(
        FREE_SLOTS, {"inspector": crew.inspector.pk, "date": _day(1), "exclude": moving.pk}
    ).content.decode()

    assert 'data-testid="busy-slot"' not in body
    assert 'data-slot-start="08:00"' in body


def test_free_slots_of_another_branchs_inspector_are_not_shown(client, crew, world):
    inspection_schedule(
        actor=world.user(Role.DISPATCHER, branch=world.branch_b),
        customer=crew.customer_b,
        scheduled_start=local_at(1, 10),
        scheduled_end=local_at(1, 11),
        inspector=crew.inspector_b,
    )
    client.force_login(crew.dispatcher)

    body = client.get(FREE_SLOTS, {"inspector": crew.inspector_b.pk, "date": _day(1)}).content.decode()

    assert 'data-testid="slots-hint"' in body
    assert 'data-testid="busy-slot"' not in body


def test_customer_lookup_finds_visible_customers_as_typed(client, crew, world):
    ahmad = CustomerFactory(branch=world.branch_a, name="أحمد السيد", search_text="احمد السيد")
    CustomerFactory(branch=world.branch_b, name="أحمد البعيد", search_text="احمد البعيد")
    client.force_login(crew.dispatcher)

    body = client.get(LOOKUP, {"customer_q": "أحمد"}, HTTP_HX_REQUEST="true").content.decode()

    assert ahmad.name in body
    assert "أحمد البعيد" not in body
    assert f'name="customer" id="customer-{ahmad.pk}" value="{ahmad.pk}"' in body
    nothing = client.get(LOOKUP, {"customer_q": "zzzz"}).content.decode()
    assert 'data-testid="lookup-empty"' in nothing


# --- reschedule and assign ---------------------------------------------------------------------


def _reschedule_url(inspection) -> str:
    return reverse("inspections:reschedule", args=[inspection.pk])


def _assign_url(inspection) -> str:
    return reverse("inspections:assign", args=[inspection.pk])


def test_reschedule_moves_the_visit_and_bumps_the_version(client, crew, visit):
    inspection = visit(1, 9)
    client.force_login(crew.dispatcher)

    response = client.post(
        _reschedule_url(inspection),
        {"inspector": crew.inspector2.pk, "date": _day(2), "start_time": "11:00", "duration": "90", "version": 1},
    )

    inspection.refresh_from_db()
    assert response.status_code == 302
    assert inspection.scheduled_start == local_at(2, 11)
    assert inspection.scheduled_end == local_at(2, 12, 30)
    assert inspection.inspector == crew.inspector2
    assert inspection.version == 2


def test_reschedule_form_starts_from_the_current_slot(client, crew, visit):
    inspection = visit(1, 9, minutes=75)
    client.force_login(crew.dispatcher)

    form = client.get(_reschedule_url(inspection)).context["form"]

    assert form["start_time"].value().strftime("%H:%M") == "09:00"
    assert form["duration"].value() == 75
    assert (75, "75 minutes") in [(v, str(label)) for v, label in form.fields["duration"].choices]
    assert form["version"].value() == 1


def test_a_stale_reschedule_shows_the_conflict_and_keeps_the_input(client, crew, visit):
    inspection = visit(1, 9)
    inspection_reschedule(
        actor=crew.dispatcher, inspection=inspection, scheduled_start=local_at(1, 13), scheduled_end=local_at(1, 14)
    )
    client.force_login(crew.dispatcher)

    response = client.post(
        _reschedule_url(inspection),
        {"inspector": crew.inspector.pk, "date": _day(3), "start_time": "15:00", "duration": "60", "version": 1},
    )

    inspection.refresh_from_db()
    assert response.status_code == 200
    assert inspection.scheduled_start == local_at(1, 13)
    message = response.context["form"].non_field_errors()[0]
    assert "changed this record while you were editing it" in message
    assert crew.dispatcher.get_full_name() in message
    assert response.context["form"]["start_time"].value() == "15:00"


def test_reschedule_into_a_taken_slot_is_refused_on_the_form(client, crew, visit):
    visit(2, 10)
    moving = visit(1, 9)
    client.force_login(crew.dispatcher)

    response = client.post(
        _reschedule_url(moving),
        {"inspector": crew.inspector.pk, "date": _day(2), "start_time": "10:15", "duration": "30", "version": 1},
    )

    moving.refresh_from_db()
    assert "already booked" in response.context["form"].errors["inspector"][0]
    assert moving.scheduled_start == local_at(1, 9) and moving.version == 1


def test_an_inspector_reschedules_their_own_visit_but_cannot_hand_it_over(client, crew, visit):
    inspection = visit(1, 9)
    client.force_login(crew.inspector)

    page = client.get(_reschedule_url(inspection))
    assert "inspector" not in page.context["form"].fields
    response = client.post(
        _reschedule_url(inspection),
        {"inspector": crew.inspector2.pk, "date": _day(1), "start_time": "12:00", "duration": "60", "version": 1},
    )

    inspection.refresh_from_db()
    assert response.status_code == 302
    assert inspection.inspector == crew.inspector  # the posted inspector is ignored
    assert inspection.scheduled_start == local_at(1, 12)
    assert client.get(_assign_url(inspection)).status_code == 403


def test_assign_hands_the_visit_to_a_colleague(client, crew, visit):
    inspection = visit(1, 9)
    client.force_login(crew.dispatcher)

    response = client.post(_assign_url(inspection), {"inspector": crew.inspector2.pk, "version": 1})

    inspection.refresh_from_db()
    assert response.status_code == 302
    assert inspection.inspector == crew.inspector2


def test_assign_refuses_a_busy_inspector_and_a_stale_version(client, crew, visit):
    visit(1, 9, inspector=crew.inspector2)
    inspection = visit(1, 9)
    client.force_login(crew.dispatcher)

    busy = client.post(_assign_url(inspection), {"inspector": crew.inspector2.pk, "version": 1})
    inspection.refresh_from_db()
    assert "already booked" in busy.context["form"].errors["inspector"][0]
    assert inspection.inspector == crew.inspector and inspection.version == 1

    inspection_reschedule(
        actor=crew.dispatcher, inspection=inspection, scheduled_start=local_at(1, 12), scheduled_end=local_at(1, 13)
    )
    stale = client.post(_assign_url(inspection), {"inspector": "", "version": 1})

    inspection.refresh_from_db()
    assert "changed this record" in stale.context["form"].non_field_errors()[0]
    assert inspection.inspector == crew.inspector and inspection.version == 2


def test_reschedule_and_assign_of_another_branch_are_404(client, crew, visit, world):
    inspection = visit(1, 9)
    client.force_login(world.user(Role.DISPATCHER, branch=world.branch_b))

    assert client.get(_reschedule_url(inspection)).status_code == 404
    assert client.post(_assign_url(inspection), {"inspector": "", "version": 1}).status_code == 404


# --- start, cancel, no-show ---------------------------------------------------------------------


def _post(client, name: str, inspection, **data):
    return client.post(reverse(f"inspections:{name}", args=[inspection.pk]), data)


def test_start_then_no_double_start(client, crew, visit):
    inspection = visit(1, 9)
    client.force_login(crew.inspector)

    response = _post(client, "start", inspection, version=1)

    inspection.refresh_from_db()
    assert response.status_code == 302
    assert inspection.status == InspectionStatus.IN_PROGRESS
    again = _post(client, "start", inspection, version=2)
    assert again.status_code == 302
    messages = [str(m) for m in client.get(again["Location"]).context["messages"]]
    assert any("cannot be changed this way" in m for m in messages)


def test_start_goes_back_to_my_day_when_asked(client, crew, visit):
    inspection = visit(1, 9)
    client.force_login(crew.inspector)
    back = f"{reverse('inspections:my_day')}?date={_day(1)}"

    response = _post(client, "start", inspection, version=1, next=back)
    evil = _post(client, "no_show", inspection, version=2, next="https://evil.example/")

    assert response["Location"] == back
    assert evil["Location"] == reverse("inspections:detail", args=[inspection.pk])


def test_a_stale_start_says_who_changed_it(client, crew, visit):
    inspection = visit(1, 9)
    inspection_reschedule(
        actor=crew.dispatcher, inspection=inspection, scheduled_start=local_at(1, 10), scheduled_end=local_at(1, 11)
    )
    client.force_login(crew.inspector)

    response = _post(client, "start", inspection, version=1)

    inspection.refresh_from_db()
    assert inspection.status == InspectionStatus.SCHEDULED
    messages = [str(m) for m in client.get(response["Location"]).context["messages"]]
    assert any(crew.dispatcher.get_full_name() in m for m in messages)


def test_cancel_needs_a_reason_and_then_cancels(client, crew, visit):
    inspection = visit(1, 9)
    client.force_login(crew.dispatcher)

    no_reason = _post(client, "cancel", inspection, version=1, reason="  ")
    inspection.refresh_from_db()
    assert inspection.status == InspectionStatus.SCHEDULED
    assert any("Say why" in str(m) for m in client.get(no_reason["Location"]).context["messages"])

    _post(client, "cancel", inspection, version=1, reason="العميل أجّل")
    inspection.refresh_from_db()
    assert inspection.status == InspectionStatus.CANCELLED
    assert inspection.cancel_reason == "العميل أجّل"


def test_the_cancel_form_asks_for_confirmation(client, crew, visit):
    inspection = visit(1, 9)
    client.force_login(crew.dispatcher)

    body = client.get(reverse("inspections:detail", args=[inspection.pk])).content.decode()

    cancel_form = body.split(f'action="{reverse("inspections:cancel", args=[inspection.pk])}"')[1][:400]
    assert "data-confirm=" in cancel_form
    assert "required" in body.split('id="cancel-panel"')[1][:1200]


def test_an_inspector_cannot_cancel(client, crew, visit):
    inspection = visit(1, 9)
    client.force_login(crew.inspector)

    assert _post(client, "cancel", inspection, version=1, reason="x").status_code == 403
    inspection.refresh_from_db()
    assert inspection.status == InspectionStatus.SCHEDULED


def test_no_show_only_after_the_start_time(client, crew, visit):
    future = visit(1, 9)
    start = timezone.now() - timedelta(minutes=20)
    begun = inspection_schedule(
        actor=crew.dispatcher,
        customer=crew.customer,
        scheduled_start=start,
        scheduled_end=start + timedelta(hours=1),
        inspector=crew.inspector2,
    )
    client.force_login(crew.dispatcher)

    _post(client, "no_show", future, version=1)
    _post(client, "no_show", begun, version=1, reason="لم يرد على الهاتف")

    future.refresh_from_db()
    begun.refresh_from_db()
    assert future.status == InspectionStatus.SCHEDULED
    assert begun.status == InspectionStatus.NO_SHOW
    assert begun.cancel_reason == "لم يرد على الهاتف"


def test_actions_are_post_only_and_scoped(client, crew, visit, world):
    inspection = visit(1, 9)
    client.force_login(crew.dispatcher)
    assert client.get(reverse("inspections:start", args=[inspection.pk])).status_code == 405

    client.force_login(crew.inspector2)
    assert _post(client, "start", inspection, version=1).status_code == 404
    client.force_login(world.user(Role.SALES))
    assert _post(client, "start", inspection, version=1).status_code == 403
    inspection.refresh_from_db()
    assert inspection.status == InspectionStatus.SCHEDULED


# --- result ------------------------------------------------------------------------------------


def _result_url(inspection) -> str:
    return reverse("inspections:result", args=[inspection.pk])


def _result_data(**overrides) -> dict:
    data = {
        "outcome": "passed",
        "findings": "الأرضية سليمة",
        "recommendations": "",
        "version": "1",
        "m-TOTAL_FORMS": "3",
        "m-INITIAL_FORMS": "0",
        "m-MIN_NUM_FORMS": "0",
        "m-MAX_NUM_FORMS": "50",
        "m-0-name": "العرض (م)",
        "m-0-value": "3.20",
        "m-1-name": "الطول (م)",
        "m-1-value": "4.75",
        "m-2-name": "",
        "m-2-value": "",
    }
    data.update(overrides)
    return data


def _rows() -> tuple:
    return (*counts(), InspectionResult.objects.count(), InspectionPhoto.objects.count())


def test_the_inspector_records_the_result_with_photos(client, crew, visit, media):
    inspection = visit(1, 9)
    client.force_login(crew.inspector)

    response = client.post(
        _result_url(inspection),
        _result_data(photos=[png("north.png"), png("roof.png", color="blue")]),
    )

    inspection.refresh_from_db()
    assert response.status_code == 302
    assert inspection.status == InspectionStatus.COMPLETED
    assert inspection.result.outcome == "passed"
    assert inspection.result.measurements == {"العرض (م)": "3.20", "الطول (م)": "4.75"}
    photos = list(inspection.photos.all())
    assert len(photos) == 2
    assert all(photo.image.storage.exists(photo.image.name) for photo in photos)
    detail = client.get(response["Location"]).content.decode()
    assert detail.count('loading="lazy"') == 2


def test_the_result_form_is_multipart_with_a_multiple_photo_input(client, crew, visit):
    inspection = visit(1, 9)
    client.force_login(crew.inspector)

    body = client.get(_result_url(inspection)).content.decode()

    assert 'enctype="multipart/form-data"' in body
    assert 'type="file" name="photos"' in body and "multiple" in body.split('name="photos"')[1][:200]
    assert 'accept="image/jpeg,image/png,image/webp"' in body


@pytest.mark.parametrize(
    ("overrides", "where"),
    [
        ({"outcome": ""}, "outcome"),
        ({"findings": "   "}, "findings"),
        ({"photos": [SimpleUploadedFile("plan.png", b"not a picture at all", content_type="image/png")]}, "photos"),
        ({"m-2-name": "", "m-2-value": "7"}, "measurements"),
        ({"m-2-name": "العرض (م)", "m-2-value": "9"}, "measurements"),
    ],
)
def test_a_bad_result_shows_the_error_and_writes_nothing(client, crew, visit, media, overrides, where):
    inspection = visit(1, 9)
    client.force_login(crew.inspector)
    before = _rows()

    response = client.post(_result_url(inspection), _result_data(**overrides))

    inspection.refresh_from_db()
    assert response.status_code == 200
    assert _rows() == before
    assert inspection.status == InspectionStatus.SCHEDULED
    if where == "measurements":
        assert response.context["measurements"].total_error_count()
    else:
        assert where in response.context["form"].errors
    assert 'data-testid="form-errors"' in response.content.decode()


def test_a_photo_too_large_is_refused_by_the_form(client, crew, visit, media, monkeypatch):
    from crm_core.inspections import services

    monkeypatch.setattr(services, "MAX_PHOTO_BYTES", 10)
    inspection = visit(1, 9)
    client.force_login(crew.inspector)

    response = client.post(_result_url(inspection), _result_data(photos=[png("big.png")]))

    assert "8 MB" in response.context["form"].errors["photos"][0]
    assert InspectionPhoto.objects.count() == 0


def test_result_of_another_inspectors_visit_is_404_and_a_dispatcher_is_refused(client, crew, visit):
    inspection = visit(1, 9)

    client.force_login(crew.inspector2)
    assert client.get(_result_url(inspection)).status_code == 404
    assert client.post(_result_url(inspection), _result_data()).status_code == 404
    client.force_login(crew.dispatcher)
    assert client.get(_result_url(inspection)).status_code == 403
    assert InspectionResult.objects.count() == 0


def test_a_manager_records_a_result_for_the_branch(client, crew, visit, world):
    inspection = visit(1, 9)
    client.force_login(world.user(Role.MANAGER))

    response = client.post(_result_url(inspection), _result_data(outcome="follow_up"))

    inspection.refresh_from_db()
    assert response.status_code == 302
    assert inspection.result.outcome == "follow_up"


def test_a_stale_result_is_a_conflict_on_the_form(client, crew, visit):
    inspection = visit(1, 9)
    inspection_reschedule(
        actor=crew.dispatcher, inspection=inspection, scheduled_start=local_at(1, 10), scheduled_end=local_at(1, 11)
    )
    client.force_login(crew.inspector)

    response = client.post(_result_url(inspection), _result_data(version="1"))

    assert response.status_code == 200
    assert "changed this record" in response.context["form"].non_field_errors()[0]
    assert InspectionResult.objects.count() == 0


def test_adding_a_photo_on_the_detail_page(client, crew, visit, media):
    inspection = visit(1, 9)
    client.force_login(crew.inspector)
    url = reverse("inspections:add_photo", args=[inspection.pk])

    ok = client.post(url, {"photo": png("door.png"), "caption": "الباب"})
    bad = client.post(url, {"photo": SimpleUploadedFile("x.png", b"nope", content_type="image/png")})

    assert ok.status_code == 302 and bad.status_code == 302
    assert list(InspectionPhoto.objects.values_list("caption", flat=True)) == ["الباب"]
    client.force_login(crew.dispatcher)  # may look, may not add
    assert client.post(url, {"photo": png("z.png")}).status_code == 403


# --- order from an inspection ------------------------------------------------------------------


def _order_data(*rows: tuple) -> dict:
    data = {
        "notes": "طلب من المعاينة",
        "items-TOTAL_FORMS": "4",
        "items-INITIAL_FORMS": "0",
        "items-MIN_NUM_FORMS": "0",
        "items-MAX_NUM_FORMS": "50",
    }
    for i, (product, quantity) in enumerate(rows):
        data[f"items-{i}-product"] = str(product)
        data[f"items-{i}-quantity"] = str(quantity)
    return data


def test_create_an_order_from_the_visit(client, crew, visit, world):
    inspection = visit(1, 9)
    tiles, glue = ProductFactory(price=Decimal("100.00")), ProductFactory(price=Decimal("20.00"))
    manager = world.user(Role.MANAGER)
    client.force_login(manager)

    response = client.post(
        reverse("inspections:create_order", args=[inspection.pk]), _order_data((tiles.pk, "12.5"), (glue.pk, 3))
    )

    inspection.refresh_from_db()
    order = Order.objects.get()
    assert inspection.order == order
    assert order.customer == crew.customer
    assert sorted((i.product_id, i.quantity) for i in order.items.all()) == sorted(
        [(tiles.pk, Decimal("12.5")), (glue.pk, Decimal("3"))]
    )
    assert response.status_code == 302
    try:
        expected = reverse("orders:detail", args=[order.pk])
    except NoReverseMatch:  # the orders pages may not be wired in this checkout
        expected = reverse("inspections:detail", args=[inspection.pk])
    assert response["Location"] == expected
    # The button is gone once the order exists.
    detail = client.get(reverse("inspections:detail", args=[inspection.pk])).content.decode()
    assert 'data-testid="create-order-button"' not in detail
    assert order.number in detail


@pytest.mark.parametrize(
    "rows",
    [
        (),  # no item
        ((None, 2),),  # quantity without a product
        (("P", 0),),  # zero quantity
        (("P", 1), ("P", 2)),  # the same product twice
        (("INACTIVE", 1),),  # a product that cannot be sold
    ],
)
def test_a_bad_order_shows_errors_and_writes_nothing(client, crew, visit, world, rows):
    inspection = visit(1, 9)
    product = ProductFactory()
    inactive = ProductFactory(is_active=False)
    ids = {"P": product.pk, "INACTIVE": inactive.pk, None: ""}
    client.force_login(world.user(Role.MANAGER))

    response = client.post(
        reverse("inspections:create_order", args=[inspection.pk]),
        _order_data(*[(ids[p], q) for p, q in rows]),
    )

    inspection.refresh_from_db()
    assert response.status_code == 200
    assert 'data-testid="form-errors"' in response.content.decode()
    assert Order.objects.count() == 0 and inspection.order_id is None


def test_no_order_from_a_cancelled_visit_or_without_permission(client, crew, visit, world):
    from crm_core.inspections.services import inspection_cancel

    inspection = visit(1, 9)
    url = reverse("inspections:create_order", args=[inspection.pk])
    client.force_login(crew.inspector)
    assert client.get(url).status_code == 403

    inspection_cancel(actor=crew.dispatcher, inspection=inspection, reason="ألغي")
    client.force_login(world.user(Role.MANAGER))
    response = client.post(url, _order_data((ProductFactory().pk, 1)))
    assert response.status_code == 302
    assert Order.objects.count() == 0


def test_the_result_form_tells_others_the_inspector_is_editing(client, crew, visit):
    inspection = visit(1, 9)
    client.force_login(crew.inspector)
    page = client.get(_result_url(inspection)).content.decode()
    assert f'data-presence="inspection:{inspection.pk}"' in page
    assert "data-presence-editing" in page
