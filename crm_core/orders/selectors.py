"""Reads for the order pages. Every query starts from ``visible_to`` (DESIGN.md rule 3)."""

from __future__ import annotations

import contextlib
import re
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import FieldDoesNotExist
from django.db.models import Prefetch, Q, QuerySet
from django.utils import timezone
from django.utils.formats import date_format, number_format
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from crm_core.accounts.models import ActivityLog, Branch, Role, User
from crm_core.common.pagination import KeysetPage, keyset_paginate
from crm_core.common.text import normalize_search
from crm_core.customers.models import Customer, CustomerStatus
from crm_core.inventory.models import Product, Warehouse
from crm_core.orders.models import Order, OrderItem, OrderStatus, OrderStatusChange, Payment, ShippingDetails

# Sort keys the list offers → keyset ordering (ends with the unique id). Each leads with an
# indexed column: created_at has order_recent_idx / order_branch_recent_idx and the per-filter
# (status|salesperson|customer, -created_at) indexes; order_date has order_date_idx and
# order_branch_date_idx. The totals have no index, so the list does not sort by them.
LIST_SORTS: dict[str, tuple[str, ...]] = {
    "newest": ("-created_at", "-id"),
    "oldest": ("created_at", "id"),
    "date": ("-order_date", "-id"),
    "date_asc": ("order_date", "id"),
}
DEFAULT_SORT = "newest"
DATE_EQUIVALENT = {"newest": "date", "oldest": "date_asc"}
PER_PAGE = 25
LOOKUP_LIMIT = 10
SALES_ROLES = (Role.SALES, Role.MANAGER, Role.ADMIN)


# --- The list ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class OrderFilters:
    q: str = ""
    status: str = ""
    branch: Branch | None = None
    salesperson: User | None = None
    customer: Customer | None = None
    date_from: date | None = None
    date_to: date | None = None
    balance_due: bool = False
    sort: str = DEFAULT_SORT


def order_list(user: User, filters: OrderFilters) -> QuerySet[Order]:
    """The filtered orders, unordered: :func:`order_page` applies the keyset ordering."""
    qs = (
        Order.objects.visible_to(user)
        .select_related("customer", "salesperson")
        .only(
            "number",
            "status",
            "order_date",
            "total",
            "balance",
            "currency",
            "created_at",
            "branch_id",
            "customer__name",
            "customer__code",
            "salesperson__first_name",
            "salesperson__last_name",
            "salesperson__username",
        )
    )
    if filters.status:
        qs = qs.filter(status=filters.status)
    if filters.branch is not None:
        qs = qs.filter(branch=filters.branch)
    if filters.salesperson is not None:
        qs = qs.filter(salesperson=filters.salesperson)
    if filters.customer is not None:
        qs = qs.filter(customer=filters.customer)
    if filters.date_from:
        qs = qs.filter(order_date__gte=filters.date_from)
    if filters.date_to:
        qs = qs.filter(order_date__lte=filters.date_to)
    if filters.balance_due:
        # The partial index order_balance_due_idx (balance > 0) serves this filter.
        qs = qs.with_balance_due()
    term = filters.q.strip()
    if term:
        qs = qs.filter(_search_q(user, term))
    return qs


# "CAI-2026-0001", "cai-": a number typed whole or by its start. Letters alone ("CAI") may be the
# start of a number or of a Latin customer name, so they look in both places.
NUMBER_LIKE = re.compile(r"[A-Za-z]{1,10}-[0-9-]*")
LATIN_WORD = re.compile(r"[A-Za-z]{1,10}")


def _search_q(user: User, term: str) -> Q:
    """Order number prefix (the unique index on number serves it) and/or customer name
    (the customers' normalised search text, on PostgreSQL its trigram index).

    Asking for only one of them when the text can only be one keeps PostgreSQL's plan simple:
    an OR of the two forces a walk of the date index filtering every row.
    """
    by_number = Q(number__startswith=term.upper())
    if NUMBER_LIKE.fullmatch(term):
        return by_number
    customers = Customer.objects.visible_to(user)
    for word in normalize_search(term).split()[:6]:
        customers = customers.filter(search_text__contains=word)
    by_customer = Q(customer__in=customers.values("pk"))
    return by_number | by_customer if LATIN_WORD.fullmatch(term) else by_customer


