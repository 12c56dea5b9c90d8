"""The role permissions of the web pages, for the API.

Like DRF's ``DjangoModelPermissions``, but reads need the ``view_`` permission too, and actions
name their own permissions (``orders.transition_order``, ``inventory.adjust_stock``). Scoping is
not checked here: every queryset starts from ``visible_to(request.user)``, so a record of another
branch is a 404 — this class only answers "may this role do this kind of thing at all" (403).
"""

from __future__ import annotations

from typing import Any

from rest_framework.permissions import BasePermission

_METHOD_ACTIONS = {
    "GET": "view",
    "HEAD": "view",
    "POST": "add",
    "PUT": "change",
    "PATCH": "change",
    "DELETE": "delete",
}


def required_permissions(request: Any, view: Any) -> list[str]:
    """Permissions the request needs: the view's list for ``"<action>:<METHOD>"`` or ``"<action>"``,
    else the model's permission for the method (view for GET, add for POST, change for PUT/PATCH)."""
    per_action: dict[str, list[str]] = getattr(view, "action_permissions", None) or {}
    action = getattr(view, "action", None)
    for key in (f"{action}:{request.method}", action):
        if key in per_action:
            return list(per_action[key])
    if request.method == "OPTIONS":
        return []
    model = getattr(view, "permission_model", None)
    if model is None:
        queryset = getattr(view, "queryset", None)
        model = queryset.model if queryset is not None else None
    if model is None:
        return []
    verb = _METHOD_ACTIONS.get(request.method)
    if verb is None:
        return []
    return [f"{model._meta.app_label}.{verb}_{model._meta.model_name}"]


class RolePermission(BasePermission):
    """An active, signed-in user whose role holds the permissions the request needs."""

    def has_permission(self, request: Any, view: Any) -> bool:
        user = request.user
        if not user or not user.is_authenticated or not user.is_active:
            return False
        if request.method != "OPTIONS" and not hasattr(view, request.method.lower()):
            return True  # the view answers 405 Method Not Allowed, whatever the role
        return user.has_perms(required_permissions(request, view))


class IsActiveUser(BasePermission):
    """Any active, signed-in user (their own profile, notifications, a WebSocket ticket)."""

    def has_permission(self, request: Any, view: Any) -> bool:
        user = request.user
        return bool(user and user.is_authenticated and user.is_active)
