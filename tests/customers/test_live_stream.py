"""A customer's open page hears, over the live stream, of a note someone else adds and of an edit."""

from __future__ import annotations

import pytest
from channels.db import database_sync_to_async

from crm_core.accounts.models import Role
from crm_core.customers.services import customer_add_note, customer_update
from tests.consumers.conftest import fresh_layer  # noqa: F401  (each test gets its own layer)
from tests.consumers.helpers import open_live
from tests.factories import BranchFactory, CustomerFactory, UserFactory

pytestmark = [pytest.mark.asyncio, pytest.mark.django_db(transaction=True)]


@database_sync_to_async
def make_people():
    cairo = BranchFactory(code="CAI", name="القاهرة")
    return {
        "sales": UserFactory(role=Role.SALES, branch=cairo, language="ar"),
        "manager": UserFactory(role=Role.MANAGER, branch=cairo),
        "customer": CustomerFactory(branch=cairo, name="سلمى إبراهيم"),
    }


async def test_a_note_added_by_someone_else_arrives_in_the_open_page():
    people = await make_people()
    customer = people["customer"]
    page = await open_live(people["sales"])
    assert (await page.subscribe(f"customer:{customer.pk}"))["type"] == "subscribed"

    note = await database_sync_to_async(customer_add_note)(
        actor=people["manager"], customer=customer, body="العميل طلب زيارة يوم السبت"
    )
    frame = await page.receive()
    assert frame["type"] == "customer.note_added"
    assert f'id="timeline-note-{note.pk}"' in frame["html"]
    assert 'data-live-into="timeline"' in frame["html"]
    assert "العميل طلب زيارة يوم السبت" in frame["html"]
    await page.close()


async def test_an_edit_arrives_in_the_open_page_and_the_list():
    people = await make_people()
    customer = people["customer"]
    detail = await open_live(people["sales"])
    listing = await open_live(people["sales"])
    await detail.subscribe(f"customer:{customer.pk}")
    await listing.subscribe("customers.board")

    await database_sync_to_async(customer_update)(
        actor=people["manager"], customer=customer, expected_version=customer.version, city="المنصورة"
    )
    for client in (detail, listing):
        frame = await client.receive()
        assert frame["type"] == "customer.updated"
        assert f'id="customer-row-{customer.pk}"' in frame["html"]
        assert f'id="customer-header-{customer.pk}"' in frame["html"]
        assert "المنصورة" in frame["html"]
    await detail.close()
    await listing.close()