def order_page(
    user: User, filters: OrderFilters, *, cursor: str | None, backwards: bool = False, per_page: int = PER_PAGE
) -> KeysetPage:
    sort = filters.sort if filters.sort in LIST_SORTS else DEFAULT_SORT
    if (filters.date_from or filters.date_to) and sort in DATE_EQUIVALENT:
        # Filtered by order date, "newest" means by order date: the order_date indexes then serve
        # the range and the order together (a month a year back, a million orders: 194 ms walking
        # the created_at index and filtering, 19 ms walking order_date_idx).
        sort = DATE_EQUIVALENT[sort]
    ordering = LIST_SORTS[sort]
    return keyset_paginate(
        order_list(user, filters), ordering=ordering, cursor=cursor, per_page=per_page, backwards=backwards
    )


def visible_branches(user: User) -> QuerySet[Branch]:
    return Branch.objects.visible_to(user).order_by("name", "id")


def salespeople(user: User, *, include: int | None = None, active_only: bool = True) -> QuerySet[User]:
    """People an order may be credited to; ``include`` keeps an order's current salesperson."""
    condition = Q(role__in=SALES_ROLES)
    if active_only:
        condition &= Q(is_active=True)
    if include:
        condition |= Q(pk=include)
    return User.objects.visible_to(user).filter(condition).order_by("first_name", "last_name", "username")


def warehouses(user: User) -> QuerySet[Warehouse]:
    return Warehouse.objects.visible_to(user).filter(is_active=True).select_related("branch").order_by("name", "id")


# --- Lookups for the order form -------------------------------------------------------------------


def orderable_customers(user: User) -> QuerySet[Customer]:
    return Customer.objects.visible_to(user).select_related("category")


def customer_lookup(user: User, term: str, limit: int = LOOKUP_LIMIT) -> list[Customer]:
    words = normalize_search(term).split()[:6]
    if not words or len("".join(words)) < 2:
        return []
    qs = orderable_customers(user).exclude(status=CustomerStatus.BLOCKED)
    for word in words:
        qs = qs.filter(search_text__contains=word)
    return list(qs.order_by("name", "id")[:limit])


def customer_for_order(user: User, pk: Any) -> Customer | None:
    """The customer a new order is prefilled with (``?customer=``); another branch's is None."""
    try:
        pk = int(pk)
    except (TypeError, ValueError):
        return None
    return orderable_customers(user).exclude(status=CustomerStatus.BLOCKED).filter(pk=pk).first()


def orderable_products() -> QuerySet[Product]:
    """Products are company-wide; only the active ones may go on an order."""
    return Product.objects.active()


def product_lookup(term: str, limit: int = LOOKUP_LIMIT) -> list[Product]:
    words = normalize_search(term).split()[:6]
    if not words:
        return []
    qs = orderable_products()
    for word in words:
        qs = qs.filter(search_text__contains=word)
    return list(qs.order_by("name", "id")[:limit])


def products_by_id(ids: list[int]) -> dict[int, Product]:
    return orderable_products().in_bulk(ids) if ids else {}


# --- One order -----------------------------------------------------------------------------------


def order_for_change(user: User) -> QuerySet[Order]:
    """What the forms and actions load before calling a service (which locks it again)."""
    return Order.objects.visible_to(user).select_related("customer", "customer__category", "branch")


def order_for_edit(user: User, pk: int) -> Order:
    return (
        order_for_change(user)
        .select_related("salesperson", "warehouse")
        .prefetch_related(Prefetch("items", queryset=OrderItem.objects.select_related("product").order_by("id")))
        .get(pk=pk)
    )


def shipping_cost(order: Order) -> Decimal:
    try:
        return order.shipping.cost
    except ShippingDetails.DoesNotExist:
        return Decimal("0")


def order_detail(user: User, pk: int) -> Order:
    from crm_core.inspections.models import Inspection

    return (
        Order.objects.visible_to(user)
        .select_related(
            "customer", "customer__category", "branch", "salesperson", "warehouse", "created_by", "shipping"
        )
        .prefetch_related(
            Prefetch("items", queryset=OrderItem.objects.select_related("product").order_by("id")),
            Prefetch(
                "payments", queryset=Payment.objects.select_related("received_by").order_by("-received_at", "-id")
            ),
            Prefetch(
                "status_changes",
                queryset=OrderStatusChange.objects.select_related("changed_by").order_by("changed_at", "id"),
            ),
            Prefetch(
                "inspections",
                queryset=Inspection.objects.visible_to(user).select_related("inspector").order_by("-scheduled_start"),
                to_attr="visible_inspections",
            ),
        )
        .get(pk=pk)
    )


def order_payments(order: Order) -> list[Payment]:
    return list(Payment.objects.filter(order=order).select_related("received_by").order_by("-received_at", "-id"))


