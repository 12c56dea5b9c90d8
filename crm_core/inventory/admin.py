from __future__ import annotations

from django.contrib import admin

from crm_core.common.admin import (
    BigTableAdminMixin,
    BranchScopedAdminMixin,
    NormalizedSearchMixin,
    ScopedRelatedFieldListFilter,
    ServiceAdminMixin,
    ViewOnlyAdminMixin,
)
from crm_core.inventory import services
from crm_core.inventory.models import Category, Product, StockLevel, StockMovement, Warehouse


@admin.register(Category)
class CategoryAdmin(ServiceAdminMixin, admin.ModelAdmin):
    list_display = ("name", "parent", "is_active")
    list_select_related = ("parent",)
    list_filter = ("is_active",)
    search_fields = ("name",)
    readonly_fields = ("created_at", "updated_at")

    def save_through_service(self, request, obj, data):
        if obj is None:
            return services.category_create(actor=request.user, name=data["name"], parent=data.get("parent"))
        return services.category_update(actor=request.user, category=obj, **data)


@admin.register(Product)
class ProductAdmin(NormalizedSearchMixin, BigTableAdminMixin, ViewOnlyAdminMixin, admin.ModelAdmin):
    """Read-only: products are created and repriced through the catalogue services."""

    list_per_page = 100
    list_display = ("sku", "name", "category", "unit", "price", "cost", "reorder_level", "is_active")
    list_select_related = ("category",)
    list_filter = ("is_active", "unit", "category")
    search_fields = ("sku", "name", "search_text")
    sortable_by = ("sku", "name")
    readonly_fields = ("version", "created_at", "updated_at")


@admin.register(Warehouse)
class WarehouseAdmin(ServiceAdminMixin, BranchScopedAdminMixin, admin.ModelAdmin):
    list_display = ("code", "name", "branch", "is_default", "is_active")
    list_select_related = ("branch",)
    list_filter = (("branch", ScopedRelatedFieldListFilter), "is_default", "is_active")
    search_fields = ("code", "name")
    readonly_fields = ("created_at", "updated_at")

    def get_readonly_fields(self, request, obj=None):
        # Stock and orders belong to the warehouse: it never moves to another branch.
        return (*self.readonly_fields, "code", "branch") if obj is not None else self.readonly_fields

    def save_through_service(self, request, obj, data):
        if obj is None:
            return services.warehouse_create(
                actor=request.user,
                code=data["code"],
                name=data["name"],
                branch=data["branch"],
                address=data.get("address", ""),
                is_default=data.get("is_default", False),
            )
        return services.warehouse_update(actor=request.user, warehouse=obj, **data)


@admin.register(StockLevel)
class StockLevelAdmin(BranchScopedAdminMixin, BigTableAdminMixin, ViewOnlyAdminMixin, admin.ModelAdmin):
    """Quantities change only through the stock services, which write a movement each time."""

    list_per_page = 100
    list_display = ("product", "warehouse", "quantity", "is_low", "updated_at")
    list_select_related = ("product", "warehouse")
    list_filter = ("is_low", ("warehouse", ScopedRelatedFieldListFilter))
    search_fields = ("product__sku", "product__name")
    autocomplete_fields = ("product",)
    readonly_fields = ("updated_at",)


@admin.register(StockMovement)
class StockMovementAdmin(BranchScopedAdminMixin, BigTableAdminMixin, ViewOnlyAdminMixin, admin.ModelAdmin):
    """The stock ledger is append-only: never added, edited or deleted here."""

    list_per_page = 100
    list_display = (
        "created_at",
        "kind",
        "product",
        "warehouse",
        "quantity",
        "balance_after",
        "order",
        "reference",
        "actor",
        "branch",
    )
    list_select_related = ("product", "warehouse", "order", "actor", "branch")
    list_filter = (
        "kind",
        ("branch", ScopedRelatedFieldListFilter),
        ("warehouse", ScopedRelatedFieldListFilter),
    )
    search_fields = ("product__sku", "reference", "=order__number")
    sortable_by = ("created_at",)
    autocomplete_fields = ("product", "order", "actor")
    raw_id_fields = ("transfer_peer",)
    readonly_fields = ("created_at",)
