"""Hooks from django.contrib.auth into the audit trail: the only signal receivers we keep,
because logins happen inside Django's own views, not in a service of ours."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.signals import user_logged_in, user_logged_out, user_login_failed
from django.dispatch import receiver

from crm_core.accounts.services import login_record


def _client_ip(request: Any) -> str | None:
    if request is None:
        return None
    return request.META.get("REMOTE_ADDR") or None


@receiver(user_logged_in, dispatch_uid="crm_login")
def on_login(sender: Any, request: Any, user: Any, **kwargs: Any) -> None:
    login_record(user=user, action="auth.login", ip_address=_client_ip(request))


@receiver(user_logged_out, dispatch_uid="crm_logout")
def on_logout(sender: Any, request: Any, user: Any, **kwargs: Any) -> None:
    if user is not None:
        login_record(user=user, action="auth.logout", ip_address=_client_ip(request))


@receiver(user_login_failed, dispatch_uid="crm_login_failed")
def on_login_failed(sender: Any, credentials: dict[str, Any], request: Any = None, **kwargs: Any) -> None:
    login_record(
        user=None,
        action="auth.login_failed",
        ip_address=_client_ip(request),
        username=str(credentials.get("username", ""))[:150],
    )
