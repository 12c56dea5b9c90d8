"""One error shape for every API answer that is not a success.

``{"error": {"code": "...", "message": "...", "fields": {...}}}`` for 400, 401, 403, 404, 405,
409, 412, 415, 422, 429 and 500 alike. Django's ``ValidationError`` from a service becomes a 400
with its ``message_dict``; ``PermissionDenied`` a 403; ``DoesNotExist`` (a record outside the
caller's scope, found by ``lock_visible``) a 404; ``StaleVersionError`` a 412. Anything else is
left to Django's 500 handler, which answers JSON on /api/ paths (:func:`server_error`) and never a
traceback.
"""

from __future__ import annotations

import logging
from typing import Any

from django.core.exceptions import NON_FIELD_ERRORS, ObjectDoesNotExist
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import IntegrityError
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.utils.encoding import force_str
from django.utils.translation import gettext_lazy as _
from django.views.defaults import server_error as html_server_error
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from crm_core.common.exceptions import StaleVersionError

logger = logging.getLogger(__name__)

API_PREFIX = "/api/"


class PreconditionFailed(exceptions.APIException):
    status_code = status.HTTP_412_PRECONDITION_FAILED
    default_detail = _("Someone changed this record while you were editing it; nothing of yours was saved.")
    default_code = "precondition_failed"

    def __init__(self, detail: Any = None, *, current_version: int | None = None, etag: str | None = None):
        super().__init__(detail)
        self.current_version = current_version
        self.etag = etag


class Conflict(exceptions.APIException):
    status_code = status.HTTP_409_CONFLICT
    default_detail = _("The request conflicts with the current state of the record.")
    default_code = "conflict"


class UnprocessableEntity(exceptions.APIException):
    status_code = status.HTTP_422_UNPROCESSABLE_ENTITY
    default_detail = _("The request cannot be processed.")
    default_code = "unprocessable"


class LockedOut(exceptions.APIException):
    status_code = status.HTTP_429_TOO_MANY_REQUESTS
    default_detail = _("Too many failed sign-in attempts. Try again later.")
    default_code = "locked_out"


class RelatedNotFound(exceptions.NotFound):
    """An id in a request body that names nothing the caller may see (DESIGN.md rule 3)."""

    def __init__(self, field: str):
        super().__init__(_("Not found."))
        self.field = field


_DEFAULT_CODES = {
    400: "invalid",
    401: "not_authenticated",
    403: "permission_denied",
    404: "not_found",
    405: "method_not_allowed",
    406: "not_acceptable",
    409: "conflict",
    412: "precondition_failed",
    415: "unsupported_media_type",
    422: "unprocessable",
    429: "throttled",
    500: "server_error",
}


def error_body(code: str, message: Any, fields: dict[str, Any] | None = None, **extra: Any) -> dict[str, Any]:
    body: dict[str, Any] = {"code": code, "message": force_str(message), "fields": fields or {}}
    body.update(extra)
    return {"error": body}


def _plain(value: Any) -> Any:
    """ErrorDetail and lazy strings to str, all the way down."""
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    return force_str(value)


def _from_django_validation(exc: DjangoValidationError) -> exceptions.ValidationError:
    if hasattr(exc, "error_dict"):
        detail: Any = {
            ("non_field_errors" if field == NON_FIELD_ERRORS else field): messages
            for field, messages in exc.message_dict.items()
        }
    else:
        detail = {"non_field_errors": exc.messages}
    return exceptions.ValidationError(detail)


def _rename_fields(fields: dict[str, Any], view: Any) -> dict[str, Any]:
    """Services name some fields differently from the API (``to_status`` → ``to``)."""
    renames = getattr(view, "service_field_names", None) or {}
    return {renames.get(name, name): value for name, value in fields.items()}


def _validation_body(detail: Any, view: Any) -> dict[str, Any]:
    if isinstance(detail, dict):
        fields = _rename_fields(_plain(detail), view)
        general = fields.pop("non_field_errors", None) or fields.pop("detail", None)
        if general:
            message = " ".join(general) if isinstance(general, list) else str(general)
        else:
            message = _("Some fields are not valid; see fields.")
        return error_body("invalid", message, fields)
    messages = _plain(detail) if isinstance(detail, list) else [force_str(detail)]
    return error_body("invalid", " ".join(str(m) for m in messages), {})


def exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    view = context.get("view")
    if isinstance(exc, StaleVersionError):
        exc = PreconditionFailed(exc.message, current_version=exc.current)
    elif isinstance(exc, DjangoValidationError):
        exc = _from_django_validation(exc)
    elif isinstance(exc, ObjectDoesNotExist):
        exc = exceptions.NotFound()
    elif isinstance(exc, IntegrityError):
        # A database constraint caught what a service's checks let through (a race lost to a
        # concurrent writer): the change was rolled back; the client may reload and retry.
        logger.warning("API request refused by a database constraint: %s", exc)
        exc = Conflict()

    response = drf_exception_handler(exc, context)
    if response is None:
        return None  # Django's handler500 answers (JSON on /api/), and the error is logged.

    if isinstance(exc, exceptions.ValidationError):
        response.data = _validation_body(exc.detail, view)
        return response
    if isinstance(exc, RelatedNotFound):
        response.data = error_body("not_found", exc.detail, {exc.field: [force_str(exc.detail)]})
        return response

    detail = getattr(exc, "detail", None)
    code = _DEFAULT_CODES.get(response.status_code, "error")
    message: Any = detail
    if isinstance(detail, dict):
        # simplejwt's InvalidToken: {"detail": ..., "code": "token_not_valid", "messages": [...]}.
        message = detail.get("detail", "")
        code = force_str(detail.get("code", code))
    elif isinstance(detail, list):
        message = " ".join(force_str(m) for m in detail)
    elif isinstance(exc, exceptions.APIException) and hasattr(exc, "get_codes"):
        codes = exc.get_codes()
        if isinstance(codes, str):
            code = codes
    extra: dict[str, Any] = {}
    if isinstance(exc, PreconditionFailed) and exc.current_version is not None:
        extra["current_version"] = exc.current_version
    if isinstance(exc, exceptions.Throttled) and exc.wait is not None:
        extra["retry_after"] = int(exc.wait)
    response.data = error_body(code, message, {}, **extra)
    return response


def server_error(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
    """handler500: JSON for the API, the usual page elsewhere. Never a traceback."""
    if request.path.startswith(API_PREFIX):
        return JsonResponse(
            error_body("server_error", _("Something went wrong on our side. The error was logged.")), status=500
        )
    return html_server_error(request, *args, **kwargs)


def not_found(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
    """Unknown paths under /api/v1/ answer the API's 404, not the site's HTML page."""
    return JsonResponse(error_body("not_found", _("There is no such API endpoint.")), status=404)
