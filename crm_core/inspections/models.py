from __future__ import annotations

from typing import Self

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _

from crm_core.common.models import BranchScopedQuerySet, TimeStampedModel, VersionedModel


class InspectionStatus(models.TextChoices):
    SCHEDULED = "scheduled", _("Scheduled")
    IN_PROGRESS = "in_progress", _("In progress")
    COMPLETED = "completed", _("Completed")
    CANCELLED = "cancelled", _("Cancelled")
    NO_SHOW = "no_show", _("No show")


# Only these hold an inspector's time: an inspector never has two of them overlapping.
ACTIVE_INSPECTION_STATUSES = (InspectionStatus.SCHEDULED, InspectionStatus.IN_PROGRESS)


class InspectionQuerySet(BranchScopedQuerySet):
    def visible_to(self, user) -> Self:
        from crm_core.accounts.models import Role

        qs = super().visible_to(user)
        if user is not None and user.is_authenticated and user.role == Role.INSPECTOR and not user.sees_all_branches:
            return qs.filter(inspector_id=user.pk)
        return qs

    def active(self) -> Self:
        return self.filter(status__in=ACTIVE_INSPECTION_STATUSES)

    def overlapping(self, start, end) -> Self:
        return self.filter(scheduled_start__lt=end, scheduled_end__gt=start)


class Inspection(TimeStampedModel, VersionedModel):
    number = models.CharField(_("number"), max_length=30, unique=True)
    branch = models.ForeignKey(
        "accounts.Branch", verbose_name=_("branch"), on_delete=models.PROTECT, related_name="inspections"
    )
    customer = models.ForeignKey(
        "customers.Customer", verbose_name=_("customer"), on_delete=models.PROTECT, related_name="inspections"
    )
    inspector = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("inspector"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="inspections",
    )
    order = models.ForeignKey(
        "orders.Order",
        verbose_name=_("order"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="inspections",
    )
    status = models.CharField(
        _("status"), max_length=12, choices=InspectionStatus.choices, default=InspectionStatus.SCHEDULED
    )
    scheduled_start = models.DateTimeField(_("starts"))
    scheduled_end = models.DateTimeField(_("ends"))
    address = models.CharField(_("address"), max_length=255, blank=True)
    notes = models.TextField(_("notes"), blank=True)
    started_at = models.DateTimeField(_("started at"), null=True, blank=True)
    completed_at = models.DateTimeField(_("completed at"), null=True, blank=True)
    cancel_reason = models.CharField(_("reason"), max_length=255, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("created by"), on_delete=models.SET_NULL, null=True, related_name="+"
    )

    objects = InspectionQuerySet.as_manager()

    class Meta:
        ordering = ["scheduled_start", "id"]
        verbose_name = _("inspection")
        verbose_name_plural = _("inspections")
        constraints = [
            models.CheckConstraint(condition=Q(status__in=InspectionStatus.values), name="inspection_status_valid"),
            models.CheckConstraint(
                condition=Q(scheduled_end__gt=F("scheduled_start")), name="inspection_end_after_start"
            ),
            models.CheckConstraint(condition=Q(version__gte=1), name="inspection_version_positive"),
        ]
        indexes = [
            models.Index(fields=["branch", "scheduled_start"], name="inspection_branch_start_idx"),
            models.Index(fields=["inspector", "scheduled_start"], name="inspection_inspector_start_idx"),
            models.Index(fields=["status", "scheduled_start"], name="inspection_status_start_idx"),
            models.Index(fields=["customer", "-scheduled_start"], name="inspection_customer_idx"),
        ]

    def __str__(self) -> str:
        return self.number


class InspectionOutcome(models.TextChoices):
    PASSED = "passed", _("Passed")
    FAILED = "failed", _("Failed")
    FOLLOW_UP = "follow_up", _("Needs follow-up")


class InspectionResult(TimeStampedModel):
    inspection = models.OneToOneField(
        Inspection, verbose_name=_("inspection"), on_delete=models.CASCADE, related_name="result"
    )
    outcome = models.CharField(_("outcome"), max_length=10, choices=InspectionOutcome.choices)
    findings = models.TextField(_("findings"))
    # Free-form measurements taken on site, e.g. {"width_m": "3.20", "height_m": "2.75"}.
    measurements = models.JSONField(_("measurements"), default=dict, blank=True)
    recommendations = models.TextField(_("recommendations"), blank=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("recorded by"), on_delete=models.SET_NULL, null=True, related_name="+"
    )

    class Meta:
        verbose_name = _("inspection result")
        verbose_name_plural = _("inspection results")
        constraints = [
            models.CheckConstraint(condition=Q(outcome__in=InspectionOutcome.values), name="inspection_outcome_valid"),
        ]

    def __str__(self) -> str:
        return f"{self.inspection_id}: {self.get_outcome_display()}"


def inspection_photo_path(instance: InspectionPhoto, filename: str) -> str:
    return f"inspections/{instance.inspection_id}/{filename}"


class InspectionPhoto(models.Model):
    inspection = models.ForeignKey(
        Inspection, verbose_name=_("inspection"), on_delete=models.CASCADE, related_name="photos"
    )
    image = models.ImageField(_("photo"), upload_to=inspection_photo_path)
    caption = models.CharField(_("caption"), max_length=200, blank=True)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("uploaded by"), on_delete=models.SET_NULL, null=True, related_name="+"
    )
    uploaded_at = models.DateTimeField(_("uploaded at"), auto_now_add=True)

    class Meta:
        ordering = ["uploaded_at", "id"]
        verbose_name = _("inspection photo")
        verbose_name_plural = _("inspection photos")

    def __str__(self) -> str:
        return self.caption or self.image.name
