"""The Branches and Departments administration pages."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from crm_core.accounts.models import ActivityLog, Branch, Department, Role
from tests.accounts.conftest import signed_in
from tests.factories import BranchFactory, DepartmentFactory

pytestmark = pytest.mark.django_db

BRANCHES = reverse("accounts:branches")
DEPARTMENTS = reverse("accounts:departments")


def _queries(client, url: str) -> int:
    with CaptureQueriesContext(connection) as ctx:
        assert client.get(url).status_code == 200
    return len(ctx)


def codes(response) -> set[str]:
    return {row.code for row in response.context["page_obj"].object_list}


# --- Access --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "url",
    [
        BRANCHES,
        reverse("accounts:branch_create"),
        DEPARTMENTS,
        reverse("accounts:department_create"),
    ],
)
def test_anonymous_goes_to_sign_in(client, world, url):
    response = client.get(url)
    assert response.status_code == 302 and response["Location"].startswith(reverse("accounts:login"))


@pytest.mark.parametrize("role", [Role.MANAGER, Role.SALES, Role.STOREKEEPER, Role.ACCOUNTANT])
def test_non_admins_are_refused_and_see_no_menu_items(client, world, role):
    signed_in(client, world.user(role, all_branches=role == Role.MANAGER), "en")
    department = DepartmentFactory()
    for url in (
        BRANCHES,
        reverse("accounts:branch_create"),
        reverse("accounts:branch_edit", args=[world.branch_a.pk]),
        DEPARTMENTS,
        reverse("accounts:department_create"),
        reverse("accounts:department_edit", args=[department.pk]),
    ):
        assert client.get(url).status_code == 403, url
    response = client.post(reverse("accounts:branch_set_active", args=[world.branch_a.pk]), {"active": "0"})
    assert response.status_code == 403
    world.branch_a.refresh_from_db()
    assert world.branch_a.is_active
    page = client.get(reverse("dashboard")).content.decode()
    assert BRANCHES not in page and DEPARTMENTS not in page


def test_admin_menu_lists_the_administration_pages(admin_client):
    page = admin_client.get(reverse("dashboard")).content.decode()
    for url in (BRANCHES, DEPARTMENTS, reverse("accounts:users"), reverse("accounts:activity")):
        assert f'href="{url}"' in page


# --- Branches ------------------------------------------------------------------------------------


def test_head_admin_lists_every_branch_with_head_counts(admin_client, world):
    world.user(branch=world.branch_b)
    world.user(branch=world.branch_b)
    response = admin_client.get(BRANCHES)
    assert codes(response) == {"CAI", "ALX"}
    counts = {row.code: row.user_count for row in response.context["page_obj"].object_list}
    assert counts == {"CAI": 1, "ALX": 2}  # the head admin's home branch is CAI
    assert 'data-testid="branch-create"' in response.content.decode()


def test_branch_admin_sees_only_their_branch(client, world, branch_admin):
    signed_in(client, branch_admin)
    assert codes(client.get(BRANCHES)) == {"CAI"}
    assert client.get(reverse("accounts:branch_edit", args=[world.branch_b.pk])).status_code == 404
    response = client.post(reverse("accounts:branch_set_active", args=[world.branch_b.pk]), {"active": "0"})
    assert response.status_code == 404


def test_branch_list_query_count_does_not_grow(admin_client, world):
    few = _queries(admin_client, BRANCHES)
    for n in range(10):
        branch = BranchFactory(code=f"X{n}")
        world.user(branch=branch)
    assert _queries(admin_client, BRANCHES) == few
    assert few <= 8


def test_create_branch(admin_client):
    response = admin_client.post(
        reverse("accounts:branch_create"),
        {"code": " giz ", "name": "الجيزة", "address": "شارع الهرم", "phone": "0233334444"},
    )
    assert response.status_code == 302 and response["Location"] == BRANCHES
    branch = Branch.objects.get(code="GIZ")
    assert (branch.name, branch.address) == ("الجيزة", "شارع الهرم")
    assert ActivityLog.objects.filter(action="branch.create", target_id=str(branch.pk)).exists()
    assert "الجيزة" in admin_client.get(BRANCHES).content.decode()


@pytest.mark.parametrize(
    ("data", "field", "message"),
    [
        ({"code": "cai", "name": "Another Cairo"}, "code", "A branch with this code already exists."),
        ({"code": "", "name": "No code"}, "code", "required"),
        ({"code": "WAYTOOLONGCODE", "name": "Long"}, "code", "at most 10 characters"),
        ({"code": "NEW", "name": ""}, "name", "required"),
    ],
    ids=["duplicate-code", "no-code", "long-code", "no-name"],
)
def test_bad_branch_writes_nothing(admin_client, world, data, field, message):
    before = Branch.objects.count()
    response = admin_client.post(reverse("accounts:branch_create"), data)
    assert response.status_code == 200
    assert message in " ".join(response.context["form"].errors[field])
    assert "is-invalid" in response.content.decode()
    assert Branch.objects.count() == before
    assert not ActivityLog.objects.filter(action__startswith="branch.").exists()


def test_edit_branch_keeps_the_code_and_logs_the_change(admin_client, world):
    url = reverse("accounts:branch_edit", args=[world.branch_b.pk])
    page = admin_client.get(url).content.decode()
    assert 'name="code"' not in page and "ALX" in page
    response = admin_client.post(url, {"name": "Alexandria", "address": "Corniche", "phone": "035555555"})
    assert response.status_code == 302
    world.branch_b.refresh_from_db()
    assert (world.branch_b.code, world.branch_b.name) == ("ALX", "Alexandria")
    log = ActivityLog.objects.get(action="branch.update")
    assert log.changes["name"] == ["الإسكندرية", "Alexandria"]


def test_deactivate_branch_needs_confirmation_and_hides_it_from_user_forms(admin_client, world):
    url = reverse("accounts:branch_edit", args=[world.branch_b.pk])
    page = admin_client.get(url).content.decode()
    assert 'data-testid="deactivate"' in page and "data-confirm=" in page
    response = admin_client.post(reverse("accounts:branch_set_active", args=[world.branch_b.pk]), {"active": "0"})
    assert response.status_code == 302
    world.branch_b.refresh_from_db()
    assert not world.branch_b.is_active
    create_form = admin_client.get(reverse("accounts:user_create")).content.decode()
    assert f'value="{world.branch_b.pk}"' not in create_form
    admin_client.post(reverse("accounts:branch_set_active", args=[world.branch_b.pk]), {"active": "1"})
    world.branch_b.refresh_from_db()
    assert world.branch_b.is_active


def test_unknown_branch_is_404(admin_client):
    assert admin_client.get(reverse("accounts:branch_edit", args=[987654])).status_code == 404


# --- Departments ---------------------------------------------------------------------------------


def test_department_list_counts_only_visible_people(client, world, branch_admin):
    sales = DepartmentFactory(code="SALES", name="Sales")
    world.user(department=sales)
    world.user(department=sales, branch=world.branch_b)
    signed_in(client, branch_admin)
    rows = {row.code: row.user_count for row in client.get(DEPARTMENTS).context["page_obj"].object_list}
    assert rows == {"SALES": 1}


def test_department_list_query_count_does_not_grow(admin_client, world):
    DepartmentFactory()
    few = _queries(admin_client, DEPARTMENTS)
    for _ in range(10):
        world.user(department=DepartmentFactory())
    assert _queries(admin_client, DEPARTMENTS) == few
    assert few <= 8


def test_create_and_edit_department(admin_client):
    response = admin_client.post(reverse("accounts:department_create"), {"code": "field", "name": "Field work"})
    assert response.status_code == 302
    department = Department.objects.get(code="FIELD")
    url = reverse("accounts:department_edit", args=[department.pk])
    assert admin_client.post(url, {"name": "Field operations"}).status_code == 302
    department.refresh_from_db()
    assert department.name == "Field operations"
    assert ActivityLog.objects.get(action="department.update").changes == {"name": ["Field work", "Field operations"]}


def test_duplicate_department_code_writes_nothing(admin_client):
    DepartmentFactory(code="SALES")
    before = Department.objects.count()
    response = admin_client.post(reverse("accounts:department_create"), {"code": "sales", "name": "Twice"})
    assert "A department with this code already exists." in response.content.decode()
    assert Department.objects.count() == before
    assert not ActivityLog.objects.filter(action="department.create").exists()


def test_deactivate_department(admin_client, world):
    department = DepartmentFactory(name="Closing")
    page = admin_client.get(reverse("accounts:department_edit", args=[department.pk])).content.decode()
    assert "data-confirm=" in page
    response = admin_client.post(
        reverse("accounts:department_set_active", args=[department.pk]), {"active": "0"}, follow=True
    )
    assert "Department Closing was deactivated." in response.content.decode()
    department.refresh_from_db()
    assert not department.is_active
    assert "Closing" not in admin_client.get(reverse("accounts:user_create")).content.decode()


def test_empty_department_list_tells_what_to_do(admin_client):
    content = admin_client.get(DEPARTMENTS).content.decode()
    assert "No departments yet" in content and reverse("accounts:department_create") in content
