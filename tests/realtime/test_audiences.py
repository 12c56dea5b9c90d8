"""Who hears what: the groups a user joins, the groups an event goes to, and the per-event
re-check, as a matrix over every event type, role and branch with zero leaks."""

from __future__ import annotations

import itertools

import pytest
from django.contrib.auth.models import AnonymousUser

from crm_core.accounts.models import Role
from realtime.audiences import TOPICS, groups_for_event, groups_for_user, rooms_for_event, user_may_receive
from realtime.events import EVENT_TOPICS, Event, make_event

# What each role may follow on its branch's live boards, written out from the product's point
# of view (not copied from audiences.py), so a change to the role table has to be deliberate.
EXPECTED_TOPICS = {
    Role.ADMIN: {"customers", "orders", "inspections", "inventory", "alerts"},
    Role.MANAGER: {"customers", "orders", "inspections", "inventory", "alerts"},
    Role.DISPATCHER: {"customers", "orders", "inspections"},
    Role.INSPECTOR: set(),
    Role.SALES: {"customers", "orders", "inspections", "inventory"},
    Role.STOREKEEPER: {"orders", "inventory", "alerts"},
    Role.ACCOUNTANT: {"customers", "orders"},
}

# A board topic may only reach someone who may view what it is about.
TOPIC_VIEW_PERM = {
    "customers": "customers.view_customer",
    "orders": "orders.view_order",
    "inspections": "inspections.view_inspection",
    "inventory": "inventory.view_stocklevel",
    "alerts": "inventory.view_stocklevel",
}


def _event(type_: str, branch_id: int | None, users: tuple[int, ...] = ()) -> Event:
    return Event(type=type_, id=1, at="2025-01-01T00:00:00+00:00", branch=branch_id, data={}, users=users)


# --- groups_for_user ------------------------------------------------------------------------------


def test_inspector_joins_only_their_personal_group(world):
    inspector = world.user(Role.INSPECTOR)
    assert groups_for_user(inspector) == [f"u{inspector.pk}"]


def test_dispatcher_follows_customers_orders_and_inspections_of_their_branch(world):
    dispatcher = world.user(Role.DISPATCHER)
    a = world.branch_a.pk
    groups = set(groups_for_user(dispatcher))
    assert groups == {f"u{dispatcher.pk}", f"b{a}.customers", f"b{a}.orders", f"b{a}.inspections"}
    assert f"b{a}.inventory" not in groups
    assert f"b{a}.alerts" not in groups


def test_storekeeper_follows_orders_inventory_and_alerts(world):
    storekeeper = world.user(Role.STOREKEEPER, branch=world.branch_b)
    b = world.branch_b.pk
    assert set(groups_for_user(storekeeper)) == {
        f"u{storekeeper.pk}",
        f"b{b}.orders",
        f"b{b}.inventory",
        f"b{b}.alerts",
    }


def test_all_branches_manager_follows_the_hq_groups_only(world):
    manager = world.user(Role.MANAGER, all_branches=True)
    groups = groups_for_user(manager)
    assert set(groups) == {f"u{manager.pk}"} | {f"all.{topic}" for topic in TOPICS}
    assert not [g for g in groups if g.startswith("b")]


def test_superuser_sees_every_branch(world):
    admin = world.user(Role.ADMIN, is_superuser=True)
    assert set(groups_for_user(admin)) == {f"u{admin.pk}"} | {f"all.{topic}" for topic in TOPICS}


@pytest.mark.parametrize("role", Role.values)
def test_an_inactive_user_joins_nothing(world, role):
    user = world.user(role, is_active=False)
    assert groups_for_user(user) == []


def test_an_anonymous_visitor_joins_nothing():
    assert groups_for_user(AnonymousUser()) == []


def test_a_user_without_a_branch_gets_only_their_personal_group(world):
    user = world.user(Role.DISPATCHER)
    user.branch = None
    assert groups_for_user(user) == [f"u{user.pk}"]


# --- groups_for_event -----------------------------------------------------------------------------


def test_a_branch_event_goes_to_its_branch_the_hq_board_and_the_people_it_names(world):
    event = make_event("inspection.scheduled", branch_id=world.branch_a.pk, data={"inspection": 1}, users=(9, 4, 9))
    assert set(groups_for_event(event)) == {
        f"b{world.branch_a.pk}.inspections",
        "all.inspections",
        "u4",
        "u9",
    }
    assert len(groups_for_event(event)) == 4


def test_an_event_also_goes_to_the_rooms_of_the_records_it_is_about(world):
    event = make_event("order.status_changed", branch_id=world.branch_a.pk, data={"order": 5, "customer": 9})
    assert set(rooms_for_event(event)) == {"r.order.5", "r.customer.9"}
    inspection = make_event("inspection.started", branch_id=world.branch_a.pk, data={"inspection": 3, "customer": 9})
    assert set(rooms_for_event(inspection)) == {"r.inspection.3", "r.customer.9"}
    assert not set(rooms_for_event(event)) & set(groups_for_event(event))


@pytest.mark.parametrize("value", ["5", 5.0, True, None, 0, -3, [5]])
def test_only_positive_integer_ids_open_a_record_room(world, value):
    event = make_event("order.updated", branch_id=world.branch_a.pk, data={"order": value})
    assert rooms_for_event(event) == []


