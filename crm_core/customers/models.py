from __future__ import annotations

from decimal import Decimal
from typing import Self

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from crm_core.common.models import BranchScopedQuerySet, TimeStampedModel, VersionedModel


class CustomerCategory(TimeStampedModel):
    """A price and service tier (e.g. wholesale, VIP) with an optional standing discount."""

    name = models.CharField(_("name"), max_length=100, unique=True)
    discount_percent = models.DecimalField(_("discount %"), max_digits=5, decimal_places=2, default=Decimal("0"))
    description = models.CharField(_("description"), max_length=255, blank=True)
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        ordering = ["name"]
        verbose_name = _("customer category")
        verbose_name_plural = _("customer categories")
        constraints = [
            models.CheckConstraint(
                condition=Q(discount_percent__gte=0) & Q(discount_percent__lte=100),
                name="customer_category_discount_range",
            ),
        ]

    def __str__(self) -> str:
        return self.name


class CustomerKind(models.TextChoices):
    INDIVIDUAL = "individual", _("Individual")
    COMPANY = "company", _("Company")


class CustomerStatus(models.TextChoices):
    ACTIVE = "active", _("Active")
    INACTIVE = "inactive", _("Inactive")
    BLOCKED = "blocked", _("Blocked")


class CustomerQuerySet(BranchScopedQuerySet):
    def visible_to(self, user) -> Self:
        from crm_core.accounts.models import Role

        qs = super().visible_to(user)
        if user is not None and user.is_authenticated and user.role == Role.INSPECTOR and not user.sees_all_branches:
            # Inspectors see only the customers they are sent to.
            from crm_core.inspections.models import Inspection

            return qs.filter(pk__in=Inspection.objects.filter(inspector_id=user.pk).values("customer_id"))
        return qs


class Customer(TimeStampedModel, VersionedModel):
    code = models.CharField(_("code"), max_length=20, unique=True)
    branch = models.ForeignKey(
        "accounts.Branch", verbose_name=_("branch"), on_delete=models.PROTECT, related_name="customers"
    )
    category = models.ForeignKey(
        CustomerCategory,
        verbose_name=_("category"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="customers",
    )
    kind = models.CharField(_("kind"), max_length=12, choices=CustomerKind.choices, default=CustomerKind.INDIVIDUAL)
    status = models.CharField(_("status"), max_length=10, choices=CustomerStatus.choices, default=CustomerStatus.ACTIVE)
    name = models.CharField(_("name"), max_length=200)
    phone = models.CharField(_("phone"), max_length=32)
    phone_digits = models.CharField(max_length=32, editable=False, db_index=True)
    alt_phone = models.CharField(_("other phone"), max_length=32, blank=True)
    email = models.EmailField(_("email"), blank=True)
    city = models.CharField(_("city"), max_length=80, blank=True)
    address = models.CharField(_("address"), max_length=255, blank=True)
    tax_number = models.CharField(_("tax number"), max_length=40, blank=True)
    search_text = models.TextField(editable=False, default="")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("created by"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )

    objects = CustomerQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("customer")
        verbose_name_plural = _("customers")
        constraints = [
            models.CheckConstraint(condition=Q(kind__in=CustomerKind.values), name="customer_kind_valid"),
            models.CheckConstraint(condition=Q(status__in=CustomerStatus.values), name="customer_status_valid"),
            models.CheckConstraint(condition=~Q(name=""), name="customer_name_not_blank"),
            models.CheckConstraint(condition=Q(version__gte=1), name="customer_version_positive"),
        ]
        indexes = [
            models.Index(fields=["branch", "-created_at", "-id"], name="customer_branch_recent_idx"),
            models.Index(fields=["-created_at", "-id"], name="customer_recent_idx"),
            models.Index(fields=["branch", "status"], name="customer_branch_status_idx"),
            models.Index(fields=["branch", "name"], name="customer_branch_name_idx"),
            models.Index(fields=["name"], name="customer_name_idx"),
            models.Index(fields=["kind"], name="customer_kind_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.code})"


class CustomerNoteQuerySet(BranchScopedQuerySet):
    branch_field = "customer__branch_id"

    def visible_to(self, user) -> Self:
        return self.filter(customer__in=Customer.objects.visible_to(user))


class CustomerNote(models.Model):
    customer = models.ForeignKey(Customer, verbose_name=_("customer"), on_delete=models.CASCADE, related_name="notes")
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("author"), on_delete=models.SET_NULL, null=True, related_name="+"
    )
    body = models.TextField(_("note"))
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    objects = CustomerNoteQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("customer note")
        verbose_name_plural = _("customer notes")
        indexes = [models.Index(fields=["customer", "-created_at"], name="customer_note_recent_idx")]
        constraints = [models.CheckConstraint(condition=~Q(body=""), name="customer_note_not_blank")]

    def __str__(self) -> str:
        return self.body[:50]
