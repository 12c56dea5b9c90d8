"""ETag / If-Match for records that people edit at the same time (DESIGN.md rule 6).

Every editable record (customer, order, inspection, product) answers with
``ETag: "<id>-<version>"``. A PUT, PATCH or state-changing action may send it back in
``If-Match``; the version in it becomes the service's ``expected_version``, so a change based
on a stale copy fails with 412 and changes nothing. ``If-Match: *`` or no header skips the check.
"""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext_lazy as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter
from rest_framework.response import Response

from crm_core.common.api.errors import PreconditionFailed

IF_MATCH_PARAMETER = OpenApiParameter(
    name="If-Match",
    type=OpenApiTypes.STR,
    location=OpenApiParameter.HEADER,
    required=False,
    description='The `ETag` of the copy the change is based on, e.g. `"42-3"`. A stale one answers 412.',
)


def etag_for(instance: Any) -> str:
    return f'"{instance.pk}-{instance.version}"'


def set_etag(response: Response, instance: Any) -> Response:
    response["ETag"] = etag_for(instance)
    return response


def expected_version(request: Any, pk: Any) -> int | None:
    """The version named by ``If-Match`` for record ``pk``; None when the client sent none."""
    header = (request.headers.get("If-Match") or "").strip()
    if not header or header == "*":
        return None
    for tag in header.split(","):
        tag = tag.strip()
        if tag.startswith("W/"):
            tag = tag[2:]
        tag = tag.strip('"')
        tag_pk, _dash, version = tag.rpartition("-")
        if tag_pk == str(pk) and version.isdigit() and len(version) < 10:
            return int(version)
    raise PreconditionFailed(_("If-Match does not name a version of this record; reload it and retry."))
