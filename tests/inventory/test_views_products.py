"""Products: the list with its category tree, create and edit (with the version check), the
detail page with levels and movements, and the picker's lookup."""

from __future__ import annotations

import re
from decimal import Decimal

import pytest
from django.urls import reverse

from crm_core.accounts.models import ActivityLog, Role
from crm_core.inventory.models import Product
from crm_core.inventory.services import product_create, product_update, stock_issue
from tests.factories import stock
from tests.inventory.helpers import db_state

LIST = reverse("inventory:products")
CREATE = reverse("inventory:product_create")
LOOKUP = reverse("inventory:product_lookup")


def _products(response) -> list[int]:
    return [int(pk) for pk in re.findall(r'data-product="(\d+)"', response.content.decode())]


def _detail(product: Product) -> str:
    return reverse("inventory:product_detail", args=[product.pk])


def _edit(product: Product) -> str:
    return reverse("inventory:product_edit", args=[product.pk])


def _form(**overrides) -> dict:
    data = {
        "sku": "grout-5",
        "name": "  روبة رمادي ٥ كجم ",
        "category": "",
        "unit": "kg",
        "price": "55.50",
        "cost": "30",
        "reorder_level": "12.5",
        "description": "",
    }
    data.update(overrides)
    return data


# --- List and category tree ----------------------------------------------------------------------


def test_the_category_tree_lists_every_category_parents_before_children(personas, catalogue, login):
    html = login(personas.owner).get(LIST).content.decode()
    order = [int(pk) for pk in re.findall(r'data-category="(\d+)"', html)]
    c = catalogue
    assert order == [c.flooring.pk, c.porcelain_cat.pk, c.ceramic.pk, c.paints.pk]
    assert "tree-depth-1" in re.search(rf'<a[^>]*data-category="{c.ceramic.pk}"[^>]*>', html).group(0)


def test_choosing_a_category_lists_its_products_and_those_of_its_sub_categories(personas, catalogue, login):
    client = login(personas.owner)
    c = catalogue
    response = client.get(LIST, {"category": c.flooring.pk})
    assert set(_products(response)) == {c.tile.pk, c.porcelain.pk}
    active = re.search(rf'<a[^>]*data-category="{c.flooring.pk}"[^>]*>', response.content.decode()).group(0)
    assert "active" in active and 'aria-current="true"' in active
    assert _products(client.get(LIST, {"category": c.ceramic.pk})) == [c.tile.pk]
    assert set(_products(client.get(LIST))) == {c.tile.pk, c.porcelain.pk, c.paint.pk, c.cement.pk}


def test_search_keeps_the_chosen_category_and_inactive_products_are_hidden_by_default(
    personas, keeper, catalogue, login
):
    product_update(actor=keeper, product=catalogue.paint, expected_version=None, is_active=False)
    client = login(personas.owner)
    assert catalogue.paint.pk not in _products(client.get(LIST))
    assert _products(client.get(LIST, {"status": "inactive"})) == [catalogue.paint.pk]
    assert _products(client.get(LIST, {"q": "ابيض", "category": catalogue.flooring.pk})) == [catalogue.tile.pk]


def test_htmx_search_renders_only_the_list(personas, catalogue, login):
    response = login(personas.owner).get(LIST, {"q": "CEM"}, headers={"HX-Request": "true"})
    html = response.content.decode()
    assert html.lstrip().startswith('<div id="product-list">') and "<html" not in html
    assert _products(response) == [catalogue.cement.pk]


def test_buttons_follow_permissions(personas, catalogue, login):
    sales = login(personas.owner).get(LIST).content.decode()
    keeper = login(personas.colleague).get(LIST).content.decode()
    assert CREATE not in sales and _edit(catalogue.tile) not in sales
    assert CREATE in keeper and _edit(catalogue.tile) in keeper


