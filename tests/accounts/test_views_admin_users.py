"""The Users administration pages: list, create, edit, activate, reset a password."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from crm_core.accounts.models import ActivityLog, Role, User
from tests.accounts.conftest import signed_in
from tests.factories import DepartmentFactory

pytestmark = pytest.mark.django_db

USERS = reverse("accounts:users")
CREATE = reverse("accounts:user_create")
STRONG = "Gazelle-Harbour-42"


def edit_url(user: User) -> str:
    return reverse("accounts:user_edit", args=[user.pk])


def rows_of(response) -> set[str]:
    """Usernames listed on a users page."""
    return {person.username for person in response.context["page_obj"].object_list}


def create_payload(world, **overrides) -> dict:
    data = {
        "username": "new.person",
        "first_name": "Mona",
        "last_name": "Saleh",
        "email": "mona@example.com",
        "phone": "01001234567",
        "role": Role.SALES,
        "branch": world.branch_a.pk,
        "department": "",
        "language": "ar",
        "password1": STRONG,
        "password2": STRONG,
    }
    data.update(overrides)
    return data


def edit_payload(user: User, **overrides) -> dict:
    data = {
        "first_name": user.first_name,
        "last_name": user.last_name,
        "email": user.email,
        "phone": user.phone,
        "role": user.role,
        "branch": user.branch_id or "",
        "department": user.department_id or "",
        "language": user.language,
    }
    if user.all_branches:
        data["all_branches"] = "on"
    data.update(overrides)
    return data


# --- Who may open the pages ----------------------------------------------------------------------


def test_anonymous_visitor_is_sent_to_sign_in(client, world):
    for url in (USERS, CREATE, edit_url(world.user())):
        response = client.get(url)
        assert response.status_code == 302
        assert response["Location"].startswith(reverse("accounts:login"))


@pytest.mark.parametrize("role", [Role.MANAGER, Role.SALES, Role.DISPATCHER, Role.ACCOUNTANT, Role.INSPECTOR])
def test_non_admins_are_refused_and_see_no_menu_item(client, world, role):
    person = world.user(role, all_branches=role == Role.MANAGER)
    signed_in(client, person, "en")
    for url in (USERS, CREATE, edit_url(person), reverse("accounts:user_password", args=[world.user().pk])):
        assert client.get(url).status_code == 403, url
    response = client.post(reverse("accounts:user_set_active", args=[person.pk]), {"active": "0"})
    assert response.status_code == 403
    person.refresh_from_db()
    assert person.is_active
    dashboard = client.get(reverse("dashboard")).content.decode()
    assert USERS not in dashboard


def test_admin_sees_the_menu_item(admin_client):
    assert f'href="{USERS}"' in admin_client.get(reverse("dashboard")).content.decode()


# --- The list ------------------------------------------------------------------------------------


def test_head_office_admin_sees_every_branch(admin_client, world):
    a, b = world.user(username="a.sales"), world.user(username="b.sales", branch=world.branch_b)
    response = admin_client.get(USERS)
    assert response.status_code == 200
    assert {a.username, b.username, "boss"} <= rows_of(response)
    assert "b.sales" in response.content.decode()


def test_branch_admin_sees_only_their_branch_and_other_branch_is_404(client, world, branch_admin):
    colleague = world.user(username="a.sales")
    outsider = world.user(username="b.sales", branch=world.branch_b)
    signed_in(client, branch_admin)
    response = client.get(USERS)
    assert rows_of(response) == {colleague.username, branch_admin.username}
    assert client.get(edit_url(outsider)).status_code == 404
    assert client.get(reverse("accounts:user_password", args=[outsider.pk])).status_code == 404
    response = client.post(reverse("accounts:user_set_active", args=[outsider.pk]), {"active": "0"})
    assert response.status_code == 404
    outsider.refresh_from_db()
    assert outsider.is_active


def test_search_is_normalised_arabic_and_case_insensitive(admin_client, world):
    world.user(username="ahmed.k", first_name="أحمد", last_name="كمال", email="Ahmed.K@Example.com")
    world.user(username="sara", first_name="سارة", last_name="علي")
    assert rows_of(admin_client.get(USERS, {"q": "احمد"})) == {"ahmed.k"}
    assert rows_of(admin_client.get(USERS, {"q": "ساره"})) == {"sara"}
    assert rows_of(admin_client.get(USERS, {"q": "AHMED.K@EXAMPLE"})) == {"ahmed.k"}
    assert rows_of(admin_client.get(USERS, {"q": "SARA"})) == {"sara"}
    assert rows_of(admin_client.get(USERS, {"q": "احمد كمال"})) == {"ahmed.k"}
    assert rows_of(admin_client.get(USERS, {"q": "nobody-like-this"})) == set()


def test_filters_role_branch_department_and_status(admin_client, world):
    warehouse = DepartmentFactory(code="WH", name="Warehouse")
    world.user(Role.STOREKEEPER, username="keeper", department=warehouse)
    world.user(Role.SALES, username="b.seller", branch=world.branch_b)
    world.user(Role.SALES, username="gone", is_active=False)
    assert rows_of(admin_client.get(USERS, {"role": Role.STOREKEEPER})) == {"keeper"}
    assert rows_of(admin_client.get(USERS, {"branch": world.branch_b.pk})) == {"b.seller"}
    assert rows_of(admin_client.get(USERS, {"department": warehouse.pk})) == {"keeper"}
    assert rows_of(admin_client.get(USERS, {"active": "0"})) == {"gone"}
    assert "gone" not in rows_of(admin_client.get(USERS, {"active": "1"}))
    assert rows_of(admin_client.get(USERS, {"role": Role.SALES, "branch": world.branch_a.pk, "active": "1"})) == set()


def test_sort_by_last_sign_in_puts_never_last(admin_client, world):
    from django.utils import timezone

    world.user(username="never")
    recent = world.user(username="recent")
    User.objects.filter(pk=recent.pk).update(last_login=timezone.now())
    names = [u.username for u in admin_client.get(USERS, {"sort": "-last_login"}).context["page_obj"].object_list]
    assert names[0] == "recent" and names[-1] in {"never", "boss"}
    assert names.index("recent") < names.index("never")


def test_empty_search_says_what_to_do(admin_client):
    content = admin_client.get(USERS, {"q": "zzz-no-match"}).content.decode()
    assert "No user matches these filters" in content
    assert "clear the filters" in content


def test_htmx_request_gets_only_the_list(admin_client, world):
    world.user(username="b.seller", branch=world.branch_b)
    response = admin_client.get(USERS, {"q": "b.sel"}, headers={"HX-Request": "true"})
    content = response.content.decode()
    assert content.lstrip().startswith('<div id="user-list">')
    assert "<html" not in content and "b.seller" in content


def test_back_button_restore_and_boosted_links_get_the_whole_page(admin_client):
    for headers in (
        {"HX-Request": "true", "HX-History-Restore-Request": "true"},
        {"HX-Request": "true", "HX-Boosted": "true"},
    ):
        content = admin_client.get(USERS, {"q": "boss"}, headers=headers).content.decode()
        assert "<html" in content and 'id="user-list"' in content


def test_empty_filters_are_not_a_filter(admin_client):
    content = admin_client.get(USERS, {"q": "", "role": "", "sort": "name"}).content.decode()
    assert ">Clear</a>" not in content
    assert ">Clear</a>" in admin_client.get(USERS, {"role": Role.SALES}).content.decode()


def test_pagination(admin_client, world):
    for n in range(30):
        world.user(username=f"bulk{n:02d}")
    first = admin_client.get(USERS, {"sort": "username"})
    second = admin_client.get(USERS, {"sort": "username", "page": 2})
    assert len(first.context["page_obj"]) == 25
    assert rows_of(first).isdisjoint(rows_of(second))
    assert len(rows_of(first) | rows_of(second)) == 31
    assert 'rel="next"' in first.content.decode()


def _queries(client, url: str, params: dict | None = None) -> int:
    with CaptureQueriesContext(connection) as ctx:
        assert client.get(url, params or {}).status_code == 200
    return len(ctx)


def test_list_query_count_does_not_grow_with_rows(admin_client, world):
    department = DepartmentFactory()
    world.user(department=department)
    few = _queries(admin_client, USERS)
    for n in range(20):
        world.user(username=f"more{n}", department=DepartmentFactory(), branch=world.branch_b if n % 2 else None)
    many = _queries(admin_client, USERS)
    assert many == few
    assert many <= 10
    assert _queries(admin_client, USERS, {"q": "more"}) <= 10


def test_edit_page_query_budget(admin_client, world):
    target = world.user(department=DepartmentFactory())
    assert _queries(admin_client, edit_url(target)) <= 12


# --- Create --------------------------------------------------------------------------------------


def test_create_user_through_the_service(admin_client, world):
    department = DepartmentFactory()
    response = admin_client.post(CREATE, create_payload(world, department=department.pk, role=Role.DISPATCHER))
    created = User.objects.get(username="new.person")
    assert response.status_code == 302 and response["Location"] == edit_url(created)
    assert created.role == Role.DISPATCHER and created.branch == world.branch_a and created.department == department
    assert list(created.groups.values_list("name", flat=True)) == [Role.DISPATCHER]
    assert created.check_password(STRONG)
    assert ActivityLog.objects.filter(action="user.create", target_id=str(created.pk)).exists()
    page = admin_client.get(response["Location"]).content.decode()
    assert "was created" in page


def _nothing_written(before_users: int, before_logs: int) -> None:
    assert User.objects.count() == before_users
    assert ActivityLog.objects.filter(action__startswith="user.").count() == before_logs


@pytest.mark.parametrize(
    ("overrides", "field", "message"),
    [
        ({"username": "boss"}, "username", "This username is taken."),
        ({"username": "BOSS"}, "username", "This username is taken."),
        ({"password1": "12345678", "password2": "12345678"}, "password1", "entirely numeric"),
        ({"password1": "password", "password2": "password"}, "password1", "too common"),
        ({"password1": "Mx-1", "password2": "Mx-1"}, "password1", "too short"),
        ({"password1": "mona.saleh.example", "password2": "mona.saleh.example"}, "password1", "too similar"),
        ({"password2": "Something-Else-77"}, "password2", "do not match"),
        ({"email": "not-an-email"}, "email", "valid email"),
        ({"branch": ""}, "branch", "needs a home branch"),
        ({"role": "emperor"}, "role", "valid choice"),
        ({"username": ""}, "username", "required"),
    ],
    ids=[
        "duplicate",
        "duplicate-other-case",
        "numeric-password",
        "common-password",
        "short-password",
        "similar-password",
        "mismatch",
        "email",
        "no-branch",
        "role",
        "username-missing",
    ],
)
def test_bad_input_shows_the_error_and_writes_nothing(admin_client, world, head_admin, overrides, field, message):
    users, logs = User.objects.count(), ActivityLog.objects.filter(action__startswith="user.").count()
    response = admin_client.post(CREATE, create_payload(world, **overrides))
    assert response.status_code == 200
    form = response.context["form"]
    assert field in form.errors, form.errors
    assert message in " ".join(form.errors[field])
    content = response.content.decode()
    assert "is-invalid" in content and message in content.replace("&#x27;", "'")
    _nothing_written(users, logs)


def test_create_form_has_html_constraints(admin_client):
    content = admin_client.get(CREATE).content.decode()
    assert 'type="email"' in content and 'type="tel"' in content
    assert 'minlength="8"' in content and 'maxlength="150"' in content
    assert 'name="username"' in content and "required" in content


def test_branch_admin_cannot_hand_out_all_branches_or_another_branch(client, world, branch_admin):
    signed_in(client, branch_admin, "en")
    assert 'name="all_branches"' not in client.get(CREATE).content.decode()
    response = client.post(CREATE, create_payload(world, all_branches="on"))
    assert response.status_code == 302
    assert User.objects.get(username="new.person").all_branches is False

    users = User.objects.count()
    response = client.post(CREATE, create_payload(world, username="other", branch=world.branch_b.pk))
    assert "branch" in response.context["form"].errors
    assert User.objects.count() == users


# --- Edit ----------------------------------------------------------------------------------------


def test_edit_saves_through_the_service_and_logs_the_change(admin_client, world):
    target = world.user(Role.SALES, username="target")
    response = admin_client.post(
        edit_url(target), edit_payload(target, role=Role.MANAGER, branch=world.branch_b.pk, first_name="Omar")
    )
    assert response.status_code == 302
    target.refresh_from_db()
    assert (target.role, target.branch, target.first_name) == (Role.MANAGER, world.branch_b, "Omar")
    assert list(target.groups.values_list("name", flat=True)) == [Role.MANAGER]
    log = ActivityLog.objects.get(action="user.update", target_id=str(target.pk))
    assert log.changes["role"] == [Role.SALES, Role.MANAGER]
    assert log.changes["branch"] == [world.branch_a.pk, world.branch_b.pk]


def test_edit_with_a_bad_email_writes_nothing(admin_client, world):
    target = world.user(username="target", email="ok@example.com")
    response = admin_client.post(edit_url(target), edit_payload(target, email="broken", first_name="Changed"))
    assert response.status_code == 200 and "email" in response.context["form"].errors
    target.refresh_from_db()
    assert (target.email, target.first_name) != ("broken", "Changed")
    assert not ActivityLog.objects.filter(action="user.update").exists()
    # The page header still names the person as saved, not as typed.
    assert "Changed" not in response.content.decode().split("<form")[0]


def test_cannot_remove_own_admin_role(admin_client, head_admin):
    response = admin_client.post(edit_url(head_admin), edit_payload(head_admin, role=Role.SALES))
    assert response.status_code == 200
    assert "You cannot remove your own administrator role." in response.content.decode()
    head_admin.refresh_from_db()
    assert head_admin.role == Role.ADMIN
    assert not ActivityLog.objects.filter(action="user.update").exists()


def test_own_page_offers_no_deactivate_button(admin_client, head_admin, world):
    own = admin_client.get(edit_url(head_admin)).content.decode()
    assert 'data-testid="deactivate"' not in own
    assert "you cannot deactivate it" in own
    other = admin_client.get(edit_url(world.user())).content.decode()
    assert 'data-testid="deactivate"' in other and "data-confirm=" in other


def test_cannot_deactivate_oneself_even_by_posting(admin_client, head_admin):
    response = admin_client.post(
        reverse("accounts:user_set_active", args=[head_admin.pk]), {"active": "0"}, follow=True
    )
    head_admin.refresh_from_db()
    assert head_admin.is_active
    assert "You cannot deactivate your own account." in response.content.decode()


def test_deactivate_and_activate(admin_client, world):
    target = world.user(username="leaver")
    url = reverse("accounts:user_set_active", args=[target.pk])
    response = admin_client.post(url, {"active": "0"}, follow=True)
    target.refresh_from_db()
    assert not target.is_active
    content = response.content.decode()
    assert "was deactivated" in content and 'data-testid="activate"' in content
    assert ActivityLog.objects.get(action="user.update").changes == {"is_active": [True, False]}
    assert admin_client.get(url).status_code == 405
    admin_client.post(url, {"active": "1"})
    target.refresh_from_db()
    assert target.is_active


def test_deactivated_user_is_signed_out(client, world, head_admin):
    target = world.user(username="leaver")
    signed_in(client, target)
    assert client.get(reverse("dashboard")).status_code == 200
    from crm_core.accounts.services import user_update

    user_update(actor=head_admin, user=target, is_active=False)
    assert client.get(reverse("dashboard")).status_code == 302


def test_inactive_department_is_not_offered_but_a_current_one_stays(admin_client, world):
    closed = DepartmentFactory(code="OLD", name="Closed department", is_active=False)
    DepartmentFactory(code="NEW", name="Open department")
    member = world.user(department=closed)
    assert "Closed department" not in admin_client.get(CREATE).content.decode()
    assert "Closed department" in admin_client.get(edit_url(member)).content.decode()


# --- Password reset ------------------------------------------------------------------------------


def test_admin_sets_a_new_password(admin_client, world):
    target = world.user(username="forgetful")
    url = reverse("accounts:user_password", args=[target.pk])
    page = admin_client.get(url).content.decode()
    assert "data-confirm=" in page and 'type="password"' in page
    response = admin_client.post(url, {"password1": STRONG, "password2": STRONG})
    assert response.status_code == 302 and response["Location"] == edit_url(target)
    target.refresh_from_db()
    assert target.check_password(STRONG)
    assert ActivityLog.objects.filter(action="user.set_password", target_id=str(target.pk)).exists()


@pytest.mark.parametrize(
    ("first", "second", "message"),
    [
        ("12345678", "12345678", "entirely numeric"),
        (STRONG, STRONG + "x", "do not match"),
        ("forgetful1", "forgetful1", "too similar"),
    ],
)
def test_bad_new_password_changes_nothing(admin_client, world, first, second, message):
    target = world.user(username="forgetful")
    old_hash = target.password
    response = admin_client.post(
        reverse("accounts:user_password", args=[target.pk]), {"password1": first, "password2": second}
    )
    assert response.status_code == 200
    assert message in response.content.decode().replace("&#x27;", "'")
    target.refresh_from_db()
    assert target.password == old_hash
    assert not ActivityLog.objects.filter(action="user.set_password").exists()


def test_own_password_goes_to_the_change_password_page(admin_client, head_admin):
    response = admin_client.get(reverse("accounts:user_password", args=[head_admin.pk]))
    assert response.status_code == 302 and response["Location"] == reverse("accounts:password_change")


def test_arabic_is_the_default_language(client, head_admin):
    signed_in(client, head_admin)
    content = client.get(USERS).content.decode()
    assert 'lang="ar" dir="rtl"' in content


def test_unknown_user_is_404(admin_client):
    assert admin_client.get(reverse("accounts:user_edit", args=[999999])).status_code == 404
