"""The stock levels page (/inventory/): scoping, low-stock highlighting, filters, sort, htmx, budget."""

from __future__ import annotations

import re
from decimal import Decimal

import pytest
from django.urls import reverse

from crm_core.accounts.models import Role
from crm_core.inventory.models import StockLevel
from tests.factories import ProductFactory, WarehouseFactory, stock

URL = reverse("inventory:stock")


def _rows(response) -> list[int]:
    """Level ids in the order the table shows them."""
    return [int(pk) for pk in re.findall(r'data-level="(\d+)"', response.content.decode())]


def _row(response, level: StockLevel) -> str:
    html = response.content.decode()
    match = re.search(rf'<tr[^>]*data-level="{level.pk}"[^>]*>.*?</tr>', html, re.S)
    assert match, f"level {level.pk} not on the page"
    return match.group(0)


def test_the_menu_entry_leads_here():
    assert URL == "/inventory/"


def test_each_persona_sees_only_their_branchs_levels(world, personas, catalogue, login):
    c = catalogue
    assert set(_rows(login(personas.owner).get(URL))) == {c.tile_a.pk, c.porcelain_a.pk, c.paint_a.pk}
    assert set(_rows(login(personas.colleague).get(URL))) == {c.tile_a.pk, c.porcelain_a.pk, c.paint_a.pk}
    assert set(_rows(login(personas.outsider).get(URL))) == {c.tile_b.pk, c.cement_b.pk}
    hq = world.user(Role.MANAGER, all_branches=True)
    assert len(_rows(login(hq).get(URL))) == 5


def test_a_role_without_stock_permission_is_refused_and_anonymous_must_sign_in(world, login, client):
    dispatcher = world.user(Role.DISPATCHER)
    assert login(dispatcher).get(URL).status_code == 403
    response = client.get(URL)
    assert response.status_code == 302 and reverse("accounts:login") in response["Location"]


def test_levels_below_the_reorder_level_are_highlighted_with_a_badge(personas, catalogue, login):
    response = login(personas.owner).get(URL)
    low = _row(response, catalogue.porcelain_a)
    assert "table-danger" in low and "Low stock" in low
    fine = _row(response, catalogue.tile_a)
    assert "table-danger" not in fine and "Low stock" not in fine


def test_low_only_shows_just_the_levels_below_their_reorder_level(personas, catalogue, login):
    response = login(personas.owner).get(URL, {"low": "1"})
    assert _rows(response) == [catalogue.porcelain_a.pk]


def test_the_low_stock_alert_link_opens_the_warehouses_low_levels(world, personas, catalogue, login):
    # The service builds this link for the notification: ?warehouse=<id>&low=1.
    response = login(personas.colleague).get(f"{URL}?warehouse={world.warehouse_a.pk}&low=1")
    assert _rows(response) == [catalogue.porcelain_a.pk]


def test_warehouse_filter(world, personas, catalogue, login, keeper):
    second = WarehouseFactory(code="CAI-W2", branch=world.branch_a, is_default=False)
    moved = stock(catalogue.tile, second, 4, actor=keeper)
    client = login(personas.owner)
    assert _rows(client.get(URL, {"warehouse": second.pk})) == [moved.pk]
    assert moved.pk not in _rows(client.get(URL, {"warehouse": world.warehouse_a.pk}))


def test_another_branchs_warehouse_in_the_filter_is_refused_and_shows_none_of_its_stock(
    world, personas, catalogue, login
):
    response = login(personas.owner).get(URL, {"warehouse": world.warehouse_b.pk})
    assert response.status_code == 200
    rows = set(_rows(response))
    assert catalogue.tile_b.pk not in rows and catalogue.cement_b.pk not in rows
    assert "is-invalid" in response.content.decode()


