"""Account services: people, their roles and branches, notifications and the login trail."""

from __future__ import annotations

import pytest
from django.contrib.auth import authenticate
from django.contrib.auth.models import Group
from django.core.exceptions import PermissionDenied, ValidationError
from django.test import RequestFactory

from crm_core.accounts.models import ActivityLog, Branch, Department, Notification, NotificationKind, Role, User
from crm_core.accounts.roles import ROLE_PERMISSIONS
from crm_core.accounts.services import (
    branch_create,
    branch_update,
    department_create,
    department_update,
    notification_mark_all_read,
    notification_mark_read,
    notify_users,
    user_create,
    user_set_password,
    user_update,
)
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

GOOD_PASSWORD = "Nile-river-2025!"


@pytest.fixture
def admin(world):
    """An administrator of branch A only."""
    return world.user(Role.ADMIN, first_name="مدير", last_name="النظام")


@pytest.fixture
def hq_admin(world):
    return world.user(Role.ADMIN, all_branches=True)


def _fresh(user: User) -> User:
    """Reload, so permission caches reflect the groups now stored."""
    return User.objects.get(pk=user.pk)


def _groups(user: User) -> list[str]:
    return sorted(user.groups.values_list("name", flat=True))


def _access_events(published):
    return [(groups, event.data) for type_, groups, event in published if type_ == "user.access_changed"]


# --- role groups (data migration) ----------------------------------------------------------------


def test_every_role_has_a_group_with_exactly_its_permissions():
    assert set(Group.objects.values_list("name", flat=True)) >= set(Role.values)
    for role, wanted in ROLE_PERMISSIONS.items():
        group = Group.objects.get(name=role)
        held = {f"{p.content_type.app_label}.{p.codename}" for p in group.permissions.select_related("content_type")}
        assert held == wanted, role


@pytest.mark.parametrize(
    ("role", "perm", "held"),
    [
        (Role.INSPECTOR, "orders.add_order", False),
        (Role.INSPECTOR, "inspections.add_inspectionresult", True),
        (Role.INSPECTOR, "customers.add_customer", False),
        (Role.STOREKEEPER, "inventory.adjust_stock", True),
        (Role.STOREKEEPER, "orders.add_payment", False),
        (Role.ACCOUNTANT, "orders.add_payment", True),
        (Role.ACCOUNTANT, "inventory.adjust_stock", False),
        (Role.ACCOUNTANT, "accounts.view_reports", True),
        (Role.SALES, "customers.add_customer", True),
        (Role.SALES, "accounts.add_user", False),
        (Role.DISPATCHER, "inspections.change_inspection", True),
        (Role.MANAGER, "customers.add_customercategory", True),
        (Role.MANAGER, "accounts.add_user", False),
        (Role.ADMIN, "accounts.add_user", True),
        (Role.ADMIN, "inventory.adjust_stock", True),
    ],
)
def test_role_permissions_as_users_hold_them(world, role, perm, held):
    assert _fresh(world.user(role)).has_perm(perm) is held


# --- user_create -------------------------------------------------------------------------------


def test_user_create(admin, world):
    user = user_create(
        actor=admin,
        username=" sara.ali ",
        password=GOOD_PASSWORD,
        role=Role.DISPATCHER,
        branch=world.branch_a,
        first_name="سارة",
    )
    user = _fresh(user)
    assert user.username == "sara.ali"
    assert user.check_password(GOOD_PASSWORD)
    assert _groups(user) == ["dispatcher"]
    assert user.has_perm("inspections.add_inspection")
    assert not user.has_perm("accounts.add_user")
    log = ActivityLog.objects.get(action="user.create")
    assert (log.actor, log.branch, log.target_id) == (admin, world.branch_a, str(user.pk))
    assert log.changes == {"role": [None, "dispatcher"], "branch": [None, world.branch_a.pk]}


@pytest.mark.parametrize("password", ["short1!", "password123", "12345678901234", "sara.ali.2"])
def test_user_create_validates_the_password(admin, world, password):
    before = User.objects.count()
    with pytest.raises(ValidationError) as info:
        user_create(actor=admin, username="sara.ali", password=password, role=Role.SALES, branch=world.branch_a)
    assert "password" in info.value.message_dict
    assert User.objects.count() == before
    assert not ActivityLog.objects.exists()


