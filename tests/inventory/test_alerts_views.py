"""The stock alerts page (/inventory/alerts/) and the dashboard's alerts panel: who may see them,
what they list, the empty state, the live wiring and a query budget."""

from __future__ import annotations

import re
from decimal import Decimal

import pytest
from django.urls import reverse

from crm_core.accounts.models import Role
from crm_core.inventory.models import StockLevel
from crm_core.inventory.services import stock_issue, stock_receive
from tests.factories import ProductFactory, stock

URL = reverse("inventory:alerts")
PANEL = reverse("inventory:alerts_panel")
DASHBOARD = reverse("dashboard")


def _alert_rows(html: str) -> list[int]:
    """Level ids of the alerts page's rows, in the order shown."""
    return [int(pk) for pk in re.findall(r'<tr id="stock-alert-(\d+)"', html)]


def _panel_rows(html: str) -> list[int]:
    return [int(pk) for pk in re.findall(r'<tr id="panel-alert-(\d+)"', html)]


def _row(html: str, level: StockLevel) -> str:
    match = re.search(rf'<tr id="stock-alert-{level.pk}".*?</tr>', html, re.S)
    assert match, f"no alert row for level {level.pk}"
    return match.group(0)


def _is_hidden(html: str, marker: str) -> bool:
    match = re.search(rf"<div[^>]*{marker}[^>]*>", html)
    assert match, f"no {marker} element"
    return " hidden" in match.group(0)


@pytest.fixture
def low_b(world, catalogue):
    """Branch B's tile falls below its reorder level of 10."""
    stock_issue(actor=catalogue.keeper_b, product=catalogue.tile, warehouse=world.warehouse_b, quantity=25)
    return StockLevel.objects.get(product=catalogue.tile, warehouse=world.warehouse_b)


def test_the_address():
    assert URL == "/inventory/alerts/"


@pytest.mark.parametrize("role", [Role.ADMIN, Role.MANAGER, Role.STOREKEEPER])
def test_the_roles_that_follow_alerts_may_open_it(world, login, role):
    assert login(world.user(role)).get(URL).status_code == 200


@pytest.mark.parametrize("role", [Role.SALES, Role.DISPATCHER, Role.ACCOUNTANT, Role.INSPECTOR])
def test_other_roles_are_refused(world, login, role):
    assert login(world.user(role)).get(URL).status_code == 403


@pytest.mark.parametrize(("role", "status"), [(Role.SALES, 200), (Role.DISPATCHER, 403), (Role.INSPECTOR, 403)])
def test_the_panel_is_for_whoever_may_see_stock_levels(world, login, role, status):
    assert login(world.user(role)).get(PANEL).status_code == status


def test_anonymous_must_sign_in(client, db):
    response = client.get(URL)
    assert response.status_code == 302 and reverse("accounts:login") in response["Location"]


def test_a_storekeeper_sees_the_low_levels_of_their_branch_only(world, keeper, catalogue, low_b, login):
    html = login(keeper).get(URL).content.decode()
    assert _alert_rows(html) == [catalogue.porcelain_a.pk]
    row = _row(html, catalogue.porcelain_a)
    assert catalogue.porcelain.name in row and "POR-002" in row and world.warehouse_a.name in row
    # 5 against a reorder level of 20: 15 short, with a link to receive into that warehouse.
    assert re.search(r'data-testid="alert-quantity">5<', row)
    assert re.search(r'data-testid="alert-shortfall">15<', row)
    receive = reverse("inventory:receive") + f"?product={catalogue.porcelain.pk}&amp;warehouse={world.warehouse_a.pk}"
    assert receive in row
    assert "1 item is below its reorder level." in html
    assert _is_hidden(html, "data-alerts-empty")

    outsider = login(catalogue.keeper_b).get(URL).content.decode()
    assert _alert_rows(outsider) == [low_b.pk]


def test_an_hq_manager_sees_every_branch_with_the_branch_named(world, catalogue, low_b, login):
    hq = world.user(Role.MANAGER, branch=None, all_branches=True)
    html = login(hq).get(URL).content.decode()
    assert set(_alert_rows(html)) == {catalogue.porcelain_a.pk, low_b.pk}
    assert world.branch_b.name in _row(html, low_b)
    assert "2 items are below their reorder level." in html


def test_rows_are_in_sort_key_order(world, keeper, login):
    names = ["مسامير", "Bolts", "أسلاك", "bolts"]
    for name in names:
        stock(ProductFactory(name=name, reorder_level=Decimal("10")), world.warehouse_a, 1, actor=keeper)
    html = login(keeper).get(URL).content.decode()
    keys = re.findall(r'<tr id="stock-alert-\d+"[^>]*data-sort-key="([^"]*)"', html)
    assert len(keys) == 4
    # The browser inserts live rows comparing these keys as plain strings: the page agrees.
    assert keys == sorted(keys)
    assert [key.split("|")[0] for key in keys] == sorted(names)


def test_a_level_back_at_its_reorder_level_leaves_the_list(world, keeper, catalogue, login):
    stock_receive(actor=keeper, product=catalogue.porcelain, warehouse=world.warehouse_a, quantity=15)
    html = login(keeper).get(URL).content.decode()
    assert _alert_rows(html) == []


def test_the_empty_state_shows_when_nothing_is_low(world, keeper, login):
    ProductFactory()
    html = login(keeper).get(URL).content.decode()
    assert "No stock alerts" in html
    assert not _is_hidden(html, "data-alerts-empty")
    assert _is_hidden(html, "data-alerts-table")
    assert "Nothing is below its reorder level." in html
    # The table is there all the same (hidden), for the first live row to go into.
    assert 'id="stock-alert-rows"' in html


