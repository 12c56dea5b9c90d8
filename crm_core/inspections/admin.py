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
from crm_core.inspections.models import Inspection, InspectionPhoto, InspectionResult


class InspectionResultInline(ViewOnlyStackedInline):
    model = InspectionResult
    fields = ("outcome", "findings", "measurements", "recommendations", "recorded_by", "created_at")
    readonly_fields = ("created_at",)

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("recorded_by")


class InspectionPhotoInline(ViewOnlyTabularInline):
    model = InspectionPhoto
    fields = ("image", "caption", "uploaded_by", "uploaded_at")
    readonly_fields = ("uploaded_at",)

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("uploaded_by")


@admin.register(Inspection)
class InspectionAdmin(BranchScopedAdminMixin, BigTableAdminMixin, ViewOnlyAdminMixin, admin.ModelAdmin):
    """Read-only: inspections are scheduled, rescheduled and completed through services."""

    list_display = (
        "number",
        "scheduled_start",
        "scheduled_end",
        "customer",
        "inspector",
        "branch",
        "status",
        "order",
    )
    list_select_related = ("customer", "inspector", "branch", "order")
    list_filter = ("status", ("branch", ScopedRelatedFieldListFilter))
    search_fields = ("number", "customer__name")
    sortable_by = ("number", "scheduled_start")
    date_hierarchy = "scheduled_start"
    autocomplete_fields = ("customer", "inspector", "order", "created_by")
    readonly_fields = ("version", "created_at", "updated_at")
    inlines = (InspectionResultInline, InspectionPhotoInline)
