"""Reads for the inventory pages: stock levels, the catalogue, the category tree and the ledger.

Every branch-owned read starts from ``visible_to(user)``. Products and categories are
company-wide, so they have no branch scope; their stock and movements do.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import FieldDoesNotExist
from django.db.models import F, Q, QuerySet
from django.utils import timezone
from django.utils.text import capfirst

from crm_core.accounts.models import ActivityLog, Branch, User
from crm_core.common.text import normalize_search
from crm_core.inventory.models import Category, Product, StockLevel, StockMovement, Warehouse
from realtime.audiences import topics_for_user
from realtime.events import last_event_id

# Sort keys offered by the lists → ORDER BY. Each leads with an indexed column
# (product_name_idx, the unique SKU, created_at's index) and ends with a unique one.
STOCK_SORTS: dict[str, tuple[str, ...]] = {
    "product": ("product__name", "id"),
    "-product": ("-product__name", "-id"),
    "sku": ("product__sku", "id"),
    "-sku": ("-product__sku", "-id"),
}
PRODUCT_SORTS: dict[str, tuple[str, ...]] = {
    "name": ("name", "id"),
    "-name": ("-name", "-id"),
    "sku": ("sku",),
    "-sku": ("-sku",),
    "newest": ("-created_at", "-id"),
}
# The ledger is append-only and large: it is read newest first with keyset pagination
# (movement_recent_idx / movement_branch_recent_idx serve this order).
MOVEMENT_ORDERING = ("-created_at", "-id")
LOOKUP_LIMIT = 10


# --- Category tree ---------------------------------------------------------------------------


@dataclass(frozen=True)
class CategoryNode:
    pk: int
    name: str
    parent_id: int | None
    depth: int
    path: str
    is_active: bool


@dataclass
class CategoryTree:
    nodes: list[CategoryNode] = field(default_factory=list)
    children: dict[int | None, list[int]] = field(default_factory=dict)

    def descendant_ids(self, pk: int) -> list[int]:
        """``pk`` and every category below it."""
        found, stack = [], [pk]
        while stack:
            current = stack.pop()
            if current in found:
                continue
            found.append(current)
            stack.extend(self.children.get(current, []))
        return found

    def ancestor_ids(self, pk: int | None) -> set[int]:
        parents = {node.pk: node.parent_id for node in self.nodes}
        found: set[int] = set()
        while pk is not None and pk not in found:
            found.add(pk)
            pk = parents.get(pk)
        return found


def category_tree() -> CategoryTree:
    """All categories in tree order (parents before their children, siblings by name), in one query."""
    rows = list(Category.objects.order_by("name", "id").values("id", "name", "parent_id", "is_active"))
    children: dict[int | None, list[dict[str, Any]]] = defaultdict(list)
    for row in rows:
        children[row["parent_id"]].append(row)
    tree = CategoryTree(children={key: [row["id"] for row in value] for key, value in children.items()})
    seen: set[int] = set()

    def walk(parent_id: int | None, depth: int, prefix: str) -> None:
        for row in children.get(parent_id, []):
            if row["id"] in seen:  # a cycle cannot be saved, but a bad row must not hang the page
                continue
            seen.add(row["id"])
            path = f"{prefix} › {row['name']}" if prefix else row["name"]
            tree.nodes.append(
                CategoryNode(
                    pk=row["id"],
                    name=row["name"],
                    parent_id=row["parent_id"],
                    depth=depth,
                    path=path,
                    is_active=row["is_active"],
                )
            )
            walk(row["id"], depth + 1, path)

    walk(None, 0, "")
    return tree


def category_choices(tree: CategoryTree, *, active_only: bool = False, keep: int | None = None) -> list[tuple]:
    """(pk, "Parent › Child") pairs in tree order for a select; ``keep`` stays even if inactive."""
    return [(node.pk, node.path) for node in tree.nodes if not active_only or node.is_active or node.pk == keep]


# --- Search --------------------------------------------------------------------------------------


def product_search_q(text: str, prefix: str = "") -> Q:
    """Every word must appear in the product's normalised name/SKU.

    ``contains`` (LIKE '%word%', not ILIKE) on the already lower-cased ``search_text`` is
    what the trigram index on PostgreSQL serves.
    """
    condition = Q()
    for word in normalize_search(text).split()[:6]:
        condition &= Q(**{f"{prefix}search_text__contains": word})
    return condition


# --- Stock levels --------------------------------------------------------------------------------


def stock_levels(
    user: User,
    *,
    warehouse: Warehouse | None = None,
    category_ids: list[int] | None = None,
    low_only: bool = False,
    search: str = "",
    sort: str = "product",
) -> QuerySet[StockLevel]:
    qs = StockLevel.objects.visible_to(user).select_related("product", "product__category", "warehouse")
    if warehouse is not None:
        qs = qs.filter(warehouse=warehouse)
    if category_ids is not None:
        qs = qs.filter(product__category_id__in=category_ids)
    if low_only:
        # The flag the services keep in step with "quantity < reorder level" (stock_level_wh_low_idx).
        qs = qs.filter(is_low=True)
    if search:
        qs = qs.filter(product_search_q(search, "product__"))
    return qs.order_by(*STOCK_SORTS.get(sort, STOCK_SORTS["product"]))


def visible_warehouses(user: User, *, active_only: bool = False) -> QuerySet[Warehouse]:
    qs = Warehouse.objects.visible_to(user).select_related("branch").order_by("name", "id")
    return qs.filter(is_active=True) if active_only else qs


def default_warehouse_id(user: User) -> int | None:
    """The active default warehouse of the user's own branch, if they may see it."""
    return (
        Warehouse.objects.visible_to(user)
        .filter(branch_id=user.branch_id, is_default=True, is_active=True)
        .values_list("pk", flat=True)
        .first()
    )


