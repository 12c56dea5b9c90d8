"""Whatever sequence of stock operations people perform — refused ones included — the ledger
adds up: for each (product, warehouse) the movements sum to the level, the level never goes
negative, a refused operation changes nothing, and each fall below the reorder level
notifies the branch's staff exactly once."""

from __future__ import annotations

from decimal import Decimal

from django.core.exceptions import ValidationError
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from crm_core.accounts.models import Notification, NotificationKind
from crm_core.inventory.models import StockLevel
from crm_core.inventory.services import stock_adjust, stock_issue, stock_receive, stock_transfer
from tests.factories import ProductFactory, WarehouseFactory
from tests.inventory.helpers import assert_ledger_matches_levels

quantities = st.one_of(
    st.decimals(min_value=Decimal("0.001"), max_value=Decimal("40"), places=3),
    st.integers(min_value=1, max_value=15).map(Decimal),
    st.sampled_from([Decimal("0"), Decimal("-1"), Decimal("0.0001"), "خمسة"]),  # always refused
)
operations = st.lists(
    st.tuples(
        st.sampled_from(["receive", "issue", "adjust", "transfer"]),
        st.integers(min_value=0, max_value=1),  # product
        st.integers(min_value=0, max_value=1),  # warehouse (the transfer's source)
        quantities,
    ),
    min_size=1,
    max_size=15,
)


def _is_quantity(value, *, zero_ok: bool = False) -> bool:
    if not isinstance(value, Decimal) or value != value.quantize(Decimal("0.001")):
        return False
    return value >= 0 if zero_ok else value > 0


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(ops=operations, reorder_levels=st.tuples(st.sampled_from([0, 5, 20]), st.sampled_from([0, 5, 20])))
def test_the_ledger_always_adds_up(world, keeper, manager, ops, reorder_levels):
    warehouses = [world.warehouse_a, WarehouseFactory(branch=world.branch_a, is_default=False)]
    products = [ProductFactory(reorder_level=Decimal(level)) for level in reorder_levels]
    alerted_staff = 2  # branch A's storekeeper (keeper) and manager; sales and branch B are not told

    # What people should see, worked out independently of the services.
    expected = {(p, w): Decimal("0") for p in range(2) for w in range(2)}
    low = dict.fromkeys(expected, False)
    alerts = dict.fromkeys(expected, 0)

    def settle(key, quantity):
        expected[key] = quantity
        now_low = quantity < products[key[0]].reorder_level
        if now_low and not low[key]:
            alerts[key] += 1
        low[key] = now_low

    for kind, p, w, quantity in ops:
        product, warehouse, other = products[p], warehouses[w], warehouses[1 - w]
        key, other_key = (p, w), (p, 1 - w)
        if kind == "adjust":
            should_refuse = not _is_quantity(quantity, zero_ok=True) or quantity == expected[key]
        elif kind == "receive":
            should_refuse = not _is_quantity(quantity)
        else:
            should_refuse = not _is_quantity(quantity) or quantity > expected[key]
        try:
            if kind == "receive":
                stock_receive(actor=keeper, product=product, warehouse=warehouse, quantity=quantity)
            elif kind == "issue":
                stock_issue(actor=keeper, product=product, warehouse=warehouse, quantity=quantity)
            elif kind == "adjust":
                stock_adjust(
                    actor=keeper, product=product, warehouse=warehouse, counted_quantity=quantity, reason="جرد"
                )
            else:
                stock_transfer(
                    actor=keeper, product=product, from_warehouse=warehouse, to_warehouse=other, quantity=quantity
                )
        except ValidationError:
            assert should_refuse, (kind, quantity, expected[key])
        else:
            assert not should_refuse, (kind, quantity, expected[key])
            if kind == "receive":
                settle(key, expected[key] + quantity)
            elif kind == "issue":
                settle(key, expected[key] - quantity)
            elif kind == "adjust":
                settle(key, quantity)
            else:
                settle(key, expected[key] - quantity)
                settle(other_key, expected[other_key] + quantity)
        for (pi, wi), quantity_expected in expected.items():
            level = StockLevel.objects.filter(product=products[pi], warehouse=warehouses[wi]).first()
            assert (level.quantity if level else Decimal("0")) == quantity_expected
            assert (level.is_low if level else False) == low[(pi, wi)]

    assert_ledger_matches_levels()
    for (pi, wi), count in alerts.items():
        level = StockLevel.objects.filter(product=products[pi], warehouse=warehouses[wi]).first()
        stored = Notification.objects.filter(kind=NotificationKind.STOCK_LOW, target_id=level.pk) if level else []
        assert len(stored) == count * alerted_staff
