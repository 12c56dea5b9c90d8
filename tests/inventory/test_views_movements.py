"""The movement ledger: scoping, filters, keyset pagination, htmx and the query budget."""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal

from django.urls import reverse
from django.utils import timezone

from crm_core.accounts.models import Role
from crm_core.inventory import views
from crm_core.inventory.models import StockMovement
from crm_core.inventory.services import stock_adjust, stock_issue, stock_transfer
from tests.factories import WarehouseFactory, stock

URL = reverse("inventory:movements")


def _movements(response) -> list[int]:
    return [int(pk) for pk in re.findall(r'data-movement="(\d+)"', response.content.decode())]


def _ids(**filters) -> list[int]:
    return list(StockMovement.objects.filter(**filters).order_by("-created_at", "-id").values_list("id", flat=True))


def test_each_persona_sees_only_their_branchs_movements(world, personas, catalogue, login):
    assert _movements(login(personas.owner).get(URL)) == _ids(branch=world.branch_a)
    assert _movements(login(personas.outsider).get(URL)) == _ids(branch=world.branch_b)
    assert login(world.user(Role.DISPATCHER)).get(URL).status_code == 403


def test_a_row_shows_quantity_balance_who_and_reference(world, keeper, catalogue, login):
    movement = stock_issue(
        actor=keeper, product=catalogue.tile, warehouse=world.warehouse_a, quantity=Decimal("2.5"), reference="REQ-77"
    )
    html = login(keeper).get(URL).content.decode()
    row = re.search(rf'<tr data-movement="{movement.pk}">.*?</tr>', html, re.S).group(0)
    assert "-2.5" in row and "47.5" in row and str(keeper) in row and "REQ-77" in row and "Issue" in row


def test_filters_by_warehouse_product_kind_and_reference(world, keeper, catalogue, login):
    second = WarehouseFactory(code="CAI-W2", branch=world.branch_a, is_default=False)
    out_leg, in_leg = stock_transfer(
        actor=keeper, product=catalogue.tile, from_warehouse=world.warehouse_a, to_warehouse=second, quantity=3
    )
    adjusted = stock_adjust(
        actor=keeper, product=catalogue.paint, warehouse=world.warehouse_a, counted_quantity=6, reason="جرد"
    )
    client = login(keeper)
    assert _movements(client.get(URL, {"warehouse": second.pk})) == [in_leg.pk]
    assert _movements(client.get(URL, {"product": catalogue.paint.pk})) == [
        adjusted.pk,
        *_ids(product=catalogue.paint, kind="receive"),
    ]
    assert _movements(client.get(URL, {"kind": "adjust"})) == [adjusted.pk]
    assert set(_movements(client.get(URL, {"reference": "cai-w1"}))) == {out_leg.pk, in_leg.pk}


def test_date_range_filter(world, keeper, catalogue, login):
    old = stock_issue(actor=keeper, product=catalogue.tile, warehouse=world.warehouse_a, quantity=1)
    StockMovement.objects.filter(pk=old.pk).update(created_at=timezone.now() - dt.timedelta(days=10))
    client = login(keeper)
    today = timezone.localdate()
    recent = _movements(client.get(URL, {"date_from": (today - dt.timedelta(days=1)).isoformat()}))
    assert old.pk not in recent and recent
    day = (today - dt.timedelta(days=10)).isoformat()
    assert _movements(client.get(URL, {"date_from": day, "date_to": day})) == [old.pk]
    backwards = client.get(URL, {"date_from": today.isoformat(), "date_to": day})
    assert "The end date is before the start date." in backwards.content.decode()


def test_another_branchs_warehouse_or_a_bad_value_in_the_filter_never_shows_its_rows(world, personas, catalogue, login):
    client = login(personas.owner)
    rows = set(_movements(client.get(URL, {"warehouse": world.warehouse_b.pk, "kind": "bogus"})))
    assert rows and not rows & set(_ids(branch=world.branch_b))


def test_the_product_filter_shows_the_chosen_product_in_the_picker(personas, catalogue, login):
    html = login(personas.owner).get(URL, {"product": catalogue.tile.pk}).content.decode()
    assert 'value="بلاط سيراميك أبيض (CER-001)"' in html
    assert f'name="product" value="{catalogue.tile.pk}"' in html


def test_keyset_pages_walk_forward_and_back_without_gaps_or_repeats(world, keeper, catalogue, login, monkeypatch):
    monkeypatch.setattr(views, "LEDGER_PAGE", 2)
    client = login(keeper)
    expected = _ids(branch=world.branch_a)
    assert len(expected) == 3
    first = client.get(URL)
    assert _movements(first) == expected[:2]
    next_link = re.search(r'href="([^"]+)" rel="next"', first.content.decode()).group(1).replace("&amp;", "&")
    second = client.get(URL + next_link)
    assert _movements(second) == expected[2:]
    assert 'rel="next"' not in second.content.decode()
    prev_link = re.search(r'href="([^"]+)" rel="prev"', second.content.decode()).group(1).replace("&amp;", "&")
    assert _movements(client.get(URL + prev_link)) == expected[:2]


def test_an_htmx_filter_request_gets_only_the_list(keeper, catalogue, login):
    response = login(keeper).get(URL, {"kind": "receive"}, headers={"HX-Request": "true"})
    html = response.content.decode()
    assert html.lstrip().startswith('<div id="movement-list">') and "<html" not in html


def test_empty_result_says_what_to_do(keeper, catalogue, login):
    assert "Widen the date range" in login(keeper).get(URL, {"reference": "nothing-like-this"}).content.decode()


def test_query_count_does_not_grow_with_rows(world, keeper, catalogue, login, count_queries):
    client = login(keeper)
    few = count_queries(client, URL)
    filtered = count_queries(client, f"{URL}?product={catalogue.tile.pk}&warehouse={world.warehouse_a.pk}")
    for _n in range(20):
        stock(catalogue.tile, world.warehouse_a, 2, actor=keeper)
        stock_issue(actor=keeper, product=catalogue.tile, warehouse=world.warehouse_a, quantity=1)
    assert count_queries(client, URL) == few <= 9
    assert count_queries(client, f"{URL}?product={catalogue.tile.pk}&warehouse={world.warehouse_a.pk}") == filtered
