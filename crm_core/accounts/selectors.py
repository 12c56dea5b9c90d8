"""Reads for accounts: notifications, users, the activity log."""

from __future__ import annotations

from django.db.models import QuerySet

from crm_core.accounts.models import Notification, User


def unread_notification_count(user: User) -> int:
    return Notification.objects.visible_to(user).unread().count()


def notification_list(user: User, *, unread_only: bool = False) -> QuerySet[Notification]:
    qs = Notification.objects.visible_to(user).order_by("-created_at", "-id")
    return qs.unread() if unread_only else qs
