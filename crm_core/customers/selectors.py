"""Reads for the customer pages. Every query starts from ``visible_to`` (DESIGN.md rule 3)."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any

from django.contrib.contenttypes.models import ContentType
from django.db.models import Count, Q, QuerySet, Sum

from crm_core.accounts.models import ActivityLog, Branch, User
from crm_core.common.text import normalize_search, phone_digits
from crm_core.customers.models import Customer, CustomerCategory, CustomerNote
from crm_core.inspections.models import Inspection
from crm_core.orders.models import Order, OrderStatus, Payment

# Sort keys the list offers, each an index scan: customer_recent_idx / customer_branch_recent_idx
# (read backwards for "oldest"), customer_name_idx / customer_branch_name_idx, and the unique
# index on code (codes start with the branch code, so one branch's codes are one index range).
CUSTOMER_SORTS: dict[str, tuple[str, ...]] = {
    "newest": ("-created_at", "-id"),
    "oldest": ("created_at", "id"),
    "name": ("name", "id"),
    "code": ("code",),
}
DEFAULT_SORT = "newest"
PAGE_SIZE = 25

# A search of more words than this is a paste, not a query: the rest are ignored.
MAX_SEARCH_TERMS = 5
# Digits with the punctuation people type in phone numbers: searched as bare digits, the way
# ``search_text`` stores phone numbers.
_PHONE_LIKE = re.compile(r"^[0-9+()\-./]+$")

# How many of each kind of event the timeline reads; a customer with years of history still
# costs four short index range scans.
TIMELINE_PER_KIND = 50


def search_terms(query: str | None) -> list[str]:
    """The normalised terms a search box value is matched by (all must occur in ``search_text``)."""
    terms = []
    for word in normalize_search(query).split(" ")[:MAX_SEARCH_TERMS]:
        if not word:
            continue
        if _PHONE_LIKE.match(word):
            word = phone_digits(word) or word
        terms.append(word)
    return terms


def customer_list(
    user: User,
    *,
    query: str = "",
    category: CustomerCategory | None = None,
    branch: Branch | None = None,
    kind: str = "",
    status: str = "",
) -> QuerySet[Customer]:
    """Visible customers matching a search and filters, unordered (the paginator orders them).

    Each term is a ``LIKE '%term%'`` on ``search_text`` (case-sensitive ``contains``: the stored
    text and the terms are both lower-cased already), which PostgreSQL's trigram GIN index
    ``customer_search_trgm_idx`` serves; ``icontains`` would wrap the column in ``UPPER()`` and
    lose the index.
    """
    qs = Customer.objects.visible_to(user).select_related("branch", "category")
    for term in search_terms(query):
        qs = qs.filter(search_text__contains=term)
    if category is not None:
        qs = qs.filter(category=category)
    if branch is not None:
        qs = qs.filter(branch=branch)
    if kind:
        qs = qs.filter(kind=kind)
    if status:
        qs = qs.filter(status=status)
    return qs


def customer_detail_queryset(user: User) -> QuerySet[Customer]:
    return Customer.objects.visible_to(user).select_related("branch", "category", "created_by")


def category_choices() -> QuerySet[CustomerCategory]:
    """Every category, for filtering (a deactivated one still has customers to find)."""
    return CustomerCategory.objects.order_by("name", "id")


def active_categories(*, keep: int | None = None) -> QuerySet[CustomerCategory]:
    """Categories a customer may be put in; ``keep`` is the customer's current one even if inactive."""
    condition = Q(is_active=True)
    if keep is not None:
        condition |= Q(pk=keep)
    return CustomerCategory.objects.filter(condition).order_by("name", "id")


def category_list() -> QuerySet[CustomerCategory]:
    return CustomerCategory.objects.order_by("-is_active", "name", "id")


# --- Detail: totals and timeline ----------------------------------------------------------------


@dataclass(frozen=True)
class CustomerTotals:
    orders: int
    total_ordered: Decimal
    balance_due: Decimal


def customer_totals(user: User, customer: Customer) -> CustomerTotals | None:
    """Order figures of the customer the user may see (cancelled orders count for nothing)."""
    if not user.has_perm("orders.view_order"):
        return None
    row = (
        Order.objects.visible_to(user)
        .filter(customer=customer)
        .exclude(status=OrderStatus.CANCELLED)
        .aggregate(orders=Count("id"), total=Sum("total"), balance=Sum("balance"))
    )
    return CustomerTotals(
        orders=row["orders"], total_ordered=row["total"] or Decimal("0"), balance_due=row["balance"] or Decimal("0")
    )