def test_the_page_follows_the_alert_stream_and_refetches_on_resync(keeper, catalogue, login):
    html = login(keeper).get(URL).content.decode()
    assert 'data-live-topic="stock.alerts"' in html and 'data-live-topic="stock.board"' in html
    assert re.search(r'data-live-since="\d+"', html)
    assert 'hx-trigger="crm:resync from:body"' in html
    assert "js/stock_alerts.js" in html
    assert 'href="/inventory/alerts/" aria-current="page"' in html

    partial = login(keeper).get(URL, headers={"HX-Request": "true"}).content.decode()
    assert partial.lstrip().startswith('<div id="stock-alerts"')
    assert "<html" not in partial
    assert _alert_rows(partial) == [catalogue.porcelain_a.pk]


def test_the_tab_shows_only_for_roles_that_follow_alerts(personas, catalogue, login):
    stock_page = reverse("inventory:stock")
    assert 'href="/inventory/alerts/"' in login(personas.colleague).get(stock_page).content.decode()
    assert 'href="/inventory/alerts/"' not in login(personas.owner).get(stock_page).content.decode()


def test_arabic_page(keeper, catalogue, login):
    html = login(keeper, language="ar").get(URL).content.decode()
    assert 'lang="ar"' in html and 'dir="rtl"' in html
    assert _alert_rows(html) == [catalogue.porcelain_a.pk]
    assert "Stock alerts" not in html


def test_query_count_does_not_grow_with_rows(world, keeper, login, count_queries, django_assert_max_num_queries):
    client = login(keeper)
    for n in range(2):
        stock(ProductFactory(reorder_level=Decimal("50")), world.warehouse_a, n + 1, actor=keeper)
    few = count_queries(client, URL)
    for n in range(25):
        stock(ProductFactory(reorder_level=Decimal("50")), world.warehouse_a, n + 1, actor=keeper)
    many = count_queries(client, URL)
    assert many == few
    with django_assert_max_num_queries(8):
        assert client.get(URL).status_code == 200


# --- The dashboard's panel -----------------------------------------------------------------------


def test_the_dashboard_panel_is_live_for_a_manager(world, manager, catalogue, login):
    html = login(manager).get(DASHBOARD).content.decode()
    assert 'id="stock-alerts-panel"' in html
    panel = html[html.index('id="stock-alerts-panel"') :]
    assert 'data-live-topic="stock.alerts"' in panel
    assert f'hx-get="{PANEL}"' in panel
    assert _panel_rows(html) == [catalogue.porcelain_a.pk]
    assert re.search(r'data-testid="stock-alerts-count">1<', html)
    assert f'href="{URL}"' in panel
    assert "js/stock_alerts.js" in html


def test_a_salesperson_sees_a_plain_panel_without_the_alert_stream(personas, catalogue, login):
    html = login(personas.owner).get(DASHBOARD).content.decode()
    assert _panel_rows(html) == [catalogue.porcelain_a.pk]
    assert 'data-live-topic="stock.alerts"' not in html
    assert f'href="{URL}"' not in html


def test_an_inspector_has_no_panel(world, login):
    html = login(world.user(Role.INSPECTOR)).get(DASHBOARD).content.decode()
    assert 'id="stock-alerts-panel"' not in html


def test_the_panel_shows_a_few_and_counts_them_all(world, keeper, manager, login):
    for n in range(11):
        stock(ProductFactory(reorder_level=Decimal("50")), world.warehouse_a, n + 1, actor=keeper)
    html = login(manager).get(PANEL).content.decode()
    assert len(_panel_rows(html)) == 8
    assert re.search(r'data-testid="stock-alerts-count">11<', html)


def test_the_panel_refetched_after_a_resync(world, manager, keeper, catalogue, login):
    stock_receive(actor=keeper, product=catalogue.porcelain, warehouse=world.warehouse_a, quantity=100)
    html = login(manager).get(PANEL, headers={"HX-Request": "true"}).content.decode()
    assert html.lstrip().startswith('<div class="col-lg-7" id="stock-alerts-panel"')
    assert _panel_rows(html) == []
    assert "Every item is above its reorder level" in html
    assert re.search(r'class="badge rounded-pill text-bg-danger d-none" data-testid="stock-alerts-count">0<', html)


# --- Stock levels page and product page: rows the stream can replace ------------------------------


def test_stock_rows_have_stable_ids_and_the_page_follows_the_stock_board(personas, catalogue, login):
    html = login(personas.owner).get(reverse("inventory:stock")).content.decode()
    assert f'<tr id="stock-level-{catalogue.porcelain_a.pk}" class="table-danger"' in html
    assert 'data-live-topic="stock.board"' in html
    assert 'hx-get="/inventory/"' in html


def test_a_role_that_cannot_follow_the_stock_board_declares_nothing(world, catalogue, login):
    accountant = world.user(Role.ACCOUNTANT)
    html = login(accountant).get(reverse("inventory:stock")).content.decode()
    assert f'id="stock-level-{catalogue.porcelain_a.pk}"' in html
    assert "data-live-topic" not in html


def test_product_levels_are_live_and_refetch_as_a_partial(personas, catalogue, login):
    url = reverse("inventory:product_detail", args=[catalogue.porcelain.pk])
    html = login(personas.owner).get(url).content.decode()
    assert f'<tr id="product-level-{catalogue.porcelain_a.pk}" class="table-danger"' in html
    assert 'data-live-topic="stock.board"' in html
    partial = login(personas.owner).get(url, headers={"HX-Request": "true"}).content.decode()
    assert partial.lstrip().startswith('<div class="col-lg-8" id="product-levels"')
    assert "<html" not in partial
