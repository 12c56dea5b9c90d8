from __future__ import annotations

from typing import Self

from django.contrib.auth.models import AbstractUser, UserManager
from django.contrib.contenttypes.models import ContentType
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from crm_core.common.models import BranchScopedQuerySet, TimeStampedModel


class Role(models.TextChoices):
    ADMIN = "admin", _("Administrator")
    MANAGER = "manager", _("Manager")
    DISPATCHER = "dispatcher", _("Dispatcher")
    INSPECTOR = "inspector", _("Inspector")
    SALES = "sales", _("Sales")
    STOREKEEPER = "storekeeper", _("Storekeeper")
    ACCOUNTANT = "accountant", _("Accountant")


class BranchQuerySet(models.QuerySet):
    def visible_to(self, user) -> Self:
        if user is None or not user.is_authenticated or not user.is_active:
            return self.none()
        if user.sees_all_branches:
            return self.all()
        return self.filter(pk=user.branch_id)


class Branch(TimeStampedModel):
    code = models.CharField(_("code"), max_length=10, unique=True)
    name = models.CharField(_("name"), max_length=120)
    address = models.CharField(_("address"), max_length=255, blank=True)
    phone = models.CharField(_("phone"), max_length=32, blank=True)
    is_active = models.BooleanField(_("active"), default=True)

    objects = BranchQuerySet.as_manager()

    class Meta:
        ordering = ["name"]
        verbose_name = _("branch")
        verbose_name_plural = _("branches")
        constraints = [
            models.CheckConstraint(condition=~Q(code=""), name="branch_code_not_blank"),
        ]

    def __str__(self) -> str:
        return self.name


class Department(TimeStampedModel):
    code = models.CharField(_("code"), max_length=20, unique=True)
    name = models.CharField(_("name"), max_length=120)
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        ordering = ["name"]
        verbose_name = _("department")
        verbose_name_plural = _("departments")
        constraints = [
            models.CheckConstraint(condition=~Q(code=""), name="department_code_not_blank"),
        ]

    def __str__(self) -> str:
        return self.name


class UserQuerySet(BranchScopedQuerySet):
    def active(self) -> Self:
        return self.filter(is_active=True)

    def with_role(self, *roles: str) -> Self:
        return self.filter(role__in=roles)


class CrmUserManager(UserManager.from_queryset(UserQuerySet)):
    pass


class User(AbstractUser):
    branch = models.ForeignKey(
        Branch, verbose_name=_("branch"), on_delete=models.PROTECT, null=True, blank=True, related_name="users"
    )
    department = models.ForeignKey(
        Department,
        verbose_name=_("department"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="users",
    )
    role = models.CharField(_("role"), max_length=20, choices=Role.choices, default=Role.SALES, db_index=True)
    all_branches = models.BooleanField(
        _("sees all branches"), default=False, help_text=_("Head-office managers and administrators.")
    )
    phone = models.CharField(_("phone"), max_length=32, blank=True)
    language = models.CharField(
        _("language"), max_length=5, choices=[("ar", _("Arabic")), ("en", _("English"))], default="ar"
    )

    objects = CrmUserManager()

    class Meta:
        ordering = ["first_name", "last_name", "username"]
        verbose_name = _("user")
        verbose_name_plural = _("users")
        permissions = [("view_reports", _("Can view reports"))]
        constraints = [
            models.CheckConstraint(condition=Q(role__in=Role.values), name="user_role_valid"),
        ]
        indexes = [models.Index(fields=["branch", "role", "is_active"], name="user_branch_role_idx")]

    def __str__(self) -> str:
        return self.get_full_name() or self.username

    @property
    def sees_all_branches(self) -> bool:
        return bool(self.is_superuser or self.all_branches)

    @property
    def initials(self) -> str:
        """Two letters for an avatar. Arabic letters side by side join into a word (sometimes an
        unfortunate one), so they are kept apart with a zero-width non-joiner."""
        parts = [p for p in (self.first_name, self.last_name) if p]
        letters = self.username[:2].upper() if not parts else "".join(p[0] for p in parts[:2]).upper()
        if any("\u0600" <= char <= "\u06ff" for char in letters):
            return "\u200c".join(letters)
        return letters


class NotificationKind(models.TextChoices):
    STOCK_LOW = "stock_low", _("Low stock")
    ORDER = "order", _("Order")
    INSPECTION = "inspection", _("Inspection")
    SYSTEM = "system", _("System")


class NotificationQuerySet(models.QuerySet):
    def visible_to(self, user) -> Self:
        if user is None or not user.is_authenticated or not user.is_active:
            return self.none()
        return self.filter(recipient_id=user.pk)

    def unread(self) -> Self:
        return self.filter(is_read=False)


class Notification(models.Model):
    recipient = models.ForeignKey(
        User, verbose_name=_("recipient"), on_delete=models.CASCADE, related_name="notifications"
    )
    branch = models.ForeignKey(
        Branch, verbose_name=_("branch"), on_delete=models.CASCADE, null=True, blank=True, related_name="+"
    )
    kind = models.CharField(_("kind"), max_length=20, choices=NotificationKind.choices)
    title = models.CharField(_("title"), max_length=200)
    body = models.TextField(_("message"), blank=True)
    url = models.CharField(_("link"), max_length=300, blank=True)
    target_type = models.ForeignKey(ContentType, on_delete=models.CASCADE, null=True, blank=True, related_name="+")
    target_id = models.BigIntegerField(null=True, blank=True)
    is_read = models.BooleanField(_("read"), default=False)
    read_at = models.DateTimeField(_("read at"), null=True, blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    objects = NotificationQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("notification")
        verbose_name_plural = _("notifications")
        indexes = [
            models.Index(fields=["recipient", "is_read", "-created_at"], name="notif_recipient_unread_idx"),
            models.Index(fields=["target_type", "target_id"], name="notif_target_idx"),
        ]
        constraints = [
            models.CheckConstraint(condition=Q(kind__in=NotificationKind.values), name="notification_kind_valid"),
        ]

    def __str__(self) -> str:
        return self.title


class ActivityLogQuerySet(BranchScopedQuerySet):
    pass


class ActivityLog(models.Model):
    """Append-only audit trail: every service write, login, logout and failed login."""

    actor = models.ForeignKey(
        User, verbose_name=_("user"), on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    actor_repr = models.CharField(_("user name"), max_length=150, blank=True)
    action = models.CharField(_("action"), max_length=64, db_index=True)
    target_type = models.ForeignKey(
        ContentType,
        verbose_name=_("target type"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    target_id = models.CharField(_("target id"), max_length=64, blank=True)
    target_repr = models.CharField(_("target"), max_length=200, blank=True)
    changes = models.JSONField(_("changes"), default=dict, blank=True)
    branch = models.ForeignKey(
        Branch, verbose_name=_("branch"), on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    ip_address = models.GenericIPAddressField(_("IP address"), null=True, blank=True)
    created_at = models.DateTimeField(_("at"), auto_now_add=True)

    objects = ActivityLogQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("activity log entry")
        verbose_name_plural = _("activity log")
        indexes = [
            models.Index(fields=["-created_at", "-id"], name="activity_recent_idx"),
            models.Index(fields=["branch", "-created_at"], name="activity_branch_idx"),
            models.Index(fields=["actor", "-created_at"], name="activity_actor_idx"),
            models.Index(fields=["target_type", "target_id"], name="activity_target_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.actor_repr} {self.action} {self.target_repr}"
