"""The dispatch board: who may open it, what it shows, and moving cards (reassign, reschedule,
both) with every refusal changing nothing."""

from __future__ import annotations

import json
from datetime import datetime, timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from crm_core.accounts.models import Role
from crm_core.inspections.models import Inspection
from crm_core.inspections.selectors import board_column_id
from crm_core.inspections.services import inspection_cancel, inspection_reschedule, inspection_start
from tests.factories import UserFactory
from tests.inspections.conftest import local_at
from tests.inspections.helpers import counts

BOARD = reverse("inspections:board")
MOVE = reverse("inspections:board_move")
HTMX = {"HTTP_HX_REQUEST": "true"}


def _day(offset: int = 1) -> str:
    return (timezone.localdate() + timedelta(days=offset)).isoformat()


def _toasts(response) -> list[dict]:
    return json.loads(response["HX-Trigger"])["crm:toast"]["messages"]


def _state(inspection: Inspection) -> tuple:
    row = Inspection.objects.get(pk=inspection.pk)
    return row.inspector_id, row.scheduled_start, row.scheduled_end, row.version


def _opening_tag(body: str, dom_id: str) -> str:
    start = body.rindex("<", 0, body.index(f'id="{dom_id}"'))
    return body[start : body.index(">", start)]


def _move(client, inspection: Inspection, *, version: int | None = None, htmx: bool = True, **fields):
    data = {"inspection": inspection.pk, "version": version or inspection.version, **fields}
    return client.post(MOVE, data, **(HTMX if htmx else {}))


# --- who may open it ----------------------------------------------------------------------------


@pytest.mark.parametrize("role", [Role.DISPATCHER, Role.MANAGER, Role.ADMIN])
def test_the_board_opens_for_the_roles_that_plan_visits(client, world, role):
    client.force_login(world.user(role))

    response = client.get(BOARD)

    assert response.status_code == 200
    assert b'data-live-topic="inspections.board"' in response.content
    assert f'data-live-date="{timezone.localdate().isoformat()}"'.encode() in response.content
    assert b'data-testid="nav-dispatch-board"' in response.content


@pytest.mark.parametrize("role", [Role.INSPECTOR, Role.SALES, Role.STOREKEEPER, Role.ACCOUNTANT])
def test_the_board_is_refused_to_other_roles_and_not_in_their_menu(client, world, role):
    client.force_login(world.user(role))

    assert client.get(BOARD).status_code == 403
    assert b'data-testid="nav-dispatch-board"' not in client.get(reverse("inspections:list")).content


def test_the_board_needs_a_sign_in(client):
    response = client.get(BOARD)

    assert response.status_code == 302
    assert "/accounts/login/" in response["Location"]


# --- what it shows ------------------------------------------------------------------------------


def test_each_visit_is_a_card_in_its_inspectors_column_in_time_order(client, crew, visit):
    late = visit(1, 14)
    early = visit(1, 9)
    colleague = visit(1, 10, inspector=crew.inspector2)
    nobody = visit(1, 11, inspector=None)
    other_day = visit(2, 9)
    client.force_login(crew.dispatcher)

    response = client.get(f"{BOARD}?date={_day()}")

    board = response.context["board"]
    columns = {column.inspector.pk if column.inspector else None: column for column in board.columns}
    assert [card.pk for card in columns[crew.inspector.pk].cards] == [early.pk, late.pk]
    assert [card.pk for card in columns[crew.inspector2.pk].cards] == [colleague.pk]
    assert [card.pk for card in columns[None].cards] == [nobody.pk]
    body = response.content.decode()
    branch = crew.dispatcher.branch_id
    assert f'id="{board_column_id(timezone.localdate() + timedelta(days=1), branch, crew.inspector.pk)}"' in body
    assert f'id="board-{_day()}-b{branch}-unassigned"' in body
    assert f'id="board-card-{early.pk}"' in body
    assert f'id="board-card-{other_day.pk}"' not in body
    assert crew.customer.name in body
    assert "09:00–10:00" in body
    assert reverse("inspections:detail", args=[early.pk]) in body
    # The hour slots are drop zones from 08:00 to 17:00.
    assert body.count('data-board-drop="slot"') == 10 * 3


