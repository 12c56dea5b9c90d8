"""Writes for orders: creation, items and totals, status transitions, payments, shipping."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.formats import number_format
from django.utils.translation import gettext as _

from crm_core.accounts.audit import log_activity
from crm_core.accounts.models import User
from crm_core.common.models import next_number
from crm_core.common.services import (
    apply_changes,
    check_version,
    diff,
    lock_visible,
    require_perm,
    snapshot,
    validate_model,
)
from crm_core.customers.models import Customer, CustomerStatus
from crm_core.inventory.models import Product, Warehouse
from crm_core.inventory.services import StockLine, issue_lines
from crm_core.orders.models import (
    EDITABLE_ORDER_STATUSES,
    ORDER_TRANSITIONS,
    Order,
    OrderItem,
    OrderStatus,
    OrderStatusChange,
    Payment,
    PaymentMethod,
    ShippingDetails,
)
from realtime.publish import publish

CENT = Decimal("0.01")
QUANTITY_STEP = Decimal("0.001")
ORDER_FIELDS = ("discount_amount", "notes", "salesperson", "warehouse", "order_date")
SHIPPING_FIELDS = (
    "method",
    "recipient_name",
    "phone",
    "city",
    "address",
    "scheduled_date",
    "carrier",
    "tracking_number",
    "cost",
    "notes",
)


@dataclass(frozen=True)
class ItemInput:
    product_id: int
    quantity: Decimal
    unit_price: Decimal | None = None
    discount_percent: Decimal | None = None


def _money(value: Decimal) -> Decimal:
    return value.quantize(CENT, rounding=ROUND_HALF_UP)


def _decimal(value: Any, field: str) -> Decimal:
    try:
        number = Decimal(str(value))
    except ArithmeticError:
        raise ValidationError({field: _("Enter a number.")}) from None
    if not number.is_finite():
        raise ValidationError({field: _("Enter a number.")})
    return number


def line_total(quantity: Decimal, unit_price: Decimal, discount_percent: Decimal) -> Decimal:
    return _money(quantity * unit_price * (Decimal("100") - discount_percent) / Decimal("100"))


def _event_data(order: Order, **extra: Any) -> dict[str, Any]:
    return {
        "order": order.pk,
        "number": order.number,
        "status": order.status,
        "customer": order.customer_id,
        "total": str(order.total),
        "paid": str(order.amount_paid),
        "balance": str(order.balance),
        "version": order.version,
        **extra,
    }


def _recompute_totals(order: Order, items: list[OrderItem] | None = None, shipping_cost: Decimal | None = None) -> None:
    """Totals from the items, the order discount, the tax rate and the shipping cost.

    ``items`` and ``shipping_cost`` are read from the database unless given (a new order's
    totals are set before its first save, so the CHECK constraints hold on INSERT).
    """
    if items is None:
        items = list(order.items.all())
    subtotal = sum((item.line_total for item in items), Decimal("0"))
    if order.discount_amount > subtotal:
        raise ValidationError({"discount_amount": _("The discount cannot exceed the items' subtotal.")})
    if shipping_cost is None:
        shipping = ShippingDetails.objects.filter(order=order).values_list("cost", flat=True).first()
        shipping_cost = shipping or Decimal("0")
    taxable = subtotal - order.discount_amount
    order.subtotal = _money(subtotal)
    order.tax_amount = _money(taxable * order.tax_rate)
    order.total = _money(taxable + order.tax_amount + shipping_cost)
    if order.total < order.amount_paid:
        raise ValidationError(
            _("The new total %(total)s would be below the %(paid)s already paid. Record a refund first.")
            % {"total": order.total, "paid": order.amount_paid}
        )
    order.balance = order.total - order.amount_paid


def _validated_item(item: ItemInput, products: dict[int, Product], category_discount: Decimal) -> OrderItem:
    product = products.get(item.product_id)
    if product is None or not product.is_active:
        raise ValidationError({"product": _("Choose an active product.")})
    quantity = _decimal(item.quantity, "quantity")
    if quantity <= 0:
        raise ValidationError({"quantity": _("The quantity must be greater than zero.")})
    if quantity != quantity.quantize(QUANTITY_STEP):
        raise ValidationError({"quantity": _("Use at most three decimal places.")})
    unit_price = product.price if item.unit_price is None else _decimal(item.unit_price, "unit_price")
    if unit_price < 0:
        raise ValidationError({"unit_price": _("The price cannot be negative.")})
    discount = (
        category_discount if item.discount_percent is None else _decimal(item.discount_percent, "discount_percent")
    )
    if discount < 0 or discount > 100:
        raise ValidationError({"discount_percent": _("The discount must be between 0 and 100%.")})
    unit_price = _money(unit_price)
    return OrderItem(
        product=product,
        description=product.name[:200],
        quantity=quantity,
        unit_price=unit_price,
        discount_percent=discount,
        line_total=line_total(quantity, unit_price, discount),
    )


def _category_discount(customer: Customer) -> Decimal:
    if customer.category_id and customer.category.is_active:
        return customer.category.discount_percent
    return Decimal("0")


def _branch_warehouse(actor: User, order_branch_id: int, warehouse: Warehouse | None) -> Warehouse:
    if warehouse is not None:
        found = Warehouse.objects.visible_to(actor).filter(pk=warehouse.pk, branch_id=order_branch_id).first()
        if found is None:
            raise ValidationError({"warehouse": _("Choose a warehouse of the order's branch.")})
        return found
    found = Warehouse.objects.filter(branch_id=order_branch_id, is_default=True, is_active=True).first()
    if found is None:
        raise ValidationError({"warehouse": _("The branch has no default warehouse; choose one.")})
    return found


def _check_salesperson(actor: User, branch_id: int, salesperson: User | None) -> User | None:
    if salesperson is None:
        return None
    found = User.objects.visible_to(actor).active().filter(pk=salesperson.pk).first()
    if found is None or not (found.branch_id == branch_id or found.all_branches):
        raise ValidationError({"salesperson": _("Choose an active member of the order's branch.")})
    return found


def _log_status(order: Order, from_status: str, actor: User, note: str, at: Any) -> None:
    OrderStatusChange.objects.create(
        order=order, from_status=from_status, to_status=order.status, changed_by=actor, changed_at=at, note=note[:255]
    )


def order_create(
    *,
    actor: User,
    customer: Customer,
    items: list[ItemInput],
    discount_amount: Decimal = Decimal("0"),
    notes: str = "",
    salesperson: User | None = None,
    warehouse: Warehouse | None = None,
    order_date: date | None = None,
    inspection: Any = None,
) -> Order:
    require_perm(actor, "orders.add_order", "orders.add_orderitem")
    customer = Customer.objects.visible_to(actor).select_related("category", "branch").get(pk=customer.pk)
    if customer.status == CustomerStatus.BLOCKED:
        raise ValidationError({"customer": _("This customer is blocked; orders cannot be taken.")})
    if not items:
        raise ValidationError({"items": _("Add at least one item.")})
    product_ids = [item.product_id for item in items]
    if len(set(product_ids)) != len(product_ids):
        raise ValidationError({"items": _("Each product may appear once; change the quantity instead.")})
    products = Product.objects.in_bulk(product_ids)
    category_discount = _category_discount(customer)
    lines = [_validated_item(item, products, category_discount) for item in items]
    discount_amount = _money(_decimal(discount_amount, "discount_amount"))
    if discount_amount < 0:
        raise ValidationError({"discount_amount": _("The discount cannot be negative.")})
    branch = customer.branch
    ship_from = _branch_warehouse(actor, branch.pk, warehouse)
    salesperson = _check_salesperson(actor, branch.pk, salesperson or actor)
    today = timezone.localdate()
    with transaction.atomic():
        if inspection is not None:
            from crm_core.inspections.models import Inspection

            inspection = lock_visible(Inspection.objects, actor, inspection.pk)
            if inspection.customer_id != customer.pk:
                raise ValidationError({"inspection": _("The inspection is for another customer.")})
            if inspection.order_id is not None:
                raise ValidationError({"inspection": _("An order was already created from this inspection.")})
        year = (order_date or today).year
        number = f"{branch.code}-{year}-{next_number(f'order:{branch.pk}:{year}'):06d}"
        now = timezone.now()
        order = Order(
            number=number,
            branch=branch,
            customer=customer,
            salesperson=salesperson,
            warehouse=ship_from,
            order_date=order_date or today,
            discount_amount=discount_amount,
            tax_rate=settings.CRM_TAX_RATE,
            currency=settings.CRM_CURRENCY,
            notes=notes.strip(),
            created_by=actor,
            status_changed_at=now,
        )
        # Totals before the INSERT: the discount <= subtotal CHECK must hold on the first write.
        _recompute_totals(order, items=lines, shipping_cost=Decimal("0"))
        validate_model(order, exclude=["branch", "customer", "warehouse", "salesperson", "created_by"])
        order.save()
        for line in lines:
            line.order = order
        OrderItem.objects.bulk_create(lines)
        _log_status(order, "", actor, "", now)
        if inspection is not None:
            inspection.order = order
            inspection.version += 1
            inspection.save(update_fields=["order", "version", "updated_at"])
            publish(
                "inspection.order_linked",
                branch_id=inspection.branch_id,
                data={"inspection": inspection.pk, "order": order.pk, "status": inspection.status},
                users=(inspection.inspector_id,) if inspection.inspector_id else (),
            )
        log_activity(
            actor=actor,
            action="order.create",
            target=order,
            branch_id=branch.pk,
            changes={
                "customer": [None, customer.pk],
                "items": [None, len(lines)],
                "total": [None, str(order.total)],
                **({"inspection": [None, inspection.pk]} if inspection is not None else {}),
            },
        )
        publish("order.created", branch_id=branch.pk, data=_event_data(order))
    return order


def order_update(*, actor: User, order: Order, expected_version: int | None, **values: Any) -> Order:
    require_perm(actor, "orders.change_order")
    unknown = set(values) - set(ORDER_FIELDS)
    if unknown:
        raise TypeError(f"order_update() got unexpected fields {sorted(unknown)}")
    with transaction.atomic():
        order = lock_visible(Order.objects, actor, order.pk)
        check_version(order, expected_version)
        if order.status not in EDITABLE_ORDER_STATUSES:
            raise ValidationError(
                _("A %(status)s order can no longer be edited.") % {"status": order.get_status_display()}
            )
        if "warehouse" in values:
            values["warehouse"] = _branch_warehouse(actor, order.branch_id, values["warehouse"])
        if "salesperson" in values:
            values["salesperson"] = _check_salesperson(actor, order.branch_id, values["salesperson"])
        if "discount_amount" in values:
            values["discount_amount"] = _money(_decimal(values["discount_amount"], "discount_amount"))
            if values["discount_amount"] < 0:
                raise ValidationError({"discount_amount": _("The discount cannot be negative.")})
        if isinstance(values.get("notes"), str):
            values["notes"] = values["notes"].strip()
        before = snapshot(order, ORDER_FIELDS)
        changed = apply_changes(order, values, ORDER_FIELDS)
        if not changed:
            return order
        _recompute_totals(order)
        order.version += 1
        order.save()
        log_activity(
            actor=actor,
            action="order.update",
            target=order,
            branch_id=order.branch_id,
            changes=diff(before, snapshot(order, ORDER_FIELDS)),
        )
        publish("order.updated", branch_id=order.branch_id, data=_event_data(order, fields=changed))
    return order


def _lock_editable_order(actor: User, order_id: int, expected_version: int | None) -> Order:
    order = lock_visible(Order.objects, actor, order_id)
    check_version(order, expected_version)
    if order.status not in EDITABLE_ORDER_STATUSES:
        raise ValidationError(
            _("Items of a %(status)s order can no longer be changed.") % {"status": order.get_status_display()}
        )
    return order


def _items_changed(actor: User, order: Order, action: str, changes: dict[str, Any]) -> None:
    _recompute_totals(order)
    order.version += 1
    order.save(update_fields=["subtotal", "tax_amount", "total", "balance", "version", "updated_at"])
    log_activity(actor=actor, action=action, target=order, branch_id=order.branch_id, changes=changes)
    publish("order.updated", branch_id=order.branch_id, data=_event_data(order, fields=["items"]))


def order_item_add(*, actor: User, order: Order, item: ItemInput, expected_version: int | None = None) -> OrderItem:
    """Add a product; if it is already on the order, its quantity grows instead."""
    require_perm(actor, "orders.add_orderitem")
    with transaction.atomic():
        order = _lock_editable_order(actor, order.pk, expected_version)
        customer = Customer.objects.select_related("category").get(pk=order.customer_id)
        existing = OrderItem.objects.filter(order=order, product_id=item.product_id).first()
        products = Product.objects.in_bulk([item.product_id])
        line = _validated_item(item, products, _category_discount(customer))
        if existing is not None:
            before = str(existing.quantity)
            existing.quantity += line.quantity
            existing.line_total = line_total(existing.quantity, existing.unit_price, existing.discount_percent)
            existing.save(update_fields=["quantity", "line_total"])
            _items_changed(
                actor,
                order,
                "order.item_update",
                {"item": [existing.pk, existing.pk], "quantity": [before, str(existing.quantity)]},
            )
            return existing
        line.order = order
        line.save()
        _items_changed(
            actor,
            order,
            "order.item_add",
            {
                "product": [None, line.product_id],
                "quantity": [None, str(line.quantity)],
                "unit_price": [None, str(line.unit_price)],
            },
        )
    return line


def order_item_update(
    *,
    actor: User,
    item: OrderItem,
    quantity: Decimal | None = None,
    unit_price: Decimal | None = None,
    discount_percent: Decimal | None = None,
    expected_version: int | None = None,
) -> OrderItem:
    require_perm(actor, "orders.change_orderitem")
    with transaction.atomic():
        order = _lock_editable_order(actor, item.order_id, expected_version)
        current = OrderItem.objects.select_related("product").get(pk=item.pk, order=order)
        before = snapshot(current, ("quantity", "unit_price", "discount_percent"))
        updated = _validated_item(
            ItemInput(
                product_id=current.product_id,
                quantity=current.quantity if quantity is None else quantity,
                unit_price=current.unit_price if unit_price is None else unit_price,
                discount_percent=current.discount_percent if discount_percent is None else discount_percent,
            ),
            {current.product_id: current.product},
            Decimal("0"),
        )
        current.quantity = updated.quantity
        current.unit_price = updated.unit_price
        current.discount_percent = updated.discount_percent
        current.line_total = updated.line_total
        current.save(update_fields=["quantity", "unit_price", "discount_percent", "line_total"])
        _items_changed(
            actor,
            order,
            "order.item_update",
            {
                "item": [current.pk, current.pk],
                **diff(before, snapshot(current, ("quantity", "unit_price", "discount_percent"))),
            },
        )
    return current


def order_item_remove(*, actor: User, item: OrderItem, expected_version: int | None = None) -> Order:
    require_perm(actor, "orders.delete_orderitem")
    with transaction.atomic():
        order = _lock_editable_order(actor, item.order_id, expected_version)
        current = OrderItem.objects.get(pk=item.pk, order=order)
        if order.items.count() == 1:
            raise ValidationError(_("An order needs at least one item; cancel the order instead."))
        removed = {"product": [current.product_id, None], "quantity": [str(current.quantity), None]}
        current.delete()
        _items_changed(actor, order, "order.item_remove", removed)
    return order


@dataclass(frozen=True)
class ItemChange:
    item: OrderItem
    quantity: Decimal
    unit_price: Decimal
    discount_percent: Decimal


def order_apply_edit(
    *,
    actor: User,
    order: Order,
    expected_version: int | None,
    header: dict[str, Any],
    adds: list[ItemInput],
    changes: list[ItemChange],
    removes: list[OrderItem],
) -> Order:
    """One save of the order form: header and item changes, all applied or none.

    Each step goes through its own service (same checks, same audit rows and events); the
    outer transaction makes a refusal at any step undo the steps before it, so a user never
    finds half of their edit saved. Steps run in an order whose every intermediate state is
    valid when the final one is: growing lines first, shrinking ones next, removals after,
    and a larger order discount last.
    """
    with transaction.atomic():
        version = expected_version
        discount_grows = header.get("discount_amount", order.discount_amount) > order.discount_amount
        if header and not discount_grows:
            order = order_update(actor=actor, order=order, expected_version=version, **header)
            version = order.version
        for item in adds:
            order_item_add(actor=actor, order=order, item=item, expected_version=version)
            version = None if version is None else version + 1
        growth = {
            change.item.pk: line_total(change.quantity, change.unit_price, change.discount_percent)
            - change.item.line_total
            for change in changes
        }
        for change in sorted(changes, key=lambda c: growth[c.item.pk], reverse=True):
            order_item_update(
                actor=actor,
                item=change.item,
                quantity=change.quantity,
                unit_price=change.unit_price,
                discount_percent=change.discount_percent,
                expected_version=version,
            )
            version = None if version is None else version + 1
        for item in removes:
            order = order_item_remove(actor=actor, item=item, expected_version=version)
            version = order.version
        if header and discount_grows:
            order = order_update(actor=actor, order=order, expected_version=version, **header)
        return Order.objects.get(pk=order.pk)


def order_transition(
    *, actor: User, order: Order, to_status: str, note: str = "", expected_version: int | None = None
) -> Order:
    """Move an order to its next status. Shipping issues its stock, all or nothing."""
    require_perm(actor, "orders.transition_order")
    if to_status not in OrderStatus.values:
        raise ValidationError({"to_status": _("Unknown status.")})
    with transaction.atomic():
        order = lock_visible(Order.objects, actor, order.pk)
        check_version(order, expected_version)
        if to_status not in ORDER_TRANSITIONS[order.status]:
            raise ValidationError(
                {
                    "to_status": _("A %(current)s order cannot become %(target)s.")
                    % {"current": order.get_status_display(), "target": OrderStatus(to_status).label}
                }
            )
        items = list(order.items.all())
        if to_status == OrderStatus.CONFIRMED and not items:
            raise ValidationError({"to_status": _("Add at least one item before confirming.")})
        if to_status == OrderStatus.SHIPPED:
            warehouse = Warehouse.objects.get(pk=order.warehouse_id)
            issue_lines(
                actor=actor,
                warehouse=warehouse,
                lines=[StockLine(product_id=item.product_id, quantity=item.quantity) for item in items],
                reference=order.number,
                order=order,
            )
        from_status = order.status
        now = timezone.now()
        order.status = to_status
        order.status_changed_at = now
        order.version += 1
        order.save(update_fields=["status", "status_changed_at", "version", "updated_at"])
        _log_status(order, from_status, actor, note, now)
        log_activity(
            actor=actor,
            action="order.transition",
            target=order,
            branch_id=order.branch_id,
            changes={"status": [from_status, to_status], **({"note": [None, note[:200]]} if note else {})},
        )
        publish("order.status_changed", branch_id=order.branch_id, data=_event_data(order, from_status=from_status))
    return order


def payment_record(
    *,
    actor: User,
    order: Order,
    amount: Decimal,
    method: str = PaymentMethod.CASH,
    reference: str = "",
    note: str = "",
    received_at: Any = None,
) -> Payment:
    require_perm(actor, "orders.add_payment")
    amount = _decimal(amount, "amount")
    if amount <= 0:
        raise ValidationError({"amount": _("The amount must be greater than zero.")})
    if amount != _money(amount):
        raise ValidationError({"amount": _("Use at most two decimal places.")})
    if method not in PaymentMethod.values:
        raise ValidationError({"method": _("Choose a payment method.")})
    if received_at is not None and received_at > timezone.now():
        raise ValidationError({"received_at": _("A payment cannot be received in the future.")})
    with transaction.atomic():
        order = lock_visible(Order.objects, actor, order.pk)
        if order.status == OrderStatus.CANCELLED:
            raise ValidationError(_("A cancelled order cannot take payments."))
        if order.amount_paid + amount > order.total:
            raise ValidationError(
                {
                    "amount": _("This payment would exceed the order total: at most %(balance)s is due.")
                    % {"balance": number_format(order.balance, decimal_pos=2, use_l10n=True, force_grouping=True)}
                }
            )
        payment = Payment.objects.create(
            order=order,
            branch_id=order.branch_id,
            amount=amount,
            method=method,
            reference=reference.strip()[:100],
            note=note.strip()[:255],
            received_by=actor,
            received_at=received_at or timezone.now(),
        )
        order.amount_paid += amount
        order.balance = order.total - order.amount_paid
        order.version += 1
        order.save(update_fields=["amount_paid", "balance", "version", "updated_at"])
        log_activity(
            actor=actor,
            action="order.payment",
            target=order,
            branch_id=order.branch_id,
            changes={
                "amount_paid": [str(order.amount_paid - amount), str(order.amount_paid)],
                "method": [None, method],
            },
        )
        publish(
            "order.payment_recorded",
            branch_id=order.branch_id,
            data=_event_data(order, payment=payment.pk, amount=str(amount)),
        )
    return payment


def order_set_shipping(
    *, actor: User, order: Order, expected_version: int | None = None, **values: Any
) -> ShippingDetails:
    require_perm(actor, "orders.change_shippingdetails")
    unknown = set(values) - set(SHIPPING_FIELDS)
    if unknown:
        raise TypeError(f"order_set_shipping() got unexpected fields {sorted(unknown)}")
    with transaction.atomic():
        order = lock_visible(Order.objects, actor, order.pk)
        check_version(order, expected_version)
        if order.status in (OrderStatus.SHIPPED, OrderStatus.DELIVERED, OrderStatus.CANCELLED):
            raise ValidationError(
                _("Shipping of a %(status)s order can no longer be changed.") % {"status": order.get_status_display()}
            )
        shipping = ShippingDetails.objects.filter(order=order).first() or ShippingDetails(order=order)
        before = snapshot(shipping, SHIPPING_FIELDS) if shipping.pk else {}
        for key, value in values.items():
            setattr(shipping, key, value.strip() if isinstance(value, str) else value)
        if shipping.cost is None or _decimal(shipping.cost, "cost") < 0:
            raise ValidationError({"cost": _("The shipping cost cannot be negative.")})
        shipping.cost = _money(_decimal(shipping.cost, "cost"))
        validate_model(shipping, exclude=["order"])
        shipping.save()
        _recompute_totals(order)
        order.version += 1
        order.save(update_fields=["subtotal", "tax_amount", "total", "balance", "version", "updated_at"])
        log_activity(
            actor=actor,
            action="order.shipping",
            target=order,
            branch_id=order.branch_id,
            changes=diff(before, snapshot(shipping, SHIPPING_FIELDS)),
        )
        publish("order.shipping_updated", branch_id=order.branch_id, data=_event_data(order))
    return shipping
