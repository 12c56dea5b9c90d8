from __future__ import annotations

from django.contrib import admin

from crm_core.common.admin import (
    BigTableAdminMixin,
    BranchScopedAdminMixin,
    ScopedRelatedFieldListFilter,
    ViewOnlyAdminMixin,
    ViewOnlyStackedInline,
    ViewOnlyTabularInline,
)
from crm_core.orders.models import Order, OrderItem, OrderStatusChange, Payment, ShippingDetails


class OrderItemInline(BranchScopedAdminMixin, ViewOnlyTabularInline):
    model = OrderItem
    fields = ("product", "description", "quantity", "unit_price", "discount_percent", "line_total")

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("product")


class PaymentInline(BranchScopedAdminMixin, ViewOnlyTabularInline):
    model = Payment
    fields = ("received_at", "amount", "method", "reference", "received_by", "note")

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("received_by")


class ShippingDetailsInline(ViewOnlyStackedInline):
    model = ShippingDetails
    readonly_fields = ("created_at", "updated_at")


class OrderStatusChangeInline(ViewOnlyTabularInline):
    model = OrderStatusChange
    fields = ("changed_at", "from_status", "to_status", "changed_by", "note")

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("changed_by")


@admin.register(Order)
class OrderAdmin(BranchScopedAdminMixin, BigTableAdminMixin, ViewOnlyAdminMixin, admin.ModelAdmin):
    """Read-only: orders, their items, payments and status move only through the order services."""

    list_display = (
        "number",
        "order_date",
        "customer",
        "branch",
        "status",
        "total",
        "balance",
        "currency",
        "salesperson",
        "created_at",
    )
    list_select_related = ("customer", "branch", "salesperson")
    list_filter = (
        "status",
        ("branch", ScopedRelatedFieldListFilter),
        ("warehouse", ScopedRelatedFieldListFilter),
    )
    search_fields = ("number", "customer__name")
    sortable_by = ("number", "order_date", "created_at")
    date_hierarchy = "order_date"
    autocomplete_fields = ("customer", "salesperson", "created_by")
    readonly_fields = ("version", "created_at", "updated_at")
    inlines = (OrderItemInline, ShippingDetailsInline, PaymentInline, OrderStatusChangeInline)


@admin.register(Payment)
class PaymentAdmin(BranchScopedAdminMixin, BigTableAdminMixin, ViewOnlyAdminMixin, admin.ModelAdmin):
    list_display = ("received_at", "order", "amount", "method", "reference", "branch", "received_by")
    list_select_related = ("order", "branch", "received_by")
    list_filter = ("method", ("branch", ScopedRelatedFieldListFilter))
    search_fields = ("=order__number", "reference")
    sortable_by = ("received_at",)
    date_hierarchy = "received_at"
    autocomplete_fields = ("order", "received_by")
    readonly_fields = ("created_at",)


@admin.register(OrderStatusChange)
class OrderStatusChangeAdmin(BranchScopedAdminMixin, BigTableAdminMixin, ViewOnlyAdminMixin, admin.ModelAdmin):
    """The order's status history is a ledger: written by ``order_transition`` only."""

    scope_via = "order"
    list_per_page = 100
    list_display = ("changed_at", "order", "from_status", "to_status", "changed_by", "note")
    list_select_related = ("order", "changed_by")
    list_filter = ("to_status",)
    search_fields = ("=order__number",)
    # Newest first by primary key: the table has no index on changed_at alone.
    ordering = ("-id",)
    sortable_by = ()
    autocomplete_fields = ("order", "changed_by")
