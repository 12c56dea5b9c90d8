"""Live fragments of the inspection pages: what each event's html holds, where a card lands,
and that a fragment depends on the audience, never leaking another branch."""

from __future__ import annotations

from datetime import UTC, timedelta

import pytest
from asgiref.sync import sync_to_async
from django.urls import reverse
from django.utils import timezone, translation

from crm_core.accounts.models import Role
from crm_core.inspections.live import inspection_fragments
from crm_core.inspections.services import (
    inspection_assign,
    inspection_reschedule,
    inspection_start,
)
from realtime.audiences import audience_key
from realtime.renderers import Audience, renderers_for
from realtime.topics import authorize
from tests.consumers.conftest import fresh_layer  # noqa: F401  (a fresh channel layer per test)
from tests.consumers.helpers import open_live
from tests.inspections.conftest import local_at


def _audience(user, language: str = "en") -> Audience:
    role, scope = audience_key(user)
    return Audience(role=role, scope=scope, language=language)


def _render(event, user, language: str = "en") -> str:
    with translation.override(language):
        return inspection_fragments(event, _audience(user, language), user) or ""


def _last_event(published):
    return published[-1][2]


def _day(offset: int) -> str:
    return (timezone.localdate() + timedelta(days=offset)).isoformat()


def _changed(crew, visit, published, django_capture_on_commit_callbacks, change):
    card = visit(1, 9)
    with django_capture_on_commit_callbacks(execute=True):
        change(card)
    return card, _last_event(published)


def test_every_inspection_event_has_the_pages_fragments():
    for event_type in (
        "inspection.scheduled",
        "inspection.rescheduled",
        "inspection.assigned",
        "inspection.started",
        "inspection.cancelled",
        "inspection.no_show",
        "inspection.completed",
        "inspection.order_linked",
    ):
        assert inspection_fragments in renderers_for(event_type)


def test_a_reassigned_card_goes_to_its_new_column(crew, visit, published, django_capture_on_commit_callbacks):
    card, event = _changed(
        crew,
        visit,
        published,
        django_capture_on_commit_callbacks,
        lambda c: inspection_assign(actor=crew.dispatcher, inspection=c, inspector=crew.inspector2),
    )

    html = _render(event, crew.dispatcher)

    branch = card.branch_id
    assert f'id="board-card-{card.pk}"' in html
    assert f'data-live-into="board-{_day(1)}-b{branch}-insp-{crew.inspector2.pk}"' in html
    start = card.scheduled_start.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    assert f'data-sort-key="{start}#{card.pk:012d}"' in html
    assert 'data-version="2"' in html
    assert crew.customer.name in html
    assert 'draggable="true"' in html
    # The other pages' pieces of the same change.
    assert f'id="cal-card-{card.pk}"' in html
    assert f'data-live-into="cal-{_day(1)}-b{branch}-{crew.inspector2.pk}"' in html
    assert f'id="inspection-{card.pk}-list-inspector"' in html
    assert f'id="inspection-{card.pk}-inspector"' in html
    assert crew.inspector2.get_full_name() in html


def test_a_card_rescheduled_to_another_day_leaves_this_days_board(
    crew, visit, published, django_capture_on_commit_callbacks
):
    card, event = _changed(
        crew,
        visit,
        published,
        django_capture_on_commit_callbacks,
        lambda c: inspection_reschedule(
            actor=crew.dispatcher, inspection=c, scheduled_start=local_at(3, 10), scheduled_end=local_at(3, 11)
        ),
    )

    html = _render(event, crew.dispatcher)

    # Its column is on the third day's board: the first day's board has no such container, so
    # the browser takes the card out and puts it nowhere.
    assert f'data-live-into="board-{_day(3)}-b{card.branch_id}-insp-{crew.inspector.pk}"' in html
    assert f'id="inspection-{card.pk}-when"' in html
    # Both days' boards hear of it: the day it left and the day it went to.
    for offset in (1, 3):
        subscription = authorize(crew.dispatcher, "inspections.board", timezone.localdate() + timedelta(days=offset))
        assert subscription.matches(event)
    assert not authorize(crew.dispatcher, "inspections.board", timezone.localdate() + timedelta(days=2)).matches(event)


