from __future__ import annotations

from django.contrib import admin

from crm_core.common.admin import (
    BigTableAdminMixin,
    BranchScopedAdminMixin,
    NormalizedSearchMixin,
    ScopedRelatedFieldListFilter,
    ServiceAdminMixin,
    ViewOnlyAdminMixin,
    ViewOnlyTabularInline,
)
from crm_core.customers import services
from crm_core.customers.models import Customer, CustomerCategory, CustomerNote


@admin.register(CustomerCategory)
class CustomerCategoryAdmin(ServiceAdminMixin, admin.ModelAdmin):
    list_display = ("name", "discount_percent", "description", "is_active")
    list_filter = ("is_active",)
    search_fields = ("name",)
    readonly_fields = ("created_at", "updated_at")

    def save_through_service(self, request, obj, data):
        if obj is None:
            return services.customer_category_create(
                actor=request.user,
                name=data["name"],
                discount_percent=data["discount_percent"],
                description=data.get("description", ""),
            )
        return services.customer_category_update(actor=request.user, category=obj, **data)


class CustomerNoteInline(BranchScopedAdminMixin, ViewOnlyTabularInline):
    model = CustomerNote
    fields = ("created_at", "author", "body")
    readonly_fields = ("created_at",)

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("author")


@admin.register(Customer)
class CustomerAdmin(
    BranchScopedAdminMixin, BigTableAdminMixin, NormalizedSearchMixin, ViewOnlyAdminMixin, admin.ModelAdmin
):
    """Read-only: customers are created and edited through the customer services."""

    list_display = ("code", "name", "phone", "branch", "category", "kind", "status", "city", "created_at")
    list_select_related = ("branch", "category")
    list_filter = ("status", "kind", ("branch", ScopedRelatedFieldListFilter), "category")
    search_fields = ("code", "name", "phone_digits", "search_text")
    sortable_by = ("code", "name", "created_at")
    autocomplete_fields = ("created_by",)
    readonly_fields = ("version", "created_at", "updated_at")
    inlines = (CustomerNoteInline,)