def test_list_query_count_does_not_grow(
    keeper, catalogue, personas, login, count_queries, django_assert_max_num_queries
):
    client = login(personas.owner)
    url = f"{LIST}?category={catalogue.flooring.pk}"
    few = count_queries(client, url)
    for n in range(25):
        product_create(actor=keeper, sku=f"T-{n}", name=f"بلاط {n}", price=Decimal("1"), category=catalogue.ceramic)
    assert count_queries(client, url) == few
    with django_assert_max_num_queries(10):
        client.get(url)


# --- Create ------------------------------------------------------------------------------------


def test_a_storekeeper_adds_a_product_through_the_service(keeper, login, catalogue):
    response = login(keeper).post(CREATE, _form(category=catalogue.ceramic.pk))
    product = Product.objects.get(sku="GROUT-5")
    assert response.status_code == 302 and response["Location"] == _detail(product)
    assert product.name == "روبة رمادي ٥ كجم" and product.category == catalogue.ceramic
    assert product.reorder_level == Decimal("12.5") and product.search_text
    assert ActivityLog.objects.filter(action="product.create", target_id=str(product.pk)).exists()


def test_sales_may_not_add_products(personas, login):
    client = login(personas.owner)
    assert client.get(CREATE).status_code == 403
    assert client.post(CREATE, _form()).status_code == 403
    assert not Product.objects.filter(sku="GROUT-5").exists()


@pytest.mark.parametrize(
    ("overrides", "field", "message"),
    [
        ({"sku": "cer-001"}, "sku", "A product with this SKU already exists."),
        ({"price": "-1"}, "price", "greater than or equal to 0"),
        ({"name": ""}, "name", "This field is required."),
        ({"reorder_level": "1.2345"}, "reorder_level", "decimal places"),
    ],
    ids=["duplicate-sku", "negative-price", "no-name", "too-precise"],
)
def test_bad_input_shows_the_error_and_writes_nothing(keeper, catalogue, login, overrides, field, message):
    client = login(keeper)
    before = db_state()
    response = client.post(CREATE, _form(**overrides))
    assert response.status_code == 200
    assert message in response.content.decode()
    assert field in response.context["form"].errors
    assert db_state() == before


def test_the_form_carries_html_constraints(keeper, login):
    html = login(keeper).get(CREATE).content.decode()
    price = re.search(r'<input[^>]*name="price"[^>]*>', html).group(0)
    assert 'type="number"' in price and 'min="0"' in price and 'step="0.01"' in price and "required" in price
    assert re.search(r'<input[^>]*name="sku"[^>]*maxlength="40"', html)


# --- Edit and the version check ------------------------------------------------------------------


def test_edit_saves_with_the_version_it_was_loaded_with(keeper, catalogue, login):
    client = login(keeper)
    form = client.get(_edit(catalogue.tile)).context["form"]
    assert form.initial["version"] == catalogue.tile.version
    data = {**_form(), "name": "بلاط أبيض لامع", "category": catalogue.ceramic.pk, "is_active": "on"}
    data["version"] = form.initial["version"]
    response = client.post(_edit(catalogue.tile), data)
    assert response.status_code == 302
    catalogue.tile.refresh_from_db()
    assert catalogue.tile.name == "بلاط أبيض لامع" and catalogue.tile.version == 2
    assert catalogue.tile.sku == "CER-001"  # the SKU cannot be changed


def test_a_stale_save_is_refused_and_shows_who_changed_what(world, keeper, catalogue, login):
    tile = catalogue.tile
    client = login(keeper)
    loaded = client.get(_edit(tile)).context["form"].initial["version"]
    colleague = world.user(Role.MANAGER, first_name="سعاد", last_name="حسن")
    product_update(actor=colleague, product=tile, expected_version=loaded, price=Decimal("175.00"))
    before = db_state()

    data = {**_form(), "name": "اسمي أنا", "category": catalogue.ceramic.pk, "is_active": "on", "version": loaded}
    response = client.post(_edit(tile), data)

    assert response.status_code == 200
    assert db_state() == before
    html = response.content.decode()
    conflict = re.search(r'data-testid="edit-conflict".*?</div>', html, re.S).group(0)
    assert "سعاد حسن" in conflict and "Price" in conflict and "175" in conflict
    assert "changed this record while you were editing it" in html
    # The user's input is kept; the form now carries the current version, so a deliberate
    # second save (with the other change in view) goes through.
    form = response.context["form"]
    assert form["name"].value() == "اسمي أنا" and int(form["version"].value()) == loaded + 1
    assert client.post(_edit(tile), {**data, "version": form["version"].value()}).status_code == 302
    tile.refresh_from_db()
    assert tile.name == "اسمي أنا"