def warehouse_list(user: User) -> QuerySet[Warehouse]:
    return Warehouse.objects.visible_to(user).select_related("branch").order_by("branch__name", "name", "id")


def visible_branches(user: User) -> QuerySet[Branch]:
    return Branch.objects.visible_to(user).filter(is_active=True).order_by("name")


# --- Products ------------------------------------------------------------------------------------


def product_list(
    *, category_ids: list[int] | None = None, search: str = "", status: str = "active", sort: str = "name"
) -> QuerySet[Product]:
    qs = Product.objects.select_related("category")
    if status == "active":
        qs = qs.filter(is_active=True)
    elif status == "inactive":
        qs = qs.filter(is_active=False)
    if category_ids is not None:
        qs = qs.filter(category_id__in=category_ids)
    if search:
        qs = qs.filter(product_search_q(search))
    return qs.order_by(*PRODUCT_SORTS.get(sort, PRODUCT_SORTS["name"]))


def products(user: User) -> QuerySet[Product]:
    """Products with their category, for a detail or edit page (get_object_or_404 on it)."""
    return Product.objects.visible_to(user).select_related("category")


def categories() -> QuerySet[Category]:
    return Category.objects.select_related("parent")


def operable_products() -> QuerySet[Product]:
    """Products stock may be moved for: the active ones."""
    return Product.objects.active()


def product_lookup(text: str, limit: int = LOOKUP_LIMIT) -> list[Product]:
    text = normalize_search(text)
    if not text:
        return []
    return list(
        Product.objects.active()
        .filter(product_search_q(text))
        .select_related("category")
        .order_by("name", "id")[:limit]
    )


def product_levels(user: User, product: Product) -> list[StockLevel]:
    return list(
        StockLevel.objects.visible_to(user)
        .filter(product=product)
        .select_related("warehouse", "warehouse__branch")
        .order_by("warehouse__name", "id")
    )


def product_recent_movements(user: User, product: Product, limit: int = 15) -> list[StockMovement]:
    return list(
        StockMovement.objects.visible_to(user)
        .filter(product=product)
        .select_related("warehouse", "actor", "order")
        .order_by(*MOVEMENT_ORDERING)[:limit]
    )


@dataclass(frozen=True)
class FieldChange:
    label: str
    old: Any
    new: Any


@dataclass(frozen=True)
class RecordChange:
    who: str
    at: dt.datetime
    changes: list[FieldChange]


def product_changes_since(product: Product, version: int, limit: int = 10) -> list[RecordChange]:
    """Who changed what in a product after ``version`` (for the edit conflict message).

    Every product_update that changed something bumped the version by one and wrote one
    ``product.update`` entry, so the newest (current - version) entries are the ones missed.
    """
    missed = max(0, min(product.version - int(version), limit))
    if not missed:
        return []
    entries = list(
        ActivityLog.objects.filter(
            target_type=ContentType.objects.get_for_model(Product),
            target_id=str(product.pk),
            action="product.update",
        ).order_by("-id")[:missed]
    )
    category_ids = {
        value for entry in entries for value in (entry.changes or {}).get("category", []) if isinstance(value, int)
    }
    categories = Category.objects.in_bulk(list(category_ids)) if category_ids else {}
    choices = dict(Product._meta.get_field("unit").choices)

    def shown(name: str, value: Any) -> Any:
        if value is None or value == "":
            return "—"
        if name == "category":
            return categories.get(value, value)
        if name == "unit":
            return choices.get(value, value)
        if name in ("price", "cost", "reorder_level"):
            return Decimal(str(value))
        return value

    result = []
    for entry in reversed(entries):
        changes = []
        for name, pair in (entry.changes or {}).items():
            try:
                label = capfirst(Product._meta.get_field(name).verbose_name)
            except FieldDoesNotExist:  # a field removed since the entry was written
                label = name
            old, new = [*pair, None, None][:2]
            changes.append(FieldChange(label=str(label), old=shown(name, old), new=shown(name, new)))
        result.append(RecordChange(who=entry.actor_repr, at=entry.created_at, changes=changes))
    return result