def test_cancelled_and_no_show_visits_are_dimmed_after_the_live_ones(client, crew, visit):
    cancelled = visit(1, 9)
    later = visit(1, 15)
    inspection_cancel(actor=crew.dispatcher, inspection=cancelled, reason="العميل مسافر")
    client.force_login(crew.dispatcher)

    response = client.get(f"{BOARD}?date={_day()}")

    column = next(c for c in response.context["board"].columns if c.inspector == crew.inspector)
    cards = [entry.pk for entry in column.entries if isinstance(entry, Inspection)]
    assert cards == [later.pk, cancelled.pk]
    assert column.active_count == 1
    tag = _opening_tag(response.content.decode(), f"board-card-{cancelled.pk}")
    assert "is-closed" in tag
    assert 'draggable="true"' not in tag
    assert 'data-sort-key="~' in tag


def test_an_empty_day_says_how_to_schedule_a_visit(client, crew):
    client.force_login(crew.dispatcher)

    response = client.get(f"{BOARD}?date={_day(3)}")

    body = response.content.decode()
    assert "No visits on this day" in body
    assert f'href="{reverse("inspections:create")}?date={_day(3)}"' in body
    assert 'id="board-empty" class="card shadow-sm mb-3"' in body


def test_a_bad_date_shows_today(client, crew):
    client.force_login(crew.dispatcher)

    response = client.get(f"{BOARD}?date=2026-02-31")

    assert response.context["board"].day == timezone.localdate()


def test_another_branch_is_never_on_a_branch_dispatchers_board(client, world, crew, visit):
    own = visit(1, 9)
    dispatcher_b = world.user(Role.DISPATCHER, branch=world.branch_b)
    theirs = visit(1, 9, inspector=crew.inspector_b, customer=crew.customer_b, actor=dispatcher_b)
    client.force_login(dispatcher_b)

    body = client.get(f"{BOARD}?date={_day()}&branch={world.branch_a.pk}").content.decode()

    assert f'id="board-card-{theirs.pk}"' in body
    assert f'id="board-card-{own.pk}"' not in body
    assert crew.inspector.get_full_name() not in body
    assert 'name="branch"' not in body


def test_users_of_every_branch_choose_the_branch_their_own_first(client, world, crew, visit):
    own = visit(1, 9)
    dispatcher_b = world.user(Role.DISPATCHER, branch=world.branch_b)
    theirs = visit(1, 9, inspector=crew.inspector_b, customer=crew.customer_b, actor=dispatcher_b)
    manager = world.user(Role.MANAGER, all_branches=True)
    client.force_login(manager)

    first = client.get(f"{BOARD}?date={_day()}").content.decode()
    other = client.get(f"{BOARD}?date={_day()}&branch={world.branch_b.pk}").content.decode()

    assert 'name="branch"' in first
    assert f'id="board-card-{own.pk}"' in first and f'id="board-card-{theirs.pk}"' not in first
    assert f'id="board-card-{theirs.pk}"' in other and f'id="board-card-{own.pk}"' not in other
    assert crew.inspector_b.get_full_name() in other


def _board_queries(client, url: str) -> int:
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url)
    assert response.status_code == 200
    return len(ctx.captured_queries)


def test_the_query_count_does_not_grow_with_cards(client, crew, visit, django_assert_max_num_queries):
    visit(1, 8)
    client.force_login(crew.dispatcher)
    url = f"{BOARD}?date={_day()}"
    few = _board_queries(client, url)
    extra = [UserFactory(role=Role.INSPECTOR, branch=crew.dispatcher.branch) for _ in range(3)]
    for hour in range(9, 18):
        for person in [crew.inspector, crew.inspector2, *extra, None]:
            visit(1, hour, minutes=30, inspector=person)

    assert _board_queries(client, url) == few
    with django_assert_max_num_queries(9):
        client.get(url)


# --- moving cards -------------------------------------------------------------------------------


def test_dropping_a_card_on_another_column_reassigns_it(
    client, crew, visit, published, django_capture_on_commit_callbacks
):
    card = visit(1, 9)
    client.force_login(crew.dispatcher)

    with django_capture_on_commit_callbacks(execute=True):
        response = _move(client, card, inspector=crew.inspector2.pk)

    assert response.status_code == 200
    row = Inspection.objects.get(pk=card.pk)
    assert row.inspector == crew.inspector2
    assert row.scheduled_start == card.scheduled_start
    assert row.version == card.version + 1
    body = response.content.decode()
    assert f'id="board-card-{card.pk}"' in body
    assert f'data-live-into="board-{_day()}-b{card.branch_id}-insp-{crew.inspector2.pk}"' in body
    assert f'data-version="{row.version}"' in body
    assert _toasts(response)[0]["level"] == "success"
    assert [t for t, _g, _e in published][-1] == "inspection.assigned"