def test_category_filter_includes_sub_categories(personas, catalogue, login):
    client = login(personas.owner)
    flooring = set(_rows(client.get(URL, {"category": catalogue.flooring.pk})))
    assert flooring == {catalogue.tile_a.pk, catalogue.porcelain_a.pk}
    assert _rows(client.get(URL, {"category": catalogue.ceramic.pk})) == [catalogue.tile_a.pk]
    assert _rows(client.get(URL, {"category": catalogue.paints.pk})) == [catalogue.paint_a.pk]


@pytest.mark.parametrize(
    ("term", "expected"),
    [("بلاط", "tile_a"), ("cer-001", "tile_a"), ("CER", "tile_a"), ("بورسلين رمادى", "porcelain_a"), ("ابيض", None)],
    ids=["name", "sku-lower", "sku-prefix", "alef-maqsura-normalised", "two-products"],
)
def test_search_matches_name_or_sku_as_people_type_it(personas, catalogue, login, term, expected):
    rows = _rows(login(personas.owner).get(URL, {"q": term}))
    if expected is None:
        # "ابيض" (no hamza) finds both "أبيض" products of branch A.
        assert set(rows) == {catalogue.tile_a.pk, catalogue.paint_a.pk}
    else:
        assert rows == [getattr(catalogue, expected).pk]


def test_no_match_shows_an_empty_state_that_says_what_to_do(personas, catalogue, login):
    html = login(personas.owner).get(URL, {"q": "لا يوجد"}).content.decode()
    assert "No stock matches these filters" in html and "Clear the filters" in html


def test_sort_by_sku_descending_and_an_unknown_sort_falls_back_to_name(personas, catalogue, login):
    client = login(personas.owner)
    c = catalogue
    assert _rows(client.get(URL, {"sort": "-sku"})) == [c.porcelain_a.pk, c.paint_a.pk, c.tile_a.pk]
    by_name = _rows(client.get(URL, {"sort": "quantity; drop table"}))
    assert by_name == [c.tile_a.pk, c.porcelain_a.pk, c.paint_a.pk]  # بلاط، بورسلين، دهان


def test_an_htmx_filter_request_gets_only_the_list(personas, catalogue, login):
    response = login(personas.owner).get(URL, {"low": "1"}, headers={"HX-Request": "true"})
    html = response.content.decode()
    assert "<html" not in html and html.lstrip().startswith('<div id="stock-list"')
    assert _rows(response) == [catalogue.porcelain_a.pk]


def test_stock_action_buttons_only_for_those_who_may_move_stock(personas, catalogue, login):
    sales = login(personas.owner).get(URL).content.decode()
    keeper = login(personas.colleague).get(URL).content.decode()
    assert reverse("inventory:receive") not in sales
    assert f"{reverse('inventory:issue')}?product={catalogue.tile.pk}&amp;warehouse=" in keeper
    assert reverse("inventory:adjust") in keeper


def test_pages_when_there_are_more_levels_than_fit(world, personas, keeper, login):
    for n in range(55):
        stock(ProductFactory(sku=f"P-{n:03d}", name=f"منتج {n:03d}"), world.warehouse_a, 1, actor=keeper)
    client = login(personas.owner)
    first, second = client.get(URL), client.get(URL, {"page": 2})
    assert len(_rows(first)) == 50 and len(_rows(second)) == 5
    assert not set(_rows(first)) & set(_rows(second))


def test_query_count_does_not_grow_with_rows(
    world, personas, keeper, login, count_queries, django_assert_max_num_queries
):
    client = login(personas.owner)
    for n in range(2):
        stock(ProductFactory(reorder_level=Decimal("5")), world.warehouse_a, 1 + n * 10, actor=keeper)
    few = count_queries(client, URL)
    for n in range(30):
        stock(ProductFactory(reorder_level=Decimal("5")), world.warehouse_a, n + 1, actor=keeper)
    many = count_queries(client, URL)
    assert many == few
    with django_assert_max_num_queries(10):
        assert client.get(URL, {"low": "1", "q": "منتج"}).status_code == 200