def test_user_create_refuses_a_taken_username(admin, world, personas):
    before = User.objects.count()
    with pytest.raises(ValidationError) as info:
        user_create(
            actor=admin,
            username=personas.owner.username.upper(),
            password=GOOD_PASSWORD,
            role=Role.SALES,
            branch=world.branch_a,
        )
    assert "username" in info.value.message_dict
    assert User.objects.count() == before


def test_only_an_all_branches_actor_grants_all_branches(admin, hq_admin, world):
    with pytest.raises(ValidationError) as info:
        user_create(
            actor=admin,
            username="hq.viewer",
            password=GOOD_PASSWORD,
            role=Role.MANAGER,
            branch=world.branch_a,
            all_branches=True,
        )
    assert "all_branches" in info.value.message_dict
    assert not User.objects.filter(username="hq.viewer").exists()

    user = user_create(
        actor=hq_admin, username="hq.viewer", password=GOOD_PASSWORD, role=Role.MANAGER, branch=None, all_branches=True
    )
    assert _fresh(user).sees_all_branches


def test_user_create_in_a_branch_the_actor_cannot_see(admin, world):
    with pytest.raises(Branch.DoesNotExist):
        user_create(actor=admin, username="alx.user", password=GOOD_PASSWORD, role=Role.SALES, branch=world.branch_b)
    assert not User.objects.filter(username="alx.user").exists()


def test_user_without_a_branch_needs_all_branches(hq_admin):
    with pytest.raises(ValidationError) as info:
        user_create(actor=hq_admin, username="nowhere", password=GOOD_PASSWORD, role=Role.SALES, branch=None)
    assert "branch" in info.value.message_dict


def test_user_create_needs_permission(world):
    manager = world.user(Role.MANAGER)
    with pytest.raises(PermissionDenied):
        user_create(actor=manager, username="x.y", password=GOOD_PASSWORD, role=Role.SALES, branch=world.branch_a)
    assert not User.objects.filter(username="x.y").exists()


# --- user_update ---------------------------------------------------------------------------------


def test_role_change_switches_group_and_closes_access(admin, personas, published, django_capture_on_commit_callbacks):
    owner = personas.owner
    with django_capture_on_commit_callbacks(execute=True):
        user_update(actor=admin, user=owner, role=Role.ACCOUNTANT)
    owner = _fresh(owner)
    assert owner.role == Role.ACCOUNTANT
    assert _groups(owner) == ["accountant"]
    assert owner.has_perm("accounts.view_reports")
    assert not owner.has_perm("customers.add_customer")
    assert _access_events(published) == [([f"u{owner.pk}"], {"user": owner.pk})]
    log = ActivityLog.objects.get(action="user.update")
    assert log.changes == {"role": ["sales", "accountant"]}