def test_dropping_a_card_on_an_hour_reschedules_it_keeping_its_length(
    client, crew, visit, published, django_capture_on_commit_callbacks
):
    card = visit(1, 9, minutes=90)
    client.force_login(crew.dispatcher)

    with django_capture_on_commit_callbacks(execute=True):
        response = _move(client, card, date=_day(), start_time="14:00")

    assert response.status_code == 200
    row = Inspection.objects.get(pk=card.pk)
    assert row.scheduled_start == local_at(1, 14)
    assert row.scheduled_end - row.scheduled_start == timedelta(minutes=90)
    assert row.inspector == crew.inspector
    event = published[-1][2]
    assert event.type == "inspection.rescheduled"
    assert datetime.fromisoformat(event.data["previous_start"]) == card.scheduled_start


def test_a_card_moves_to_another_inspector_and_hour_at_once(client, crew, visit):
    card = visit(1, 9)
    client.force_login(crew.dispatcher)

    response = _move(client, card, inspector=crew.inspector2.pk, date=_day(), start_time="11:00")

    assert response.status_code == 200
    row = Inspection.objects.get(pk=card.pk)
    assert (row.inspector, row.scheduled_start) == (crew.inspector2, local_at(1, 11))


def test_a_card_can_be_unassigned_and_moved_to_another_day(client, crew, visit):
    card = visit(1, 9)
    client.force_login(crew.dispatcher)

    response = _move(client, card, inspector=0, date=_day(2), start_time="10:00")

    assert response.status_code == 200
    row = Inspection.objects.get(pk=card.pk)
    assert (row.inspector, row.scheduled_start) == (None, local_at(2, 10))
    assert f'data-live-into="board-{_day(2)}-b{card.branch_id}-unassigned"' in response.content.decode()


def test_without_script_the_move_form_comes_back_to_the_board(client, crew, visit):
    card = visit(1, 9)
    client.force_login(crew.dispatcher)
    back = f"{BOARD}?date={_day()}"

    response = _move(client, card, htmx=False, inspector=crew.inspector2.pk, next=back)

    assert response.status_code == 302
    assert response["Location"] == back
    assert Inspection.objects.get(pk=card.pk).inspector == crew.inspector2


def test_double_booking_is_refused_with_its_message_and_nothing_saved(
    client, crew, visit, published, django_capture_on_commit_callbacks
):
    card = visit(1, 9)
    busy = visit(1, 9, minutes=120, inspector=crew.inspector2)
    client.force_login(crew.dispatcher)
    before, seen = (_state(card), counts()), len(published)

    with django_capture_on_commit_callbacks(execute=True):
        response = _move(client, card, inspector=crew.inspector2.pk)

    assert response.status_code == 409
    assert (_state(card), counts()) == before
    assert len(published) == seen
    toast = _toasts(response)[0]
    assert toast["level"] == "danger"
    assert "already booked" in toast["text"] and busy.number in toast["text"]
    # The answer is the card as it still is: in its own column, so the browser puts it back.
    assert f'data-live-into="board-{_day()}-b{card.branch_id}-insp-{crew.inspector.pk}"' in response.content.decode()


def test_a_stale_version_is_refused(client, crew, visit):
    card = visit(1, 9)
    inspection_reschedule(
        actor=crew.dispatcher,
        inspection=card,
        scheduled_start=local_at(1, 12),
        scheduled_end=local_at(1, 13),
    )
    client.force_login(crew.dispatcher)
    before = _state(card)

    response = _move(client, card, version=card.version, inspector=crew.inspector2.pk)

    assert response.status_code == 409
    assert _state(card) == before
    assert "changed this record" in _toasts(response)[0]["text"]
    assert f'data-version="{before[3]}"' in response.content.decode()


def test_a_started_visit_cannot_be_moved(client, crew, visit):
    card = visit(0, 0, minutes=30)
    started = inspection_start(actor=crew.inspector, inspection=card)
    client.force_login(crew.dispatcher)
    before = _state(card)

    response = _move(client, started, inspector=crew.inspector2.pk)

    assert response.status_code == 409
    assert _state(card) == before
    assert "cannot be changed" in _toasts(response)[0]["text"]