def test_the_status_chip_follows_the_inspector(crew, visit, published, django_capture_on_commit_callbacks):
    card = visit(0, 0, minutes=30)
    with django_capture_on_commit_callbacks(execute=True):
        inspection_start(actor=crew.inspector, inspection=card)

    html = _render(_last_event(published), crew.dispatcher)
    arabic = _render(_last_event(published), crew.dispatcher, "ar")

    assert "In progress" in html
    assert 'draggable="true"' not in html
    assert f'id="inspection-{card.pk}-status"' in html
    with translation.override("ar"):
        assert str(translation.gettext("In progress")) in arabic


def test_the_fragment_is_the_same_for_every_member_of_the_audience(
    world, crew, visit, published, django_capture_on_commit_callbacks
):
    colleague = world.user(Role.DISPATCHER)
    _card, event = _changed(
        crew,
        visit,
        published,
        django_capture_on_commit_callbacks,
        lambda c: inspection_assign(actor=crew.dispatcher, inspection=c, inspector=crew.inspector2),
    )

    assert _render(event, crew.dispatcher) == _render(event, colleague)


def test_roles_without_the_board_get_the_other_pages_pieces_only(
    world, crew, visit, published, django_capture_on_commit_callbacks
):
    sales = world.user(Role.SALES)
    card, event = _changed(
        crew,
        visit,
        published,
        django_capture_on_commit_callbacks,
        lambda c: inspection_assign(actor=crew.dispatcher, inspection=c, inspector=crew.inspector2),
    )

    html = _render(event, sales)

    assert f'id="board-card-{card.pk}"' not in html
    assert f'id="inspection-{card.pk}-list-status"' in html


def test_another_branch_learns_nothing(world, crew, visit, published, django_capture_on_commit_callbacks):
    outsider = world.user(Role.DISPATCHER, branch=world.branch_b)
    card, event = _changed(
        crew,
        visit,
        published,
        django_capture_on_commit_callbacks,
        lambda c: inspection_assign(actor=crew.dispatcher, inspection=c, inspector=crew.inspector2),
    )

    html = _render(event, outsider)

    assert crew.customer.name not in html
    assert crew.inspector2.get_full_name() not in html
    assert card.number not in html
    assert "data-live-into" not in html


def test_an_inspector_whose_visit_went_to_a_colleague_sees_it_leave(
    crew, visit, published, django_capture_on_commit_callbacks
):
    card, event = _changed(
        crew,
        visit,
        published,
        django_capture_on_commit_callbacks,
        lambda c: inspection_assign(actor=crew.dispatcher, inspection=c, inspector=crew.inspector2),
    )

    before = _render(event, crew.inspector)
    after = _render(event, crew.inspector2)

    assert f'<li id="board-card-{card.pk}" data-live-remove>' in before
    assert f'<a id="cal-card-{card.pk}" data-live-remove>' in before
    assert crew.customer.name not in before
    # The new inspector gets their calendar card, but no board (inspectors keep "my day").
    assert f'id="cal-card-{card.pk}"' in after and crew.customer.name in after
    assert f'id="board-card-{card.pk}"' not in after


# --- over the socket, as a browser gets it --------------------------------------------------------


@pytest.mark.django_db(transaction=True)
@pytest.mark.asyncio
async def test_a_dispatcher_on_the_day_gets_the_moved_card_on_the_stream(world):
    from tests.factories import CustomerFactory, UserFactory

    @sync_to_async
    def setup():
        dispatcher = UserFactory(role=Role.DISPATCHER, branch=world.branch_a, language="ar")
        first = UserFactory(role=Role.INSPECTOR, branch=world.branch_a)
        second = UserFactory(role=Role.INSPECTOR, branch=world.branch_a)
        customer = CustomerFactory(branch=world.branch_a)
        from crm_core.inspections.services import inspection_schedule

        card = inspection_schedule(
            actor=dispatcher,
            customer=customer,
            scheduled_start=local_at(1, 9),
            scheduled_end=local_at(1, 10),
            inspector=first,
        )
        return dispatcher, second, card

    dispatcher, second, card = await setup()
    client = await open_live(dispatcher)
    assert (await client.subscribe("inspections.board", date=_day(1)))["type"] == "subscribed"

    await sync_to_async(inspection_assign)(actor=dispatcher, inspection=card, inspector=second)
    _seen, frame = await client.until(lambda f: f["type"] == "inspection.assigned")

    assert f'data-live-into="board-{_day(1)}-b{world.branch_a.pk}-insp-{second.pk}"' in frame["html"]
    assert 'lang="ar"' not in frame["html"]
    with translation.override("ar"):
        assert str(translation.gettext("Scheduled")) in frame["html"]
    await client.close()


