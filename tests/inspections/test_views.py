"""Inspection pages that read: list, week calendar, "my day", detail, photos; who sees what; query budgets."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from crm_core.accounts.models import Role
from crm_core.inspections.models import InspectionOutcome
from crm_core.inspections.selectors import week_start_of
from crm_core.inspections.services import (
    inspection_add_photo,
    inspection_cancel,
    inspection_record_result,
)
from tests.factories import CustomerFactory, UserFactory
from tests.inspections.helpers import png

LIST = reverse("inspections:list")
CALENDAR = reverse("inspections:calendar")
MY_DAY = reverse("inspections:my_day")


def _detail(inspection) -> str:
    return reverse("inspections:detail", args=[inspection.pk])


def _queries(client, url: str) -> int:
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url)
    assert response.status_code == 200
    return len(ctx.captured_queries)


# --- the menu and the list ----------------------------------------------------------------------


def test_the_menu_url_is_the_list():
    assert reverse("inspections:list") == "/inspections/"


def test_list_shows_the_branch_to_its_dispatcher_and_nothing_of_another_branch(client, crew, visit):
    own = visit(1, 9)
    other = visit(
        1,
        9,
        inspector=crew.inspector_b,
        customer=crew.customer_b,
        actor=UserFactory(role=Role.DISPATCHER, branch=crew.customer_b.branch),
    )
    client.force_login(crew.dispatcher)

    response = client.get(LIST)

    body = response.content.decode()
    assert response.status_code == 200
    assert own.number in body
    assert other.number not in body
    assert crew.customer.name in body


def test_an_inspector_lists_only_their_own_visits(client, crew, visit):
    mine = visit(1, 9)
    colleague = visit(1, 9, inspector=crew.inspector2)
    client.force_login(crew.inspector)

    body = client.get(LIST).content.decode()

    assert mine.number in body
    assert colleague.number not in body
    # Inspectors do not choose inspectors, nor schedule.
    assert 'name="inspector"' not in body
    assert reverse("inspections:create") not in body


def test_a_role_without_inspections_is_refused(client, world):
    client.force_login(world.user(Role.STOREKEEPER))

    assert client.get(LIST).status_code == 403
    assert client.get(CALENDAR).status_code == 403


def test_list_filters_by_status_inspector_unassigned_dates_and_customer(client, crew, visit, world):
    first = visit(1, 9)
    second = visit(2, 9, inspector=crew.inspector2)
    nobody = visit(3, 9, inspector=None)
    other_customer = CustomerFactory(branch=world.branch_a, name="شركة النور")
    fourth = visit(4, 9, customer=other_customer)
    inspection_cancel(actor=crew.dispatcher, inspection=second, reason="طلب العميل")
    client.force_login(crew.dispatcher)

    def numbers(**params) -> set[str]:
        body = client.get(LIST, params).content.decode()
        return {i.number for i in (first, second, nobody, fourth) if i.number in body}

    assert numbers() == {first.number, second.number, nobody.number, fourth.number}
    assert numbers(status="cancelled") == {second.number}
    assert numbers(inspector=crew.inspector2.pk) == {second.number}
    assert numbers(inspector="none") == {nobody.number}
    day2 = (timezone.localdate() + timedelta(days=2)).isoformat()
    day3 = (timezone.localdate() + timedelta(days=3)).isoformat()
    assert numbers(date_from=day2, date_to=day3) == {second.number, nobody.number}
    assert numbers(customer=other_customer.pk) == {fourth.number}
    # A value that makes no sense is ignored, not an error page.
    assert numbers(status="bogus", date_from="yesterday") == {first.number, second.number, nobody.number, fourth.number}


def test_list_search_matches_the_number_and_the_name_as_people_type_it(client, crew, visit, world):
    ahmad = CustomerFactory(branch=world.branch_a, name="أحمد إبراهيم", search_text="احمد ابراهيم")
    theirs = visit(1, 9, customer=ahmad)
    other = visit(2, 9)
    client.force_login(crew.dispatcher)

    by_name = client.get(LIST, {"q": "احمد"}).content.decode()
    by_number = client.get(LIST, {"q": other.number.lower()}).content.decode()

    assert theirs.number in by_name and other.number not in by_name
    assert other.number in by_number and theirs.number not in by_number


def test_list_customer_filter_of_another_branch_shows_nothing_of_it(client, crew, visit):
    visit(1, 9)
    client.force_login(crew.dispatcher)

    body = client.get(LIST, {"customer": crew.customer_b.pk}).content.decode()

    assert crew.customer_b.name not in body


def test_list_sorts_by_visit_time_both_ways(client, crew, visit):
    early = visit(1, 9)
    late = visit(2, 9)
    client.force_login(crew.dispatcher)

    newest_first = client.get(LIST).content.decode()
    oldest_first = client.get(LIST, {"sort": "start"}).content.decode()

    assert newest_first.index(late.number) < newest_first.index(early.number)
    assert oldest_first.index(early.number) < oldest_first.index(late.number)


def test_list_empty_states_say_what_to_do(client, crew):
    client.force_login(crew.dispatcher)

    nothing = client.get(LIST).content.decode()
    no_match = client.get(LIST, {"q": "zzzz"}).content.decode()

    assert "No inspections yet" in nothing
    assert reverse("inspections:create") in nothing
    assert "No inspection matches these filters" in no_match


def test_list_htmx_request_renders_only_the_results(client, crew, visit):
    inspection = visit(1, 9)
    client.force_login(crew.dispatcher)

    response = client.get(LIST, {"q": inspection.number}, HTTP_HX_REQUEST="true")

    body = response.content.decode()
    assert body.lstrip().startswith('<div id="results"')
    assert "<html" not in body
    assert inspection.number in body


def test_list_pages_through_many_rows(client, crew, visit):
    for day in range(1, 4):
        for hour in range(8, 18):
            visit(day, hour)
    client.force_login(crew.dispatcher)

    first = client.get(LIST)
    second = client.get(LIST, {"page": 2})

    assert len(first.context["page_obj"].object_list) == 25
    assert len(second.context["page_obj"].object_list) == 5


def test_list_query_count_does_not_grow_with_rows(client, crew, visit, django_assert_max_num_queries):
    visit(1, 9)
    client.force_login(crew.dispatcher)
    few = _queries(client, LIST)
    for day in range(1, 4):
        for hour in range(10, 18):
            visit(day, hour, inspector=crew.inspector if hour % 2 else crew.inspector2)

    many = _queries(client, LIST)

    assert many == few
    with django_assert_max_num_queries(10):
        client.get(LIST)


# --- week calendar ------------------------------------------------------------------------------


def test_calendar_puts_each_visit_in_its_inspector_row_and_day_column(client, crew, visit):
    tomorrow = visit(1, 9)
    colleague = visit(1, 11, inspector=crew.inspector2)
    unassigned = visit(1, 13, inspector=None)
    client.force_login(crew.dispatcher)
    week = week_start_of(timezone.localdate() + timedelta(days=1))

    response = client.get(CALENDAR, {"week": (timezone.localdate() + timedelta(days=1)).isoformat()})

    calendar = response.context["calendar"]
    assert calendar.week_start == week
    day = (timezone.localdate() + timedelta(days=1) - week).days
    rows = {row.inspector.pk if row.inspector else None: row for row in calendar.rows}
    assert rows[crew.inspector.pk].cells[day] == [tomorrow]
    assert rows[crew.inspector2.pk].cells[day] == [colleague]
    assert rows[None].cells[day] == [unassigned]
    assert list(rows)[-1] is None  # the unassigned row comes last
    body = response.content.decode()
    assert body.count('data-testid="calendar-card"') == 3
    assert "cal-info" in body  # scheduled cards carry their status colour


def test_calendar_navigates_week_by_week(client, crew, visit):
    next_week_visit = visit(7, 9)
    client.force_login(crew.dispatcher)
    this_week = week_start_of(timezone.localdate())

    current = client.get(CALENDAR)
    following = client.get(CALENDAR, {"week": (this_week + timedelta(days=7)).isoformat()})

    assert f"week={(this_week + timedelta(days=7)).isoformat()}" in current.content.decode()
    assert f"week={(this_week - timedelta(days=7)).isoformat()}" in current.content.decode()
    assert next_week_visit.number not in current.content.decode()
    assert next_week_visit.number in following.content.decode()
    assert following.context["calendar"].week_start == this_week + timedelta(days=7)


def test_calendar_one_inspector_and_htmx_partial(client, crew, visit):
    mine = visit(1, 9)
    theirs = visit(1, 9, inspector=crew.inspector2)
    client.force_login(crew.dispatcher)

    response = client.get(
        CALENDAR,
        {"inspector": crew.inspector.pk, "week": (timezone.localdate() + timedelta(days=1)).isoformat()},
        HTTP_HX_REQUEST="true",
    )

    body = response.content.decode()
    assert body.lstrip().startswith('<div id="week"')
    assert mine.number in body and theirs.number not in body
    assert body.count('role="rowheader"') == 1


def test_calendar_of_an_inspector_is_their_own_week_only(client, crew, visit):
    mine = visit(1, 9)
    theirs = visit(1, 9, inspector=crew.inspector2)
    client.force_login(crew.inspector)

    response = client.get(CALENDAR, {"week": (timezone.localdate() + timedelta(days=1)).isoformat()})

    body = response.content.decode()
    assert mine.number in body and theirs.number not in body
    assert [row.inspector for row in response.context["calendar"].rows] == [crew.inspector]


def test_calendar_for_head_office_chooses_the_branch(client, crew, visit, world):
    hq = world.user(Role.MANAGER, all_branches=True)
    in_b = visit(1, 9, inspector=crew.inspector_b, customer=crew.customer_b, actor=hq)
    in_a = visit(1, 9)
    client.force_login(hq)
    week = (timezone.localdate() + timedelta(days=1)).isoformat()

    body_b = client.get(CALENDAR, {"branch": world.branch_b.pk, "week": week}).content.decode()

    assert in_b.number in body_b and in_a.number not in body_b
    assert crew.inspector2.get_full_name() not in body_b


def test_calendar_query_count_does_not_grow_with_visits(client, crew, visit, django_assert_max_num_queries):
    visit(1, 9)
    client.force_login(crew.dispatcher)
    url = f"{CALENDAR}?week={(timezone.localdate() + timedelta(days=1)).isoformat()}"
    few = _queries(client, url)
    for day in range(0, 5):
        for hour in range(10, 16):
            visit(day + 1, hour, inspector=crew.inspector if hour % 2 else crew.inspector2)

    assert _queries(client, url) == few
    with django_assert_max_num_queries(10):
        client.get(url)


# --- my day -------------------------------------------------------------------------------------


def test_my_day_lists_my_visits_in_time_order_with_phone_and_buttons(client, crew, visit):
    late = visit(1, 15)
    early = visit(1, 9)
    visit(1, 11, inspector=crew.inspector2)
    client.force_login(crew.inspector)

    response = client.get(MY_DAY, {"date": (timezone.localdate() + timedelta(days=1)).isoformat()})

    body = response.content.decode()
    assert [visit for visit, _actions in response.context["rows"]] == [early, late]
    assert f'href="tel:{crew.customer.phone_digits}"' in body
    assert body.count('data-testid="start-button"') == 2
    assert body.count('data-testid="result-button"') == 2
    # The visits have not started yet: no "no-show" for the future.
    assert 'data-testid="no-show-button"' not in body


def test_my_day_offers_no_show_once_the_visit_has_begun(client, crew, world):
    from crm_core.inspections.services import inspection_schedule

    start = timezone.now() - timedelta(minutes=30)
    inspection_schedule(
        actor=crew.dispatcher,
        customer=crew.customer,
        scheduled_start=start,
        scheduled_end=start + timedelta(hours=1),
        inspector=crew.inspector,
    )
    client.force_login(crew.inspector)

    body = client.get(MY_DAY, {"date": timezone.localdate(start).isoformat()}).content.decode()

    assert 'data-testid="no-show-button"' in body
    assert "data-confirm=" in body


def test_my_day_is_empty_for_someone_without_visits(client, crew, visit):
    visit(1, 9)
    client.force_login(crew.inspector2)

    response = client.get(MY_DAY)

    assert response.context["rows"] == []
    assert "No visits today" in response.content.decode()


def test_my_day_of_a_dispatcher_is_not_the_whole_branch(client, crew, visit):
    visit(1, 9)
    client.force_login(crew.dispatcher)

    response = client.get(MY_DAY, {"date": (timezone.localdate() + timedelta(days=1)).isoformat()})

    assert response.context["rows"] == []


def test_my_day_query_count_does_not_grow(client, crew, visit, django_assert_max_num_queries):
    visit(1, 8)
    client.force_login(crew.inspector)
    url = f"{MY_DAY}?date={(timezone.localdate() + timedelta(days=1)).isoformat()}"
    few = _queries(client, url)
    for hour in range(9, 19):
        visit(1, hour)

    assert _queries(client, url) == few
    with django_assert_max_num_queries(8):
        client.get(url)


# --- detail -------------------------------------------------------------------------------------


def test_detail_of_another_branch_or_another_inspector_is_404(client, crew, visit, world):
    theirs = visit(1, 9, inspector=crew.inspector2)
    outsider = world.user(Role.DISPATCHER, branch=world.branch_b)

    client.force_login(outsider)
    assert client.get(_detail(theirs)).status_code == 404
    client.force_login(crew.inspector)
    assert client.get(_detail(theirs)).status_code == 404
    client.force_login(crew.inspector2)
    assert client.get(_detail(theirs)).status_code == 200


def test_detail_buttons_follow_role_and_status(client, crew, visit, world):
    inspection = visit(1, 9)

    client.force_login(crew.dispatcher)
    dispatcher = client.get(_detail(inspection)).content.decode()
    for testid in ("start-button", "reschedule-button", "assign-button", "cancel-toggle", "create-order-button"):
        assert f'data-testid="{testid}"' in dispatcher, testid
    # A dispatcher may not record results (no permission), and the visit is in the future.
    assert 'data-testid="result-button"' not in dispatcher
    assert 'data-testid="no-show-toggle"' not in dispatcher

    client.force_login(crew.inspector)
    inspector = client.get(_detail(inspection)).content.decode()
    assert 'data-testid="result-button"' in inspector
    assert 'data-testid="start-button"' in inspector
    for testid in ("assign-button", "cancel-toggle", "create-order-button"):
        assert f'data-testid="{testid}"' not in inspector, testid

    client.force_login(world.user(Role.SALES))
    sales = client.get(_detail(inspection)).content.decode()
    for testid in ("start-button", "reschedule-button", "assign-button", "cancel-toggle", "result-button"):
        assert f'data-testid="{testid}"' not in sales, testid
    assert 'data-testid="create-order-button"' in sales


def test_detail_of_a_cancelled_visit_offers_no_actions_and_shows_the_reason(client, crew, visit):
    inspection = visit(1, 9)
    inspection_cancel(actor=crew.dispatcher, inspection=inspection, reason="العميل مسافر")
    client.force_login(crew.dispatcher)

    body = client.get(_detail(inspection)).content.decode()

    assert "العميل مسافر" in body
    for testid in ("start-button", "reschedule-button", "assign-button", "cancel-toggle", "result-button"):
        assert f'data-testid="{testid}"' not in body, testid


def test_detail_shows_the_result_and_lazy_thumbnails(client, crew, visit, media):
    inspection = visit(1, 9)
    inspection_record_result(
        actor=crew.inspector,
        inspection=inspection,
        outcome=InspectionOutcome.FOLLOW_UP,
        findings="رطوبة في الحائط الشمالي",
        measurements={"العرض (م)": "3.20"},
        photos=[(png("a.png"), ""), (png("b.png"), "")],
    )
    client.force_login(crew.dispatcher)

    body = client.get(_detail(inspection)).content.decode()

    assert "Needs follow-up" in body
    assert "رطوبة في الحائط الشمالي" in body
    assert "العرض (م)" in body and "3.20" in body
    assert body.count('loading="lazy"') == 2
    assert 'width="160" height="160"' in body
    assert "?size=thumb" in body


def test_detail_query_count_does_not_grow_with_photos(client, crew, visit, media, django_assert_max_num_queries):
    inspection = visit(1, 9)
    inspection_add_photo(actor=crew.inspector, inspection=inspection, image=png("0.png"))
    client.force_login(crew.dispatcher)
    few = _queries(client, _detail(inspection))
    for n in range(1, 12):
        inspection_add_photo(actor=crew.inspector, inspection=inspection, image=png(f"{n}.png"), caption=f"صورة {n}")

    assert _queries(client, _detail(inspection)) == few
    with django_assert_max_num_queries(9):
        response = client.get(_detail(inspection))
    assert response.content.decode().count('loading="lazy"') == 12


# --- photos -------------------------------------------------------------------------------------


def test_photo_and_thumbnail_are_served_only_to_who_may_see_the_visit(client, crew, visit, media, world):
    inspection = visit(1, 9)
    photo = inspection_add_photo(actor=crew.inspector, inspection=inspection, image=png("wall.png", size=(800, 600)))
    url = reverse("inspections:photo", args=[inspection.pk, photo.pk])

    client.force_login(crew.dispatcher)
    full = client.get(url)
    thumb = client.get(url, {"size": "thumb"})
    assert full.status_code == 200 and full["Content-Type"] == "image/png"
    assert thumb.status_code == 200 and thumb["Content-Type"] == "image/jpeg"
    import io

    from PIL import Image

    with Image.open(io.BytesIO(thumb.content)) as picture:
        assert max(picture.size) <= 320

    client.force_login(world.user(Role.DISPATCHER, branch=world.branch_b))
    assert client.get(url).status_code == 404
    client.force_login(crew.inspector2)
    assert client.get(url).status_code == 404
    # A photo id under another inspection's URL is not found either.
    other = visit(2, 9)
    client.force_login(crew.dispatcher)
    assert client.get(reverse("inspections:photo", args=[other.pk, photo.pk])).status_code == 404


@pytest.mark.django_db(transaction=True)
def test_photos_are_served_under_asgi_without_a_streaming_warning(client, crew, visit, media):
    """Daphne serves the pages: a page of thumbnails must not drain file iterators in a thread
    (Django warns on every such response under ASGI)."""
    import warnings

    from asgiref.sync import async_to_sync
    from channels.testing import HttpCommunicator
    from django.conf import settings
    from django.core.asgi import get_asgi_application

    inspection = visit(1, 9)
    photo = inspection_add_photo(actor=crew.inspector, inspection=inspection, image=png("wall.png", size=(800, 600)))
    url = reverse("inspections:photo", args=[inspection.pk, photo.pk])
    client.force_login(crew.dispatcher)
    cookie = f"{settings.SESSION_COOKIE_NAME}={client.cookies[settings.SESSION_COOKIE_NAME].value}".encode()
    application = get_asgi_application()

    def fetch(path: str) -> dict:
        path, _, query = path.partition("?")
        communicator = HttpCommunicator(
            application, "GET", path, headers=[(b"cookie", cookie), (b"host", b"testserver")]
        )
        communicator.scope["query_string"] = query.encode()
        return async_to_sync(communicator.get_response)()

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        full = fetch(url)
        thumb = fetch(url + "?size=thumb")

    assert [str(w.message) for w in caught if "iterator" in str(w.message)] == []
    assert full["status"] == 200 and full["body"].startswith(b"\x89PNG")
    assert thumb["status"] == 200 and thumb["body"].startswith(b"\xff\xd8")  # a JPEG


def test_a_picture_uploaded_under_a_page_name_is_downloaded_not_rendered(client, crew, visit, media):
    inspection = visit(1, 9)
    photo = inspection_add_photo(actor=crew.inspector, inspection=inspection, image=png("trick.html"))
    client.force_login(crew.dispatcher)

    response = client.get(reverse("inspections:photo", args=[inspection.pk, photo.pk]))

    assert response["Content-Type"] == "application/octet-stream"
    assert response["Content-Disposition"].startswith("attachment")


def test_dates_typed_by_hand_never_break_a_page(client, crew):
    client.force_login(crew.inspector)

    for url, param in ((CALENDAR, "week"), (MY_DAY, "date")):
        for value in ("9999-12-31", "0001-01-01", "2026-02-30", "not-a-date"):
            assert client.get(url, {param: value}).status_code == 200, (url, value)
