"""Helpers for the visible_to tests in tests/customers and tests/accounts."""

from __future__ import annotations

from crm_core.accounts.models import Role


def visible(model: type, user) -> set[int]:
    return set(model.objects.visible_to(user).values_list("pk", flat=True))


def everything(model: type) -> set[int]:
    return set(model.objects.values_list("pk", flat=True))


ALL_ROLES = list(Role.values)
# Inspectors see less than their branch; they have tests of their own.
BRANCH_WIDE_ROLES = [role for role in Role.values if role != Role.INSPECTOR]
