"""Products, categories and warehouses."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.contrib.auth.models import AnonymousUser
from django.core.exceptions import PermissionDenied, ValidationError

from crm_core.accounts.models import ActivityLog, Branch, Role
from crm_core.common.exceptions import StaleVersionError
from crm_core.inventory.models import Category, Product, Warehouse
from crm_core.inventory.services import (
    category_create,
    category_update,
    product_create,
    product_update,
    warehouse_create,
    warehouse_update,
)
from tests.factories import ProductFactory, WarehouseFactory

# --- products --------------------------------------------------------------------------------


def test_product_create(keeper):
    flooring = category_create(actor=keeper, name="أرضيات")
    product = product_create(
        actor=keeper,
        sku="  tile-60 ",
        name=" بلاط أرضيات ٦٠×٦٠ ",
        price=Decimal("150.00"),
        cost=Decimal("95.50"),
        reorder_level=Decimal("20"),
        category=flooring,
        unit="m2",
    )
    product.refresh_from_db()
    assert (product.sku, product.name, product.unit, product.category) == (
        "TILE-60",
        "بلاط أرضيات ٦٠×٦٠",
        "m2",
        flooring,
    )
    assert (product.price, product.cost, product.reorder_level, product.version) == (
        Decimal("150.00"),
        Decimal("95.50"),
        Decimal("20"),
        1,
    )
    # Found as people type it: without hamza, with Latin digits, in lower case.
    assert "بلاط ارضيات 60×60" in product.search_text
    assert "tile-60" in product.search_text
    log = ActivityLog.objects.get(action="product.create")
    assert (log.actor, log.target_id) == (keeper, str(product.pk))
    assert log.changes["price"] == [None, "150.00"]


def test_a_duplicate_sku_is_refused_whatever_its_case(keeper, assert_refused):
    product_create(actor=keeper, sku="GLUE-1", name="لاصق", price=Decimal("10"))
    with assert_refused(ValidationError) as info:
        product_create(actor=keeper, sku=" glue-1", name="لاصق آخر", price=Decimal("12"))
    assert "sku" in info.value.message_dict


@pytest.mark.parametrize(
    ("values", "field"),
    [
        ({"price": Decimal("-0.01")}, "price"),
        ({"cost": Decimal("-1")}, "cost"),
        ({"reorder_level": Decimal("-1")}, "reorder_level"),
        ({"name": "   "}, "name"),
        ({"sku": "  "}, "sku"),
        ({"unit": "barrel"}, "unit"),
    ],
)
def test_bad_products_are_refused(keeper, values, field, assert_refused):
    args = {"sku": "NEW-1", "name": "منتج", "price": Decimal("10"), **values}
    with assert_refused(ValidationError) as info:
        product_create(actor=keeper, **args)
    assert field in info.value.message_dict


def test_sales_cannot_create_products(personas, assert_refused):
    with assert_refused(PermissionDenied):
        product_create(actor=personas.owner, sku="NEW-1", name="منتج", price=Decimal("10"))


def test_product_update(keeper, published, django_capture_on_commit_callbacks):
    product = ProductFactory(name="لاصق", price=Decimal("10.00"))
    updated = product_update(
        actor=keeper, product=product, expected_version=1, name="لاصق سيراميك", price=Decimal("12.50")
    )
    product.refresh_from_db()
    assert (product.name, product.price, product.version) == ("لاصق سيراميك", Decimal("12.50"), 2)
    assert updated.version == 2
    assert "لاصق سيراميك" in product.search_text
    log = ActivityLog.objects.get(action="product.update")
    assert log.changes == {"name": ["لاصق", "لاصق سيراميك"], "price": ["10.00", "12.50"]}


def test_product_update_without_a_change_writes_nothing(keeper):
    product = ProductFactory(price=Decimal("10.00"))
    product_update(actor=keeper, product=product, expected_version=1, price=Decimal("10.00"))
    product.refresh_from_db()
    assert product.version == 1
    assert not ActivityLog.objects.filter(action="product.update").exists()


def test_product_update_with_a_stale_version_is_refused(world, keeper, assert_refused):
    product = ProductFactory(price=Decimal("10.00"))
    other = world.user(Role.STOREKEEPER, first_name="خالد", last_name="سعيد")
    product_update(actor=other, product=product, expected_version=1, price=Decimal("11"))
    with assert_refused(StaleVersionError) as info:
        product_update(actor=keeper, product=product, expected_version=1, price=Decimal("9"))
    assert info.value.changed_by == "خالد سعيد"
    product.refresh_from_db()
    assert product.price == Decimal("11.00")


@pytest.mark.parametrize(
    ("values", "field"),
    [({"price": Decimal("-1")}, "price"), ({"cost": Decimal("-5")}, "cost"), ({"name": ""}, "name")],
)
def test_product_update_refuses_bad_values(keeper, values, field, assert_refused):
    product = ProductFactory(price=Decimal("10.00"))
    with assert_refused(ValidationError) as info:
        product_update(actor=keeper, product=product, expected_version=1, **values)
    assert field in info.value.message_dict


def test_sales_cannot_update_products(personas, assert_refused):
    product = ProductFactory()
    with assert_refused(PermissionDenied):
        product_update(actor=personas.owner, product=product, expected_version=1, price=Decimal("1"))


# --- categories ------------------------------------------------------------------------------


def test_category_tree(keeper):
    flooring = category_create(actor=keeper, name=" أرضيات ")
    ceramic = category_create(actor=keeper, name="سيراميك", parent=flooring)
    assert (flooring.name, flooring.parent) == ("أرضيات", None)
    assert ceramic.parent == flooring
    # The same name under another parent is another category.
    walls = category_create(actor=keeper, name="حوائط")
    assert category_create(actor=keeper, name="سيراميك", parent=walls).parent == walls
    assert ActivityLog.objects.filter(action="category.create").count() == 4


@pytest.mark.parametrize("name", ["سيراميك", "سيراميك "])
def test_a_duplicate_category_in_the_same_place_is_refused(keeper, name, assert_refused):
    flooring = category_create(actor=keeper, name="أرضيات")
    category_create(actor=keeper, name="سيراميك", parent=flooring)
    with assert_refused(ValidationError) as info:
        category_create(actor=keeper, name=name, parent=flooring)
    assert "name" in info.value.message_dict


def test_a_duplicate_root_category_is_refused(keeper, assert_refused):
    category_create(actor=keeper, name="Paints")
    with assert_refused(ValidationError):
        category_create(actor=keeper, name="paints")


def test_category_update_moves_and_renames(keeper):
    flooring = category_create(actor=keeper, name="أرضيات")
    walls = category_create(actor=keeper, name="حوائط")
    ceramic = category_create(actor=keeper, name="سيراميك", parent=flooring)
    category_update(actor=keeper, category=ceramic, parent=walls, name="سيراميك حوائط")
    ceramic.refresh_from_db()
    assert (ceramic.parent, ceramic.name) == (walls, "سيراميك حوائط")
    log = ActivityLog.objects.get(action="category.update")
    assert log.changes["parent"] == [flooring.pk, walls.pk]


def test_a_category_cannot_be_its_own_parent(keeper, assert_refused):
    flooring = category_create(actor=keeper, name="أرضيات")
    with assert_refused(ValidationError) as info:
        category_update(actor=keeper, category=flooring, parent=flooring)
    assert "parent" in info.value.message_dict


def test_a_category_cannot_move_under_its_own_descendant(keeper, assert_refused):
    flooring = category_create(actor=keeper, name="أرضيات")
    ceramic = category_create(actor=keeper, name="سيراميك", parent=flooring)
    glossy = category_create(actor=keeper, name="لامع", parent=ceramic)
    with assert_refused(ValidationError) as info:
        category_update(actor=keeper, category=flooring, parent=glossy)
    assert "parent" in info.value.message_dict
    flooring.refresh_from_db()
    assert flooring.parent is None


def test_renaming_a_category_onto_a_sibling_is_refused(keeper, assert_refused):
    flooring = category_create(actor=keeper, name="أرضيات")
    category_create(actor=keeper, name="سيراميك", parent=flooring)
    porcelain = category_create(actor=keeper, name="بورسلين", parent=flooring)
    with assert_refused(ValidationError) as info:
        category_update(actor=keeper, category=porcelain, name="سيراميك")
    assert "name" in info.value.message_dict


def test_moving_a_category_next_to_its_namesake_is_refused(keeper, assert_refused):
    flooring = category_create(actor=keeper, name="أرضيات")
    walls = category_create(actor=keeper, name="حوائط")
    category_create(actor=keeper, name="سيراميك", parent=flooring)
    wall_ceramic = category_create(actor=keeper, name="سيراميك", parent=walls)
    with assert_refused(ValidationError) as info:
        category_update(actor=keeper, category=wall_ceramic, parent=flooring)
    assert "name" in info.value.message_dict


def test_sales_cannot_manage_categories(personas, assert_refused):
    with assert_refused(PermissionDenied):
        category_create(actor=personas.owner, name="أرضيات")
    category = Category.objects.create(name="حوائط")
    with assert_refused(PermissionDenied):
        category_update(actor=personas.owner, category=category, name="جدران")


# --- warehouses ------------------------------------------------------------------------------


def _defaults(branch: Branch) -> list[str]:
    return list(Warehouse.objects.filter(branch=branch, is_default=True).values_list("code", flat=True))


def test_warehouse_create_in_the_managers_branch(world, manager):
    warehouse = warehouse_create(actor=manager, code=" cai-w3 ", name=" مخزن أكتوبر ", address="المنطقة الصناعية")
    assert (warehouse.code, warehouse.name, warehouse.branch, warehouse.is_default) == (
        "CAI-W3",
        "مخزن أكتوبر",
        world.branch_a,
        False,
    )
    assert _defaults(world.branch_a) == ["CAI-W1"]
    assert ActivityLog.objects.filter(action="warehouse.create", branch=world.branch_a).count() == 1


def test_a_new_default_warehouse_replaces_the_old_default(world, manager):
    warehouse_create(actor=manager, code="CAI-W3", name="مخزن أكتوبر", is_default=True)
    assert _defaults(world.branch_a) == ["CAI-W3"]
    assert _defaults(world.branch_b) == ["ALX-W1"]  # other branches keep theirs


def test_an_hq_manager_creates_a_warehouse_for_any_branch(world):
    hq = world.user(Role.MANAGER, branch=None, all_branches=True)
    warehouse = warehouse_create(actor=hq, code="ALX-W2", name="مخزن العامرية", branch=world.branch_b)
    assert warehouse.branch == world.branch_b


def test_a_manager_cannot_create_a_warehouse_in_another_branch(world, manager, assert_refused):
    with assert_refused(Branch.DoesNotExist):
        warehouse_create(actor=manager, code="ALX-W2", name="مخزن", branch=world.branch_b)


def test_a_duplicate_warehouse_code_is_refused(manager, assert_refused):
    with assert_refused(ValidationError) as info:
        warehouse_create(actor=manager, code="cai-w1", name="نسخة")
    assert "code" in info.value.message_dict


def test_a_storekeeper_cannot_create_warehouses(keeper, assert_refused):
    with assert_refused(PermissionDenied):
        warehouse_create(actor=keeper, code="CAI-W3", name="مخزن")


def test_warehouse_update_moves_the_default(world, manager, second_warehouse):
    warehouse_update(actor=manager, warehouse=second_warehouse, is_default=True, name="مخزن العبور الرئيسي")
    assert _defaults(world.branch_a) == ["CAI-W2"]
    second_warehouse.refresh_from_db()
    assert second_warehouse.name == "مخزن العبور الرئيسي"
    log = ActivityLog.objects.get(action="warehouse.update")
    assert log.changes["is_default"] == [False, True]


def test_the_default_warehouse_cannot_be_closed(world, manager, assert_refused):
    with assert_refused(ValidationError) as info:
        warehouse_update(actor=manager, warehouse=world.warehouse_a, is_active=False)
    assert "is_active" in info.value.message_dict


def test_a_closed_warehouse_cannot_become_the_default(world, manager, second_warehouse, assert_refused):
    warehouse_update(actor=manager, warehouse=second_warehouse, is_active=False)
    with assert_refused(ValidationError):
        warehouse_update(actor=manager, warehouse=second_warehouse, is_default=True)
    assert _defaults(world.branch_a) == ["CAI-W1"]


def test_another_branchs_warehouse_cannot_be_updated(world, manager, assert_refused):
    with assert_refused(Warehouse.DoesNotExist):
        warehouse_update(actor=manager, warehouse=world.warehouse_b, name="لي")


def test_one_default_per_branch_after_several_moves(world, manager):
    extra = [WarehouseFactory(code=f"CAI-X{i}", branch=world.branch_a, is_default=False) for i in range(3)]
    for warehouse in [*extra, world.warehouse_a, extra[1]]:
        warehouse_update(actor=manager, warehouse=warehouse, is_default=True)
        assert _defaults(world.branch_a) == [warehouse.code]


def test_products_are_company_wide(world, keeper):
    product = product_create(actor=keeper, sku="P-1", name="منتج", price=Decimal("1"))
    outsider_keeper = world.user(Role.STOREKEEPER, branch=world.branch_b)
    product_update(actor=outsider_keeper, product=product, expected_version=1, price=Decimal("2"))
    assert Product.objects.get(pk=product.pk).price == Decimal("2.00")


def test_products_are_visible_to_every_active_account_of_every_branch(world):
    """Products are company-wide: both branches see the same catalogue; a deactivated account,
    and nobody signed in, see none of it."""
    products = {ProductFactory().pk, ProductFactory().pk}
    for user in (world.user(Role.SALES), world.user(Role.STOREKEEPER, branch=world.branch_b)):
        assert set(Product.objects.visible_to(user).values_list("pk", flat=True)) == products
    gone = world.user(Role.MANAGER, is_active=False)
    assert not Product.objects.visible_to(gone).exists()
    assert not Product.objects.visible_to(AnonymousUser()).exists()