def test_a_time_in_the_past_is_refused(client, crew, visit):
    card = visit(1, 9)
    client.force_login(crew.dispatcher)
    before = _state(card)

    response = _move(client, card, date=_day(-1), start_time="10:00")

    assert response.status_code == 400
    assert _state(card) == before
    assert "already passed" in _toasts(response)[0]["text"]


def test_nothing_to_change_is_said_and_saves_nothing(client, crew, visit):
    card = visit(1, 9)
    client.force_login(crew.dispatcher)
    before = _state(card)

    response = _move(client, card, inspector=crew.inspector.pk, date=_day(), start_time="09:00")

    assert response.status_code == 409
    assert _state(card) == before


def test_an_inspection_of_another_branch_is_a_404_and_unchanged(client, world, crew, visit):
    dispatcher_b = world.user(Role.DISPATCHER, branch=world.branch_b)
    theirs = visit(1, 9, inspector=crew.inspector_b, customer=crew.customer_b, actor=dispatcher_b)
    client.force_login(crew.dispatcher)
    before = (_state(theirs), counts())

    response = _move(client, theirs, inspector=crew.inspector.pk)

    assert response.status_code == 404
    assert (_state(theirs), counts()) == before


def test_an_inspector_of_another_branch_is_a_404_and_nothing_changes(client, crew, visit):
    card = visit(1, 9)
    client.force_login(crew.dispatcher)
    before = (_state(card), counts())

    response = _move(client, card, inspector=crew.inspector_b.pk, date=_day(), start_time="11:00")

    assert response.status_code == 404
    assert (_state(card), counts()) == before


def test_a_user_who_is_not_an_inspector_cannot_be_given_a_visit(client, crew, visit):
    card = visit(1, 9)
    client.force_login(crew.dispatcher)

    response = _move(client, card, inspector=crew.dispatcher.pk)

    assert response.status_code == 404
    assert _state(card)[0] == crew.inspector.pk


@pytest.mark.parametrize("role", [Role.INSPECTOR, Role.SALES])
def test_roles_without_the_board_cannot_move_cards(client, world, crew, visit, role):
    card = visit(1, 9)
    user = crew.inspector if role == Role.INSPECTOR else world.user(role)
    client.force_login(user)
    before = _state(card)

    response = _move(client, card, date=_day(), start_time="12:00")

    assert response.status_code == 403
    assert _state(card) == before


def test_a_move_needs_the_csrf_token(crew, visit):
    from django.test import Client

    card = visit(1, 9)
    strict = Client(enforce_csrf_checks=True)
    strict.force_login(crew.dispatcher)

    response = strict.post(MOVE, {"inspection": card.pk, "version": card.version, "inspector": crew.inspector2.pk})

    assert response.status_code == 403
    assert _state(card)[0] == crew.inspector.pk


def test_a_garbled_move_is_refused_with_a_message(client, crew, visit):
    card = visit(1, 9)
    client.force_login(crew.dispatcher)

    response = client.post(MOVE, {"inspection": card.pk, "version": card.version, "date": _day()}, **HTMX)

    assert response.status_code == 400
    assert "both a day and a start time" in _toasts(response)[0]["text"]
    assert _state(card)[0] == crew.inspector.pk


def test_get_is_not_a_move(client, crew):
    client.force_login(crew.dispatcher)

    assert client.get(MOVE).status_code == 405


def test_a_resync_refetches_the_board_alone_for_the_same_day_and_branch(client, world, crew, visit):
    card = visit(1, 9)
    manager = world.user(Role.MANAGER, all_branches=True)
    client.force_login(manager)

    page = client.get(f"{BOARD}?date={_day()}&branch={world.branch_a.pk}").content.decode()
    fragment = client.get(f"{BOARD}?date={_day()}&branch={world.branch_a.pk}", **HTMX).content.decode()

    assert f'hx-get="{BOARD}?date={_day()}&amp;branch={world.branch_a.pk}"' in page
    assert 'hx-trigger="crm:resync from:body"' in page
    assert fragment.lstrip().startswith('<div id="dispatch-board"')
    assert f'id="board-card-{card.pk}"' in fragment
    assert "<html" not in fragment and 'id="board-move-dialog"' not in fragment


def test_the_list_and_calendar_lead_to_the_board_for_those_who_may_use_it(client, world, crew):
    client.force_login(crew.dispatcher)
    for url in (reverse("inspections:list"), reverse("inspections:calendar")):
        assert b'data-testid="board-button"' in client.get(url).content
    client.force_login(world.user(Role.SALES))
    assert b'data-testid="board-button"' not in client.get(reverse("inspections:list")).content
