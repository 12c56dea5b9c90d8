"""The base of every viewset: scoped querysets, role permissions, filters, errors."""

from __future__ import annotations

from typing import Any

from django_filters.rest_framework import DjangoFilterBackend
from rest_framework import viewsets
from rest_framework.response import Response

from crm_core.common.api.concurrency import set_etag
from crm_core.common.api.filters import OrderingFilter, SearchFilter
from crm_core.common.api.pagination import CursorPagination, PageNumberPagination


class ApiViewSet(viewsets.GenericViewSet):
    """Subclasses set ``queryset`` (for the model and the schema) and override ``get_queryset``
    to start from ``visible_to(self.request.user)``; writes call a service, never ``save()``."""

    filter_backends = (DjangoFilterBackend, SearchFilter, OrderingFilter)
    # Ids are integers: anything else in the path is the API's JSON 404 at the URL level.
    lookup_value_regex = r"\d+"
    pagination_class = PageNumberPagination
    # Service field name → API field name, for the field errors of a service's ValidationError.
    service_field_names: dict[str, str] = {}
    # ``action`` → the permissions it needs, where the method's model permission is not the right one.
    action_permissions: dict[str, list[str]] = {}
    ordering_choices: dict[str, tuple[str, ...]] = {}
    default_ordering: str | None = None
    search_lookups: tuple[str, ...] = ()

    def validated(self, serializer_class: Any, *, partial: bool = False, data: Any = None) -> dict[str, Any]:
        """The request body checked by an input serializer (400 with field errors otherwise)."""
        serializer = serializer_class(
            data=self.request.data if data is None else data, context=self.get_serializer_context(), partial=partial
        )
        serializer.is_valid(raise_exception=True)
        return dict(serializer.validated_data)

    def list_response(self, queryset: Any) -> Response:
        queryset = self.filter_queryset(queryset)
        page = self.paginate_queryset(queryset)
        if page is not None:
            return self.get_paginated_response(self.get_serializer(page, many=True).data)
        return Response(self.get_serializer(queryset, many=True).data)

    def object_response(self, instance: Any, *, status: int = 200, serializer_class: Any = None) -> Response:
        serializer = (serializer_class or self.get_serializer_class())(instance, context=self.get_serializer_context())
        response = Response(serializer.data, status=status)
        if hasattr(instance, "version"):
            set_etag(response, instance)
        return response


class KeysetViewSet(ApiViewSet):
    """A big list: keyset (cursor) pages, never a COUNT."""

    pagination_class = CursorPagination
