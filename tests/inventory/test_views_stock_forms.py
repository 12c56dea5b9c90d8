"""Receive, issue, adjust and transfer through the pages: success changes the level and the
ledger; a refusal shows the service's message and writes nothing; ids outside the user's
scope are form errors."""

from __future__ import annotations

import re
from decimal import Decimal

import pytest
from django.contrib.auth.models import Permission
from django.contrib.messages import get_messages
from django.urls import reverse

from crm_core.accounts.models import Role
from crm_core.inventory.models import StockMovement
from crm_core.inventory.services import product_update
from tests.factories import WarehouseFactory
from tests.inventory.helpers import db_state, level_of

RECEIVE = reverse("inventory:receive")
ISSUE = reverse("inventory:issue")
ADJUST = reverse("inventory:adjust")
TRANSFER = reverse("inventory:transfer")
LEDGER = reverse("inventory:movements")


def _messages(response) -> list[tuple[str, str]]:
    return [(m.level_tag, str(m)) for m in get_messages(response.wsgi_request)]


@pytest.fixture
def second(world):
    return WarehouseFactory(code="CAI-W2", name="مخزن العبور", branch=world.branch_a, is_default=False)


# --- Success -------------------------------------------------------------------------------------


def test_receive_adds_to_the_level_and_the_ledger(world, keeper, catalogue, login):
    response = login(keeper).post(
        RECEIVE,
        {
            "product": catalogue.tile.pk,
            "warehouse": world.warehouse_a.pk,
            "quantity": "12.5",
            "unit_cost": "80",
            "reference": "INV-1001",
            "note": "",
        },
    )
    assert response.status_code == 302 and response["Location"] == f"{LEDGER}?product={catalogue.tile.pk}"
    assert level_of(catalogue.tile, world.warehouse_a) == Decimal("62.5")
    movement = StockMovement.objects.latest("id")
    assert (movement.kind, movement.quantity, movement.balance_after, movement.reference, movement.actor) == (
        "receive",
        Decimal("12.5"),
        Decimal("62.5"),
        "INV-1001",
        keeper,
    )
    assert movement.unit_cost == Decimal("80")
    assert _messages(response) == [
        ("success", f"Received 12.5 Piece of {catalogue.tile.name} into {world.warehouse_a.name}.")
    ]


def test_issue_takes_from_the_level(world, keeper, catalogue, login):
    response = login(keeper).post(
        ISSUE, {"product": catalogue.tile.pk, "warehouse": world.warehouse_a.pk, "quantity": "20", "reference": ""}
    )
    assert response.status_code == 302
    assert level_of(catalogue.tile, world.warehouse_a) == Decimal("30")
    assert StockMovement.objects.latest("id").quantity == Decimal("-20")
    assert [level for level, _text in _messages(response)] == ["success"]


def test_falling_below_the_reorder_level_adds_a_warning_toast(world, keeper, catalogue, login):
    # The tile's reorder level is 10 and there are 50.
    response = login(keeper).post(
        ISSUE, {"product": catalogue.tile.pk, "warehouse": world.warehouse_a.pk, "quantity": "45"}
    )
    assert response.status_code == 302
    levels = _messages(response)
    assert [level for level, _text in levels] == ["success", "warning"]
    assert "below its reorder level" in levels[1][1] and "5 left" in levels[1][1]
    # Shown on the page it leads to, as toasts.
    page = login(keeper).get(response["Location"])
    assert page.status_code == 200


def test_an_issue_that_stays_above_or_was_already_below_gives_no_warning(world, keeper, catalogue, login):
    above = login(keeper).post(
        ISSUE, {"product": catalogue.tile.pk, "warehouse": world.warehouse_a.pk, "quantity": "1"}
    )
    already = login(keeper).post(
        ISSUE, {"product": catalogue.porcelain.pk, "warehouse": world.warehouse_a.pk, "quantity": "1"}
    )
    assert [lv for lv, _t in _messages(above)] == ["success"]
    assert [lv for lv, _t in _messages(already)] == ["success"]


def test_adjust_sets_the_counted_quantity_with_the_reason(world, keeper, catalogue, login):
    response = login(keeper).post(
        ADJUST,
        {"product": catalogue.paint.pk, "warehouse": world.warehouse_a.pk, "counted_quantity": "4", "reason": "جرد"},
    )
    assert response.status_code == 302
    assert level_of(catalogue.paint, world.warehouse_a) == Decimal("4")
    movement = StockMovement.objects.latest("id")
    assert (movement.kind, movement.quantity, movement.note) == ("adjust", Decimal("-3"), "جرد")


def test_transfer_moves_between_two_warehouses(world, keeper, catalogue, second, login):
    response = login(keeper).post(
        TRANSFER,
        {
            "product": catalogue.tile.pk,
            "from_warehouse": world.warehouse_a.pk,
            "to_warehouse": second.pk,
            "quantity": "15",
            "note": "للمعرض",
        },
    )
    assert response.status_code == 302
    assert level_of(catalogue.tile, world.warehouse_a) == Decimal("35")
    assert level_of(catalogue.tile, second) == Decimal("15")
    out_leg = StockMovement.objects.get(kind="transfer_out", product=catalogue.tile)
    assert out_leg.transfer_peer.warehouse == second
    text = _messages(response)[0][1]
    assert world.warehouse_a.name in text and second.name in text


