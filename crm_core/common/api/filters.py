"""Search and ordering for API lists.

* ``?search=`` goes through :func:`normalize_search`, the same normalisation the stored
  ``search_text`` has, so "احمد" finds "أحمد" and "٠١٠" finds "010" (DESIGN.md, "Search").
* ``?ordering=`` is one of the view's ``ordering_choices`` — each an index-backed ORDER BY
  ending with a unique column, so keyset pagination can page through it.
"""

from __future__ import annotations

from functools import reduce
from operator import or_
from typing import Any

from django.db.models import Q, QuerySet
from django.utils.translation import gettext_lazy as _
from rest_framework.exceptions import ValidationError
from rest_framework.filters import BaseFilterBackend

from crm_core.common.text import normalize_search

MAX_SEARCH_LENGTH = 100


def ordering_for(request: Any, view: Any) -> tuple[str, ...]:
    """The ORDER BY of this request: the chosen (validated) ordering or the view's default."""
    chosen = getattr(request, "_api_ordering", None)
    if chosen:
        return chosen
    choices: dict[str, tuple[str, ...]] = getattr(view, "ordering_choices", None) or {}
    default = getattr(view, "default_ordering", None)
    if default and default in choices:
        return choices[default]
    return ("-id",)


class OrderingFilter(BaseFilterBackend):
    param = "ordering"

    def filter_queryset(self, request: Any, queryset: QuerySet, view: Any) -> QuerySet:
        choices: dict[str, tuple[str, ...]] = getattr(view, "ordering_choices", None) or {}
        if not choices:
            return queryset
        raw = request.query_params.get(self.param)
        name = raw if raw not in (None, "") else getattr(view, "default_ordering", None)
        if name not in choices:
            raise ValidationError(
                {self.param: [_("Choose one of: %(choices)s.") % {"choices": ", ".join(sorted(choices))}]}
            )
        ordering = choices[name]
        request._api_ordering = ordering
        return queryset.order_by(*ordering)

    def get_schema_operation_parameters(self, view: Any) -> list[dict[str, Any]]:
        choices = getattr(view, "ordering_choices", None) or {}
        if not choices:
            return []
        return [
            {
                "name": self.param,
                "required": False,
                "in": "query",
                "description": f"Sort order (default `{getattr(view, 'default_ordering', '')}`).",
                "schema": {"type": "string", "enum": sorted(choices)},
            }
        ]


class SearchFilter(BaseFilterBackend):
    """``?search=`` against the lookups a view lists in ``search_lookups`` (ORed together)."""

    param = "search"

    def filter_queryset(self, request: Any, queryset: QuerySet, view: Any) -> QuerySet:
        lookups: tuple[str, ...] = getattr(view, "search_lookups", ()) or ()
        raw = request.query_params.get(self.param)
        if not lookups or not raw:
            return queryset
        if "\x00" in raw:
            raise ValidationError({self.param: [_("Null characters are not allowed.")]})
        if len(raw) > MAX_SEARCH_LENGTH:
            raise ValidationError({self.param: [_("Search for at most %(n)s characters.") % {"n": MAX_SEARCH_LENGTH}]})
        text = normalize_search(raw)
        if not text:
            return queryset
        return queryset.filter(reduce(or_, (Q(**{lookup: text}) for lookup in lookups)))

    def get_schema_operation_parameters(self, view: Any) -> list[dict[str, Any]]:
        if not getattr(view, "search_lookups", None):
            return []
        return [
            {
                "name": self.param,
                "required": False,
                "in": "query",
                "description": "Find by name, code, phone… Arabic letters and digits match as people type them.",
                "schema": {"type": "string", "maxLength": MAX_SEARCH_LENGTH},
            }
        ]
