"""Live customer pages: what the stream sends with customer events, and what the pages declare."""

from __future__ import annotations

import re

from django.utils import translation

from crm_core.accounts.models import Role
from crm_core.customers.live import customer_note, customer_page, customer_row
from crm_core.customers.services import customer_add_note, customer_update
from realtime.events import make_event
from realtime.renderers import Audience, renderers_for

EN = Audience(role="sales", scope="b", language="en")


def rendered(renderer, event, user, language: str = "en") -> str | None:
    with translation.override(language):
        return renderer(event, EN, user)


def event_for(type_: str, customer, **data):
    return make_event(type_, branch_id=customer.branch_id, data={"customer": customer.pk, **data})


def ids(html: str) -> list[str]:
    return re.findall(r'<(?:tr|div|li)\s+id="([^"]+)"', html)


def test_the_customer_app_registers_its_fragments():
    assert customer_row in renderers_for("customer.created")
    assert customer_row in renderers_for("customer.updated")
    assert customer_page in renderers_for("customer.updated")
    assert customer_note in renderers_for("customer.note_added")


def test_an_update_swaps_the_list_row_and_the_page_header_and_details(personas, make_customer):
    customer = make_customer("سلمى إبراهيم")
    customer = customer_update(actor=personas.owner, customer=customer, expected_version=customer.version, city="طنطا")
    event = event_for("customer.updated", customer)

    row = rendered(customer_row, event, personas.owner)
    assert ids(row) == [f"customer-row-{customer.pk}"]
    assert "طنطا" in row and "data-live-into" not in row

    page = rendered(customer_page, event, personas.owner)
    assert ids(page) == [f"customer-header-{customer.pk}", f"customer-details-{customer.pk}"]
    assert "طنطا" in page
    # The header's buttons follow the role, like the page's own.
    assert 'data-testid="edit-customer"' in page


def test_a_new_customer_goes_on_top_of_the_list(personas, make_customer):
    customer = make_customer("عميل جديد")
    row = rendered(customer_row, event_for("customer.created", customer), personas.owner)
    assert f'id="customer-row-{customer.pk}"' in row
    assert 'data-live-into="customer-rows"' in row


def test_a_note_goes_on_top_of_the_timeline_and_the_empty_message_goes(personas, make_customer):
    customer = make_customer()
    note = customer_add_note(actor=personas.owner, customer=customer, body="اتصل يوم الأحد")
    html = rendered(customer_note, event_for("customer.note_added", customer, note=note.pk), personas.owner, "ar")
    assert ids(html) == [f"timeline-note-{note.pk}", "timeline-empty"]
    assert 'data-live-into="timeline"' in html
    assert "اتصل يوم الأحد" in html
    assert re.search(r'<div id="timeline-empty" data-live-remove>', html)


def test_nothing_is_rendered_for_someone_who_may_not_see_the_customer(world, personas, make_customer):
    customer = make_customer()
    note = customer_add_note(actor=personas.owner, customer=customer, body="سري")
    storekeeper = world.user(Role.STOREKEEPER)
    for user in (personas.outsider, storekeeper):
        assert rendered(customer_row, event_for("customer.updated", customer), user) is None
        assert rendered(customer_page, event_for("customer.updated", customer), user) is None
        assert rendered(customer_note, event_for("customer.note_added", customer, note=note.pk), user) is None


def test_a_malformed_event_renders_nothing(personas):
    event = make_event("customer.note_added", branch_id=None, data={"customer": "1", "note": None})
    assert rendered(customer_note, event, personas.owner) is None
    assert rendered(customer_row, event, personas.owner) is None


# --- what the pages declare ------------------------------------------------------------------------


def test_the_list_follows_the_customers_board_and_takes_new_rows_only_unfiltered(login, personas, make_customer):
    customer = make_customer("هدى")
    client = login(personas.owner)
    page = client.get("/customers/").text
    assert 'data-live-topic="customers.board"' in page
    assert re.search(r'data-live-since="\d+"', page)
    assert 'id="customer-rows"' in page
    assert f'id="customer-row-{customer.pk}"' in page
    assert 'id="customer-rows"' not in client.get("/customers/", {"q": "هدى"}).text
    assert 'id="customer-rows"' not in client.get("/customers/", {"sort": "name"}).text


def test_the_detail_page_follows_its_customer_and_declares_its_presence_room(login, personas, make_customer):
    customer = make_customer()
    page = login(personas.owner).get(f"/customers/{customer.pk}/").text
    assert f'data-live-topic="customer:{customer.pk}"' in page
    assert f'data-presence="customer:{customer.pk}"' in page
    assert "data-presence-editing" not in page
    for element in (f"customer-header-{customer.pk}", f"customer-details-{customer.pk}", "customer-totals", "timeline"):
        assert f'id="{element}"' in page
    edit = login(personas.owner).get(f"/customers/{customer.pk}/edit/").text
    assert f'data-presence="customer:{customer.pk}"' in edit
    assert "data-presence-editing" in edit
    assert "is editing this customer" in edit
    assert "data-presence=" not in login(personas.owner).get("/customers/new/").text
