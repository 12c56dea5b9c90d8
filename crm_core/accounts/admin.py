from __future__ import annotations

from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin
from django.utils.translation import gettext_lazy as _

from crm_core.accounts import services
from crm_core.accounts.models import ActivityLog, Branch, Department, Notification, User
from crm_core.common.admin import (
    BigTableAdminMixin,
    BranchScopedAdminMixin,
    ScopedRelatedFieldListFilter,
    ServiceAdminMixin,
    ViewOnlyAdminMixin,
)

BRANCH_FIELDS = ("code", "name", "address", "phone", "is_active")


@admin.register(Branch)
class BranchAdmin(ServiceAdminMixin, BranchScopedAdminMixin, admin.ModelAdmin):
    list_display = ("code", "name", "phone", "is_active")
    list_filter = ("is_active",)
    search_fields = ("code", "name")
    readonly_fields = ("created_at", "updated_at")

    def get_readonly_fields(self, request, obj=None):
        # The code is part of every customer, order and inspection number of the branch.
        return (*self.readonly_fields, "code") if obj is not None else self.readonly_fields

    def save_through_service(self, request, obj, data):
        if obj is None:
            return services.branch_create(
                actor=request.user,
                code=data["code"],
                name=data["name"],
                address=data.get("address", ""),
                phone=data.get("phone", ""),
            )
        return services.branch_update(actor=request.user, branch=obj, **data)


@admin.register(Department)
class DepartmentAdmin(ServiceAdminMixin, admin.ModelAdmin):
    list_display = ("code", "name", "is_active")
    list_filter = ("is_active",)
    search_fields = ("code", "name")
    readonly_fields = ("created_at", "updated_at")

    def get_readonly_fields(self, request, obj=None):
        return (*self.readonly_fields, "code") if obj is not None else self.readonly_fields

    def save_through_service(self, request, obj, data):
        if obj is None:
            return services.department_create(actor=request.user, code=data["code"], name=data["name"])
        return services.department_update(actor=request.user, department=obj, **data)


@admin.register(User)
class UserAdmin(ServiceAdminMixin, BranchScopedAdminMixin, BaseUserAdmin):
    fieldsets = (
        (None, {"fields": ("username", "password")}),
        (_("Personal info"), {"fields": ("first_name", "last_name", "email", "phone", "language")}),
        (_("Branch and role"), {"fields": ("branch", "department", "role", "all_branches")}),
        (
            _("Permissions"),
            # Groups follow the role (crm_core.accounts.roles); they are not picked by hand.
            {"fields": ("is_active", "is_staff", "is_superuser")},
        ),
        (_("Important dates"), {"fields": ("last_login", "date_joined")}),
    )
    add_fieldsets = (
        *BaseUserAdmin.add_fieldsets,
        (
            _("Branch and role"),
            {
                "classes": ("wide",),
                "fields": (
                    "first_name",
                    "last_name",
                    "email",
                    "branch",
                    "department",
                    "role",
                    "all_branches",
                    "language",
                ),
            },
        ),
    )
    list_display = ("username", "first_name", "last_name", "branch", "role", "is_staff", "is_active")
    list_select_related = ("branch",)
    list_filter = (
        "role",
        ("branch", ScopedRelatedFieldListFilter),
        "department",
        "is_staff",
        "is_superuser",
        "is_active",
        "all_branches",
        "groups",
    )
    search_fields = ("username", "first_name", "last_name", "email", "phone")

    def save_through_service(self, request, obj, data):
        if obj is None:
            return services.user_create(
                actor=request.user,
                username=data["username"],
                password=data["password1"],
                role=data["role"],
                branch=data.get("branch"),
                first_name=data.get("first_name", ""),
                last_name=data.get("last_name", ""),
                email=data.get("email", ""),
                department=data.get("department"),
                all_branches=data.get("all_branches", False),
                language=data.get("language", "ar"),
            )
        values = {key: value for key, value in data.items() if key in services.USER_FIELDS}
        return services.user_update(actor=request.user, user=obj, **values)

    def get_readonly_fields(self, request, obj=None):
        readonly = list(super().get_readonly_fields(request, obj))
        if obj is not None:
            readonly.append("username")
        # Nobody hands out more than they hold: only superusers make superusers, and only
        # someone who sees every branch can give that to another user.
        if not request.user.is_superuser:
            readonly.append("is_superuser")
        if not request.user.sees_all_branches:
            readonly.append("all_branches")
        return readonly


@admin.register(Notification)
class NotificationAdmin(BranchScopedAdminMixin, BigTableAdminMixin, ViewOnlyAdminMixin, admin.ModelAdmin):
    superuser_sees_all = True
    list_display = ("created_at", "recipient", "kind", "title", "branch", "is_read")
    list_select_related = ("recipient", "branch")
    list_filter = ("kind", "is_read", ("branch", ScopedRelatedFieldListFilter))
    search_fields = ("title",)
    autocomplete_fields = ("recipient",)
    fields = ("recipient", "branch", "kind", "title", "body", "url", "is_read", "read_at", "created_at")
    readonly_fields = ("created_at",)


@admin.register(ActivityLog)
class ActivityLogAdmin(BranchScopedAdminMixin, BigTableAdminMixin, ViewOnlyAdminMixin, admin.ModelAdmin):
    """The audit trail is append-only: written by services, never edited or deleted here."""

    list_per_page = 100
    list_display = ("created_at", "actor_repr", "action", "target_type", "target_repr", "branch", "ip_address")
    list_select_related = ("branch", "target_type")
    list_filter = (("branch", ScopedRelatedFieldListFilter), "target_type")
    search_fields = ("action", "actor_repr", "target_repr", "=target_id")
    sortable_by = ("created_at",)
    autocomplete_fields = ("actor",)
    readonly_fields = ("created_at",)