# --- What changed while someone was editing --------------------------------------------------------

ACTION_LABELS = {
    "order.update": _("changed the order's details"),
    "order.item_add": _("added an item"),
    "order.item_update": _("changed an item"),
    "order.item_remove": _("removed an item"),
    "order.transition": _("changed the status"),
    "order.payment": _("recorded a payment"),
    "order.shipping": _("changed the shipping details"),
}


@dataclass(frozen=True)
class OrderChange:
    who: str
    at: datetime
    what: str
    fields: list[str]
    # "Notes: «old» → «new»" for each changed value the entry records, in the reader's language.
    details: list[str] = field(default_factory=list)


# Values of item entries, which name fields of OrderItem rather than of the order.
ITEM_FIELDS = ("quantity", "unit_price", "discount_percent")
SHOWN_TEXT = 60


def _shown(value: Any, model_field: Any = None) -> str:
    if value is None or value == "":
        return "—"
    if model_field is not None and model_field.choices:
        return str(dict(model_field.flatchoices).get(value, value))
    if isinstance(value, str):
        with contextlib.suppress(ValueError):
            if model_field is not None and model_field.get_internal_type() == "DateField":
                return date_format(date.fromisoformat(value), "SHORT_DATE_FORMAT")
        with contextlib.suppress(ArithmeticError, ValueError):
            if model_field is not None and model_field.get_internal_type() == "DecimalField":
                number = Decimal(value)
                if model_field.decimal_places == 2:
                    return number_format(number, decimal_pos=2, use_l10n=True, force_grouping=True)
                # Quantities and percentages: 2.500 reads 2.5, 3.000 reads 3.
                number = number.quantize(Decimal(1)) if number == number.to_integral_value() else number.normalize()
                return number_format(number, use_l10n=True, force_grouping=True)
        text = value if len(value) <= SHOWN_TEXT else value[: SHOWN_TEXT - 1] + "…"
        return f"«{text}»"
    return str(value)


def _names(entries: list[ActivityLog]) -> dict[tuple[str, int], str]:
    """Names for the ids the entries record (salesperson, warehouse, product, item), four queries at most."""
    wanted: dict[str, set[int]] = {"salesperson": set(), "warehouse": set(), "product": set()}
    item_ids: set[int] = set()
    for entry in entries:
        for name, pair in (entry.changes or {}).items():
            values = [v for v in (pair if isinstance(pair, list) else []) if isinstance(v, int)]
            if name in wanted:
                wanted[name].update(values)
            elif name == "item":
                item_ids.update(values)
    item_products = dict(OrderItem.objects.filter(pk__in=item_ids).values_list("pk", "product_id")) if item_ids else {}
    wanted["product"].update(item_products.values())
    names: dict[tuple[str, int], str] = {}
    if wanted["salesperson"]:
        for user in User.objects.filter(pk__in=wanted["salesperson"]):
            names[("salesperson", user.pk)] = str(user)
    if wanted["warehouse"]:
        for warehouse in Warehouse.objects.filter(pk__in=wanted["warehouse"]):
            names[("warehouse", warehouse.pk)] = str(warehouse)
    if wanted["product"]:
        for pk, name in Product.objects.filter(pk__in=wanted["product"]).values_list("pk", "name"):
            names[("product", pk)] = name
    for item_id, product_id in item_products.items():
        names[("item", item_id)] = names.get(("product", product_id), "")
    return names


def _change(model_field: Any, old: str, new: str) -> str:
    # Translatable as a whole: Arabic reads right to left, so its arrow points the other way.
    return gettext("%(field)s: %(old)s → %(new)s") % {"field": model_field.verbose_name, "old": old, "new": new}


def _details(entry: ActivityLog, names: dict[tuple[str, int], str]) -> list[str]:
    changes = entry.changes or {}
    details = []
    if entry.action.startswith("order.item_"):
        product = changes.get("product") or [None, None]
        item = changes.get("item") or [None, None]
        product_id = next((v for v in product if isinstance(v, int)), None)
        name = names.get(("product", product_id)) if product_id else names.get(("item", item[0]), "")
        parts = []
        for field_name in ITEM_FIELDS:
            pair = changes.get(field_name)
            if isinstance(pair, list) and len(pair) == 2:
                model_field = OrderItem._meta.get_field(field_name)
                parts.append(_change(model_field, _shown(pair[0], model_field), _shown(pair[1], model_field)))
        if name or parts:
            details.append(" · ".join([part for part in [name, *parts] if part]))
        return details
    for field_name, pair in changes.items():
        if not isinstance(pair, list) or len(pair) != 2:
            continue
        try:
            model_field = Order._meta.get_field(field_name)
        except FieldDoesNotExist:
            continue
        old, new = pair
        if model_field.is_relation:
            old = names.get((field_name, old), old)
            new = names.get((field_name, new), new)
            shown = [str(value) if value not in (None, "") else "—" for value in (old, new)]
        else:
            shown = [_shown(value, model_field) for value in (old, new)]
        details.append(_change(model_field, *shown))
    return details


