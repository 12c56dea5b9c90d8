"""Categories (create, move, refuse cycles) and warehouses (list, create, edit within scope)."""

from __future__ import annotations

import re

import pytest
from django.urls import reverse

from crm_core.accounts.models import Role
from crm_core.inventory.models import Category, Warehouse
from tests.factories import CategoryFactory, WarehouseFactory
from tests.inventory.helpers import db_state

CATEGORIES = reverse("inventory:categories")
CATEGORY_CREATE = reverse("inventory:category_create")
WAREHOUSES = reverse("inventory:warehouses")
WAREHOUSE_CREATE = reverse("inventory:warehouse_create")


def _category_edit(category: Category) -> str:
    return reverse("inventory:category_edit", args=[category.pk])


def _warehouse_edit(warehouse: Warehouse) -> str:
    return reverse("inventory:warehouse_edit", args=[warehouse.pk])


# --- Categories ----------------------------------------------------------------------------------


def test_categories_page_shows_the_tree_in_order(personas, catalogue, login):
    html = login(personas.colleague).get(CATEGORIES).content.decode()
    order = [int(pk) for pk in re.findall(r'<tr data-category="(\d+)"', html)]
    c = catalogue
    assert order == [c.flooring.pk, c.porcelain_cat.pk, c.ceramic.pk, c.paints.pk]
    assert _category_edit(c.ceramic) in html and f"{CATEGORY_CREATE}?parent={c.flooring.pk}" in html


def test_sales_see_categories_but_no_buttons_to_change_them(personas, catalogue, login):
    client = login(personas.owner)
    html = client.get(CATEGORIES).content.decode()
    assert CATEGORY_CREATE not in html and _category_edit(catalogue.ceramic) not in html
    assert client.get(CATEGORY_CREATE).status_code == 403
    assert client.post(_category_edit(catalogue.ceramic), {"name": "x", "parent": ""}).status_code == 403


def test_a_storekeeper_adds_a_sub_category(keeper, catalogue, login):
    client = login(keeper)
    form = client.get(CATEGORY_CREATE, {"parent": catalogue.flooring.pk}).context["form"]
    assert str(form["parent"].value()) == str(catalogue.flooring.pk)
    response = client.post(CATEGORY_CREATE, {"name": " رخام ", "parent": catalogue.flooring.pk})
    assert response.status_code == 302 and response["Location"] == CATEGORIES
    assert Category.objects.get(name="رخام").parent == catalogue.flooring


def test_the_same_name_twice_under_one_parent_is_refused(keeper, catalogue, login):
    client = login(keeper)
    before = db_state()
    response = client.post(CATEGORY_CREATE, {"name": "سيراميك", "parent": catalogue.flooring.pk})
    assert response.status_code == 200
    assert "This category already exists here." in response.context["form"].errors["name"]
    assert db_state() == before


def test_moving_a_category_under_another(keeper, catalogue, login):
    response = login(keeper).post(
        _category_edit(catalogue.paints), {"name": "دهانات", "parent": catalogue.flooring.pk, "is_active": "on"}
    )
    assert response.status_code == 302
    catalogue.paints.refresh_from_db()
    assert catalogue.paints.parent == catalogue.flooring


@pytest.mark.parametrize("target", ["flooring", "ceramic"], ids=["itself", "its-own-child"])
def test_a_move_that_makes_a_cycle_is_refused_with_the_services_message(keeper, catalogue, login, target):
    client = login(keeper)
    before = db_state()
    response = client.post(
        _category_edit(catalogue.flooring),
        {"name": "أرضيات", "parent": getattr(catalogue, target).pk, "is_active": "on"},
    )
    assert response.status_code == 200
    assert response.context["form"].errors["parent"] == ["A category cannot sit inside itself."]
    assert "A category cannot sit inside itself." in response.content.decode()
    assert db_state() == before


def test_an_unknown_category_is_a_404(keeper, login):
    assert login(keeper).get(reverse("inventory:category_edit", args=[424242])).status_code == 404


def test_categories_page_query_count_does_not_grow(keeper, catalogue, login, count_queries):
    client = login(keeper)
    few = count_queries(client, CATEGORIES)
    for n in range(15):
        CategoryFactory(name=f"فرعي {n}", parent=catalogue.ceramic)
    assert count_queries(client, CATEGORIES) == few


