"""``manage.py seed_demo``: the base set through the services, and the bulk loader."""

from __future__ import annotations

import itertools
import re
from collections import defaultdict
from datetime import timedelta
from decimal import ROUND_HALF_UP, Decimal
from io import StringIO

import pytest
from django.apps import apps
from django.conf import settings
from django.core.management import call_command
from django.db.models import Count, F, Sum
from django.test import RequestFactory
from django.utils import timezone

from crm_core.accounts.models import Branch, Notification, NotificationKind, Role, User
from crm_core.common.seeding.names import DEMO_PASSWORD
from crm_core.customers.models import Customer
from crm_core.customers.services import customer_create
from crm_core.inspections.models import Inspection, InspectionOutcome, InspectionStatus
from crm_core.inventory.models import StockLevel, StockMovement
from crm_core.orders.models import Order, OrderStatus, OrderStatusChange, Payment, ShippingDetails
from crm_core.orders.services import ItemInput, line_total, order_create

pytestmark = pytest.mark.django_db

ARABIC = re.compile("[\u0600-\u06ff]")
ARABIC_INDIC_DIGIT = re.compile("[\u0660-\u0669]")
EGYPTIAN_MOBILE = re.compile(r"^01[0125]\d{8}$")
CENT = Decimal("0.01")


def seed(**options) -> str:
    out = StringIO()
    call_command("seed_demo", stdout=out, **options)
    return out.getvalue()


def row_counts() -> dict[str, int]:
    return {
        model._meta.label: model._default_manager.count()
        for app in ("accounts", "customers", "orders", "inspections", "inventory", "common")
        for model in apps.get_app_config(app).get_models()
    }


def assert_ledger_consistent() -> None:
    sums = {
        (row["product_id"], row["warehouse_id"]): row["total"]
        for row in StockMovement.objects.values("product_id", "warehouse_id").annotate(total=Sum("quantity"))
    }
    levels = list(StockLevel.objects.all())
    assert levels
    for level in levels:
        assert sums.get((level.product_id, level.warehouse_id), Decimal(0)) == level.quantity, level
        last = StockMovement.objects.filter(product_id=level.product_id, warehouse_id=level.warehouse_id)
        assert last.order_by("-id").first().balance_after == level.quantity
    assert not StockMovement.objects.filter(balance_after__lt=0).exists()


def assert_orders_consistent(orders) -> None:
    """Totals as orders.services computes them; payments never above the total."""
    assert not Order.objects.filter(amount_paid__gt=F("total")).exists()
    assert not Order.objects.exclude(balance=F("total") - F("amount_paid")).exists()
    shipping = dict(ShippingDetails.objects.values_list("order_id", "cost"))
    paid = dict(Payment.objects.values("order_id").annotate(s=Sum("amount")).values_list("order_id", "s"))
    for order in orders.prefetch_related("items").select_related("customer__category"):
        category = order.customer.category.discount_percent if order.customer.category_id else Decimal(0)
        subtotal = Decimal(0)
        for item in order.items.all():
            assert item.line_total == line_total(item.quantity, item.unit_price, item.discount_percent)
            assert item.discount_percent == category
            subtotal += item.line_total
        assert order.subtotal == subtotal
        taxable = subtotal - order.discount_amount
        assert order.tax_amount == (taxable * order.tax_rate).quantize(CENT, rounding=ROUND_HALF_UP)
        assert order.total == taxable + order.tax_amount + shipping.get(order.pk, Decimal(0))
        assert order.amount_paid == paid.get(order.pk, Decimal(0))
        if order.status == OrderStatus.CANCELLED:
            assert order.pk not in paid or order.amount_paid == 0
        history = list(order.status_changes.order_by("changed_at", "id").values_list("from_status", "to_status"))
        assert history[0] == ("", OrderStatus.NEW)
        assert history[-1][1] == order.status
        assert all(prev[1] == cur[0] for prev, cur in itertools.pairwise(history))