# --- Refusals write nothing ----------------------------------------------------------------------


def _refused(client, url: str, data: dict) -> tuple:
    before = db_state()
    response = client.post(url, data)
    assert response.status_code == 200, "a refused form is shown again"
    assert db_state() == before, "a refused form writes nothing"
    assert not _messages(response)
    return response, response.context["form"].errors


def test_issuing_more_than_there_is_is_refused_with_the_services_message(world, keeper, catalogue, login):
    client = login(keeper)
    response, errors = _refused(
        client, ISSUE, {"product": catalogue.tile.pk, "warehouse": world.warehouse_a.pk, "quantity": "51"}
    )
    assert errors["quantity"] == [
        f"Not enough stock of {catalogue.tile.name} in {world.warehouse_a.name}: 50 available, 51 needed."
    ]
    html = response.content.decode()
    assert "Not enough stock" in html
    # The user's input is kept, the product too.
    assert 'value="51"' in html and f'value="{catalogue.tile.name} ({catalogue.tile.sku})"' in html
    assert re.search(r'<input[^>]*name="quantity"[^>]*class="form-control is-invalid"', html)


def test_transferring_more_than_there_is_is_refused(world, keeper, catalogue, second, login):
    _response, errors = _refused(
        login(keeper),
        TRANSFER,
        {
            "product": catalogue.paint.pk,
            "from_warehouse": world.warehouse_a.pk,
            "to_warehouse": second.pk,
            "quantity": "8",
        },
    )
    assert "Not enough stock" in errors["quantity"][0]


def test_a_transfer_needs_two_different_warehouses(world, keeper, catalogue, login):
    _response, errors = _refused(
        login(keeper),
        TRANSFER,
        {
            "product": catalogue.tile.pk,
            "from_warehouse": world.warehouse_a.pk,
            "to_warehouse": world.warehouse_a.pk,
            "quantity": "1",
        },
    )
    assert errors["to_warehouse"] == ["Choose a different destination warehouse."]


@pytest.mark.parametrize(
    ("data", "field"),
    [({"reason": ""}, "reason"), ({"reason": "   "}, "reason"), ({"counted_quantity": "-1"}, "counted_quantity")],
    ids=["no-reason", "blank-reason", "negative-count"],
)
def test_adjust_requires_a_reason_and_a_count(world, keeper, catalogue, login, data, field):
    base = {"product": catalogue.paint.pk, "warehouse": world.warehouse_a.pk, "counted_quantity": "4", "reason": "x"}
    _response, errors = _refused(login(keeper), ADJUST, {**base, **data})
    assert field in errors


def test_a_count_equal_to_the_level_is_refused(world, keeper, catalogue, login):
    _response, errors = _refused(
        login(keeper),
        ADJUST,
        {"product": catalogue.paint.pk, "warehouse": world.warehouse_a.pk, "counted_quantity": "7", "reason": "جرد"},
    )
    assert errors["counted_quantity"] == ["The count matches the stock level; nothing to adjust."]


@pytest.mark.parametrize(
    ("quantity", "message"),
    [("0", "greater than or equal to 0.001"), ("1.0001", "decimal places"), ("abc", "Enter a number.")],
    ids=["zero", "four-places", "not-a-number"],
)
def test_bad_quantities_are_refused(world, keeper, catalogue, login, quantity, message):
    _response, errors = _refused(
        login(keeper), RECEIVE, {"product": catalogue.tile.pk, "warehouse": world.warehouse_a.pk, "quantity": quantity}
    )
    assert message in errors["quantity"][0]


def test_no_product_chosen(world, keeper, login):
    response, errors = _refused(
        login(keeper), RECEIVE, {"product": "", "warehouse": world.warehouse_a.pk, "quantity": "1"}
    )
    assert errors["product"] == ["Choose a product: type its name or SKU and pick it from the list."]
    assert "Choose a product: type its name" in response.content.decode()  # shown under the picker


# --- Scope: ids of another branch are form errors --------------------------------------------------


@pytest.mark.parametrize(
    ("url", "field", "extra"),
    [
        (RECEIVE, "warehouse", {"quantity": "1"}),
        (ISSUE, "warehouse", {"quantity": "1"}),
        (ADJUST, "warehouse", {"counted_quantity": "1", "reason": "x"}),
        (TRANSFER, "to_warehouse", {"quantity": "1", "from_warehouse": "A"}),
        (TRANSFER, "from_warehouse", {"quantity": "1", "to_warehouse": "A"}),
    ],
    ids=["receive", "issue", "adjust", "transfer-to", "transfer-from"],
)
def test_another_branchs_warehouse_posted_as_an_id_is_never_accepted(
    world, keeper, catalogue, login, url, field, extra
):
    data = {k: (world.warehouse_a.pk if v == "A" else v) for k, v in extra.items()}
    data.update({"product": catalogue.tile.pk, field: world.warehouse_b.pk})
    _response, errors = _refused(login(keeper), url, data)
    assert errors[field] == ["Choose one of your warehouses."]


