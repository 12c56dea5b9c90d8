from __future__ import annotations

from decimal import Decimal
from typing import Self

from django.conf import settings
from django.db import models
from django.db.models import F, Q, Value
from django.utils.translation import gettext_lazy as _

from crm_core.common.models import BranchScopedQuerySet, TimeStampedModel, VersionedModel


class OrderStatus(models.TextChoices):
    NEW = "new", _("New")
    CONFIRMED = "confirmed", _("Confirmed")
    IN_PROGRESS = "in_progress", _("In progress")
    READY = "ready", _("Ready")
    SHIPPED = "shipped", _("Shipped")
    DELIVERED = "delivered", _("Delivered")
    CANCELLED = "cancelled", _("Cancelled")


# The order's life: each status lists where it may go next. Cancelling is possible from
# any state before the goods leave the warehouse.
ORDER_TRANSITIONS: dict[str, tuple[str, ...]] = {
    OrderStatus.NEW: (OrderStatus.CONFIRMED, OrderStatus.CANCELLED),
    OrderStatus.CONFIRMED: (OrderStatus.IN_PROGRESS, OrderStatus.CANCELLED),
    OrderStatus.IN_PROGRESS: (OrderStatus.READY, OrderStatus.CANCELLED),
    OrderStatus.READY: (OrderStatus.SHIPPED, OrderStatus.CANCELLED),
    OrderStatus.SHIPPED: (OrderStatus.DELIVERED,),
    OrderStatus.DELIVERED: (),
    OrderStatus.CANCELLED: (),
}
OPEN_ORDER_STATUSES = (
    OrderStatus.NEW,
    OrderStatus.CONFIRMED,
    OrderStatus.IN_PROGRESS,
    OrderStatus.READY,
    OrderStatus.SHIPPED,
)
# Items can be changed only while nothing has been prepared.
EDITABLE_ORDER_STATUSES = (OrderStatus.NEW, OrderStatus.CONFIRMED)

HALF_CENT = Value(Decimal("0.005"))


class OrderQuerySet(BranchScopedQuerySet):
    def open(self) -> Self:
        return self.filter(status__in=OPEN_ORDER_STATUSES)

    def with_balance_due(self) -> Self:
        return self.filter(balance__gt=0).exclude(status=OrderStatus.CANCELLED)


