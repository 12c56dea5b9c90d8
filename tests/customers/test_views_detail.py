"""The customer's page: scoping, the merged timeline, totals, buttons by permission, inline notes."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from crm_core.accounts.models import Role
from crm_core.customers.models import CustomerNote
from crm_core.customers.services import customer_add_note
from crm_core.customers.views import url_or_none
from crm_core.inspections.services import inspection_schedule
from crm_core.orders.models import OrderStatus
from crm_core.orders.services import ItemInput, order_create, order_transition, payment_record
from tests.factories import ProductFactory, slot, stock

pytestmark = pytest.mark.django_db


def detail_url(customer) -> str:
    return reverse("customers:detail", args=[customer.pk])


def note_url(customer) -> str:
    return reverse("customers:add_note", args=[customer.pk])


HTMX = {"HX-Request": "true"}


# --- Who may open the page -------------------------------------------------------------------------


def test_owner_sees_the_customer(login, personas, scene):
    response = login(personas.owner).get(detail_url(scene.customer_1))
    assert response.status_code == 200
    assert scene.customer_1.name in response.text
    assert scene.customer_1.code in response.text


def test_another_branch_gets_404_on_detail_edit_and_notes(login, personas, scene):
    client = login(personas.outsider)
    customer = scene.customer_1
    assert client.get(detail_url(customer)).status_code == 404
    assert client.get(reverse("customers:edit", args=[customer.pk])).status_code == 404
    assert client.post(note_url(customer), {"body": "تسلل"}).status_code == 404
    assert not CustomerNote.objects.filter(body="تسلل").exists()


def test_a_role_without_customer_access_gets_403(login, personas, scene):
    client = login(personas.colleague)
    assert client.get(detail_url(scene.customer_1)).status_code == 403
    assert client.post(note_url(scene.customer_1), {"body": "x"}).status_code == 403


def test_an_unknown_customer_is_404(login, personas, scene):
    assert login(personas.owner).get(reverse("customers:detail", args=[999_999])).status_code == 404


def test_inspector_opens_only_customers_of_their_inspections(login, scene):
    client = login(scene.inspector_1)
    response = client.get(detail_url(scene.customer_1))
    assert response.status_code == 200
    # Their own visit is on the timeline, without orders or payments (no permission for those).
    assert scene.inspection_1.number in response.text
    assert not [e for e in response.context["timeline"].entries if e.kind in ("order", "payment")]
    assert response.context["totals"] is None
    assert 'data-testid="edit-customer"' not in response.text
    assert client.get(detail_url(scene.customer_2)).status_code == 404
    assert client.get(detail_url(scene.customer_unvisited)).status_code == 404


def test_inspector_does_not_see_a_colleagues_visit_to_the_same_customer(login, scene, world):
    other = inspection_schedule(
        actor=world.user(Role.DISPATCHER),
        customer=scene.customer_1,
        scheduled_start=slot(72)[0],
        scheduled_end=slot(72)[1],
        inspector=scene.inspector_2,
    )
    response = login(scene.inspector_1).get(detail_url(scene.customer_1))
    assert scene.inspection_1.number in response.text
    assert other.number not in response.text


# --- Timeline and totals ----------------------------------------------------------------------------


def test_timeline_merges_orders_inspections_payments_and_notes_newest_first(login, personas, scene):
    response = login(personas.owner).get(detail_url(scene.customer_1))
    entries = response.context["timeline"].entries
    assert {e.kind for e in entries} == {"order", "inspection", "payment", "note"}
    times = [e.at for e in entries]
    assert times == sorted(times, reverse=True)
    order = next(e.obj for e in entries if e.kind == "order")
    assert order.number in response.text
    assert scene.note_1.body in response.text


def test_timeline_links_go_to_the_order_and_inspection_pages_when_they_exist(login, personas, scene):
    response = login(personas.owner).get(detail_url(scene.customer_1))
    entries = response.context["timeline"].entries
    order = next(e.obj for e in entries if e.kind == "order")
    inspection_link = url_or_none("inspections:detail", scene.inspection_1.pk)
    order_link = url_or_none("orders:detail", order.pk)
    for link in (inspection_link, order_link):
        if link is not None:
            assert f'href="{link}"' in response.text
    assert url_or_none("no-such:page") is None


def test_totals_count_open_orders_and_the_balance_due(login, personas, scene, world):
    customer = scene.customer_1
    product = ProductFactory(price=Decimal("50.00"))
    stock(product, world.warehouse_a, 10, actor=personas.colleague)
    cancelled = order_create(actor=personas.owner, customer=customer, items=[ItemInput(product.pk, Decimal("1"))])
    manager = world.user(Role.MANAGER)
    order_transition(actor=manager, order=cancelled, to_status=OrderStatus.CANCELLED)

    response = login(personas.owner).get(detail_url(customer))
    totals = response.context["totals"]
    live = customer.orders.exclude(status=OrderStatus.CANCELLED)
    assert totals.orders == 1 == live.count()
    assert totals.total_ordered == live.get().total
    assert totals.balance_due == live.get().total - Decimal("10.00")
    assert 'data-testid="balance-due"' in response.text


def test_empty_timeline_says_what_will_appear(login, personas, make_customer):
    customer = make_customer("جديد")
    response = login(personas.owner).get(detail_url(customer))
    assert "Nothing here yet" in response.text
    assert 'id="timeline-empty"' in response.text


def test_timeline_is_bounded_per_kind(login, personas, make_customer, monkeypatch):
    from crm_core.customers import selectors

    customer = make_customer("كثير الملاحظات")
    for n in range(5):
        customer_add_note(actor=personas.owner, customer=customer, body=f"ملاحظة {n}")
    monkeypatch.setattr(selectors, "TIMELINE_PER_KIND", 3)
    response = login(personas.owner).get(detail_url(customer))
    bodies = [e.obj.body for e in response.context["timeline"].entries]
    assert bodies == ["ملاحظة 4", "ملاحظة 3", "ملاحظة 2"]
    assert response.context["timeline"].truncated
    assert "Showing the latest" in response.text


# --- Buttons ----------------------------------------------------------------------------------------


def test_buttons_follow_permissions(login, personas, scene, world):
    sales = login(personas.owner).get(detail_url(scene.customer_1)).text
    assert 'data-testid="edit-customer"' in sales
    assert 'data-testid="add-note"' in sales
    if url_or_none("inspections:create") is not None:
        assert f"{reverse('inspections:create')}?customer={scene.customer_1.pk}" in sales
    if url_or_none("orders:create") is not None:
        assert f"{reverse('orders:create')}?customer={scene.customer_1.pk}" in sales

    assert f"{reverse('inspections:list')}?customer={scene.customer_1.pk}" in sales
    assert f"{reverse('orders:list')}?customer={scene.customer_1.pk}" in sales

    accountant = login(world.user(Role.ACCOUNTANT)).get(detail_url(scene.customer_1)).text
    for button in ("edit-customer", "add-note", "new-order", "new-inspection", "all-inspections"):
        assert f'data-testid="{button}"' not in accountant
    assert 'data-testid="all-orders"' in accountant

    inspector = login(scene.inspector_1).get(detail_url(scene.customer_1)).text
    assert 'data-testid="all-orders"' not in inspector
    assert 'data-testid="add-note"' in inspector


# --- Notes ------------------------------------------------------------------------------------------


def test_htmx_note_returns_the_new_entry_and_a_fresh_form(login, personas, scene):
    customer = scene.customer_2
    response = login(personas.owner).post(note_url(customer), {"body": "  اتصل يوم الأحد  "}, headers=HTMX)

    assert response.status_code == 200
    note = CustomerNote.objects.get(customer=customer, body="اتصل يوم الأحد")
    assert note.author == personas.owner
    assert response.text.lstrip().startswith(f'<li id="timeline-note-{note.pk}" class="timeline-note"')
    assert "اتصل يوم الأحد" in response.text
    assert 'hx-swap-oob="true"' in response.text
    assert "<html" not in response.text
    assert "crm:toast" not in response.get("HX-Trigger", "")


def test_note_without_htmx_redirects_back_with_a_message(login, personas, scene):
    client = login(personas.owner)
    response = client.post(note_url(scene.customer_2), {"body": "ملاحظة عادية"}, follow=True)
    assert response.redirect_chain[-1][0] == detail_url(scene.customer_2)
    assert "Note added." in response.text
    assert "ملاحظة عادية" in response.text


def test_an_empty_note_is_refused_and_nothing_is_written(login, personas, scene):
    client = login(personas.owner)
    before = CustomerNote.objects.count()

    response = client.post(note_url(scene.customer_2), {"body": "   "}, headers=HTMX)
    assert response["HX-Retarget"] == "#note-form"
    assert response["HX-Reswap"] == "outerHTML"
    assert response.text.lstrip().startswith('<form id="note-form"')
    assert "is-invalid" in response.text

    page = client.post(note_url(scene.customer_2), {"body": ""})
    assert page.status_code == 200
    assert page.context["note_form"].errors["body"]
    assert CustomerNote.objects.count() == before


def test_inspector_may_note_their_customer(login, scene):
    response = login(scene.inspector_1).post(note_url(scene.customer_1), {"body": "الموقع جاهز"}, headers=HTMX)
    assert response.status_code == 200
    assert CustomerNote.objects.filter(customer=scene.customer_1, body="الموقع جاهز").exists()


def test_add_note_refuses_get(login, personas, scene):
    assert login(personas.owner).get(note_url(scene.customer_1)).status_code == 405


# --- Query budget -----------------------------------------------------------------------------------


def _detail_queries(client, customer) -> int:
    with CaptureQueriesContext(connection) as queries:
        assert client.get(detail_url(customer)).status_code == 200
    return len(queries.captured_queries)


def test_detail_query_count_does_not_grow_with_history(login, personas, scene, world, django_assert_max_num_queries):
    customer = scene.customer_1
    client = login(personas.owner)
    few = _detail_queries(client, customer)

    product = ProductFactory(price=Decimal("10.00"))
    dispatcher = world.user(Role.DISPATCHER)
    for n in range(6):
        order = order_create(actor=personas.owner, customer=customer, items=[ItemInput(product.pk, Decimal("1"))])
        payment_record(actor=personas.owner, order=order, amount=Decimal("1.00"))
        customer_add_note(actor=personas.owner, customer=customer, body=f"ملاحظة إضافية {n}")
        start, end = slot(100 + n * 3)
        inspection_schedule(
            actor=dispatcher,
            customer=customer,
            scheduled_start=start,
            scheduled_end=end,
            inspector=scene.inspector_1,
        )

    # session, user, 2 × permissions, customer, orders, inspections, payments, notes, totals,
    # unread count, the user's branch (menu), and on PostgreSQL the latest event id (live since)
    with django_assert_max_num_queries(13):
        response = client.get(detail_url(customer))
    assert len(response.context["timeline"].entries) > 20
    assert _detail_queries(client, customer) == few