def test_the_warehouse_choices_are_the_users_active_ones(world, keeper, second, login):
    closed = WarehouseFactory(code="CAI-OLD", branch=world.branch_a, is_default=False, is_active=False)
    form = login(keeper).get(TRANSFER).context["form"]
    choices = set(form.fields["from_warehouse"].queryset)
    assert choices == {world.warehouse_a, second}
    assert world.warehouse_b not in choices and closed not in choices


def test_an_inactive_product_cannot_be_moved(world, keeper, catalogue, login):
    product_update(actor=keeper, product=catalogue.tile, expected_version=None, is_active=False)
    _response, errors = _refused(
        login(keeper), RECEIVE, {"product": catalogue.tile.pk, "warehouse": world.warehouse_a.pk, "quantity": "1"}
    )
    assert errors["product"] == ["Choose an active product from the list."]


# --- Permissions ---------------------------------------------------------------------------------


@pytest.mark.parametrize("url", [RECEIVE, ISSUE, ADJUST, TRANSFER])
def test_roles_without_stock_permissions_are_refused(world, personas, catalogue, login, url):
    clients = [login(user) for user in (personas.owner, world.user(Role.ACCOUNTANT), world.user(Role.DISPATCHER))]
    before = db_state()
    for client in clients:
        assert client.get(url).status_code == 403
        assert client.post(url, {"product": catalogue.tile.pk, "warehouse": world.warehouse_a.pk}).status_code == 403
    assert db_state() == before


def test_adjusting_needs_its_own_permission(world, catalogue, login):
    mover = world.user(Role.SALES)
    mover.user_permissions.add(Permission.objects.get(codename="add_stockmovement"))
    client = login(mover)
    assert client.get(RECEIVE).status_code == 200
    assert client.get(ADJUST).status_code == 403
    assert ADJUST not in client.get(RECEIVE).content.decode()


def test_the_manager_may_use_every_form(manager, login):
    client = login(manager)
    assert [client.get(url).status_code for url in (RECEIVE, ISSUE, ADJUST, TRANSFER)] == [200] * 4


# --- The page itself -----------------------------------------------------------------------------


def test_links_prefill_the_product_and_the_warehouse(world, keeper, catalogue, login):
    html = login(keeper).get(ISSUE, {"product": catalogue.tile.pk, "warehouse": world.warehouse_a.pk}).content.decode()
    assert f'name="product" value="{catalogue.tile.pk}"' in html
    assert f'value="{catalogue.tile.name} ({catalogue.tile.sku})"' in html
    assert re.search(rf'<option value="{world.warehouse_a.pk}" selected>', html)


def test_a_prefilled_warehouse_of_another_branch_is_not_selected(world, keeper, catalogue, login):
    html = login(keeper).get(ISSUE, {"warehouse": world.warehouse_b.pk}).content.decode()
    assert world.warehouse_b.name not in html


def test_the_forms_carry_html_constraints(keeper, login):
    client = login(keeper)
    quantity = re.search(r'<input[^>]*name="quantity"[^>]*>', client.get(ISSUE).content.decode()).group(0)
    assert 'type="number"' in quantity and 'min="0.001"' in quantity and 'step="0.001"' in quantity
    assert "required" in quantity
    adjust = client.get(ADJUST).content.decode()
    counted = re.search(r'<input[^>]*name="counted_quantity"[^>]*>', adjust).group(0)
    assert 'min="0"' in counted and "required" in counted
    assert re.search(r'<input[^>]*name="reason"[^>]*maxlength="255"[^>]*required', adjust)
    picker = re.search(r'<input[^>]*id="product-search"[^>]*>', adjust).group(0)
    assert f'hx-get="{reverse("inventory:product_lookup")}"' in picker


def test_the_default_language_is_arabic_right_to_left(keeper, login):
    html = login(keeper, language="ar").get(RECEIVE).content.decode()
    assert '<html lang="ar" dir="rtl"' in html


@pytest.mark.parametrize("url", [RECEIVE, ISSUE, ADJUST, TRANSFER])
def test_form_pages_query_count_does_not_grow(world, keeper, catalogue, login, count_queries, url):
    client = login(keeper)
    prefill = f"{url}?product={catalogue.tile.pk}"
    few = count_queries(client, prefill)
    for n in range(10):
        WarehouseFactory(code=f"CAI-Q{n}", branch=world.branch_a, is_default=False)
    assert count_queries(client, prefill) == few <= 10


def test_posting_a_movement_has_a_fixed_query_budget(world, keeper, catalogue, login, django_assert_max_num_queries):
    client = login(keeper)
    data = {"product": catalogue.tile.pk, "warehouse": world.warehouse_a.pk, "quantity": "1"}
    with django_assert_max_num_queries(25):
        assert client.post(ISSUE, data).status_code == 302