# --- Warehouses ----------------------------------------------------------------------------------


def _warehouses(response) -> list[int]:
    return [int(pk) for pk in re.findall(r'data-warehouse="(\d+)"', response.content.decode())]


def test_each_user_sees_their_branchs_warehouses(world, personas, login):
    assert _warehouses(login(personas.owner).get(WAREHOUSES)) == [world.warehouse_a.pk]
    assert _warehouses(login(personas.outsider).get(WAREHOUSES)) == [world.warehouse_b.pk]
    hq = world.user(Role.MANAGER, all_branches=True)
    assert set(_warehouses(login(hq).get(WAREHOUSES))) == {world.warehouse_a.pk, world.warehouse_b.pk}


def test_a_manager_adds_a_warehouse_to_their_branch(world, manager, login):
    client = login(manager)
    form = client.get(WAREHOUSE_CREATE).context["form"]
    assert list(form.fields["branch"].queryset) == [world.branch_a]
    response = client.post(
        WAREHOUSE_CREATE, {"code": "cai-w9", "name": "مخزن التجمع", "branch": world.branch_a.pk, "address": ""}
    )
    assert response.status_code == 302
    created = Warehouse.objects.get(code="CAI-W9")
    assert created.branch == world.branch_a and created.is_default is False


def test_another_branch_posted_as_an_id_is_a_form_error(world, manager, login):
    client = login(manager)
    before = db_state()
    response = client.post(
        WAREHOUSE_CREATE, {"code": "ALX-W9", "name": "مخزن دخيل", "branch": world.branch_b.pk, "address": ""}
    )
    assert response.status_code == 200 and "branch" in response.context["form"].errors
    assert db_state() == before


def test_an_all_branches_manager_may_choose_any_branch(world, login):
    hq = world.user(Role.MANAGER, all_branches=True)
    response = login(hq).post(
        WAREHOUSE_CREATE, {"code": "ALX-W2", "name": "مخزن العامرية", "branch": world.branch_b.pk, "address": ""}
    )
    assert response.status_code == 302
    assert Warehouse.objects.get(code="ALX-W2").branch == world.branch_b


def test_storekeepers_cannot_add_or_edit_warehouses(world, keeper, login):
    client = login(keeper)
    html = client.get(WAREHOUSES).content.decode()
    assert WAREHOUSE_CREATE not in html and _warehouse_edit(world.warehouse_a) not in html
    assert client.get(WAREHOUSE_CREATE).status_code == 403
    assert client.get(_warehouse_edit(world.warehouse_a)).status_code == 403


def test_another_branchs_warehouse_is_a_404_even_for_a_manager(world, manager, login):
    client = login(manager)
    before = db_state()
    assert client.get(_warehouse_edit(world.warehouse_b)).status_code == 404
    assert client.post(_warehouse_edit(world.warehouse_b), {"name": "x", "address": ""}).status_code == 404
    assert db_state() == before


def test_editing_a_warehouse(world, manager, login):
    second = WarehouseFactory(code="CAI-W2", name="مخزن قديم", branch=world.branch_a, is_default=False)
    response = login(manager).post(
        _warehouse_edit(second), {"name": "مخزن العبور", "address": "العبور", "is_active": "on"}
    )
    assert response.status_code == 302
    second.refresh_from_db()
    assert (second.name, second.address, second.is_active) == ("مخزن العبور", "العبور", True)


def test_closing_the_default_warehouse_is_refused_with_the_services_message(world, manager, login):
    client = login(manager)
    html = client.get(_warehouse_edit(world.warehouse_a)).content.decode()
    assert "data-confirm-uncheck" in html  # closing asks first
    before = db_state()
    response = client.post(
        _warehouse_edit(world.warehouse_a), {"name": world.warehouse_a.name, "address": "", "is_default": "on"}
    )
    assert response.status_code == 200
    assert response.context["form"].errors["is_active"] == ["The branch's default warehouse cannot be deactivated."]
    assert db_state() == before


def test_warehouse_list_query_count_does_not_grow(world, manager, login, count_queries):
    client = login(manager)
    few = count_queries(client, WAREHOUSES)
    for n in range(12):
        WarehouseFactory(code=f"CAI-X{n}", branch=world.branch_a, is_default=False)
    assert count_queries(client, WAREHOUSES) == few
