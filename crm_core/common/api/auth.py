"""Token endpoints (simplejwt) and the WebSocket ticket endpoint.

* ``POST /api/v1/auth/token/`` — username and password → access + refresh. Throttled per client
  address (``auth`` rate) and watched by django-axes: the failure goes through
  ``django.contrib.auth.authenticate(request=…)`` like a web sign-in, so it counts toward the
  same lockout and lands in the audit trail; a locked-out client gets 429 ``locked_out``.
* ``/token/refresh/`` — a refresh token works once (rotated, the old one blacklisted).
* ``/token/verify/``, ``/token/blacklist/`` (sign out: blacklists the refresh token; access
  tokens are short-lived, CRM_JWT_ACCESS_MINUTES).
* ``POST /api/v1/auth/ws-ticket/`` — a one-time ticket for the event WebSocket.

Every refusal is a 401 in the API's error shape, never a 400 that tells a blacklisted token from
a malformed one.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.signals import user_logged_in
from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.exceptions import AuthenticationFailed
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView
from rest_framework_simplejwt import serializers as jwt_serializers
from rest_framework_simplejwt import views as jwt_views
from rest_framework_simplejwt.exceptions import InvalidToken
from rest_framework_simplejwt.settings import api_settings as jwt_settings

from crm_core.common.api.errors import LockedOut
from crm_core.common.api.permissions import IsActiveUser
from crm_core.common.api.throttles import AnonRateThrottle, AuthRateThrottle, UserRateThrottle
from crm_core.common.api.tickets import issue_ws_ticket


class TokenObtainPairSerializer(jwt_serializers.TokenObtainPairSerializer):
    def validate(self, attrs: dict[str, Any]) -> dict[str, str]:
        request = self.context.get("request")
        try:
            data = super().validate(attrs)
        except AuthenticationFailed:
            # django-axes marks the request it was given (the DRF request simplejwt passes on).
            if getattr(request, "axes_locked_out", False):
                raise LockedOut() from None
            raise
        # A sign-in like the web's: the audit trail records it, last_login is set, and django-axes
        # forgets the failed attempts before it (AXES_RESET_ON_SUCCESS).
        user_logged_in.send(sender=self.user.__class__, request=request, user=self.user)
        return data


class TokenRefreshSerializer(jwt_serializers.TokenRefreshSerializer):
    def validate(self, attrs: dict[str, Any]) -> dict[str, str]:
        try:
            return super().validate(attrs)
        except get_user_model().DoesNotExist:
            raise AuthenticationFailed(self.error_messages["no_active_account"], "no_active_account") from None


class TokenVerifySerializer(jwt_serializers.TokenVerifySerializer):
    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        try:
            return super().validate(attrs)
        except serializers.ValidationError as exc:
            # simplejwt says 400 for a blacklisted token; it is as invalid as an expired one.
            raise InvalidToken(exc.detail) from None


class TokenBlacklistSerializer(jwt_serializers.TokenBlacklistSerializer):
    pass


class _TokenView:
    """Shared by the token views: no authentication, throttled per client address."""

    authentication_classes = ()
    permission_classes = ()
    throttle_classes = (AuthRateThrottle, AnonRateThrottle)


class TokenObtainPairView(_TokenView, jwt_views.TokenObtainPairView):
    """Sign in with a username and password: an access token and a (one-use) refresh token."""

    _serializer_class = jwt_settings.TOKEN_OBTAIN_SERIALIZER


class TokenRefreshView(_TokenView, jwt_views.TokenRefreshView):
    """A new access token and a new refresh token; the refresh token sent is spent."""

    _serializer_class = jwt_settings.TOKEN_REFRESH_SERIALIZER
    throttle_classes = (AnonRateThrottle,)


class TokenVerifyView(_TokenView, jwt_views.TokenVerifyView):
    """200 if the token is valid and not blacklisted, 401 otherwise."""

    _serializer_class = jwt_settings.TOKEN_VERIFY_SERIALIZER
    throttle_classes = (AnonRateThrottle,)


class TokenBlacklistView(_TokenView, jwt_views.TokenBlacklistView):
    """Sign out: the refresh token sent can no longer be used."""

    _serializer_class = jwt_settings.TOKEN_BLACKLIST_SERIALIZER
    throttle_classes = (AnonRateThrottle,)


class WsTicketView(APIView):
    """A one-time ticket for the event WebSocket: open ``/ws/events/?ticket=<ticket>`` within
    ``expires_in`` seconds. Works with a JWT or with the browser's session (and its CSRF token)."""

    permission_classes = (IsActiveUser,)
    throttle_classes = (UserRateThrottle,)

    @extend_schema(
        operation_id="auth_ws_ticket_create",
        request=None,
        responses={
            201: inline_serializer(
                "WsTicket",
                fields={"ticket": serializers.CharField(), "expires_in": serializers.IntegerField()},
            )
        },
        tags=["auth"],
    )
    def post(self, request: Request) -> Response:
        ticket = issue_ws_ticket(request.user)
        response = Response({"ticket": ticket, "expires_in": settings.CRM_WS_TICKET_SECONDS}, status=201)
        response["Cache-Control"] = "no-store"
        return response
