import pytest

from crm_core.accounts.models import Department
from crm_core.common.pagination import CappedCountPaginator


@pytest.mark.django_db
def test_count_stops_at_the_cap_and_pages_still_work(django_assert_num_queries):
    Department.objects.bulk_create([Department(code=f"D{i:03d}", name=f"قسم {i}") for i in range(30)])
    paginator = CappedCountPaginator(Department.objects.order_by("code"), per_page=4)
    paginator.cap = 10
    with django_assert_num_queries(1):
        assert paginator.count == 11
    assert paginator.is_capped
    assert paginator.num_pages == 3
    assert [d.code for d in paginator.page(2)] == ["D004", "D005", "D006", "D007"]


@pytest.mark.django_db
def test_small_lists_get_their_exact_count():
    Department.objects.bulk_create([Department(code=f"D{i:03d}", name=f"قسم {i}") for i in range(7)])
    paginator = CappedCountPaginator(Department.objects.order_by("code"), per_page=4)
    assert paginator.count == 7
    assert not paginator.is_capped
    assert paginator.num_pages == 2


@pytest.mark.django_db
@pytest.mark.parametrize("ordering", [("-code", "-id"), ("name", "id"), ("is_active", "-name", "id")])
def test_keyset_pages_walk_forward_and_back_without_gaps_or_repeats(ordering):
    from crm_core.common.pagination import keyset_paginate

    Department.objects.bulk_create(
        [Department(code=f"D{i:03d}", name=f"قسم {i % 7}", is_active=bool(i % 3)) for i in range(23)]
    )
    expected = list(Department.objects.order_by(*ordering).values_list("pk", flat=True))
    seen, pages, cursor = [], [], None
    while True:
        page = keyset_paginate(Department.objects.all(), ordering=ordering, cursor=cursor, per_page=5)
        pages.append(page)
        seen += [d.pk for d in page]
        if not page.has_next:
            break
        cursor = page.next_cursor
    assert seen == expected
    assert [len(p) for p in pages] == [5, 5, 5, 5, 3]
    assert not pages[0].has_previous

    back = keyset_paginate(
        Department.objects.all(), ordering=ordering, cursor=pages[-1].previous_cursor, per_page=5, backwards=True
    )
    assert [d.pk for d in back] == [d.pk for d in pages[-2]]
    assert back.has_previous and back.has_next


@pytest.mark.django_db
def test_a_forged_cursor_starts_from_the_first_page():
    from crm_core.common.pagination import keyset_paginate

    Department.objects.bulk_create([Department(code=f"D{i:03d}", name="قسم") for i in range(3)])
    for cursor in ("garbage!!", "WyJ4Il0", "bnVsbA"):
        page = keyset_paginate(Department.objects.all(), ordering=("code", "id"), cursor=cursor, per_page=2)
        assert [d.code for d in page] == ["D000", "D001"]
        assert not page.has_previous