def test_base_set_is_complete_consistent_and_idempotent(client):
    output = seed()

    assert set(Branch.objects.values_list("code", flat=True)) == {"CAI", "ALX", "GIZ"}
    users = User.objects.filter(is_active=True)
    assert set(users.values_list("role", flat=True)) == set(Role.values)
    for branch in Branch.objects.all():
        roles = list(users.filter(branch=branch).values_list("role", flat=True))
        for role in (Role.MANAGER, Role.DISPATCHER, Role.SALES, Role.STOREKEEPER, Role.ACCOUNTANT):
            assert role in roles, (branch.code, role)
        assert roles.count(Role.INSPECTOR) >= 2
    assert User.objects.get(username="hq.manager").all_branches
    assert User.objects.get(username="admin").is_superuser
    assert all(ARABIC.search(u.first_name) for u in users)

    customers = list(Customer.objects.all())
    assert len(customers) >= 60
    assert all(ARABIC.search(c.name) for c in customers)
    assert all(EGYPTIAN_MOBILE.match(c.phone_digits) for c in customers)
    assert any(ARABIC_INDIC_DIGIT.search(c.phone) for c in customers)
    assert {c.branch.code for c in customers} == {"CAI", "ALX", "GIZ"}
    assert Customer.objects.filter(kind="company").exists()
    assert Customer.objects.filter(notes__isnull=False).exists()

    statuses = set(Order.objects.values_list("status", flat=True))
    assert statuses == set(OrderStatus.values)
    assert Order.objects.count() >= 80
    assert ShippingDetails.objects.exists()
    assert Payment.objects.exists()
    assert_orders_consistent(Order.objects.all())

    # Inspections this (Saturday-to-Thursday) week, every state, nobody double-booked.
    today = timezone.localdate()
    saturday = today - timedelta(days=(today.weekday() - 5) % 7)
    tz = timezone.get_current_timezone()
    week = Inspection.objects.filter(
        scheduled_start__date__gte=saturday, scheduled_start__date__lt=saturday + timedelta(days=6)
    )
    assert week.count() >= 10
    assert all(timezone.localtime(i.scheduled_start, tz).weekday() != 4 for i in Inspection.objects.all())
    assert set(Inspection.objects.values_list("status", flat=True)) == set(InspectionStatus.values)
    outcomes = set(Inspection.objects.filter(result__isnull=False).values_list("result__outcome", flat=True))
    assert outcomes == set(InspectionOutcome.values)
    assert Inspection.objects.filter(order__isnull=False, status=InspectionStatus.COMPLETED).exists()
    by_inspector = defaultdict(list)
    for inspection in Inspection.objects.exclude(inspector=None):
        by_inspector[inspection.inspector_id].append((inspection.scheduled_start, inspection.scheduled_end))
    for slots in by_inspector.values():
        slots.sort()
        for (_, end), (start, _) in itertools.pairwise(slots):
            assert end <= start

    # Stock: ledger sums to the levels, some levels below reorder, storekeepers alerted.
    assert_ledger_consistent()
    low = StockLevel.objects.filter(is_low=True)
    assert low.exists()
    assert set(low.values_list("pk", flat=True)) == set(
        StockLevel.objects.filter(quantity__lt=F("product__reorder_level")).values_list("pk", flat=True)
    )
    alerts = Notification.objects.filter(kind=NotificationKind.STOCK_LOW)
    assert alerts.filter(recipient__role=Role.STOREKEEPER).exists()
    assert StockMovement.objects.filter(kind="transfer_out").exists()

    assert "http://127.0.0.1:8000/" in output
    assert "cai.manager" in output and DEMO_PASSWORD in output

    # A second run notices the data and changes nothing, but still prints the logins.
    before = row_counts()
    again = seed()
    assert "demo data already present" in again
    assert "hq.manager" in again
    assert row_counts() == before

    # The demo password works for a seeded user (axes wants the request).
    request = RequestFactory().post("/admin/login/")
    assert client.login(request=request, username="cai.sales", password=DEMO_PASSWORD)


def test_bulk_load_adds_exact_counts_and_keeps_numbering():
    seed()
    customers_before = Customer.objects.count()
    orders_before = Order.objects.count()
    base_orders = set(Order.objects.values_list("pk", flat=True))

    output = seed(customers=50, orders=300)

    assert Customer.objects.count() == customers_before + 50
    assert Order.objects.count() == orders_before + 300
    assert "rows/s" in output
    # Unique, well-formed numbers (the DB's unique constraints would have refused duplicates).
    assert not Order.objects.values("number").annotate(n=Count("id")).filter(n__gt=1).exists()
    assert not Customer.objects.values("code").annotate(n=Count("id")).filter(n__gt=1).exists()
    bulk = Order.objects.exclude(pk__in=base_orders)
    assert all(re.fullmatch(r"(CAI|ALX|GIZ)-\d{4}-\d{6}", n) for n in bulk.values_list("number", flat=True))
    assert set(bulk.values_list("branch__code", flat=True)) == {"CAI", "ALX", "GIZ"}
    assert bulk.filter(status=OrderStatus.DELIVERED).exists()
    assert bulk.filter(status=OrderStatus.CANCELLED).exists()
    two_years_ago = timezone.localdate() - timedelta(days=740)
    assert not bulk.filter(order_date__lt=two_years_ago).exists()
    assert not bulk.filter(order_date__gt=timezone.localdate()).exists()
    assert bulk.filter(payments__isnull=False).distinct().count() > 100
    assert bulk.filter(shipping__isnull=False).exists()
    assert OrderStatusChange.objects.filter(order__in=bulk).count() >= 300

    # Same rules as the services: totals, category discounts, payments, history, stock.
    assert_orders_consistent(bulk)
    assert_ledger_consistent()
    assert StockMovement.objects.filter(order__in=bulk, kind="issue").exists()
    for customer in Customer.objects.order_by("-id")[:50]:
        assert ARABIC.search(customer.name)
        assert EGYPTIAN_MOBILE.match(customer.phone_digits)
        assert customer.code.startswith(customer.branch.code + "-C")

    # The services carry on numbering after the reserved ranges, without a collision.
    admin = User.objects.get(username="admin")
    cairo = Branch.objects.get(code="CAI")
    year = timezone.localdate().year
    highest = max(
        int(n.rsplit("-", 1)[1])
        for n in Order.objects.filter(number__startswith=f"CAI-{year}-").values_list("number", flat=True)
    )
    buyer = Customer.objects.filter(branch=cairo, status="active").order_by("-id").first()
    product = StockLevel.objects.filter(warehouse__branch=cairo, is_low=False).first().product
    order = order_create(actor=admin, customer=buyer, items=[ItemInput(product_id=product.pk, quantity=Decimal(1))])
    assert order.number == f"CAI-{year}-{highest + 1:06d}"
    highest_code = max(
        int(c.rsplit("C", 1)[1]) for c in Customer.objects.filter(branch=cairo).values_list("code", flat=True)
    )
    newcomer = customer_create(actor=admin, branch=cairo, name="عميل جديد", phone="01000000001")
    assert newcomer.code == f"CAI-C{highest_code + 1:06d}"


def test_bulk_load_without_base_set_loads_it_first():
    output = seed(orders=20)
    assert "Loading the demo base set" in output
    assert Branch.objects.filter(code="CAI").exists()
    assert Order.objects.count() >= 100
    assert settings.CRM_CURRENCY in set(Order.objects.values_list("currency", flat=True))
