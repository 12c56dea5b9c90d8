"""``{{ user|may_use_board }}``: the navigation shows the dispatch board to whom it serves."""

from __future__ import annotations

from typing import Any

from django import template

from crm_core.inspections.selectors import board_allowed

register = template.Library()


@register.filter
def may_use_board(user: Any) -> bool:
    return user is not None and board_allowed(user)
