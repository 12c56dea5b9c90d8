"""Helpers every service uses: permission checks, scoped locking, version checks, diffs."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime
from decimal import Decimal
from typing import Any, TypeVar

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import models
from django.utils.translation import gettext as _

from crm_core.common.exceptions import StaleVersionError

M = TypeVar("M", bound=models.Model)


def require_perm(actor: Any, *perms: str) -> None:
    """Refuse unless the actor is an active user holding every permission named."""
    if actor is None or not actor.is_authenticated or not actor.is_active:
        raise PermissionDenied(_("You must be signed in."))
    for perm in perms:
        if not actor.has_perm(perm):
            raise PermissionDenied(_("You do not have permission to do this."))


def lock_visible(queryset: models.QuerySet[M], actor: Any, pk: int) -> M:
    """Fetch and lock one row the actor may see; another branch's row is DoesNotExist (a 404)."""
    return queryset.visible_to(actor).select_for_update(no_key=True, of=("self",)).get(pk=pk)


def lock_rows(queryset: models.QuerySet[M], pks: Iterable[int]) -> dict[int, M]:
    """Lock rows in ascending id order, so two services never wait on each other in a cycle."""
    ids = sorted(set(pks))
    rows = queryset.select_for_update(no_key=True, of=("self",)).filter(pk__in=ids).order_by("pk")
    return {row.pk: row for row in rows}


def check_version(instance: models.Model, expected: int | None) -> None:
    """Refuse a save based on an older version than the row now holds (DESIGN.md rule 6)."""
    if expected is None:
        return
    current = instance.version
    if int(expected) != current:
        from crm_core.accounts.models import ActivityLog

        last = (
            ActivityLog.objects.filter(target_id=str(instance.pk), target_type__model=instance._meta.model_name)
            .order_by("-id")
            .values_list("actor_repr", flat=True)
            .first()
        )
        raise StaleVersionError(
            model_label=instance._meta.label, pk=instance.pk, expected=int(expected), current=current, changed_by=last
        )


def json_value(value: Any) -> Any:
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, models.Model):
        return value.pk
    return value


def snapshot(instance: models.Model, fields: Iterable[str]) -> dict[str, Any]:
    return {name: json_value(getattr(instance, _attname(instance, name))) for name in fields}


def diff(before: dict[str, Any], after: dict[str, Any]) -> dict[str, list[Any]]:
    """Field changes as ``{field: [old, new]}`` for the audit trail."""
    return {k: [before.get(k), v] for k, v in after.items() if before.get(k) != v}


def _attname(instance: models.Model, name: str) -> str:
    field = instance._meta.get_field(name)
    return field.attname if field.is_relation and field.many_to_one else name


def apply_changes(instance: models.Model, values: dict[str, Any], allowed: Iterable[str]) -> list[str]:
    """Set the allowed fields present in ``values``; returns the names that changed."""
    changed = []
    for name in allowed:
        if name in values and getattr(instance, name) != values[name]:
            setattr(instance, name, values[name])
            changed.append(name)
    return changed


def resolve_branch(actor: Any, branch: Any | None) -> Any:
    """The branch a new record belongs to: the actor's own, or one an all-branches user picks."""
    from crm_core.accounts.models import Branch

    if branch is None:
        if actor.branch_id is None:
            raise ValidationError({"branch": _("Choose a branch.")})
        return Branch.objects.get(pk=actor.branch_id)
    branch_id = branch.pk if isinstance(branch, models.Model) else int(branch)
    return Branch.objects.visible_to(actor).get(pk=branch_id)


def validate_model(instance: models.Model, *, exclude: Iterable[str] = ()) -> None:
    """Field validation with the model's own messages, without the unique-check queries."""
    instance.full_clean(exclude=list(exclude), validate_unique=False, validate_constraints=False)
