"""Throttles whose rates are read from settings at each request (env-overridable, testable)."""

from __future__ import annotations

from typing import Any

from rest_framework import throttling
from rest_framework.settings import api_settings


class _RatesFromSettings:
    scope: str

    def get_rate(self) -> str | None:
        return api_settings.DEFAULT_THROTTLE_RATES.get(self.scope)


class AnonRateThrottle(_RatesFromSettings, throttling.AnonRateThrottle):
    """Anonymous requests, per client address (``anon``: CRM_API_ANON_RATE)."""


class UserRateThrottle(_RatesFromSettings, throttling.UserRateThrottle):
    """Signed-in requests, per user (``user``: CRM_API_USER_RATE)."""


class AuthRateThrottle(_RatesFromSettings, throttling.SimpleRateThrottle):
    """Token requests, per client address (``auth``: CRM_API_AUTH_RATE), on top of django-axes."""

    scope = "auth"

    def get_cache_key(self, request: Any, view: Any) -> str:
        return self.cache_format % {"scope": self.scope, "ident": self.get_ident(request)}
