"""The one scoping rule (DESIGN.md rule 3) for customers and the records hung on them."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import AnonymousUser

from crm_core.accounts.models import Role
from crm_core.customers.models import Customer, CustomerNote
from crm_core.inspections.models import Inspection
from crm_core.inspections.services import inspection_schedule
from crm_core.orders.models import Order, Payment
from tests.common.scoping import BRANCH_WIDE_ROLES, everything, visible
from tests.factories import UserFactory, slot

pytestmark = pytest.mark.django_db

MODELS = (Customer, CustomerNote, Order, Payment, Inspection)


@pytest.mark.parametrize("home", ["a", "b"])
@pytest.mark.parametrize("role", BRANCH_WIDE_ROLES)
def test_a_branch_user_sees_exactly_their_branch(scene, world, role, home):
    side, other = (scene.a, scene.b) if home == "a" else (scene.b, scene.a)
    user = world.user(role, branch=side.branch)
    for model in MODELS:
        seen = visible(model, user)
        assert seen == side.ids(model), model.__name__
        assert not seen & other.ids(model), model.__name__


def test_personas(scene, personas):
    for model in MODELS:
        assert visible(model, personas.owner) == scene.a.ids(model), model.__name__
        assert visible(model, personas.colleague) == scene.a.ids(model), model.__name__
        assert visible(model, personas.outsider) == scene.b.ids(model), model.__name__


def test_another_branch_customer_is_not_found(scene, personas):
    customer_b = next(iter(scene.b.ids(Customer)))
    with pytest.raises(Customer.DoesNotExist):
        Customer.objects.visible_to(personas.owner).get(pk=customer_b)


def test_inspector_sees_only_own_inspections_and_their_customers(scene):
    one, two = scene.inspector_1, scene.inspector_2
    assert visible(Inspection, one) == {scene.inspection_1.pk}
    assert visible(Customer, one) == {scene.customer_1.pk}
    assert visible(CustomerNote, one) == {scene.note_1.pk}
    assert visible(Inspection, two) == {scene.inspection_2.pk}
    assert visible(Customer, two) == {scene.customer_2.pk}
    assert scene.customer_unvisited.pk not in visible(Customer, one) | visible(Customer, two)


def test_inspector_without_inspections_sees_no_customer(scene, world):
    idle = world.user(Role.INSPECTOR)
    assert visible(Customer, idle) == set()
    assert visible(CustomerNote, idle) == set()
    assert visible(Inspection, idle) == set()


def test_inspector_sees_a_customer_once_sent_there(scene, world):
    dispatcher = world.user(Role.DISPATCHER)
    start, end = slot(72)
    inspection = inspection_schedule(
        actor=dispatcher,
        customer=scene.customer_unvisited,
        scheduled_start=start,
        scheduled_end=end,
        inspector=scene.inspector_1,
    )
    assert visible(Customer, scene.inspector_1) == {scene.customer_1.pk, scene.customer_unvisited.pk}
    assert visible(Inspection, scene.inspector_1) == {scene.inspection_1.pk, inspection.pk}
    assert scene.customer_unvisited.pk not in visible(Customer, scene.inspector_2)


def test_inspector_of_another_branch_sees_nothing_of_branch_a(scene, world):
    inspector_b = world.user(Role.INSPECTOR, branch=world.branch_b)
    for model in (Customer, CustomerNote, Inspection):
        assert not visible(model, inspector_b) & scene.a.ids(model), model.__name__


@pytest.mark.parametrize(
    "make",
    [
        pytest.param(lambda w: w.user(Role.MANAGER, all_branches=True), id="all-branches-manager"),
        pytest.param(lambda w: UserFactory(role=Role.ADMIN, branch=None, is_superuser=True), id="superuser"),
    ],
)
def test_all_branches_users_see_both_branches(scene, world, make):
    user = make(world)
    for model in MODELS:
        assert visible(model, user) == scene.a.ids(model) | scene.b.ids(model) == everything(model), model.__name__


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
    for model in MODELS:
        assert visible(model, user) == set(), model.__name__