@dataclass
class TimelineEntry:
    kind: str  # "order", "inspection", "payment" or "note"
    at: datetime
    obj: Any
    url: str | None = None


@dataclass
class Timeline:
    entries: list[TimelineEntry] = field(default_factory=list)
    # True when at least one kind had more rows than were read: the page says the history is cut.
    truncated: bool = False


def _latest(queryset: QuerySet, limit: int) -> tuple[list[Any], bool]:
    rows = list(queryset[: limit + 1])
    return rows[:limit], len(rows) > limit


def customer_timeline(user: User, customer: Customer, *, per_kind: int | None = None) -> Timeline:
    """Orders, inspections, payments and notes of one customer, newest first.

    Each kind is read only if the user may see it, through its own ``visible_to`` (an inspector
    sees their own inspections of the customer, not their colleagues'), latest ``per_kind`` rows.
    """
    sources: list[tuple[str, QuerySet, str]] = []
    if user.has_perm("orders.view_order"):
        sources.append(
            (
                "order",
                Order.objects.visible_to(user).filter(customer=customer).order_by("-created_at", "-id"),
                "created_at",
            )
        )
    if user.has_perm("inspections.view_inspection"):
        sources.append(
            (
                "inspection",
                Inspection.objects.visible_to(user)
                .filter(customer=customer)
                .select_related("inspector")
                .order_by("-created_at", "-id"),
                # When it was booked, like every other entry: an upcoming visit does not sit
                # above today's notes; the entry shows the visit's own date.
                "created_at",
            )
        )
    if user.has_perm("orders.view_payment"):
        sources.append(
            (
                "payment",
                Payment.objects.visible_to(user)
                .filter(order__customer=customer)
                .select_related("order", "received_by")
                .order_by("-received_at", "-id"),
                "received_at",
            )
        )
    if user.has_perm("customers.view_customernote"):
        sources.append(
            (
                "note",
                CustomerNote.objects.visible_to(user)
                .filter(customer=customer)
                .select_related("author")
                .order_by("-created_at", "-id"),
                "created_at",
            )
        )
    per_kind = per_kind or TIMELINE_PER_KIND
    timeline = Timeline()
    for kind, queryset, time_field in sources:
        rows, more = _latest(queryset, per_kind)
        timeline.truncated |= more
        timeline.entries.extend(TimelineEntry(kind=kind, at=getattr(row, time_field), obj=row) for row in rows)
    timeline.entries.sort(key=lambda entry: (entry.at, entry.obj.pk), reverse=True)
    return timeline


# --- Edit conflicts -------------------------------------------------------------------------------

# A conflict lists at most this many of the other people's saves.
CONFLICT_CHANGES_LIMIT = 10


@dataclass(frozen=True)
class FieldChange:
    field: str
    old: Any
    new: Any


@dataclass(frozen=True)
class ConflictingSave:
    who: str
    at: datetime
    changes: list[FieldChange]


def customer_changes_since(customer: Customer, *, expected_version: int, current_version: int) -> list[ConflictingSave]:
    """The saves made to ``customer`` after the version the user loaded, newest first.

    Every save through ``customer_update`` bumps the version by one and writes one
    ``customer.update`` audit row, so the last ``current - expected`` of them are the ones the
    user has not seen. Category ids in the audit trail are turned back into names.
    """
    missed = max(0, min(current_version - expected_version, CONFLICT_CHANGES_LIMIT))
    if not missed:
        return []
    logs = list(
        ActivityLog.objects.filter(
            target_type=ContentType.objects.get_for_model(Customer),
            target_id=str(customer.pk),
            action="customer.update",
        ).order_by("-id")[:missed]
    )
    category_ids = {
        value
        for log in logs
        for value in (log.changes.get("category") or [])
        if isinstance(value, int) and not isinstance(value, bool)
    }
    names = dict(CustomerCategory.objects.filter(pk__in=category_ids).values_list("pk", "name")) if category_ids else {}
    saves = []
    for log in logs:
        changes = []
        for name, pair in log.changes.items():
            if not isinstance(pair, list) or len(pair) != 2:
                continue
            old, new = pair
            if name == "category":
                old, new = names.get(old, old), names.get(new, new)
            changes.append(FieldChange(field=name, old=old, new=new))
        saves.append(ConflictingSave(who=log.actor_repr, at=log.created_at, changes=changes))
    return saves
