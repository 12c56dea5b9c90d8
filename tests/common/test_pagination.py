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
