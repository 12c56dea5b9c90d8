"""``Idempotency-Key`` for POSTs that must not happen twice (payments, stock movements).

A mobile client on a bad network cannot tell a lost request from a lost answer, so it retries
with the same ``Idempotency-Key`` header:

* the same key, the same request (method, path and JSON body) from the same user replays the
  first answer — same status, same body, header ``Idempotent-Replayed: true`` — and writes
  nothing more;
* the same key with another request is refused with 422 (``idempotency_key_reused``);
* keys are per user and kept ``CRM_IDEMPOTENCY_TTL_HOURS`` (24 h by default).

How it holds under concurrency: the key row is INSERTed first, inside the same transaction as
the service call, and the answer is written into it before that transaction commits. The unique
constraint on (user, key) makes a second request with the same key wait on the first one's
index entry (PostgreSQL; on SQLite the IMMEDIATE transaction waits for the write lock); when
the first commits, the second's INSERT fails, its transaction is rolled back, and it replays the
stored answer. If the first fails (a validation error, a crash), its key row rolls back with
everything else, and the second simply runs. So exactly one write happens, and no request ever
sees a half-done key. A 409 ``idempotency_in_progress`` is kept for the case a stored row is
found without an answer, which this design does not produce.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from datetime import timedelta
from functools import wraps
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter
from rest_framework.exceptions import ValidationError
from rest_framework.renderers import JSONRenderer
from rest_framework.response import Response

from crm_core.common.api.errors import Conflict, UnprocessableEntity
from crm_core.common.models import IdempotencyKey

HEADER = "Idempotency-Key"
MAX_KEY_LENGTH = 255

IDEMPOTENCY_PARAMETER = OpenApiParameter(
    name=HEADER,
    type=OpenApiTypes.STR,
    location=OpenApiParameter.HEADER,
    required=False,
    description=(
        "A unique value per intended write (e.g. a UUID). Retrying with the same key and body returns "
        "the first answer and writes nothing more; the same key with another body answers 422."
    ),
)


class KeyReused(UnprocessableEntity):
    default_detail = _("This Idempotency-Key was already used for a different request.")
    default_code = "idempotency_key_reused"


class KeyInProgress(Conflict):
    default_detail = _("A request with this Idempotency-Key is still being processed; retry shortly.")
    default_code = "idempotency_in_progress"


class _Refused(Exception):
    """The guarded call answered without success: roll the key row back with it."""

    def __init__(self, response: Response):
        self.response = response


class _KeyTaken(Exception):
    pass


def fingerprint(request: Any) -> str:
    data = request.data
    if hasattr(data, "lists"):
        data = dict(data.lists())
    body = json.dumps(data, sort_keys=True, default=str, separators=(",", ":"))
    raw = f"{request.method}\n{request.path}\n{body}".encode()
    return hashlib.sha256(raw).hexdigest()


def _replay(row: IdempotencyKey, print_: str) -> Response:
    if row.fingerprint != print_:
        raise KeyReused()
    if not row.response_status:
        raise KeyInProgress()
    response = Response(row.response_body, status=row.response_status)
    response["Idempotent-Replayed"] = "true"
    return response


def run_idempotent(request: Any, call: Callable[[], Response]) -> Response:
    key = request.headers.get(HEADER)
    if key is None:
        return call()
    key = key.strip()
    if not key or len(key) > MAX_KEY_LENGTH or not key.isprintable():
        raise ValidationError({HEADER: [_("Send 1 to %(n)s printable characters.") % {"n": MAX_KEY_LENGTH}]})
    user = request.user
    print_ = fingerprint(request)
    cutoff = timezone.now() - timedelta(hours=settings.CRM_IDEMPOTENCY_TTL_HOURS)

    known = IdempotencyKey.objects.filter(user=user, key=key, created_at__gte=cutoff).first()
    if known is not None:
        return _replay(known, print_)
    try:
        with transaction.atomic():
            # This user's expired keys go first, so an old key may be used again.
            IdempotencyKey.objects.filter(user=user, created_at__lt=cutoff).delete()
            try:
                with transaction.atomic():
                    row = IdempotencyKey.objects.create(user=user, key=key, fingerprint=print_, response_status=0)
            except IntegrityError:
                raise _KeyTaken() from None
            response = call()
            if not 200 <= response.status_code < 300:
                raise _Refused(response)
            row.response_status = response.status_code
            row.response_body = json.loads(JSONRenderer().render(response.data) or b"null")
            row.save(update_fields=["response_status", "response_body"])
    except _Refused as refused:
        return refused.response
    except _KeyTaken:
        # Another request with this key committed while we waited: answer as it did.
        row = IdempotencyKey.objects.filter(user=user, key=key).first()
        if row is None:
            raise KeyInProgress() from None
        return _replay(row, print_)
    return response


def idempotent(method: Callable[..., Response]) -> Callable[..., Response]:
    """Decorate a view method ``(self, request, *args, **kwargs) -> Response``."""

    @wraps(method)
    def wrapper(self: Any, request: Any, *args: Any, **kwargs: Any) -> Response:
        return run_idempotent(request, lambda: method(self, request, *args, **kwargs))

    return wrapper
