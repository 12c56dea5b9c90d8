"""Two people edit the same order: the second save is refused with what the first changed and by
whom, in the reader's language; the input is kept and can be applied on top deliberately."""

from __future__ import annotations

import re
from decimal import Decimal

import pytest

from crm_core.accounts.models import Role
from crm_core.orders.models import Order
from crm_core.orders.services import ItemInput, order_item_update, order_update
from tests.orders.helpers import db_state
from tests.orders.test_views_form import _edit_url, edit_data, row


@pytest.fixture
def order(make_order, products) -> Order:
    tile, glue, _ = products
    return make_order(
        [ItemInput(product_id=tile.pk, quantity=Decimal("2")), ItemInput(product_id=glue.pk, quantity=Decimal("1"))]
    )


@pytest.fixture
def other(world):
    return world.user(Role.SALES, first_name="سارة", last_name="حسن")


def test_the_conflict_names_who_changed_which_fields_and_the_values(login, sales, other, order):
    client = login(sales)
    data = edit_data(order, [row(quantity="7"), row(quantity="1")], notes="ملاحظتي")
    order_update(actor=other, order=order, expected_version=order.version, discount_amount="10", notes="ملاحظتها")
    before = db_state()

    response = client.post(_edit_url(order), data)
    html = response.content.decode()
    assert response.status_code == 409
    assert "سارة حسن changed this record while you were editing it; nothing of yours was saved." in html
    details = html[html.index('data-testid="conflict-details"') :]
    details = details[: details.index("</ul>")]
    assert "order discount: 0.00 → 10.00" in details
    assert "notes: — → «ملاحظتها»" in details
    assert 'value="7"' in html and "ملاحظتي" in html  # the user's input is kept
    assert db_state() == before


def test_an_item_change_is_named_by_its_product(login, sales, other, order, products):
    client = login(sales)
    data = edit_data(order, [row(quantity="5"), row(quantity="1")])
    item = order.items.get(product=products[1])
    order_item_update(actor=other, item=item, quantity=Decimal("4"), expected_version=order.version)
    html = client.post(_edit_url(order), data).content.decode()
    assert "سارة حسن changed an item" in html
    assert f"{products[1].name} · quantity: 1 → 4" in html


def test_the_conflict_is_in_the_readers_language(login, sales, other, order):
    client = login(sales, language="ar")
    data = edit_data(order, [row(quantity="7"), row(quantity="1")])
    order_update(actor=other, order=order, expected_version=order.version, discount_amount="10")
    html = client.post(_edit_url(order), data).content.decode()
    assert "سارة حسن" in html
    assert "order discount" not in html
    assert "خصم" in html


def test_saving_again_applies_the_kept_input_on_top(login, sales, other, order):
    client = login(sales)
    data = edit_data(order, [row(quantity="7"), row(quantity="1")], notes="ملاحظتي")
    order_update(actor=other, order=order, expected_version=order.version, discount_amount="10")
    html = client.post(_edit_url(order), data).content.decode()
    # The form now stands on the version the user was shown the changes up to.
    version = re.search(r'name="version" value="(\d+)"', html).group(1)
    assert int(version) == Order.objects.get(pk=order.pk).version
    response = client.post(_edit_url(order), {**data, "version": version, "discount_amount": "10"})
    assert response.status_code == 302
    saved = Order.objects.get(pk=order.pk)
    assert saved.notes == "ملاحظتي"
    assert saved.discount_amount == Decimal("10.00")
    assert saved.items.get(product__sku="TILE-1").quantity == 7
