"""Writing the audit trail. Each service calls :func:`log_activity` inside its transaction."""

from __future__ import annotations

from typing import Any

from django.contrib.contenttypes.models import ContentType
from django.db import models

from crm_core.accounts.models import ActivityLog


def log_activity(
    *,
    actor: Any,
    action: str,
    target: models.Model | None = None,
    changes: dict[str, Any] | None = None,
    branch_id: int | None = None,
    ip_address: str | None = None,
    actor_repr: str | None = None,
) -> ActivityLog:
    real_actor = actor if actor is not None and getattr(actor, "is_authenticated", False) else None
    return ActivityLog.objects.create(
        actor=real_actor,
        actor_repr=(actor_repr or (str(real_actor) if real_actor else ""))[:150],
        action=action,
        target_type=ContentType.objects.get_for_model(target) if target is not None else None,
        target_id=str(target.pk) if target is not None else "",
        target_repr=str(target)[:200] if target is not None else "",
        changes=changes or {},
        branch_id=branch_id,
        ip_address=ip_address,
    )
