"""The one scoping rule (DESIGN.md rule 3) for people, branches, stock, notifications and the audit trail."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import AnonymousUser

from crm_core.accounts.models import ActivityLog, Branch, Notification, Role, User
from crm_core.inventory.models import StockLevel, StockMovement, Warehouse
from tests.common.scoping import ALL_ROLES, everything, visible
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

BRANCH_MODELS = (Warehouse, StockLevel, StockMovement, Branch, ActivityLog)


def _notifications_of(user) -> set[int]:
    return set(Notification.objects.filter(recipient=user).values_list("pk", flat=True))


@pytest.mark.parametrize("home", ["a", "b"])
@pytest.mark.parametrize("role", ALL_ROLES)
def test_a_branch_user_sees_exactly_their_branch(scene, world, role, home):
    side, other = (scene.a, scene.b) if home == "a" else (scene.b, scene.a)
    user = world.user(role, branch=side.branch)
    for model in BRANCH_MODELS:
        seen = visible(model, user)
        assert seen == side.ids(model), model.__name__
        assert not seen & other.ids(model), model.__name__
    # Colleagues of the home branch, the viewer included; nobody from the other branch or head office.
    assert visible(User, user) == side.ids(User) | {user.pk}
    assert not visible(ActivityLog, user) & scene.branchless_logs


def test_personas(scene, personas):
    for model in (*BRANCH_MODELS, User):
        assert visible(model, personas.owner) == scene.a.ids(model), model.__name__
        assert visible(model, personas.colleague) == scene.a.ids(model), model.__name__
        assert visible(model, personas.outsider) == scene.b.ids(model), model.__name__


def test_another_branch_is_not_found(scene, personas, world):
    with pytest.raises(Branch.DoesNotExist):
        Branch.objects.visible_to(personas.owner).get(pk=world.branch_b.pk)
    with pytest.raises(User.DoesNotExist):
        User.objects.visible_to(personas.owner).get(pk=personas.outsider.pk)


def test_notifications_are_only_the_recipients_own(scene, personas, world):
    for user in (personas.owner, personas.colleague, personas.outsider):
        own = _notifications_of(user)
        assert len(own) == 1
        assert visible(Notification, user) == own
    # A manager of the same branch does not read other people's notifications.
    assert visible(Notification, world.user(Role.MANAGER)) == set()
    assert visible(Notification, world.user(Role.MANAGER, all_branches=True)) == set()
    superuser = UserFactory(role=Role.ADMIN, branch=None, is_superuser=True)
    assert visible(Notification, superuser) == set()


@pytest.mark.parametrize(
    "make",
    [
        pytest.param(lambda w: w.user(Role.MANAGER, all_branches=True), id="all-branches-manager"),
        pytest.param(lambda w: UserFactory(role=Role.ADMIN, branch=None, is_superuser=True), id="superuser"),
    ],
)
def test_all_branches_users_see_both_branches(scene, world, make):
    user = make(world)
    for model in (*BRANCH_MODELS, User):
        assert visible(model, user) == everything(model), model.__name__
        assert scene.a.ids(model) | scene.b.ids(model) <= visible(model, user), model.__name__
    assert scene.branchless_logs <= visible(ActivityLog, user)


@pytest.mark.parametrize(
    "make",
    [
        pytest.param(lambda w: w.user(Role.MANAGER, is_active=False), id="inactive"),
        pytest.param(lambda w: w.user(Role.MANAGER, all_branches=True, is_active=False), id="inactive-all-branches"),
        pytest.param(lambda w: AnonymousUser(), id="anonymous"),
        pytest.param(lambda w: None, id="none"),
        pytest.param(lambda w: UserFactory(role=Role.SALES, branch=None), id="no-home-branch"),
    ],
)
def test_users_who_see_nothing(scene, world, make):
    user = make(world)
    for model in (*BRANCH_MODELS, User, Notification):
        assert visible(model, user) == set(), model.__name__


def test_anonymous_sees_no_notification(scene):
    assert visible(Notification, AnonymousUser()) == set()


def test_a_deactivated_user_no_longer_sees_their_notifications(scene, personas):
    personas.owner.is_active = False
    personas.owner.save(update_fields=["is_active"])
    assert visible(Notification, personas.owner) == set()
