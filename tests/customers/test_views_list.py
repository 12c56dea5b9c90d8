"""The customer list: who sees which rows, Arabic-aware search, filters, sort, keyset pages, htmx."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from crm_core.accounts.models import Role
from crm_core.customers.models import Customer
from crm_core.customers.selectors import PAGE_SIZE, search_terms
from tests.factories import CustomerCategoryFactory, CustomerFactory

pytestmark = pytest.mark.django_db

LIST = reverse("customers:list")


def _codes(response) -> list[str]:
    return [customer.code for customer in response.context["page_obj"]]


# --- Who sees what -------------------------------------------------------------------------------


def test_sales_see_their_branch_only(login, personas, scene):
    response = login(personas.owner).get(LIST)

    assert response.status_code == 200
    shown = {c.pk for c in response.context["page_obj"]}
    assert shown == scene.a.ids(Customer)
    for customer in Customer.objects.filter(pk__in=scene.b.ids(Customer)):
        assert customer.name not in response.text
    # One branch: no branch column and no branch filter.
    assert 'name="branch"' not in response.text


def test_a_role_without_customer_access_is_refused(login, personas, scene):
    # The storekeeper colleague of branch A holds no customer permission at all.
    assert login(personas.colleague).get(LIST).status_code == 403


def test_inspectors_see_only_the_customers_they_are_sent_to(login, scene):
    response = login(scene.inspector_1).get(LIST)

    assert {c.pk for c in response.context["page_obj"]} == {scene.customer_1.pk}
    assert 'data-testid="new-customer"' not in response.text


def test_all_branch_users_see_every_branch_and_can_filter_by_one(login, hq_manager, scene, world):
    client = login(hq_manager)
    everything = client.get(LIST)
    assert {c.pk for c in everything.context["page_obj"]} == scene.a.ids(Customer) | scene.b.ids(Customer)
    assert 'name="branch"' in everything.text

    only_b = client.get(LIST, {"branch": world.branch_b.pk})
    assert {c.pk for c in only_b.context["page_obj"]} == scene.b.ids(Customer)


def test_a_branch_filter_is_ignored_for_single_branch_users(login, personas, scene, world):
    # A typed-in branch id of another branch shows nothing of that branch.
    response = login(personas.owner).get(LIST, {"branch": world.branch_b.pk})
    assert {c.pk for c in response.context["page_obj"]} == scene.a.ids(Customer)


# --- Search --------------------------------------------------------------------------------------


@pytest.fixture
def named(make_customer):
    return {
        "ahmed": make_customer("أحمد إبراهيم", phone="010 1234 5678"),
        "hoda": make_customer("هدى مصطفى", phone="01198765432", city="الجيزة"),
        "company": make_customer("مؤسسة النور للتجارة", phone="0225551234", kind="company"),
    }


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("احمد", {"ahmed"}),  # أ typed as ا
        ("أحمد", {"ahmed"}),
        ("ابراهيم", {"ahmed"}),  # إ typed as ا
        ("هدي", {"hoda"}),  # ى typed as ي
        ("مُصطفى", {"hoda"}),  # with a haraka
        ("موسسه", {"company"}),  # ؤ and ة typed as و and ه
        ("النــور", {"company"}),  # with tatweel
        ("٠١٠", {"ahmed"}),  # Arabic-Indic digits
        ("010-1234", {"ahmed"}),  # a phone typed with a dash
        ("01012345678", {"ahmed"}),
        ("احمد 5678", {"ahmed"}),  # every word must match
        ("احمد هدى", set()),
        ("الجيزة", {"hoda"}),
        ("nobody", set()),
    ],
)
def test_search_matches_arabic_as_people_type_it(login, personas, named, query, expected):
    response = login(personas.owner).get(LIST, {"q": query})

    assert {c.pk for c in response.context["page_obj"]} == {named[key].pk for key in expected}


def test_search_by_code_in_any_case(login, personas, named):
    code = named["hoda"].code
    response = login(personas.owner).get(LIST, {"q": code.lower()})
    assert _codes(response) == [code]


def test_search_never_reaches_another_branch(login, personas, world, make_customer, named):
    outsider_customer = make_customer("أحمد السكندري", actor=personas.outsider)
    response = login(personas.owner).get(LIST, {"q": "احمد"})
    shown = {c.pk for c in response.context["page_obj"]}
    assert named["ahmed"].pk in shown
    assert outsider_customer.pk not in shown


def test_search_terms_are_normalised_and_phone_like_words_become_digits():
    assert search_terms("  أحمد   ٠١٠-١٢٣ ") == ["احمد", "010123"]
    assert search_terms("CAI-C000001") == ["cai-c000001"]
    assert search_terms("") == []


def test_a_search_with_no_match_says_so(login, personas, named):
    response = login(personas.owner).get(LIST, {"q": "zzzz"})
    assert "No customer matches this search" in response.text
    assert not response.context["page_obj"].object_list


# --- Filters and sort ----------------------------------------------------------------------------


def test_filters_by_category_kind_and_status(login, personas, make_customer):
    vip = CustomerCategoryFactory(name="VIP")
    plain = make_customer("عادي")
    in_vip = make_customer("مميز", category=vip)
    company = make_customer("شركة", kind="company")
    blocked = make_customer("موقوف", status="blocked")
    client = login(personas.owner)

    assert {c.pk for c in client.get(LIST, {"category": vip.pk}).context["page_obj"]} == {in_vip.pk}
    assert {c.pk for c in client.get(LIST, {"kind": "company"}).context["page_obj"]} == {company.pk}
    assert {c.pk for c in client.get(LIST, {"status": "blocked"}).context["page_obj"]} == {blocked.pk}
    everyone = {c.pk for c in client.get(LIST, {"kind": "bogus", "status": "x"}).context["page_obj"]}
    assert everyone == {plain.pk, in_vip.pk, company.pk, blocked.pk}


@pytest.mark.parametrize(
    ("sort", "key", "reverse"),
    [("newest", "created_at", True), ("oldest", "created_at", False), ("name", "name", False), ("code", "code", False)],
)
def test_sorts(login, personas, make_customer, sort, key, reverse):
    for name in ("ياسر", "بسمة", "ماجد", "عادل"):
        make_customer(name)
    rows = list(login(personas.owner).get(LIST, {"sort": sort}).context["page_obj"])
    values = [(getattr(c, key), c.pk) for c in rows]
    assert values == sorted(values, reverse=reverse)
    assert len(rows) == 4


def test_an_unknown_sort_falls_back_to_newest(login, personas, make_customer):
    first, second = make_customer("أول"), make_customer("ثان")
    rows = list(login(personas.owner).get(LIST, {"sort": "phone; DROP TABLE"}).context["page_obj"])
    assert [c.pk for c in rows] == [second.pk, first.pk]


# --- Pages ---------------------------------------------------------------------------------------


def test_keyset_pages_walk_the_whole_list_without_offset(login, personas, world):
    CustomerFactory.create_batch(PAGE_SIZE * 2 + 3, branch=world.branch_a)
    client = login(personas.owner)
    seen, params = [], {"sort": "name"}
    while True:
        with CaptureQueriesContext(connection) as queries:
            response = client.get(LIST, params)
        assert not any("OFFSET" in q["sql"].upper() for q in queries.captured_queries)
        page = response.context["page_obj"]
        seen += [c.pk for c in page]
        if not page.has_next:
            break
        assert 'data-testid="keyset-next"' in response.text
        params = {"sort": "name", "cursor": page.next_cursor}
    expected = list(Customer.objects.filter(branch=world.branch_a).order_by("name", "id").values_list("pk", flat=True))
    assert seen == expected

    back = client.get(LIST, {"sort": "name", "cursor": page.previous_cursor, "dir": "prev"}).context["page_obj"]
    assert [c.pk for c in back] == expected[PAGE_SIZE : PAGE_SIZE * 2]


def test_a_deep_page_query_starts_at_the_cursor_in_the_index(login, personas, world):
    """The keyset condition carries a plain range on the first sort column, which an index can seek."""
    CustomerFactory.create_batch(PAGE_SIZE + 2, branch=world.branch_a)
    client = login(personas.owner)
    page = client.get(LIST).context["page_obj"]
    last = page.object_list[-1]
    with CaptureQueriesContext(connection) as queries:
        client.get(LIST, {"cursor": page.next_cursor})
    sql = next(q["sql"] for q in queries.captured_queries if 'FROM "customers_customer"' in q["sql"])
    assert '"customers_customer"."created_at" <=' in sql
    assert "OFFSET" not in sql.upper()
    assert last.created_at.isoformat()[:19].replace("T", " ") in sql


# --- htmx and the page around the table -----------------------------------------------------------


def test_htmx_search_returns_only_the_table(login, personas, named):
    response = login(personas.owner).get(LIST, {"q": "هدى"}, headers={"HX-Request": "true"})

    assert response.status_code == 200
    assert response.text.lstrip().startswith('<div id="customer-table" ')
    assert "<html" not in response.text
    assert named["hoda"].name in response.text
    assert named["ahmed"].name not in response.text


def test_boosted_and_history_restore_requests_get_the_whole_page(login, personas, named):
    client = login(personas.owner)
    for headers in (
        {"HX-Request": "true", "HX-Boosted": "true"},
        {"HX-Request": "true", "HX-History-Restore-Request": "true"},
    ):
        assert "<html" in client.get(LIST, headers=headers).text


def test_the_search_form_is_wired_for_htmx(login, personas):
    text = login(personas.owner).get(LIST).text
    assert 'hx-trigger="input changed delay:300ms, search"' in text
    assert 'hx-target="#customer-table"' in text
    assert 'hx-push-url="true"' in text
    assert 'method="get"' in text


def test_empty_list_offers_new_customer_to_those_who_may_add(login, personas, world):
    response = login(personas.owner).get(LIST)
    assert "No customers yet" in response.text
    assert f'href="{reverse("customers:create")}"' in response.text

    accountant = world.user(Role.ACCOUNTANT)
    response = login(accountant).get(LIST)
    assert "No customers yet" in response.text
    assert reverse("customers:create") not in response.text


def test_categories_link_only_for_category_managers(login, personas, manager):
    assert 'data-testid="categories-link"' not in login(personas.owner).get(LIST).text
    assert 'data-testid="categories-link"' in login(manager).get(LIST).text


# --- Query budget --------------------------------------------------------------------------------


def _list_queries(client, params=None) -> int:
    with CaptureQueriesContext(connection) as queries:
        assert client.get(LIST, params or {}).status_code == 200
    return len(queries.captured_queries)


@pytest.mark.parametrize("params", [{}, {"q": "محمود", "sort": "name"}])
def test_list_query_count_does_not_grow_with_rows(login, hq_manager, world, django_assert_max_num_queries, params):
    category = CustomerCategoryFactory()
    CustomerFactory.create_batch(3, branch=world.branch_a, category=category)
    client = login(hq_manager)
    few = _list_queries(client, params)

    CustomerFactory.create_batch(60, branch=world.branch_b, category=CustomerCategoryFactory())
    CustomerFactory.create_batch(60, branch=world.branch_a)
    # session, user, 2 × permissions, customers page, unread count, the user's branch (menu),
    # category and branch choices, and on PostgreSQL the latest event id (live since)
    with django_assert_max_num_queries(10):
        response = client.get(LIST, params)
    assert len(response.context["page_obj"]) == PAGE_SIZE
    assert _list_queries(client, params) == few


# --- The search and the indexes behind it ------------------------------------------------------------


def test_search_sql_is_a_plain_like_the_trigram_index_can_serve(login, personas, named):
    with CaptureQueriesContext(connection) as queries:
        login(personas.owner).get(LIST, {"q": "احمد"})
    sql = next(q["sql"] for q in queries.captured_queries if 'FROM "customers_customer"' in q["sql"])
    assert "LIKE" in sql
    # icontains would compare UPPER(search_text), which no index holds.
    assert "UPPER(" not in sql.upper()


@pytest.mark.postgres
def test_trigram_index_serves_the_search_on_postgres(hq_manager, named):
    from crm_core.customers.selectors import customer_list

    queryset = customer_list(hq_manager, query="احمد").order_by().values("pk")
    sql, params = queryset.query.sql_with_params()
    with connection.cursor() as cursor:
        # A handful of test rows would be read sequentially or through any index; leave the planner
        # only index conditions, so the plan names the index that serves the LIKE, if one does.
        for setting in ("enable_seqscan", "enable_indexscan", "enable_indexonlyscan"):
            cursor.execute(f"SET LOCAL {setting} = off")
        cursor.execute(f"EXPLAIN {sql}", params)
        plan = "\n".join(row[0] for row in cursor.fetchall())
    assert "customer_search_trgm_idx" in plan