# --- Ledger --------------------------------------------------------------------------------------


def _day_start(day: dt.date) -> dt.datetime:
    return timezone.make_aware(dt.datetime.combine(day, dt.time.min))


def movement_ledger(
    user: User,
    *,
    warehouse: Warehouse | None = None,
    product: Product | None = None,
    kind: str = "",
    date_from: dt.date | None = None,
    date_to: dt.date | None = None,
    reference: str = "",
) -> QuerySet[StockMovement]:
    """Movements the user may see, newest first; paginate with keyset_paginate(MOVEMENT_ORDERING)."""
    qs = StockMovement.objects.visible_to(user).select_related("product", "warehouse", "actor", "order")
    if warehouse is not None:
        qs = qs.filter(warehouse=warehouse)
    if product is not None:
        qs = qs.filter(product=product)
    if kind:
        qs = qs.filter(kind=kind)
    if date_from is not None:
        qs = qs.filter(created_at__gte=_day_start(date_from))
    if date_to is not None:
        qs = qs.filter(created_at__lt=_day_start(date_to + dt.timedelta(days=1)))
    if reference:
        qs = qs.filter(reference__icontains=reference.strip())
    return qs.order_by(*MOVEMENT_ORDERING)


# --- Stock alerts --------------------------------------------------------------------------------

# The alerts page shows at most this many rows (a branch rarely has more levels below their
# reorder level at once; beyond it the stock page's "low only" filter pages through them all).
ALERTS_LIMIT = 200
PANEL_LIMIT = 8


def alert_sort_key(level: StockLevel) -> str:
    """The order of alert rows, compared as plain strings on the server and in the browser
    (static/js/live.js inserts a new row where its ``data-sort-key`` belongs)."""
    return f"{level.product.name}|{level.warehouse.name}|{level.pk:012d}"


def _alert_levels(user: User) -> QuerySet[StockLevel]:
    return (
        StockLevel.objects.visible_to(user)
        .select_related("product", "warehouse", "warehouse__branch")
        .annotate(shortfall=F("product__reorder_level") - F("quantity"))
    )


@dataclass(frozen=True)
class StockAlerts:
    levels: list[StockLevel]
    count: int  # all of them, not only the ones shown
    more: bool
    since: int  # the newest event id the list reflects (data-live-since)


def stock_alerts(user: User, limit: int = ALERTS_LIMIT) -> StockAlerts:
    """The levels below their reorder level in the user's scope, in ``alert_sort_key`` order."""
    # Read before the query: an event committed in between makes the page resync, not miss it.
    since = last_event_id()
    rows = list(_alert_levels(user).filter(is_low=True).order_by("product__name", "warehouse__name", "id")[: limit + 1])
    more = len(rows) > limit
    # The database's collation may order names differently from a plain string comparison;
    # the browser inserts live rows by the latter, so the page is sorted the same way.
    levels = sorted(rows[:limit], key=alert_sort_key)
    return StockAlerts(levels=levels, count=stock_alert_count(user) if more else len(levels), more=more, since=since)


def stock_alert_count(user: User) -> int:
    return StockLevel.objects.visible_to(user).filter(is_low=True).count()


def stock_level_for_row(user: User, pk: Any) -> StockLevel | None:
    """One level with what its row on the stock, product and alerts pages shows, if the user may see it."""
    if not isinstance(pk, int) or isinstance(pk, bool):
        return None
    return _alert_levels(user).select_related("product__category").filter(pk=pk).first()


def follows_stock_alerts(user: User) -> bool:
    """The roles the low-stock alerts are for (realtime.audiences.ROLE_TOPICS "alerts") — the
    same people the services notify — and who may see stock levels."""
    return "alerts" in topics_for_user(user) and user.has_perm("inventory.view_stocklevel")


def follows_stock_board(user: User) -> bool:
    return "inventory" in topics_for_user(user) and user.has_perm("inventory.view_stocklevel")
