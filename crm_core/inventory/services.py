"""Writes for the catalogue and the stock ledger.

Every stock change locks the StockLevel rows it touches (in ascending id order), writes one
StockMovement per leg with ``balance_after``, and raises or clears the low-stock alert when
the level crosses the product's reorder level.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q
from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from crm_core.accounts.audit import log_activity
from crm_core.accounts.models import Branch, NotificationKind, Role, User
from crm_core.accounts.services import notify_users
from crm_core.common.services import (
    apply_changes,
    check_version,
    diff,
    require_perm,
    resolve_branch,
    snapshot,
    validate_model,
)
from crm_core.common.text import build_search_text
from crm_core.inventory.models import Category, MovementKind, Product, StockLevel, StockMovement, Warehouse
from realtime.publish import publish

QUANTITY_STEP = Decimal("0.001")
PRODUCT_FIELDS = ("name", "category", "unit", "price", "cost", "reorder_level", "description", "is_active")


@dataclass(frozen=True)
class StockLine:
    """One product and quantity to move (an order's items, a multi-line receipt)."""

    product_id: int
    quantity: Decimal


# --- Catalogue -----------------------------------------------------------------------------------


def _product_search(product: Product) -> None:
    product.search_text = build_search_text(product.name, product.sku)


def _validate_product(product: Product) -> None:
    validate_model(product, exclude=["search_text"])
    for field in ("price", "cost", "reorder_level"):
        if getattr(product, field) < 0:
            raise ValidationError({field: _("This value cannot be negative.")})


def product_create(
    *,
    actor: User,
    sku: str,
    name: str,
    price: Decimal,
    category: Category | None = None,
    unit: str = "piece",
    cost: Decimal = Decimal("0"),
    reorder_level: Decimal = Decimal("0"),
    description: str = "",
) -> Product:
    require_perm(actor, "inventory.add_product")
    product = Product(
        sku=sku.strip().upper(),
        name=name.strip(),
        price=price,
        category=category,
        unit=unit,
        cost=cost,
        reorder_level=reorder_level,
        description=description,
    )
    _validate_product(product)
    if Product.objects.filter(sku=product.sku).exists():
        raise ValidationError({"sku": _("A product with this SKU already exists.")})
    with transaction.atomic():
        _product_search(product)
        product.save()
        log_activity(
            actor=actor,
            action="product.create",
            target=product,
            changes={k: [None, v] for k, v in snapshot(product, PRODUCT_FIELDS).items()},
        )
    return product


def product_update(*, actor: User, product: Product, expected_version: int | None, **values: Any) -> Product:
    require_perm(actor, "inventory.change_product")
    with transaction.atomic():
        product = Product.objects.select_for_update(no_key=True).get(pk=product.pk)
        check_version(product, expected_version)
        before = snapshot(product, PRODUCT_FIELDS)
        changed = apply_changes(product, values, PRODUCT_FIELDS)
        if not changed:
            return product
        _validate_product(product)
        _product_search(product)
        product.version += 1
        product.save()
        log_activity(
            actor=actor,
            action="product.update",
            target=product,
            changes=diff(before, snapshot(product, PRODUCT_FIELDS)),
        )
        if "reorder_level" in changed:
            # A new reorder level can put levels that did not move below (or above) it.
            levels = StockLevel.objects.select_for_update(no_key=True).filter(product=product).order_by("pk")
            for level in levels.select_related("warehouse"):
                _update_alert_state(actor=actor, level=level, product=product, warehouse=level.warehouse)
    return product


def category_create(*, actor: User, name: str, parent: Category | None = None) -> Category:
    require_perm(actor, "inventory.add_category")
    category = Category(name=name.strip(), parent=parent)
    validate_model(category)
    if Category.objects.filter(name__iexact=category.name, parent=parent).exists():
        raise ValidationError({"name": _("This category already exists here.")})
    with transaction.atomic():
        category.save()
        log_activity(actor=actor, action="category.create", target=category)
    return category


def category_update(*, actor: User, category: Category, **values: Any) -> Category:
    require_perm(actor, "inventory.change_category")
    fields = ("name", "parent", "is_active")
    with transaction.atomic():
        category = Category.objects.select_for_update().get(pk=category.pk)
        before = snapshot(category, fields)
        changed = apply_changes(category, values, fields)
        if not changed:
            return category
        ancestor = category.parent
        while ancestor is not None:
            if ancestor.pk == category.pk:
                raise ValidationError({"parent": _("A category cannot sit inside itself.")})
            ancestor = ancestor.parent
        validate_model(category)
        siblings = Category.objects.filter(name__iexact=category.name, parent_id=category.parent_id)
        if siblings.exclude(pk=category.pk).exists():
            # Same rule as category_create; the UNIQUE constraint would otherwise end in an IntegrityError.
            raise ValidationError({"name": _("This category already exists here.")})
        category.save()
        log_activity(
            actor=actor, action="category.update", target=category, changes=diff(before, snapshot(category, fields))
        )
    return category


def warehouse_create(
    *, actor: User, code: str, name: str, branch: Branch | None = None, address: str = "", is_default: bool = False
) -> Warehouse:
    require_perm(actor, "inventory.add_warehouse")
    branch = resolve_branch(actor, branch)
    warehouse = Warehouse(
        code=code.strip().upper(), name=name.strip(), branch=branch, address=address, is_default=is_default
    )
    validate_model(warehouse)
    if Warehouse.objects.filter(code=warehouse.code).exists():
        raise ValidationError({"code": _("A warehouse with this code already exists.")})
    with transaction.atomic():
        if is_default:
            Warehouse.objects.filter(branch=branch, is_default=True).update(is_default=False)
        warehouse.save()
        log_activity(actor=actor, action="warehouse.create", target=warehouse, branch_id=branch.pk)
    return warehouse


def warehouse_update(*, actor: User, warehouse: Warehouse, **values: Any) -> Warehouse:
    require_perm(actor, "inventory.change_warehouse")
    fields = ("name", "address", "is_default", "is_active")
    with transaction.atomic():
        warehouse = Warehouse.objects.visible_to(actor).select_for_update().get(pk=warehouse.pk)
        before = snapshot(warehouse, fields)
        changed = apply_changes(warehouse, values, fields)
        if not changed:
            return warehouse
        if warehouse.is_default and not warehouse.is_active:
            raise ValidationError({"is_active": _("The branch's default warehouse cannot be deactivated.")})
        if "is_default" in changed and warehouse.is_default:
            Warehouse.objects.filter(branch_id=warehouse.branch_id, is_default=True).update(is_default=False)
        validate_model(warehouse)
        warehouse.save()
        log_activity(
            actor=actor,
            action="warehouse.update",
            target=warehouse,
            branch_id=warehouse.branch_id,
            changes=diff(before, snapshot(warehouse, fields)),
        )
    return warehouse


# --- Stock ledger ----------------------------------------------------------------------------------


def _positive_quantity(quantity: Any, field: str = "quantity") -> Decimal:
    try:
        value = Decimal(str(quantity))
    except ArithmeticError:
        raise ValidationError({field: _("Enter a number.")}) from None
    if not value.is_finite() or value <= 0:
        raise ValidationError({field: _("The quantity must be greater than zero.")})
    if value != value.quantize(QUANTITY_STEP):
        raise ValidationError({field: _("Use at most three decimal places.")})
    return value


def _quantity_text(value: Decimal) -> str:
    """A quantity as people write it: 10, 2.5 — not 10.000, and never 1E+1 (what normalize() gives)."""
    return format(value.normalize(), "f")


def _visible_warehouse(actor: User, warehouse: Warehouse) -> Warehouse:
    found = Warehouse.objects.visible_to(actor).select_related("branch").get(pk=warehouse.pk)
    if not found.is_active:
        raise ValidationError({"warehouse": _("This warehouse is closed.")})
    return found


def lock_levels(warehouse_id: int, product_ids: list[int]) -> dict[int, StockLevel]:
    """Lock (creating where missing) the levels of these products in one warehouse."""
    ids = sorted(set(product_ids))
    StockLevel.objects.bulk_create(
        [StockLevel(product_id=pid, warehouse_id=warehouse_id) for pid in ids], ignore_conflicts=True
    )
    rows = (
        StockLevel.objects.select_for_update(no_key=True, of=("self",))
        .filter(warehouse_id=warehouse_id, product_id__in=ids)
        .order_by("pk")
    )
    return {row.product_id: row for row in rows}


def _alert_recipients(branch_id: int) -> list[User]:
    return list(
        User.objects.active()
        .filter(Q(branch_id=branch_id) | Q(all_branches=True))
        .filter(role__in=(Role.STOREKEEPER, Role.MANAGER))
        .order_by("pk")
    )


def _stock_url(level: StockLevel) -> str:
    try:
        return reverse("inventory:stock") + f"?warehouse={level.warehouse_id}&low=1"
    except NoReverseMatch:
        return ""


def _update_alert_state(*, actor: User, level: StockLevel, product: Product, warehouse: Warehouse) -> None:
    _update_alert_states(actor=actor, entries=[(level, product)], warehouse=warehouse)


def _update_alert_states(*, actor: User, entries: list[tuple[StockLevel, Product]], warehouse: Warehouse) -> None:
    """Raise or clear the low-stock alert of each level whose side of the reorder level changed.

    The flags are written in one query and the recipients read once, however many levels
    of the warehouse crossed at the same time (an order with many lines shipping).
    """
    crossed = [
        (level, product) for level, product in entries if (level.quantity < product.reorder_level) != level.is_low
    ]
    if not crossed:
        return
    now = timezone.now()
    for level, _product in crossed:
        level.is_low = not level.is_low
        level.updated_at = now
    StockLevel.objects.bulk_update([level for level, _product in crossed], ["is_low", "updated_at"])
    recipients = _alert_recipients(warehouse.branch_id) if any(level.is_low for level, _p in crossed) else []
    for level, product in crossed:
        data = {
            "level": level.pk,
            "product": product.pk,
            "product_name": product.name,
            "sku": product.sku,
            "warehouse": warehouse.pk,
            "warehouse_name": warehouse.name,
            "quantity": str(level.quantity),
            "reorder_level": str(product.reorder_level),
        }
        if level.is_low:
            notify_users(
                recipients=recipients,
                kind=NotificationKind.STOCK_LOW,
                # Built in each recipient's language (the storekeeper's may not be the manager's).
                title=lambda product=product: (
                    _("Low stock: %(product)s in %(warehouse)s")
                    % {"product": product.name, "warehouse": warehouse.name}
                ),
                body=lambda level=level, product=product: (
                    _("%(quantity)s left, reorder level %(level)s.")
                    % {"quantity": _quantity_text(level.quantity), "level": _quantity_text(product.reorder_level)}
                ),
                url=_stock_url(level),
                branch_id=warehouse.branch_id,
                target=level,
            )
            publish("stock.low", branch_id=warehouse.branch_id, data=data)
        else:
            publish("stock.restored", branch_id=warehouse.branch_id, data=data)


def _publish_stock_changed(movement: StockMovement, level: StockLevel, warehouse: Warehouse) -> None:
    publish(
        "stock.changed",
        branch_id=warehouse.branch_id,
        data={
            "movement": movement.pk,
            "level": level.pk,
            "kind": movement.kind,
            "product": movement.product_id,
            "warehouse": warehouse.pk,
            "quantity": str(movement.balance_after),
            "low": level.is_low,
            # The level had nothing before: it may be new to its warehouse's lists.
            "first": movement.balance_after == movement.quantity,
        },
    )


def apply_movement(
    *,
    actor: User,
    level: StockLevel,
    product: Product,
    warehouse: Warehouse,
    kind: str,
    delta: Decimal,
    reference: str = "",
    note: str = "",
    unit_cost: Decimal | None = None,
    order: Any = None,
) -> StockMovement:
    """Move stock on a level the caller has locked. Refuses to go below zero."""
    new_quantity = level.quantity + delta
    if new_quantity < 0:
        raise ValidationError(
            {
                "quantity": _(
                    "Not enough stock of %(product)s in %(warehouse)s: %(available)s available, %(wanted)s needed."
                )
                % {
                    "product": product.name,
                    "warehouse": warehouse.name,
                    "available": _quantity_text(level.quantity),
                    "wanted": _quantity_text(-delta),
                }
            }
        )
    level.quantity = new_quantity
    level.save(update_fields=["quantity", "updated_at"])
    movement = StockMovement.objects.create(
        product=product,
        warehouse=warehouse,
        branch_id=warehouse.branch_id,
        kind=kind,
        quantity=delta,
        balance_after=new_quantity,
        unit_cost=unit_cost,
        order=order,
        reference=reference[:100],
        note=note[:255],
        actor=actor,
    )
    _update_alert_state(actor=actor, level=level, product=product, warehouse=warehouse)
    _publish_stock_changed(movement, level, warehouse)
    return movement


def issue_lines(
    *, actor: User, warehouse: Warehouse, lines: list[StockLine], reference: str, order: Any = None, note: str = ""
) -> list[StockMovement]:
    """Issue several products at once: all of them or, if one is short, none.

    A fixed number of queries however many lines: levels are updated with one bulk UPDATE
    and the movements written with one bulk INSERT.
    """
    wanted: dict[int, Decimal] = {}
    for line in lines:
        wanted[line.product_id] = wanted.get(line.product_id, Decimal("0")) + line.quantity
    products = Product.objects.in_bulk(list(wanted))
    levels = lock_levels(warehouse.pk, list(wanted))
    short = [pid for pid, quantity in wanted.items() if levels[pid].quantity < quantity]
    if short:
        raise ValidationError(
            _("Not enough stock in %(warehouse)s for: %(items)s.")
            % {
                "warehouse": warehouse.name,
                "items": "، ".join(
                    f"{products[pid].name} ({_quantity_text(levels[pid].quantity)}/{_quantity_text(wanted[pid])})"
                    for pid in short
                ),
            }
        )
    now = timezone.now()
    movements = []
    for line in sorted(lines, key=lambda line: line.product_id):
        level = levels[line.product_id]
        level.quantity -= line.quantity
        level.updated_at = now
        movements.append(
            StockMovement(
                product=products[line.product_id],
                warehouse=warehouse,
                branch_id=warehouse.branch_id,
                kind=MovementKind.ISSUE,
                quantity=-line.quantity,
                balance_after=level.quantity,
                order=order,
                reference=reference[:100],
                note=note[:255],
                actor=actor,
            )
        )
    touched = [levels[pid] for pid in sorted(wanted)]
    StockLevel.objects.bulk_update(touched, ["quantity", "updated_at"])
    StockMovement.objects.bulk_create(movements)
    _update_alert_states(
        actor=actor, entries=[(levels[pid], products[pid]) for pid in sorted(wanted)], warehouse=warehouse
    )
    for movement in movements:
        _publish_stock_changed(movement, levels[movement.product_id], warehouse)
    return movements


def _movement_log(actor: User, movement: StockMovement, action: str) -> None:
    log_activity(
        actor=actor,
        action=action,
        target=movement,
        branch_id=movement.branch_id,
        changes={
            "product": [None, movement.product_id],
            "warehouse": [None, movement.warehouse_id],
            "quantity": [None, str(movement.quantity)],
            "balance_after": [None, str(movement.balance_after)],
        },
    )


def stock_receive(
    *,
    actor: User,
    product: Product,
    warehouse: Warehouse,
    quantity: Decimal,
    unit_cost: Decimal | None = None,
    reference: str = "",
    note: str = "",
) -> StockMovement:
    require_perm(actor, "inventory.add_stockmovement")
    quantity = _positive_quantity(quantity)
    if unit_cost is not None and unit_cost < 0:
        raise ValidationError({"unit_cost": _("This value cannot be negative.")})
    warehouse = _visible_warehouse(actor, warehouse)
    with transaction.atomic():
        product = Product.objects.get(pk=product.pk)
        level = lock_levels(warehouse.pk, [product.pk])[product.pk]
        movement = apply_movement(
            actor=actor,
            level=level,
            product=product,
            warehouse=warehouse,
            kind=MovementKind.RECEIVE,
            delta=quantity,
            reference=reference,
            note=note,
            unit_cost=unit_cost,
        )
        _movement_log(actor, movement, "stock.receive")
    return movement


def stock_issue(
    *,
    actor: User,
    product: Product,
    warehouse: Warehouse,
    quantity: Decimal,
    reference: str = "",
    note: str = "",
) -> StockMovement:
    require_perm(actor, "inventory.add_stockmovement")
    quantity = _positive_quantity(quantity)
    warehouse = _visible_warehouse(actor, warehouse)
    with transaction.atomic():
        product = Product.objects.get(pk=product.pk)
        level = lock_levels(warehouse.pk, [product.pk])[product.pk]
        movement = apply_movement(
            actor=actor,
            level=level,
            product=product,
            warehouse=warehouse,
            kind=MovementKind.ISSUE,
            delta=-quantity,
            reference=reference,
            note=note,
        )
        _movement_log(actor, movement, "stock.issue")
    return movement


def stock_adjust(
    *, actor: User, product: Product, warehouse: Warehouse, counted_quantity: Decimal, reason: str
) -> StockMovement:
    """Set the level to what a stock count found; the difference is the movement."""
    require_perm(actor, "inventory.add_stockmovement", "inventory.adjust_stock")
    try:
        counted = Decimal(str(counted_quantity))
    except ArithmeticError:
        raise ValidationError({"counted_quantity": _("Enter a number.")}) from None
    if not counted.is_finite() or counted < 0:
        raise ValidationError({"counted_quantity": _("The counted quantity cannot be negative.")})
    if counted != counted.quantize(QUANTITY_STEP):
        # The column keeps three places: more would be rounded there and split the ledger
        # (the movement and the level rounded apart no longer add up).
        raise ValidationError({"counted_quantity": _("Use at most three decimal places.")})
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": _("Say why the stock is adjusted.")})
    warehouse = _visible_warehouse(actor, warehouse)
    with transaction.atomic():
        product = Product.objects.get(pk=product.pk)
        level = lock_levels(warehouse.pk, [product.pk])[product.pk]
        delta = counted - level.quantity
        if delta == 0:
            raise ValidationError({"counted_quantity": _("The count matches the stock level; nothing to adjust.")})
        movement = apply_movement(
            actor=actor,
            level=level,
            product=product,
            warehouse=warehouse,
            kind=MovementKind.ADJUST,
            delta=delta,
            note=reason,
        )
        _movement_log(actor, movement, "stock.adjust")
    return movement


def stock_transfer(
    *,
    actor: User,
    product: Product,
    from_warehouse: Warehouse,
    to_warehouse: Warehouse,
    quantity: Decimal,
    note: str = "",
) -> tuple[StockMovement, StockMovement]:
    """Both legs in one transaction: the goods are never in two places, nor in none."""
    require_perm(actor, "inventory.add_stockmovement")
    quantity = _positive_quantity(quantity)
    if from_warehouse.pk == to_warehouse.pk:
        raise ValidationError({"to_warehouse": _("Choose a different destination warehouse.")})
    source = _visible_warehouse(actor, from_warehouse)
    target = _visible_warehouse(actor, to_warehouse)
    with transaction.atomic():
        product = Product.objects.get(pk=product.pk)
        # Lock both levels in id order, whichever direction the goods travel.
        StockLevel.objects.bulk_create(
            [StockLevel(product=product, warehouse=source), StockLevel(product=product, warehouse=target)],
            ignore_conflicts=True,
        )
        locked = {
            level.warehouse_id: level
            for level in StockLevel.objects.select_for_update(no_key=True)
            .filter(product=product, warehouse_id__in=[source.pk, target.pk])
            .order_by("pk")
        }
        reference = _("Transfer %(source)s → %(target)s") % {"source": source.code, "target": target.code}
        out_leg = apply_movement(
            actor=actor,
            level=locked[source.pk],
            product=product,
            warehouse=source,
            kind=MovementKind.TRANSFER_OUT,
            delta=-quantity,
            reference=reference,
            note=note,
        )
        in_leg = apply_movement(
            actor=actor,
            level=locked[target.pk],
            product=product,
            warehouse=target,
            kind=MovementKind.TRANSFER_IN,
            delta=quantity,
            reference=reference,
            note=note,
        )
        out_leg.transfer_peer = in_leg
        out_leg.save(update_fields=["transfer_peer"])
        log_activity(
            actor=actor,
            action="stock.transfer",
            target=out_leg,
            branch_id=source.branch_id,
            changes={
                "product": [None, product.pk],
                "from_warehouse": [None, source.pk],
                "to_warehouse": [None, target.pk],
                "quantity": [None, str(quantity)],
            },
        )
    return out_leg, in_leg