def test_editing_needs_the_permission(personas, catalogue, login):
    client = login(personas.owner)
    assert client.get(_edit(catalogue.tile)).status_code == 403


def test_an_unknown_product_is_a_404(personas, login):
    client = login(personas.owner)
    assert client.get(reverse("inventory:product_detail", args=[999999])).status_code == 404


# --- Detail ------------------------------------------------------------------------------------


def test_detail_shows_levels_and_movements_of_the_users_warehouses_only(world, personas, catalogue, login):
    response = login(personas.owner).get(_detail(catalogue.tile))
    html = response.content.decode()
    levels = [int(pk) for pk in re.findall(r'data-level="(\d+)"', html)]
    assert levels == [catalogue.tile_a.pk]
    movements = response.context["movements"]
    assert movements and {m.warehouse_id for m in movements} == {world.warehouse_a.pk}
    assert world.warehouse_b.name not in html

    outsider = login(personas.outsider).get(_detail(catalogue.tile))
    assert [level.pk for level in outsider.context["levels"]] == [catalogue.tile_b.pk]


def test_detail_marks_a_low_level(personas, catalogue, login):
    html = login(personas.owner).get(_detail(catalogue.porcelain)).content.decode()
    row = re.search(rf'<tr[^>]*data-level="{catalogue.porcelain_a.pk}"[^>]*>.*?</tr>', html, re.S).group(0)
    assert "table-danger" in row and "Low stock" in row


def test_a_role_without_stock_access_sees_the_product_but_not_its_stock(world, catalogue, login):
    response = login(world.user(Role.DISPATCHER)).get(_detail(catalogue.tile))
    assert response.status_code == 200
    assert response.context["levels"] is None and response.context["movements"] is None
    assert 'data-testid="product-levels"' not in response.content.decode()


def test_detail_query_count_does_not_grow(world, keeper, catalogue, personas, login, count_queries):
    client = login(personas.owner)
    url = _detail(catalogue.tile)
    few = count_queries(client, url)
    for _n in range(20):
        stock(catalogue.tile, world.warehouse_a, 1, actor=keeper)
        stock_issue(actor=keeper, product=catalogue.tile, warehouse=world.warehouse_a, quantity=Decimal("1"))
    assert count_queries(client, url) == few <= 10


# --- Lookup for the picker -----------------------------------------------------------------------


def test_lookup_suggests_active_products_by_name_or_sku(keeper, personas, catalogue, login):
    product_update(actor=keeper, product=catalogue.paint, expected_version=None, is_active=False)
    client = login(personas.owner)
    html = client.get(LOOKUP, {"product_search": "أبيض"}, headers={"HX-Request": "true"}).content.decode()
    picked = [int(pk) for pk in re.findall(r'data-pick-product="(\d+)"', html)]
    assert set(picked) == {catalogue.tile.pk, catalogue.cement.pk}  # the paint is inactive
    assert "<html" not in html
    sku = client.get(LOOKUP, {"product_search": "por-0"}).content.decode()
    assert re.findall(r'data-pick-product="(\d+)"', sku) == [str(catalogue.porcelain.pk)]
    nothing = client.get(LOOKUP, {"product_search": "zzz"}).content.decode()
    assert 'data-testid="lookup-empty"' in nothing and "data-pick-product" not in nothing
    assert "data-pick-product" not in client.get(LOOKUP, {"product_search": "  "}).content.decode()


def test_lookup_needs_catalogue_access(world, login, client):
    assert client.get(LOOKUP, {"product_search": "x"}).status_code == 302
    nobody = world.user(Role.SALES)
    nobody.groups.clear()
    assert login(nobody).get(LOOKUP, {"product_search": "x"}).status_code == 403
