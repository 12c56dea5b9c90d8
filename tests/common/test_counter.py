"""Human-facing numbers come from the database counter (DESIGN.md rule 7)."""

from __future__ import annotations

import pytest
from django.db import transaction

from crm_core.common.models import Counter, next_number, set_counter_at_least

pytestmark = pytest.mark.django_db


def test_next_number_counts_one_two_three_per_key():
    assert [next_number("order:1:2025") for _ in range(3)] == [1, 2, 3]


def test_keys_are_independent():
    assert next_number("customer:1") == 1
    assert next_number("customer:1") == 2
    assert next_number("customer:2") == 1
    assert next_number("customer:1") == 3
    assert next_number("customer:2") == 2
    assert dict(Counter.objects.values_list("key", "value")) == {"customer:1": 3, "customer:2": 2}


def test_a_rolled_back_transaction_returns_its_number():
    assert next_number("inspection:1") == 1
    with pytest.raises(RuntimeError), transaction.atomic():
        assert next_number("inspection:1") == 2
        raise RuntimeError("refused")
    assert next_number("inspection:1") == 2


def test_set_counter_at_least_only_moves_forward():
    set_counter_at_least("order:9:2025", 100)
    assert next_number("order:9:2025") == 101
    set_counter_at_least("order:9:2025", 50)
    assert next_number("order:9:2025") == 102