class Order(TimeStampedModel, VersionedModel):
    number = models.CharField(_("number"), max_length=30, unique=True)
    # branch, customer and salesperson have no single-column index: the composite indexes in
    # Meta lead with them, and every extra index costs each insert of a million-row table.
    branch = models.ForeignKey(
        "accounts.Branch", verbose_name=_("branch"), on_delete=models.PROTECT, related_name="orders", db_index=False
    )
    customer = models.ForeignKey(
        "customers.Customer",
        verbose_name=_("customer"),
        on_delete=models.PROTECT,
        related_name="orders",
        db_index=False,
    )
    salesperson = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        db_index=False,
        verbose_name=_("salesperson"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="sales_orders",
    )
    warehouse = models.ForeignKey(
        "inventory.Warehouse", verbose_name=_("ships from"), on_delete=models.PROTECT, related_name="orders"
    )
    status = models.CharField(_("status"), max_length=12, choices=OrderStatus.choices, default=OrderStatus.NEW)
    order_date = models.DateField(_("order date"))
    subtotal = models.DecimalField(_("subtotal"), max_digits=14, decimal_places=2, default=Decimal("0"))
    discount_amount = models.DecimalField(_("order discount"), max_digits=14, decimal_places=2, default=Decimal("0"))
    tax_rate = models.DecimalField(_("tax rate"), max_digits=5, decimal_places=4, default=Decimal("0"))
    tax_amount = models.DecimalField(_("tax"), max_digits=14, decimal_places=2, default=Decimal("0"))
    total = models.DecimalField(_("total"), max_digits=14, decimal_places=2, default=Decimal("0"))
    amount_paid = models.DecimalField(_("paid"), max_digits=14, decimal_places=2, default=Decimal("0"))
    # total - amount_paid, stored so "balance due" is an indexed filter, not a computation per row.
    balance = models.DecimalField(_("balance due"), max_digits=14, decimal_places=2, default=Decimal("0"))
    currency = models.CharField(_("currency"), max_length=3)
    notes = models.TextField(_("notes"), blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("created by"), on_delete=models.SET_NULL, null=True, related_name="+"
    )
    status_changed_at = models.DateTimeField(_("status changed at"), null=True, blank=True)

    objects = OrderQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("order")
        verbose_name_plural = _("orders")
        permissions = [("transition_order", _("Can change an order's status"))]
        constraints = [
            models.CheckConstraint(condition=Q(status__in=OrderStatus.values), name="order_status_valid"),
            models.CheckConstraint(condition=Q(subtotal__gte=0), name="order_subtotal_non_negative"),
            models.CheckConstraint(condition=Q(discount_amount__gte=0), name="order_discount_non_negative"),
            models.CheckConstraint(condition=Q(discount_amount__lte=F("subtotal")), name="order_discount_le_subtotal"),
            models.CheckConstraint(condition=Q(tax_rate__gte=0) & Q(tax_rate__lte=1), name="order_tax_rate_range"),
            models.CheckConstraint(condition=Q(total__gte=0), name="order_total_non_negative"),
            models.CheckConstraint(condition=Q(amount_paid__gte=0), name="order_paid_non_negative"),
            models.CheckConstraint(condition=Q(amount_paid__lte=F("total")), name="order_paid_le_total"),
            # A half-cent band rather than equality: SQLite evaluates decimal arithmetic in
            # floating point (205.20 - 200.00 != 5.20 there). On PostgreSQL's numeric(14, 2)
            # the band admits only the exact value.
            models.CheckConstraint(
                condition=Q(balance__gte=F("total") - F("amount_paid") - HALF_CENT)
                & Q(balance__lte=F("total") - F("amount_paid") + HALF_CENT),
                name="order_balance_consistent",
            ),
            models.CheckConstraint(condition=Q(version__gte=1), name="order_version_positive"),
        ]
        indexes = [
            models.Index(fields=["branch", "-created_at", "-id"], name="order_branch_recent_idx"),
            models.Index(fields=["-created_at", "-id"], name="order_recent_idx"),
            models.Index(fields=["branch", "status", "-created_at"], name="order_branch_status_idx"),
            models.Index(fields=["status", "-created_at"], name="order_status_recent_idx"),
            # The board: each column's newest arrivals, and the closed columns' recent window.
            models.Index(fields=["status", "-status_changed_at", "-id"], name="order_board_idx"),
            models.Index(fields=["salesperson", "-created_at"], name="order_sales_recent_idx"),
            models.Index(fields=["customer", "-created_at"], name="order_customer_recent_idx"),
            models.Index(fields=["branch", "order_date"], name="order_branch_date_idx"),
            models.Index(fields=["order_date"], name="order_date_idx"),
            models.Index(fields=["branch", "-created_at"], condition=Q(balance__gt=0), name="order_balance_due_idx"),
        ]

    def __str__(self) -> str:
        return self.number

    def allowed_transitions(self) -> tuple[str, ...]:
        return ORDER_TRANSITIONS[self.status]


class OrderItemQuerySet(BranchScopedQuerySet):
    branch_field = "order__branch_id"


class OrderItem(models.Model):
    # Indexed by the (order, product) unique constraint.
    order = models.ForeignKey(
        Order, verbose_name=_("order"), on_delete=models.CASCADE, related_name="items", db_index=False
    )
    product = models.ForeignKey(
        "inventory.Product", verbose_name=_("product"), on_delete=models.PROTECT, related_name="order_items"
    )
    description = models.CharField(_("description"), max_length=200)
    quantity = models.DecimalField(_("quantity"), max_digits=12, decimal_places=3)
    unit_price = models.DecimalField(_("unit price"), max_digits=12, decimal_places=2)
    discount_percent = models.DecimalField(_("discount %"), max_digits=5, decimal_places=2, default=Decimal("0"))
    line_total = models.DecimalField(_("line total"), max_digits=14, decimal_places=2)

    objects = OrderItemQuerySet.as_manager()

    class Meta:
        ordering = ["id"]
        verbose_name = _("order item")
        verbose_name_plural = _("order items")
        constraints = [
            models.UniqueConstraint(fields=["order", "product"], name="order_item_one_line_per_product"),
            models.CheckConstraint(condition=Q(quantity__gt=0), name="order_item_quantity_positive"),
            models.CheckConstraint(condition=Q(unit_price__gte=0), name="order_item_price_non_negative"),
            models.CheckConstraint(
                condition=Q(discount_percent__gte=0) & Q(discount_percent__lte=100), name="order_item_discount_range"
            ),
            models.CheckConstraint(condition=Q(line_total__gte=0), name="order_item_total_non_negative"),
        ]

    def __str__(self) -> str:
        return f"{self.description} × {self.quantity}"


class PaymentMethod(models.TextChoices):
    CASH = "cash", _("Cash")
    CARD = "card", _("Card")
    BANK_TRANSFER = "bank_transfer", _("Bank transfer")
    CHEQUE = "cheque", _("Cheque")
    WALLET = "wallet", _("Mobile wallet")


