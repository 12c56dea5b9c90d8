"""Customer categories, managed by managers and administrators."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from crm_core.accounts.models import ActivityLog, Role
from crm_core.customers.models import CustomerCategory
from tests.factories import CustomerCategoryFactory

pytestmark = pytest.mark.django_db

LIST = reverse("customers:categories")
CREATE = reverse("customers:category_create")


def edit_url(category) -> str:
    return reverse("customers:category_edit", args=[category.pk])


def active_url(category) -> str:
    return reverse("customers:category_set_active", args=[category.pk])


def test_managers_see_and_manage_categories(login, manager):
    CustomerCategoryFactory(name="جملة", discount_percent=Decimal("7.50"))
    response = login(manager).get(LIST)
    assert response.status_code == 200
    assert "جملة" in response.text
    assert 'data-testid="new-category"' in response.text
    assert 'data-testid="deactivate-category"' in response.text
    assert "data-confirm=" in response.text


@pytest.mark.parametrize("role", [Role.SALES, Role.ACCOUNTANT, Role.INSPECTOR, Role.STOREKEEPER])
def test_other_roles_are_refused(login, world, role):
    category = CustomerCategoryFactory()
    client = login(world.user(role))
    assert client.get(LIST).status_code == 403
    assert client.get(CREATE).status_code == 403
    assert client.post(edit_url(category), {"name": "x", "discount_percent": "1"}).status_code == 403
    assert client.post(active_url(category), {"active": "0"}).status_code == 403
    category.refresh_from_db()
    assert category.is_active


def test_create_through_the_service(login, manager):
    response = login(manager).post(CREATE, {"name": " تجزئة ", "discount_percent": "5.25", "description": "أفراد"})
    assert response.status_code == 302
    category = CustomerCategory.objects.get(name="تجزئة")
    assert category.discount_percent == Decimal("5.25")
    assert ActivityLog.objects.filter(action="customer_category.create", target_id=str(category.pk)).exists()


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"name": "", "discount_percent": "5"}, "name"),
        ({"name": "x", "discount_percent": "150"}, "discount_percent"),
        ({"name": "x", "discount_percent": "-1"}, "discount_percent"),
        ({"name": "x", "discount_percent": "abc"}, "discount_percent"),
        ({"name": "جملة", "discount_percent": "1"}, "name"),  # duplicate, refused by the service
    ],
)
def test_bad_category_input_is_refused(login, manager, data, field):
    CustomerCategoryFactory(name="جملة")
    response = login(manager).post(CREATE, data)
    assert response.status_code == 200
    assert response.context["form"].errors[field]
    assert CustomerCategory.objects.count() == 1


def test_form_has_html_constraints(login, manager):
    text = login(manager).get(CREATE).text
    assert 'min="0"' in text and 'max="100"' in text and 'step="0.01"' in text
    assert 'maxlength="100"' in text


def test_edit_and_deactivate_then_activate(login, manager):
    category = CustomerCategoryFactory(name="جملة")
    client = login(manager)
    assert client.post(edit_url(category), {"name": "جملة كبرى", "discount_percent": "10"}).status_code == 302
    category.refresh_from_db()
    assert (category.name, category.discount_percent) == ("جملة كبرى", Decimal("10.00"))

    response = client.post(active_url(category), {"active": "0"}, follow=True)
    category.refresh_from_db()
    assert not category.is_active
    assert "deactivated" in response.text
    assert 'data-testid="activate-category"' in response.text

    client.post(active_url(category), {"active": "1"})
    category.refresh_from_db()
    assert category.is_active


def test_deactivate_needs_post(login, manager):
    category = CustomerCategoryFactory()
    assert login(manager).get(active_url(category)).status_code == 405


def test_empty_list_offers_to_add(login, manager):
    response = login(manager).get(LIST)
    assert "No categories yet" in response.text
    assert f'href="{CREATE}"' in response.text


def test_category_list_query_count_does_not_grow(login, manager, django_assert_max_num_queries):
    CustomerCategoryFactory.create_batch(2)
    client = login(manager)
    with CaptureQueriesContext(connection) as few:
        client.get(LIST)
    CustomerCategoryFactory.create_batch(30)
    # session, user, 2 × permissions, count, page, unread count, the user's branch (menu)
    with django_assert_max_num_queries(8):
        response = client.get(LIST)
    assert len(response.context["page_obj"]) == 32
    with CaptureQueriesContext(connection) as many:
        client.get(LIST)
    assert len(many.captured_queries) == len(few.captured_queries)