# --- the pages hold the ids the fragments aim at --------------------------------------------------


def _client_for(client, user):
    client.force_login(user)
    return client


def test_the_list_follows_the_board_topic_and_names_its_cells(client, crew, visit):
    card = visit(1, 9)
    body = _client_for(client, crew.dispatcher).get(reverse("inspections:list")).content.decode()

    assert 'data-live-topic="inspections.board"' in body
    for part in ("when", "inspector", "status"):
        assert f'id="inspection-{card.pk}-list-{part}"' in body


def test_each_calendar_card_names_the_cell_it_is_in(client, crew, visit):
    card = visit(1, 9)
    week = timezone.localdate() + timedelta(days=1)
    body = _client_for(client, crew.dispatcher).get(f"{reverse('inspections:calendar')}?week={week}").content.decode()

    cell = f"cal-{_day(1)}-b{card.branch_id}-{crew.inspector.pk}"
    assert f'id="{cell}" data-live-sort' in body
    assert f'data-live-into="{cell}"' in body
    assert 'data-live-topic="inspections.board"' in body


def test_the_detail_page_follows_its_inspection_and_refetches_its_own_buttons(client, crew, visit):
    card = visit(1, 9)
    url = reverse("inspections:detail", args=[card.pk])
    client = _client_for(client, crew.dispatcher)

    body = client.get(url).content.decode()
    actions = client.get(f"{url}?part=actions", HTTP_HX_REQUEST="true").content.decode()
    panels = client.get(f"{url}?part=panels", HTTP_HX_REQUEST="true").content.decode()

    assert f'data-live-topic="inspection:{card.pk}"' in body
    for part in ("status", "when", "when-head", "inspector", "result"):
        assert f'id="inspection-{card.pk}-{part}"' in body
    assert 'id="inspection-actions"' in actions.split(">")[0]
    assert "<html" not in actions
    assert panels.lstrip().startswith('<div id="inspection-panels"')
    assert f'name="version" value="{card.version}"' in panels
    assert 'name="csrfmiddlewaretoken"' in panels


def test_my_day_refetches_its_visits_as_a_fragment(client, crew, visit):
    card = visit(1, 9)
    client = _client_for(client, crew.inspector)

    page = client.get(f"{reverse('inspections:my_day')}?date={_day(1)}").content.decode()
    fragment = client.get(f"{reverse('inspections:my_day')}?date={_day(1)}", HTTP_HX_REQUEST="true").content.decode()

    assert f'data-live-date="{_day(1)}"' in page
    assert fragment.lstrip().startswith('<div id="my-day-visits"')
    assert crew.customer.name in fragment and "<html" not in fragment
    assert str(card.number) in fragment
    # An inspector may follow the board topic: their own visits reach them on their own group.
    assert authorize(crew.inspector, "inspections.board", timezone.localdate()).groups == ()


def test_a_card_links_its_order_once_one_is_created_from_the_visit(
    client, crew, visit, published, django_capture_on_commit_callbacks
):
    from decimal import Decimal

    from crm_core.inspections.services import inspection_create_order
    from crm_core.orders.services import ItemInput
    from tests.factories import ProductFactory

    card = visit(1, 9)
    items = [ItemInput(product_id=ProductFactory(price=Decimal("250.00")).pk, quantity=Decimal("2"))]
    with django_capture_on_commit_callbacks(execute=True):
        order = inspection_create_order(actor=crew.dispatcher, inspection=card, items=items)

    linked = next(event for event_type, _groups, event in published if event_type == "inspection.order_linked")
    html = _render(linked, crew.dispatcher)
    page = _client_for(client, crew.dispatcher).get(f"{reverse('inspections:board')}?date={_day(1)}").content.decode()

    order_url = reverse("orders:detail", args=[order.pk])
    assert f'href="{order_url}"' in html and order.number in html
    assert f'href="{order_url}"' in page