def order_changes_since(order: Order, version: int, limit: int = 10) -> list[OrderChange]:
    """Who changed what after ``version`` (for the edit conflict message).

    Every service that changes an order bumps its version by one and writes one ``order.*``
    audit entry in the same transaction, so the newest (current - version) entries are the missed ones.
    """
    missed = max(0, min(order.version - int(version), limit))
    if not missed:
        return []
    entries = list(
        ActivityLog.objects.filter(
            target_type=ContentType.objects.get_for_model(Order),
            target_id=str(order.pk),
            action__in=list(ACTION_LABELS),
        ).order_by("-id")[:missed]
    )
    names = _names(entries)
    changes = []
    for entry in reversed(entries):
        fields = []
        for name in entry.changes or {}:
            # Item and payment entries name fields of other models: only the order's own are listed.
            with contextlib.suppress(FieldDoesNotExist):
                fields.append(str(Order._meta.get_field(name).verbose_name))
        if entry.action == "order.transition":
            pair = (entry.changes or {}).get("status") or [None, None]
            target = pair[1] if len(pair) > 1 else None
            fields = [str(OrderStatus(target).label)] if target in OrderStatus.values else []
        changes.append(
            OrderChange(
                who=entry.actor_repr,
                at=entry.created_at,
                what=str(ACTION_LABELS[entry.action]),
                fields=fields,
                details=_details(entry, names),
            )
        )
    return changes


# --- The board ---------------------------------------------------------------------------------

# Statuses whose cards stop moving: their columns show only what closed recently.
CLOSED_STATUSES = (OrderStatus.DELIVERED, OrderStatus.CANCELLED)
CLOSED_RECENT_DAYS = 7
BOARD_COLUMN_LIMIT = 50
BOARD_ORDERING = ("-status_changed_at", "-id")
BOARD_FIELDS = (
    "number",
    "order_date",
    "status",
    "status_changed_at",
    "created_at",
    "total",
    "balance",
    "currency",
    "version",
    "branch_id",
    "salesperson_id",
    "customer__name",
    "salesperson__first_name",
    "salesperson__last_name",
    "salesperson__username",
)


@dataclass(frozen=True)
class BoardFilters:
    branch: Branch | None = None
    salesperson: User | None = None


@dataclass(frozen=True)
class BoardColumn:
    status: str
    label: str
    closed: bool
    cards: list[Order]
    has_more: bool


def closed_since() -> datetime:
    return timezone.now() - timedelta(days=CLOSED_RECENT_DAYS)


def board_orders(user: User) -> QuerySet[Order]:
    """What a card (and a row of the list) shows, for a column's query or a live fragment."""
    return Order.objects.visible_to(user).select_related("customer", "salesperson").only(*BOARD_FIELDS)


def board_columns(user: User, filters: BoardFilters, limit: int = BOARD_COLUMN_LIMIT) -> list[BoardColumn]:
    """One column per status, in the order's life order, each its ``limit`` newest arrivals.

    One query per column, bounded by ``limit``: order_board_idx (status, -status_changed_at)
    serves each, and the closed columns' "recent" window keeps their range short however many
    orders were delivered over the years (a million orders: under 1 ms a column).
    """
    base = board_orders(user)
    if filters.branch is not None:
        base = base.filter(branch=filters.branch)
    if filters.salesperson is not None:
        base = base.filter(salesperson=filters.salesperson)
    since = closed_since()
    columns = []
    for status in OrderStatus:
        closed = status in CLOSED_STATUSES
        qs = base.filter(status=status)
        if closed:
            qs = qs.filter(status_changed_at__gte=since)
        cards = list(qs.order_by(*BOARD_ORDERING)[: limit + 1])
        columns.append(
            BoardColumn(
                status=status.value,
                label=str(status.label),
                closed=closed,
                cards=cards[:limit],
                has_more=len(cards) > limit,
            )
        )
    return columns


def board_card(user: User, pk: int) -> Order | None:
    return board_orders(user).filter(pk=pk).first()