class PaymentQuerySet(BranchScopedQuerySet):
    pass


class Payment(models.Model):
    order = models.ForeignKey(Order, verbose_name=_("order"), on_delete=models.PROTECT, related_name="payments")
    branch = models.ForeignKey("accounts.Branch", verbose_name=_("branch"), on_delete=models.PROTECT, related_name="+")
    amount = models.DecimalField(_("amount"), max_digits=14, decimal_places=2)
    method = models.CharField(_("method"), max_length=16, choices=PaymentMethod.choices, default=PaymentMethod.CASH)
    reference = models.CharField(_("reference"), max_length=100, blank=True)
    received_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("received by"), on_delete=models.PROTECT, null=True, related_name="+"
    )
    received_at = models.DateTimeField(_("received at"))
    note = models.CharField(_("note"), max_length=255, blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    objects = PaymentQuerySet.as_manager()

    class Meta:
        ordering = ["-received_at", "-id"]
        verbose_name = _("payment")
        verbose_name_plural = _("payments")
        constraints = [
            models.CheckConstraint(condition=Q(amount__gt=0), name="payment_amount_positive"),
            models.CheckConstraint(condition=Q(method__in=PaymentMethod.values), name="payment_method_valid"),
        ]
        indexes = [
            models.Index(fields=["branch", "-received_at"], name="payment_branch_recent_idx"),
            models.Index(fields=["-received_at"], name="payment_recent_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.order_id}: {self.amount}"


class ShippingMethod(models.TextChoices):
    DELIVERY = "delivery", _("Delivery")
    PICKUP = "pickup", _("Customer pick-up")
    COURIER = "courier", _("Courier company")


class ShippingDetails(TimeStampedModel):
    order = models.OneToOneField(Order, verbose_name=_("order"), on_delete=models.CASCADE, related_name="shipping")
    method = models.CharField(
        _("method"), max_length=10, choices=ShippingMethod.choices, default=ShippingMethod.DELIVERY
    )
    recipient_name = models.CharField(_("recipient"), max_length=200)
    phone = models.CharField(_("phone"), max_length=32)
    city = models.CharField(_("city"), max_length=80, blank=True)
    address = models.CharField(_("address"), max_length=255, blank=True)
    scheduled_date = models.DateField(_("delivery date"), null=True, blank=True)
    carrier = models.CharField(_("carrier"), max_length=100, blank=True)
    tracking_number = models.CharField(_("tracking number"), max_length=100, blank=True)
    cost = models.DecimalField(_("shipping cost"), max_digits=12, decimal_places=2, default=Decimal("0"))
    notes = models.CharField(_("notes"), max_length=255, blank=True)

    class Meta:
        verbose_name = _("shipping details")
        verbose_name_plural = _("shipping details")
        constraints = [
            models.CheckConstraint(condition=Q(cost__gte=0), name="shipping_cost_non_negative"),
            models.CheckConstraint(condition=Q(method__in=ShippingMethod.values), name="shipping_method_valid"),
        ]
        indexes = [models.Index(fields=["scheduled_date"], name="shipping_date_idx")]

    def __str__(self) -> str:
        return f"{self.order_id}: {self.get_method_display()}"


class OrderStatusChange(models.Model):
    # Indexed by status_change_order_idx (order, changed_at).
    order = models.ForeignKey(
        Order, verbose_name=_("order"), on_delete=models.CASCADE, related_name="status_changes", db_index=False
    )
    from_status = models.CharField(_("from"), max_length=12, choices=OrderStatus.choices, blank=True)
    to_status = models.CharField(_("to"), max_length=12, choices=OrderStatus.choices)
    changed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("by"), on_delete=models.SET_NULL, null=True, related_name="+"
    )
    changed_at = models.DateTimeField(_("at"))
    note = models.CharField(_("note"), max_length=255, blank=True)

    class Meta:
        ordering = ["changed_at", "id"]
        verbose_name = _("order status change")
        verbose_name_plural = _("order status history")
        constraints = [
            models.CheckConstraint(condition=Q(to_status__in=OrderStatus.values), name="status_change_to_valid"),
            models.CheckConstraint(
                condition=Q(from_status__in=[*OrderStatus.values, ""]), name="status_change_from_valid"
            ),
        ]
        indexes = [models.Index(fields=["order", "changed_at"], name="status_change_order_idx")]

    def __str__(self) -> str:
        return f"{self.order_id}: {self.from_status} → {self.to_status}"