def test_deactivating_publishes_access_changed_to_the_user_only(
    admin, personas, published, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        user_update(actor=admin, user=personas.colleague, is_active=False)
    assert not _fresh(personas.colleague).is_active
    assert [(t, g) for t, g, _ in published] == [("user.access_changed", [f"u{personas.colleague.pk}"])]


def test_branch_change_publishes_access_changed(
    hq_admin, personas, world, published, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        user_update(actor=hq_admin, user=personas.owner, branch=world.branch_b)
    assert _fresh(personas.owner).branch == world.branch_b
    assert _access_events(published) == [([f"u{personas.owner.pk}"], {"user": personas.owner.pk})]


def test_a_name_change_does_not_touch_access(admin, personas, published, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        user_update(actor=admin, user=personas.owner, first_name="كريم")
    assert _fresh(personas.owner).first_name == "كريم"
    assert published == []
    assert ActivityLog.objects.get(action="user.update").changes["first_name"][1] == "كريم"


def test_cannot_deactivate_self(admin, published, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True), pytest.raises(ValidationError) as info:
        user_update(actor=admin, user=admin, is_active=False)
    assert "is_active" in info.value.message_dict
    assert _fresh(admin).is_active
    assert published == []


def test_branch_admin_cannot_move_a_user_to_another_branch(admin, personas, world):
    with pytest.raises(Branch.DoesNotExist):
        user_update(actor=admin, user=personas.owner, branch=world.branch_b)
    assert _fresh(personas.owner).branch == world.branch_a


def test_branch_admin_cannot_edit_another_branch_user(admin, personas):
    with pytest.raises(User.DoesNotExist):
        user_update(actor=admin, user=personas.outsider, role=Role.MANAGER)
    assert _fresh(personas.outsider).role == Role.SALES


def test_branch_admin_cannot_grant_all_branches(admin, personas):
    with pytest.raises(ValidationError):
        user_update(actor=admin, user=personas.owner, all_branches=True)
    assert not _fresh(personas.owner).all_branches


def test_invalid_role_refused(admin, personas):
    with pytest.raises(ValidationError):
        user_update(actor=admin, user=personas.owner, role="emperor")
    assert _fresh(personas.owner).role == Role.SALES
    assert _groups(personas.owner) == ["sales"]


# --- user_set_password ---------------------------------------------------------------------------


def test_admin_sets_a_password(admin, personas, world):
    user_set_password(actor=admin, user=personas.owner, password=GOOD_PASSWORD)
    owner = _fresh(personas.owner)
    assert owner.check_password(GOOD_PASSWORD)
    assert not owner.check_password("pass-12345-word")
    log = ActivityLog.objects.get(action="user.set_password")
    assert (log.actor, log.target_id, log.branch) == (admin, str(owner.pk), world.branch_a)
    assert GOOD_PASSWORD not in str(log.changes)


def test_a_user_changes_their_own_password_without_admin_rights(personas):
    user_set_password(actor=personas.owner, user=personas.owner, password=GOOD_PASSWORD)
    assert _fresh(personas.owner).check_password(GOOD_PASSWORD)


def test_weak_password_refused(admin, personas):
    with pytest.raises(ValidationError) as info:
        user_set_password(actor=admin, user=personas.owner, password="123")
    assert "password" in info.value.message_dict
    assert _fresh(personas.owner).check_password("pass-12345-word")


def test_password_of_others_needs_permission_and_scope(admin, personas):
    with pytest.raises(PermissionDenied):
        user_set_password(actor=personas.owner, user=personas.colleague, password=GOOD_PASSWORD)
    with pytest.raises(User.DoesNotExist):
        user_set_password(actor=admin, user=personas.outsider, password=GOOD_PASSWORD)
    assert _fresh(personas.colleague).check_password("pass-12345-word")
    assert _fresh(personas.outsider).check_password("pass-12345-word")


# --- branches and departments ---------------------------------------------------------------------


def test_branch_create_and_update(hq_admin):
    branch = branch_create(actor=hq_admin, code=" gza ", name=" الجيزة ")
    assert (branch.code, branch.name) == ("GZA", "الجيزة")
    assert ActivityLog.objects.filter(action="branch.create", branch=branch).count() == 1

    branch_update(actor=hq_admin, branch=branch, name="الجيزة الجديدة", phone="0233334444")
    branch.refresh_from_db()
    assert (branch.name, branch.phone) == ("الجيزة الجديدة", "0233334444")
    log = ActivityLog.objects.get(action="branch.update")
    assert log.changes["name"] == ["الجيزة", "الجيزة الجديدة"]


def test_branch_duplicate_code_refused(hq_admin):
    before = Branch.objects.count()
    with pytest.raises(ValidationError) as info:
        branch_create(actor=hq_admin, code="cai", name="فرع آخر")
    assert "code" in info.value.message_dict
    assert Branch.objects.count() == before


def test_branch_blank_code_refused(hq_admin):
    with pytest.raises(ValidationError):
        branch_create(actor=hq_admin, code="  ", name="فرع")
    assert not Branch.objects.filter(name="فرع").exists()


def test_branch_admin_cannot_update_another_branch(admin, world):
    with pytest.raises(Branch.DoesNotExist):
        branch_update(actor=admin, branch=world.branch_b, name="مسروق")
    world.branch_b.refresh_from_db()
    assert world.branch_b.name == "الإسكندرية"
    assert not ActivityLog.objects.exists()


def test_branch_writes_need_permission(personas, world):
    with pytest.raises(PermissionDenied):
        branch_create(actor=personas.owner, code="NEW", name="جديد")
    with pytest.raises(PermissionDenied):
        branch_update(actor=personas.owner, branch=world.branch_a, name="تغيير")
    world.branch_a.refresh_from_db()
    assert world.branch_a.name == "القاهرة"


def test_department_create_update_and_duplicate(hq_admin):
    department = department_create(actor=hq_admin, code=" sales ", name="المبيعات")
    assert department.code == "SALES"
    with pytest.raises(ValidationError) as info:
        department_create(actor=hq_admin, code="Sales", name="مبيعات أخرى")
    assert "code" in info.value.message_dict
    assert Department.objects.count() == 1

    department_update(actor=hq_admin, department=department, name="المبيعات والتسويق", is_active=False)
    department.refresh_from_db()
    assert (department.name, department.is_active) == ("المبيعات والتسويق", False)
    actions = list(ActivityLog.objects.order_by("pk").values_list("action", flat=True))
    assert actions == ["department.create", "department.update"]


def test_department_needs_permission(world):
    with pytest.raises(PermissionDenied):
        department_create(actor=world.user(Role.MANAGER), code="OPS", name="العمليات")
    assert not Department.objects.exists()


# --- notifications -------------------------------------------------------------------------------


@pytest.fixture
def inbox(personas, world):
    rows = notify_users(
        recipients=[personas.owner, personas.owner, personas.colleague],
        kind=NotificationKind.SYSTEM,
        title="تنبيه",
        branch_id=world.branch_a.pk,
    )
    return rows


def test_notify_users_pushes_to_each_recipient(personas, world, published, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        notify_users(recipients=[personas.owner], kind=NotificationKind.ORDER, title="طلب جديد")
    assert Notification.objects.get().recipient == personas.owner
    assert [(t, g) for t, g, _ in published] == [("notification.created", [f"u{personas.owner.pk}"])]


def test_mark_read_touches_only_own_notification(inbox, personas):
    mine, _, theirs = inbox
    notification_mark_read(actor=personas.owner, notification=mine)
    mine.refresh_from_db()
    assert mine.is_read
    assert mine.read_at is not None

    with pytest.raises(Notification.DoesNotExist):
        notification_mark_read(actor=personas.owner, notification=theirs)
    theirs.refresh_from_db()
    assert not theirs.is_read


def test_mark_all_read_touches_only_own_notifications(inbox, personas):
    assert notification_mark_all_read(actor=personas.owner) == 2
    assert not Notification.objects.filter(recipient=personas.owner, is_read=False).exists()
    assert Notification.objects.filter(recipient=personas.colleague, is_read=False).count() == 1
    assert notification_mark_all_read(actor=personas.owner) == 0


# --- the login trail ------------------------------------------------------------------------------


def test_login_and_logout_are_logged(client, personas, world):
    owner = personas.owner
    request = RequestFactory().post("/admin/login/")
    assert client.login(request=request, username=owner.username, password="pass-12345-word")
    login = ActivityLog.objects.get(action="auth.login")
    assert (login.actor, login.branch, login.actor_repr) == (owner, world.branch_a, str(owner))

    client.logout()
    logout = ActivityLog.objects.get(action="auth.logout")
    assert (logout.actor, logout.branch) == (owner, world.branch_a)


@pytest.mark.parametrize("known", [True, False], ids=["known-user", "unknown-user"])
def test_failed_login_records_the_attempted_username(personas, known):
    username = personas.owner.username if known else "no.such.person"
    request = RequestFactory().post("/admin/login/", REMOTE_ADDR="10.1.2.3")
    assert authenticate(request=request, username=username, password="wrong") is None
    failed = ActivityLog.objects.get(action="auth.login_failed")
    assert failed.actor is None
    assert failed.actor_repr == username
    assert failed.changes == {"username": username}
    assert failed.ip_address == "10.1.2.3"
    assert "wrong" not in str(failed.changes)
    assert not ActivityLog.objects.filter(action="auth.login").exists()


def test_inactive_user_cannot_log_in(world):
    gone = UserFactory(branch=world.branch_a, is_active=False)
    request = RequestFactory().post("/admin/login/")
    assert authenticate(request=request, username=gone.username, password="pass-12345-word") is None
    assert not ActivityLog.objects.filter(action="auth.login").exists()
    assert ActivityLog.objects.filter(action="auth.login_failed", actor_repr=gone.username).exists()