def test_a_personal_event_never_reaches_a_record_room(world):
    event = make_event("notification.created", branch_id=world.branch_a.pk, data={"order": 5}, users=(3,))
    assert groups_for_event(event) == ["u3"]
    assert rooms_for_event(event) == []


def test_a_stock_alert_goes_to_the_alerts_boards(world):
    event = make_event("stock.low", branch_id=world.branch_b.pk, data={})
    assert set(groups_for_event(event)) == {f"b{world.branch_b.pk}.alerts", "all.alerts"}


@pytest.mark.parametrize("type_", [t for t, topic in EVENT_TOPICS.items() if topic not in TOPICS])
def test_a_personal_event_goes_only_to_the_people_it_names(world, type_):
    event = make_event(type_, branch_id=world.branch_a.pk, data={}, users=(7,))
    assert groups_for_event(event) == ["u7"]


def test_an_event_without_a_branch_reaches_only_hq_and_named_people():
    event = _event("order.created", None, users=(3,))
    assert set(groups_for_event(event)) == {"all.orders", "u3"}


@pytest.mark.parametrize("type_", sorted(EVENT_TOPICS))
def test_every_event_type_has_a_known_topic(type_):
    assert EVENT_TOPICS[type_] in (*TOPICS, "personal")


def test_an_unknown_event_type_is_refused():
    with pytest.raises(ValueError, match="Unknown event type"):
        make_event("order.deleted_everything", branch_id=1, data={})


# --- user_may_receive: the matrix -------------------------------------------------------------------


@pytest.fixture
def everyone(world):
    """One user of every role in each branch, plus HQ users who see all branches."""
    people = {}
    for role, (name, branch) in itertools.product(Role.values, [("A", world.branch_a), ("B", world.branch_b)]):
        people[(role, name)] = world.user(role, branch=branch)
    people[(Role.MANAGER, "HQ")] = world.user(Role.MANAGER, branch=world.branch_a, all_branches=True)
    people[(Role.ADMIN, "HQ")] = world.user(Role.ADMIN, branch=None, is_superuser=True)
    return people


def _expected(role: str, where: str, type_: str, named: bool) -> bool:
    if named:
        return True
    topic = EVENT_TOPICS[type_]
    if topic not in EXPECTED_TOPICS[role]:
        return False
    return where in ("A", "HQ")  # every event in the matrix is about branch A


def test_matrix_every_event_type_every_role_both_branches(world, everyone):
    a = world.branch_a.pk
    wrong = []
    for type_, ((role, where), user), named in itertools.product(sorted(EVENT_TOPICS), everyone.items(), (False, True)):
        # "Not named" still names somebody else: that must not open the door either.
        event = _event(type_, a, users=(user.pk,) if named else (user.pk + 10_000,))
        got = user_may_receive(user, event)
        if got != _expected(role, where, type_, named):
            wrong.append((type_, role, where, "named" if named else "not named", got))
        # The consumer's groups and its per-event re-check must agree: no group delivers what
        # the re-check would drop, and no allowed event misses every group the user joined.
        via_groups = bool(set(groups_for_user(user)) & set(groups_for_event(event)))
        if via_groups != got:
            wrong.append((type_, role, where, "groups disagree with re-check", via_groups))
    assert wrong == []


def test_matrix_branch_b_never_hears_branch_a(world, everyone):
    a = world.branch_a.pk
    leaks = [
        (type_, role)
        for type_, ((role, where), user) in itertools.product(sorted(EVENT_TOPICS), everyone.items())
        if where == "B" and user_may_receive(user, _event(type_, a))
    ]
    assert leaks == []


def test_matrix_inspectors_hear_only_what_names_them(world, everyone):
    a = world.branch_a.pk
    for type_ in sorted(EVENT_TOPICS):
        for where in ("A", "B"):
            inspector = everyone[(Role.INSPECTOR, where)]
            assert not user_may_receive(inspector, _event(type_, a)), (type_, where)
            assert not user_may_receive(inspector, _event(type_, a, users=(inspector.pk + 1000,))), (type_, where)
            assert user_may_receive(inspector, _event(type_, a, users=(inspector.pk,))), (type_, where)


def test_a_board_event_reaches_only_roles_that_may_view_it(world, everyone):
    a = world.branch_a.pk
    for type_, topic in EVENT_TOPICS.items():
        if topic not in TOPIC_VIEW_PERM:
            continue
        for (role, _where), user in everyone.items():
            if user_may_receive(user, _event(type_, a)):
                assert user.has_perm(TOPIC_VIEW_PERM[topic]), (type_, role)


def test_a_deactivated_user_hears_nothing_even_when_named(world, everyone):
    a = world.branch_a.pk
    for (role, where), user in everyone.items():
        user.is_active = False
        for type_ in EVENT_TOPICS:
            assert not user_may_receive(user, _event(type_, a, users=(user.pk,))), (type_, role, where)


def test_moving_a_user_to_another_branch_changes_what_they_hear(world):
    dispatcher = world.user(Role.DISPATCHER)
    event = _event("order.created", world.branch_a.pk)
    assert user_may_receive(dispatcher, event)
    dispatcher.branch = world.branch_b
    assert not user_may_receive(dispatcher, event)
    assert f"b{world.branch_a.pk}.orders" not in groups_for_user(dispatcher)
