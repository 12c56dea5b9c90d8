"""Pagination for the API.

* :class:`CursorPagination` — keyset pages for the big lists (orders, customers, inspections,
  stock movements, products, notifications): every page is one index range scan, never an
  OFFSET and never a COUNT. Built on :func:`crm_core.common.pagination.keyset_paginate`.
* :class:`PageNumberPagination` — numbered pages with a total, only for small reference lists
  (branches, departments, categories, warehouses); the count is capped like the web lists.
"""

from __future__ import annotations

from collections import OrderedDict
from typing import Any

from django.utils.translation import gettext_lazy as _
from rest_framework import pagination
from rest_framework.exceptions import ValidationError
from rest_framework.response import Response
from rest_framework.utils.urls import remove_query_param, replace_query_param

from crm_core.common.pagination import CappedCountPaginator, _decode, keyset_paginate

MAX_PAGE_SIZE = 200


def _page_size(request: Any, default: int) -> int:
    raw = request.query_params.get("page_size")
    if raw in (None, ""):
        return default
    try:
        size = int(raw)
    except (TypeError, ValueError):
        raise ValidationError({"page_size": [_("Enter a whole number.")]}) from None
    if size < 1 or size > MAX_PAGE_SIZE:
        raise ValidationError({"page_size": [_("Choose between 1 and %(max)s.") % {"max": MAX_PAGE_SIZE}]})
    return size


class PageNumberPagination(pagination.PageNumberPagination):
    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = MAX_PAGE_SIZE
    django_paginator_class = CappedCountPaginator

    def get_page_size(self, request: Any) -> int:
        return _page_size(request, self.page_size)

    def paginate_queryset(self, queryset: Any, request: Any, view: Any = None) -> Any:
        raw = request.query_params.get(self.page_query_param)
        if raw not in (None, "", "last"):
            try:
                if int(raw) < 1:
                    raise ValueError
            except (TypeError, ValueError):
                raise ValidationError({"page": [_("Enter a page number of 1 or more.")]}) from None
        return super().paginate_queryset(queryset, request, view)


class CursorPagination(pagination.BasePagination):
    """Keyset pages: ``?cursor=`` from a previous answer's ``next`` or ``previous`` link.

    The order comes from :class:`crm_core.common.api.filters.OrderingFilter` (a whitelisted,
    index-backed choice ending with a unique column), or the view's ``default_ordering``.
    """

    page_size = 50
    cursor_query_param = "cursor"

    def paginate_queryset(self, queryset: Any, request: Any, view: Any = None) -> list[Any]:
        from crm_core.common.api.filters import ordering_for

        self.request = request
        self.page_size_value = _page_size(request, self.page_size)
        ordering = ordering_for(request, view)
        token = request.query_params.get(self.cursor_query_param) or ""
        backwards = False
        cursor = None
        if token:
            direction, _dot, cursor = token.partition(".")
            fields = [queryset.model._meta.get_field(term.lstrip("-")) for term in ordering]
            if direction not in ("n", "p") or not cursor or _decode(cursor, fields) is None:
                raise ValidationError({self.cursor_query_param: [_("This cursor is not valid for this list.")]})
            backwards = direction == "p"
        self.page = keyset_paginate(
            queryset, ordering=ordering, cursor=cursor, per_page=self.page_size_value, backwards=backwards
        )
        return list(self.page.object_list)

    def _link(self, prefix: str, cursor: str | None) -> str | None:
        if cursor is None:
            return None
        url = self.request.build_absolute_uri()
        return replace_query_param(url, self.cursor_query_param, f"{prefix}.{cursor}")

    def get_next_link(self) -> str | None:
        return self._link("n", self.page.next_cursor)

    def get_previous_link(self) -> str | None:
        if self.page.previous_cursor is None:
            return None
        return self._link("p", self.page.previous_cursor)

    def get_first_link(self) -> str:
        return remove_query_param(self.request.build_absolute_uri(), self.cursor_query_param)

    def get_paginated_response(self, data: Any) -> Response:
        return Response(
            OrderedDict(
                [
                    ("next", self.get_next_link()),
                    ("previous", self.get_previous_link()),
                    ("results", data),
                ]
            )
        )

    def get_paginated_response_schema(self, schema: dict[str, Any]) -> dict[str, Any]:
        return {
            "type": "object",
            "required": ["results"],
            "properties": {
                "next": {"type": "string", "nullable": True, "format": "uri"},
                "previous": {"type": "string", "nullable": True, "format": "uri"},
                "results": schema,
            },
        }

    def get_schema_operation_parameters(self, view: Any) -> list[dict[str, Any]]:
        return [
            {
                "name": self.cursor_query_param,
                "required": False,
                "in": "query",
                "description": "The `next` or `previous` link of a page carries it; do not build one.",
                "schema": {"type": "string"},
            },
            {
                "name": "page_size",
                "required": False,
                "in": "query",
                "description": f"Rows per page, 1 to {MAX_PAGE_SIZE} (default {self.page_size}).",
                "schema": {"type": "integer", "minimum": 1, "maximum": MAX_PAGE_SIZE},
            },
        ]
