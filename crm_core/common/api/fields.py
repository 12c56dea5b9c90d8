"""Related fields whose ids are looked up through the one scoping rule (DESIGN.md rule 3)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.db.models import QuerySet
from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

from crm_core.common.api.errors import RelatedNotFound


class ScopedPrimaryKeyRelatedField(serializers.PrimaryKeyRelatedField):
    """A primary key that must name a record the requesting user may see.

    ``scope(user)`` returns the queryset to look in (usually ``Model.objects.visible_to``). An
    id that names nothing there — whether it does not exist or belongs to another branch —
    answers 404 with the field named, the same answer either way, so existence never leaks.
    A value that is not an id at all stays a 400 field error.
    """

    def __init__(self, *, scope: Callable[[Any], QuerySet], **kwargs: Any):
        self.scope = scope
        super().__init__(**kwargs)

    def get_queryset(self) -> QuerySet:
        request = self.context.get("request")
        return self.scope(getattr(request, "user", None))

    def to_internal_value(self, data: Any) -> Any:
        if isinstance(data, bool) or not isinstance(data, int | str):
            self.fail("incorrect_type", data_type=type(data).__name__)
        try:
            pk = int(data)
        except (TypeError, ValueError):
            self.fail("incorrect_type", data_type=type(data).__name__)
        found = self.get_queryset().filter(pk=pk).first()
        if found is None:
            raise RelatedNotFound(self.field_name or "id")
        return found


_EARLIEST_YEAR, _LATEST_YEAR = 2000, 2100


class DateTimeField(serializers.DateTimeField):
    """An aware date-time between the years 2000 and 2100.

    Business times outside that range are typing mistakes; and before 1900 the local time zone
    has no modern offset (Cairo's 1900 local mean time is +02:05:09), which no client could parse.
    """

    def to_internal_value(self, value: Any) -> Any:
        parsed = super().to_internal_value(value)
        if not _EARLIEST_YEAR <= parsed.year <= _LATEST_YEAR:
            raise serializers.ValidationError(_("Enter a date between %(a)s and %(b)s.") % _RANGE)
        return parsed


class DateField(serializers.DateField):
    """A date between the years 2000 and 2100."""

    def to_internal_value(self, value: Any) -> Any:
        parsed = super().to_internal_value(value)
        if not _EARLIEST_YEAR <= parsed.year <= _LATEST_YEAR:
            raise serializers.ValidationError(_("Enter a date between %(a)s and %(b)s.") % _RANGE)
        return parsed


_RANGE = {"a": _EARLIEST_YEAR, "b": _LATEST_YEAR}
