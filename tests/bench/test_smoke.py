"""The list-pages benchmark in smoke mode: CI runs the benchmark code on every change.

Smoke mode seeds its own small data set (the demo base set and a bulk load of 300 customers
and 2,000 orders) into the test database and requests each page a few times; nothing here is
timed against a threshold, the figures of the full run live in docs/PERFORMANCE.md.
"""

from __future__ import annotations

import pytest

from bench import list_pages
from bench.list_pages import Page, Result
from crm_core.customers.selectors import PAGE_SIZE
from crm_core.orders.selectors import PER_PAGE

pytestmark = pytest.mark.django_db

PAGES = {
    "customers.first",
    "customers.deep",
    "customers.search",
    "customers.search_rare",
    "customers.search_phone",
    "customers.search_none",
    "orders.first",
    "orders.deep",
    "orders.filtered",
    "orders.detail",
}


def test_smoke_run_answers_every_page_for_both_users():
    lines: list[str] = []
    results = list_pages.run(smoke=True, log=lines.append)

    assert {(r.user, r.key) for r in results} == {(user, key) for user in list_pages.USERS for key in PAGES}
    for r in results:
        assert r.ok, f"{r.user} {r.label} {r.url}: {r.problem}"
        assert r.status == 200
        assert len(r.samples_ms) == list_pages.SMOKE_REPEAT
        assert r.queries > 0 and len(r.sql) == r.queries
        assert r.size > 1000
    by_key = {(r.user, r.key): r for r in results}
    for user in list_pages.USERS:
        # Deep pages really are deep: reached through "Next" links, carrying a cursor.
        for key in ("customers.deep", "orders.deep"):
            deep = by_key[(user, key)]
            assert "cursor=" in deep.url
            assert deep.label.endswith(f"page {list_pages.SMOKE_DEPTH + 1}")
        # The searches went through the search box's parameter, as typed.
        assert "q=" in by_key[(user, "customers.search")].url
        assert by_key[(user, "orders.detail")].note  # the order number it checked for
        # Full pages of rows where there is enough data; none where nothing matches.
        assert by_key[(user, "customers.first")].rows == PAGE_SIZE
        assert by_key[(user, "orders.first")].rows == PER_PAGE
        assert by_key[(user, "customers.search_none")].rows == 0
        assert by_key[(user, "customers.search_rare")].rows >= 1
    # The one-branch user and the all-branches user see different first pages of customers.
    assert by_key[("cai.sales", "customers.first")].size != by_key[("hq.manager", "customers.first")].size
    table = list_pages.table(results)
    assert "customers: first page" in table and "order detail" in table


def test_a_page_that_fails_is_reported_not_timed(client, django_user_model):
    user = django_user_model.objects.create_user("someone", password="x")
    client.force_login(user)
    page = Page("missing", "a page that is not there", "/customers/999999999/", ("customer-row",))

    result = list_pages.time_page(client, user.username, page, repeat=5)

    assert not result.ok
    assert result.status in (403, 404)
    assert result.samples_ms == []


def test_percentiles_are_nearest_rank():
    result = Result(user="u", key="k", label="l", url="/", samples_ms=[float(i) for i in range(1, 31)])
    assert result.median == 15.5
    assert result.p95 == 29.0
    assert result.max == 30.0
    assert Result(user="u", key="k", label="l", url="/").ok
