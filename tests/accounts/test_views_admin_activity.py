"""The activity log page: who did what, where, with the changes readable and keyset pages."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import formats, timezone, translation

from crm_core.accounts.audit import log_activity
from crm_core.accounts.models import ActivityLog, Role
from crm_core.accounts.services import department_create, user_update
from crm_core.customers.models import CustomerCategory
from tests.accounts.conftest import signed_in
from tests.factories import CustomerCategoryFactory, DepartmentFactory

pytestmark = pytest.mark.django_db

ACTIVITY = reverse("accounts:activity")


def ids_on(response) -> list[int]:
    return [row.entry.pk for row in response.context["rows"]]


def _queries(client, params: dict | None = None) -> int:
    with CaptureQueriesContext(connection) as ctx:
        assert client.get(ACTIVITY, params or {}).status_code == 200
    return len(ctx)


@pytest.fixture
def moves(world, head_admin):
    """A sales person promoted and moved from branch A to B: one user.update row with changes."""
    person = world.user(Role.SALES, username="mover", first_name="Omar", last_name="Nabil")
    user_update(actor=head_admin, user=person, role=Role.MANAGER, branch=world.branch_b, is_active=False)
    return ActivityLog.objects.get(action="user.update", target_id=str(person.pk)), person


# --- Access --------------------------------------------------------------------------------------


def test_anonymous_goes_to_sign_in(client):
    response = client.get(ACTIVITY)
    assert response.status_code == 302 and response["Location"].startswith(reverse("accounts:login"))


@pytest.mark.parametrize("role", [Role.SALES, Role.DISPATCHER, Role.STOREKEEPER, Role.INSPECTOR])
def test_roles_without_the_permission_are_refused(client, world, role):
    signed_in(client, world.user(role))
    assert client.get(ACTIVITY).status_code == 403
    assert ACTIVITY not in client.get(reverse("dashboard")).content.decode()


@pytest.mark.parametrize("role", [Role.ACCOUNTANT, Role.MANAGER, Role.ADMIN])
def test_a_branch_user_with_the_permission_sees_only_their_branch(client, world, scene, role):
    accountant = world.user(role)
    signed_in(client, accountant)
    assert f'href="{ACTIVITY}"' in client.get(reverse("dashboard")).content.decode()
    shown = set(ids_on(client.get(ACTIVITY)))
    assert shown
    assert shown <= scene.a.ids(ActivityLog) | set(
        ActivityLog.objects.filter(actor=accountant).values_list("pk", flat=True)
    )
    assert not shown & scene.b.ids(ActivityLog)
    assert not shown & scene.branchless_logs


def test_head_admin_sees_every_branch_and_head_office(admin_client, scene):
    shown = set(ids_on(admin_client.get(ACTIVITY, {"date_from": "2000-01-01"})))
    assert scene.a.ids(ActivityLog) <= shown
    assert scene.b.ids(ActivityLog) <= shown
    assert scene.branchless_logs <= shown


def test_another_branch_cannot_be_asked_for(client, world, scene):
    signed_in(client, world.user(Role.ACCOUNTANT), "en")
    response = client.get(ACTIVITY, {"branch": world.branch_b.pk})
    assert response.context["rows"] == []
    assert "Select a valid choice" in response.content.decode()


# --- What a row shows ----------------------------------------------------------------------------


def test_changes_are_readable_old_to_new(admin_client, moves, world):
    _log, person = moves
    content = admin_client.get(ACTIVITY, {"action": "user.update"}).content.decode()
    row = content[content.index('data-action="user.update"') :]
    row = row[: row.index("</tr>")]
    assert "User changed" in row
    assert "Sales" in row and "Manager" in row  # role labels, not codes
    assert world.branch_a.name in row and world.branch_b.name in row  # branch names, not ids
    assert "Yes" in row and "No" in row  # is_active True → False
    assert row.index("Sales") < row.index("Manager")
    assert f'href="{reverse("accounts:user_edit", args=[person.pk])}"' in row
    assert "Omar Nabil" in row


def test_changes_render_in_arabic(client, head_admin, moves):
    signed_in(client, head_admin, "ar")
    content = client.get(ACTIVITY).content.decode()
    assert 'dir="rtl"' in content
    with translation.override("ar"):
        assert str(Role.MANAGER.label) in content
    assert "bi-arrow-left" in content  # the arrow points the way Arabic reads


def test_time_is_shown_in_the_local_time_zone(admin_client, head_admin):
    log = log_activity(actor=head_admin, action="user.language", target=head_admin, changes={"language": ["ar", "en"]})
    moment = datetime(2026, 1, 15, 7, 30, tzinfo=UTC)
    ActivityLog.objects.filter(pk=log.pk).update(created_at=moment)
    content = admin_client.get(ACTIVITY).content.decode()
    with translation.override("en"):
        expected = formats.date_format(timezone.localtime(moment), "SHORT_DATETIME_FORMAT")
    assert expected in content
    assert "9:30" in expected  # Cairo is two hours ahead of UTC in January


def test_failed_sign_in_shows_the_username_tried(admin_client):
    log_activity(actor=None, action="auth.login_failed", changes={"username": "intruder"}, actor_repr="intruder")
    content = admin_client.get(ACTIVITY).content.decode()
    row = content[content.index('data-action="auth.login_failed"') :]
    row = row[: row.index("</tr>")]
    assert "Failed sign-in" in row and "intruder" in row and "text-bg-danger" in row


def test_target_without_a_page_is_not_linked(admin_client, head_admin):
    category = CustomerCategoryFactory(name="VIP")
    log_activity(actor=head_admin, action="customer_category.create", target=category)
    content = admin_client.get(ACTIVITY, {"action": "customer_category.create"}).content.decode()
    assert "VIP" in content
    row = content[content.index('data-action="customer_category.create"') :]
    row = row[: row.index("</tr>")]
    assert 'data-testid="target-link"' not in row
    assert CustomerCategory._meta.verbose_name.lower() in row.lower()


def test_a_creation_shows_the_new_values_only(admin_client, world, head_admin):
    from crm_core.accounts.services import user_create

    created = user_create(
        actor=head_admin, username="fresh", password="Gazelle-Harbour-42", role=Role.INSPECTOR, branch=world.branch_b
    )
    rows = admin_client.get(ACTIVITY, {"action": "user.create"}).context["rows"]
    (row,) = [r for r in rows if r.entry.target_id == str(created.pk)]
    assert {(c.label, c.new, c.single) for c in row.changes} == {
        ("Role", "Inspector", True),
        ("Branch", world.branch_b.name, True),
    }


def test_a_deleted_related_record_falls_back_to_its_id(admin_client, head_admin):
    log_activity(actor=head_admin, action="user.update", target=head_admin, changes={"department": [None, 424242]})
    content = admin_client.get(ACTIVITY).content.decode()
    assert "#424242" in content


# --- Filters -------------------------------------------------------------------------------------


def test_filter_by_exact_action_and_by_prefix(admin_client, moves, head_admin):
    department_create(actor=head_admin, code="OPS", name="Operations")
    assert {r.entry.action for r in admin_client.get(ACTIVITY, {"action": "user.update"}).context["rows"]} == {
        "user.update"
    }
    prefixed = {r.entry.action for r in admin_client.get(ACTIVITY, {"action": "department."}).context["rows"]}
    assert prefixed == {"department.create"}
    assert admin_client.get(ACTIVITY, {"action": "nothing.like.this"}).context["rows"] == []


def test_filter_by_user_target_branch_and_dates(admin_client, moves, world, head_admin):
    log, person = moves
    other = log_activity(actor=person, action="user.language", target=person, branch_id=world.branch_a.pk)
    assert ids_on(admin_client.get(ACTIVITY, {"user": person.pk})) == [other.pk]
    by_target = admin_client.get(ACTIVITY, {"target_type": log.target_type_id, "target_id": person.pk})
    assert set(ids_on(by_target)) == {log.pk, other.pk}
    assert ids_on(admin_client.get(ACTIVITY, {"branch": world.branch_b.pk})) == [log.pk]

    old = timezone.now() - timedelta(days=40)
    ActivityLog.objects.filter(pk=other.pk).update(created_at=old)
    day = timezone.localtime(old).date()
    assert ids_on(admin_client.get(ACTIVITY, {"date_from": day, "date_to": day})) == [other.pk]
    assert other.pk not in ids_on(admin_client.get(ACTIVITY, {"date_from": day + timedelta(days=1)}))


def test_end_before_start_is_an_error_not_everything(admin_client, moves):
    response = admin_client.get(ACTIVITY, {"date_from": "2026-03-10", "date_to": "2026-03-01"})
    assert response.context["rows"] == []
    content = response.content.decode()
    assert "The end date is before the start date." in content
    assert "Some filters are not valid" in content


def test_filters_offer_the_known_actions(admin_client):
    content = admin_client.get(ACTIVITY).content.decode()
    assert '<datalist id="known-actions">' in content
    assert '<option value="order.transition">' in content
    assert 'list="known-actions"' in content


def test_htmx_filter_returns_the_list_only(admin_client, moves):
    response = admin_client.get(ACTIVITY, {"action": "user."}, headers={"HX-Request": "true"})
    content = response.content.decode()
    assert content.lstrip().startswith('<div id="activity-list">') and "<html" not in content


def test_history_restore_gets_the_whole_page(admin_client):
    headers = {"HX-Request": "true", "HX-History-Restore-Request": "true"}
    assert "<html" in admin_client.get(ACTIVITY, {"action": "user."}, headers=headers).content.decode()


def test_empty_log_says_what_appears_here(admin_client):
    ActivityLog.objects.all().delete()
    assert "No activity yet" in admin_client.get(ACTIVITY).content.decode()


# --- Keyset pages and query budget ---------------------------------------------------------------


def _bulk(head_admin, world, count: int) -> None:
    departments = [DepartmentFactory() for _ in range(3)]
    for n in range(count):
        log_activity(
            actor=head_admin,
            action="user.update",
            target=head_admin,
            branch_id=(world.branch_a if n % 2 else world.branch_b).pk,
            changes={
                "branch": [world.branch_a.pk, world.branch_b.pk],
                "department": [None, departments[n % 3].pk],
                "role": ["sales", "manager"],
            },
        )


def test_keyset_pages_walk_forward_and_back(admin_client, head_admin, world):
    ActivityLog.objects.all().delete()
    _bulk(head_admin, world, 60)
    first = admin_client.get(ACTIVITY)
    page = first.context["page_obj"]
    assert len(first.context["rows"]) == 50 and page.has_next and not page.has_previous
    assert 'data-testid="keyset-next"' in first.content.decode()
    second = admin_client.get(ACTIVITY, {"cursor": page.next_cursor})
    assert len(second.context["rows"]) == 10 and not second.context["page_obj"].has_next
    assert set(ids_on(first)).isdisjoint(ids_on(second))
    assert sorted(ids_on(first) + ids_on(second), reverse=True) == ids_on(first) + ids_on(second)
    back = admin_client.get(ACTIVITY, {"cursor": second.context["page_obj"].previous_cursor, "dir": "prev"})
    assert ids_on(back) == ids_on(first)
    # A cursor that does not decode starts over instead of failing.
    assert ids_on(admin_client.get(ACTIVITY, {"cursor": "not-a-cursor"})) == ids_on(first)


def test_query_count_does_not_grow_with_rows(admin_client, head_admin, world):
    ActivityLog.objects.all().delete()
    _bulk(head_admin, world, 3)
    few = _queries(admin_client)
    _bulk(head_admin, world, 80)
    many = _queries(admin_client)
    assert many == few
    assert many <= 12
    # A branch filter validates its choice: one query more, still independent of the rows.
    assert _queries(admin_client, {"branch": world.branch_a.pk, "action": "user."}) <= 13


def test_ordering_is_the_indexed_one():
    """The page orders by (-created_at, -id), the columns of activity_recent_idx."""
    from crm_core.accounts.selectors import ACTIVITY_ORDERING

    index = next(i for i in ActivityLog._meta.indexes if i.name == "activity_recent_idx")
    assert list(ACTIVITY_ORDERING) == list(index.fields)
