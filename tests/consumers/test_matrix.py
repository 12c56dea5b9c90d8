"""Zero leaks, end to end: every event type of the catalogue × every role × branch A, branch B and
all-branch users, through real connections on both streams.

Every user subscribes to every board. Which boards each role may open, and which board each
event type shows on, are written out below from the product's point of view — not derived from
realtime/ — so the test fails if the code and the product disagree.
"""

from __future__ import annotations

import itertools

import pytest
from channels.db import database_sync_to_async

from crm_core.accounts.models import Role
from realtime.events import EVENT_TYPES
from tests.consumers.helpers import OPENERS, publish_now
from tests.factories import BranchFactory, UserFactory

pytestmark = [pytest.mark.django_db(transaction=True)]

BOARDS = ("customers.board", "orders.board", "inspections.board", "stock.board", "stock.alerts")

# The boards each role may open (of its own branch, or of all branches for HQ users).
ROLE_BOARDS = {
    Role.ADMIN: {"customers.board", "orders.board", "inspections.board", "stock.board", "stock.alerts"},
    Role.MANAGER: {"customers.board", "orders.board", "inspections.board", "stock.board", "stock.alerts"},
    Role.DISPATCHER: {"customers.board", "orders.board", "inspections.board"},
    Role.INSPECTOR: set(),
    Role.SALES: {"customers.board", "orders.board", "inspections.board", "stock.board"},
    Role.STOREKEEPER: {"orders.board", "stock.board", "stock.alerts"},
    Role.ACCOUNTANT: {"customers.board", "orders.board"},
}
# Boards a role may open that show only what names them (an inspector's own inspections).
OWN_WORK_BOARDS = {Role.INSPECTOR: {"inspections.board"}}

# Where each event type shows; None: a personal event, only for the people it names.
EVENT_BOARD = {
    "customer.created": "customers.board",
    "customer.updated": "customers.board",
    "customer.note_added": "customers.board",
    "order.created": "orders.board",
    "order.updated": "orders.board",
    "order.status_changed": "orders.board",
    "order.payment_recorded": "orders.board",
    "order.shipping_updated": "orders.board",
    "inspection.scheduled": "inspections.board",
    "inspection.rescheduled": "inspections.board",
    "inspection.assigned": "inspections.board",
    "inspection.started": "inspections.board",
    "inspection.cancelled": "inspections.board",
    "inspection.no_show": "inspections.board",
    "inspection.completed": "inspections.board",
    "inspection.order_linked": "inspections.board",
    "stock.changed": "stock.board",
    "stock.low": "stock.alerts",
    "stock.restored": "stock.alerts",
    "notification.created": None,
    "user.access_changed": None,
}


@pytest.mark.django_db(transaction=False)
def test_the_table_covers_the_whole_catalogue():
    assert set(EVENT_BOARD) == set(EVENT_TYPES)
    assert set(ROLE_BOARDS) == set(Role.values)


@database_sync_to_async
def make_everyone():
    branches = {"A": BranchFactory(code="CAI", name="القاهرة"), "B": BranchFactory(code="ALX", name="الإسكندرية")}
    people = {}
    for role, where in itertools.product(Role.values, ("A", "B")):
        people[(role, where)] = UserFactory(role=role, branch=branches[where])
    people[(Role.MANAGER, "HQ")] = UserFactory(role=Role.MANAGER, branch=branches["A"], all_branches=True)
    people[(Role.ACCOUNTANT, "HQ")] = UserFactory(role=Role.ACCOUNTANT, branch=branches["B"], all_branches=True)
    people[(Role.ADMIN, "HQ")] = UserFactory(role=Role.SALES, branch=None, all_branches=True, is_superuser=True)
    outsider = UserFactory(role=Role.SALES, branch=branches["B"])  # never connected
    return branches, people, outsider


def may_open(role: str, where: str, superuser: bool, board: str) -> bool:
    if superuser:
        return True
    return board in ROLE_BOARDS[role] or (where != "HQ" and board in OWN_WORK_BOARDS.get(role, set()))


def should_receive(role, where, superuser, user_pk, type_, event_where, named) -> bool:
    board = EVENT_BOARD[type_]
    if board is None:
        return user_pk in named
    if not may_open(role, where, superuser, board):
        return False
    if user_pk in named:
        return True
    if not superuser and board not in ROLE_BOARDS[role]:
        return False  # an own-work board: only what names them
    return where == "HQ" or where == event_where


@pytest.mark.asyncio
@pytest.mark.parametrize("stream", ["live", "events"])
async def test_matrix_every_event_type_every_role_both_branches(stream):
    branches, people, outsider = await make_everyone()
    clients = {key: await OPENERS[stream](user) for key, user in people.items()}

    # 1. Subscriptions: granted exactly as the table says, refused with topic_forbidden otherwise.
    wrong = []
    for (role, where), client in clients.items():
        for board in BOARDS:
            reply = await client.subscribe(board)
            expected = "subscribed" if may_open(role, where, client.user.is_superuser, board) else "error"
            if reply["type"] != expected or (expected == "error" and reply["code"] != "topic_forbidden"):
                wrong.append((role, where, board, reply))
    assert wrong == []

    # 2. Every event type, once about branch A and once about branch B. Board events name the
    #    branch's inspector (as inspection services do); personal ones name one salesperson.
    published = []
    for type_, event_where in itertools.product(sorted(EVENT_TYPES), ("A", "B")):
        branch = branches[event_where]
        if type_ == "user.access_changed":
            named = (outsider.pk,)  # it would close the named user's socket: name nobody connected
        elif EVENT_BOARD[type_] is None:
            named = (people[(Role.SALES, event_where)].pk,)
        elif type_.startswith("inspection."):
            named = (people[(Role.INSPECTOR, event_where)].pk,)
        else:
            named = ()
        await publish_now(type_, branch_id=branch.pk, data={"marker": f"{type_}@{event_where}"}, users=named)
        published.append((type_, event_where, named))
    # A last event for everyone connected marks the end of each stream.
    everyone = tuple(user.pk for user in people.values())
    await publish_now("notification.created", branch_id=None, data={"marker": "end"}, users=everyone)

    # 3. Each connection received exactly what the table says, once, and nothing else.
    leaks, misses = [], []
    for (role, where), client in clients.items():
        user = client.user
        frames, _end = await client.until(lambda f: f.get("data", {}).get("marker") == "end")
        frames += await client.drain()
        got = [f["data"]["marker"] for f in frames]
        assert len(got) == len(set(got)), (role, where, got)
        expected = {
            f"{type_}@{event_where}"
            for type_, event_where, named in published
            if should_receive(role, where, user.is_superuser, user.pk, type_, event_where, named)
        }
        leaks += [(role, where, marker) for marker in set(got) - expected]
        misses += [(role, where, marker) for marker in expected - set(got)]
    assert leaks == []
    assert misses == []

    # Spot checks a person would notice, in case the table above were ever edited carelessly.
    def markers(key):
        user = people[key]
        return {f"{t}@{w}" for t, w, n in published if should_receive(*key, user.is_superuser, user.pk, t, w, n)}

    assert "order.created@A" in markers((Role.SALES, "A"))
    assert "order.created@A" not in markers((Role.SALES, "B"))
    assert "stock.low@B" in markers((Role.MANAGER, "HQ"))
    assert "stock.low@A" not in markers((Role.ACCOUNTANT, "HQ"))
    assert markers((Role.INSPECTOR, "A")) == {f"{t}@A" for t in EVENT_TYPES if t.startswith("inspection.")}
    for client in clients.values():
        await client.close()
