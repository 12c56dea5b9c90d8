"""Pagination that never counts a whole big table (DESIGN.md performance rules)."""

from __future__ import annotations

from django.core.paginator import Paginator
from django.utils.functional import cached_property

# Beyond this many matching rows, lists say "10,000+" and page to that depth; filters or
# search narrow further. Counting is then bounded by an index scan of at most this many rows.
COUNT_CAP = 10_000


class CappedCountPaginator(Paginator):
    """A paginator whose count stops at ``COUNT_CAP`` (``is_capped`` tells the template)."""

    cap = COUNT_CAP

    @cached_property
    def count(self) -> int:
        object_list = self.object_list
        if hasattr(object_list, "order_by"):
            # COUNT(*) over a LIMITed subquery: bounded work whatever the table size.
            return object_list.order_by()[: self.cap + 1].count()
        return len(object_list)

    @property
    def is_capped(self) -> bool:
        return self.count > self.cap
