"""Topics: record rooms within scope only, a board for one day, leaving a topic, and the per-event
re-check that stands behind every group."""

from __future__ import annotations

from datetime import datetime, time, timedelta

import pytest
from channels.db import database_sync_to_async
from channels.layers import get_channel_layer
from django.utils import timezone

from crm_core.accounts.models import Role
from crm_core.customers.services import customer_update
from crm_core.inspections.services import inspection_assign, inspection_reschedule, inspection_schedule
from realtime.events import make_event
from tests.consumers.helpers import open_live, publish_now
from tests.factories import BranchFactory, CustomerFactory, UserFactory, slot

pytestmark = [pytest.mark.asyncio, pytest.mark.django_db(transaction=True)]


@database_sync_to_async
def make_world():
    a = BranchFactory(code="CAI", name="القاهرة")
    b = BranchFactory(code="ALX", name="الإسكندرية")

    class W:
        branch_a, branch_b = a, b
        sales_a = UserFactory(role=Role.SALES, branch=a)
        dispatcher_a = UserFactory(role=Role.DISPATCHER, branch=a)
        storekeeper_a = UserFactory(role=Role.STOREKEEPER, branch=a)
        inspector_a = UserFactory(role=Role.INSPECTOR, branch=a)
        inspector_a2 = UserFactory(role=Role.INSPECTOR, branch=a)
        sales_b = UserFactory(role=Role.SALES, branch=b)
        customer_a = CustomerFactory(branch=a, address="المعادي")
        customer_a2 = CustomerFactory(branch=a)
        customer_b = CustomerFactory(branch=b)

    # Two days ahead at 09:00 local time, so "later the same day" stays on the same day.
    day = timezone.localdate() + timedelta(days=2)
    start = timezone.make_aware(datetime.combine(day, time(9, 0)))
    end = start + timedelta(hours=1)
    W.inspection = inspection_schedule(
        actor=W.dispatcher_a, customer=W.customer_a, inspector=W.inspector_a, scheduled_start=start, scheduled_end=end
    )
    W.day = timezone.localtime(start).date()
    return W


def without_seq(frame: dict) -> dict:
    return {k: v for k, v in frame.items() if k != "seq"}


async def test_a_record_room_within_scope_is_granted():
    w = await make_world()
    client = await open_live(w.sales_a)
    reply = await client.subscribe(f"customer:{w.customer_a.pk}")
    assert without_seq(reply) == {
        "type": "subscribed",
        "topic": f"customer:{w.customer_a.pk}",
        "last_event_id": reply["last_event_id"],
    }
    await client.close()


async def test_a_record_outside_scope_and_a_missing_one_are_refused_alike():
    w = await make_world()
    client = await open_live(w.sales_a)
    other_branch = await client.subscribe(f"customer:{w.customer_b.pk}")
    missing = await client.subscribe("customer:987654321")
    assert (other_branch["type"], other_branch["code"]) == ("error", "topic_forbidden")
    assert (missing["type"], missing["code"]) == ("error", "topic_forbidden")
    # Same answer, so a refusal never confirms that a record exists.
    assert {k: v for k, v in without_seq(other_branch).items() if k != "topic"} == {
        k: v for k, v in without_seq(missing).items() if k != "topic"
    }
    # And nothing about the other branch's customer reaches this connection afterwards.
    await database_sync_to_async(customer_update)(
        actor=w.sales_b, customer=w.customer_b, expected_version=None, name="تغيير"
    )
    assert await client.nothing()
    await client.close()


async def test_a_role_without_the_permission_is_refused_the_room():
    w = await make_world()
    client = await open_live(w.storekeeper_a)  # same branch, but storekeepers do not view customers
    reply = await client.subscribe(f"customer:{w.customer_a.pk}")
    assert (reply["type"], reply["code"]) == ("error", "topic_forbidden")
    await client.close()


async def test_an_inspector_may_follow_only_their_own_inspection():
    w = await make_world()
    own = await open_live(w.inspector_a)
    other = await open_live(w.inspector_a2)
    assert (await own.subscribe(f"inspection:{w.inspection.pk}"))["type"] == "subscribed"
    assert (await own.subscribe(f"customer:{w.customer_a.pk}"))["type"] == "subscribed"  # their job's customer
    assert (await other.subscribe(f"inspection:{w.inspection.pk}"))["code"] == "topic_forbidden"
    assert (await other.subscribe(f"customer:{w.customer_a.pk}"))["code"] == "topic_forbidden"
    assert (await other.subscribe("orders.board"))["code"] == "topic_forbidden"
    await own.close()
    await other.close()


async def test_a_record_room_hears_its_record_and_nothing_else():
    w = await make_world()
    client = await open_live(w.sales_a)
    await client.subscribe(f"customer:{w.customer_a.pk}")
    await database_sync_to_async(customer_update)(
        actor=w.sales_a, customer=w.customer_a2, expected_version=None, name="عميل آخر"
    )
    await database_sync_to_async(customer_update)(
        actor=w.sales_a, customer=w.customer_a, expected_version=None, name="العميل نفسه"
    )
    frame = await client.receive()
    assert (frame["type"], frame["data"]["customer"], frame["data"]["name"]) == (
        "customer.updated",
        w.customer_a.pk,
        "العميل نفسه",
    )
    # The customer's inspections are part of its room too.
    start, end = slot(72)
    await database_sync_to_async(inspection_reschedule)(
        actor=w.dispatcher_a, inspection=w.inspection, scheduled_start=start, scheduled_end=end
    )
    frame = await client.receive()
    assert (frame["type"], frame["data"]["inspection"]) == ("inspection.rescheduled", w.inspection.pk)
    assert await client.nothing()
    await client.close()


async def test_a_reassigned_inspector_stops_hearing_the_inspection():
    w = await make_world()
    client = await open_live(w.inspector_a)
    await client.subscribe(f"inspection:{w.inspection.pk}")
    await database_sync_to_async(inspection_assign)(
        actor=w.dispatcher_a, inspection=w.inspection, inspector=w.inspector_a2
    )
    frame = await client.receive()  # told it is no longer theirs
    assert (frame["type"], frame["data"]["inspector"]) == ("inspection.assigned", w.inspector_a2.pk)
    start, end = slot(96)
    await database_sync_to_async(inspection_reschedule)(
        actor=w.dispatcher_a, inspection=w.inspection, scheduled_start=start, scheduled_end=end
    )
    assert await client.nothing()
    await client.close()


async def test_a_board_for_one_day_hears_that_days_inspections():
    w = await make_world()
    client = await open_live(w.dispatcher_a)
    reply = await client.subscribe("inspections.board", date=w.day.isoformat())
    assert (reply["type"], reply["date"]) == ("subscribed", w.day.isoformat())

    same_day = timezone.localtime(w.inspection.scheduled_start) + timedelta(hours=3)
    await database_sync_to_async(inspection_schedule)(
        actor=w.dispatcher_a,
        customer=w.customer_a2,
        scheduled_start=same_day,
        scheduled_end=same_day + timedelta(hours=1),
    )
    frame = await client.receive()
    assert frame["type"] == "inspection.scheduled"

    three_days_on = same_day + timedelta(days=3)
    await database_sync_to_async(inspection_schedule)(
        actor=w.dispatcher_a,
        customer=w.customer_a2,
        scheduled_start=three_days_on,
        scheduled_end=three_days_on + timedelta(hours=1),
    )
    assert await client.nothing()

    # Moving the day's inspection away reaches the day's board (it has to disappear from it).
    await database_sync_to_async(inspection_reschedule)(
        actor=w.dispatcher_a,
        inspection=w.inspection,
        scheduled_start=three_days_on + timedelta(hours=2),
        scheduled_end=three_days_on + timedelta(hours=3),
    )
    frame = await client.receive()
    assert (frame["type"], frame["data"]["inspection"]) == ("inspection.rescheduled", w.inspection.pk)
    await client.close()


@pytest.mark.parametrize(
    ("request_", "code"),
    [
        ({"topic": "inspections.board", "date": "24-11-2026"}, "bad_request"),
        ({"topic": "inspections.board", "date": "2026-02-30"}, "bad_request"),
        ({"topic": "orders.board", "date": "2026-11-24"}, "bad_request"),
        ({"topic": ""}, "bad_request"),
        ({"topic": 5}, "bad_request"),
        ({"topic": "everything"}, "unknown_topic"),
        ({"topic": "order:0"}, "unknown_topic"),
        ({"topic": "order:-1"}, "unknown_topic"),
        ({"topic": "user:1"}, "unknown_topic"),
        ({"topic": "all.orders"}, "unknown_topic"),
    ],
)
async def test_malformed_topic_requests_are_refused(request_, code):
    w = await make_world()
    client = await open_live(w.dispatcher_a)
    reply = await client.subscribe(**request_)
    assert (reply["type"], reply["code"]) == ("error", code)
    await client.close()


async def test_unsubscribing_stops_the_topic():
    w = await make_world()
    client = await open_live(w.sales_a)
    await client.subscribe("orders.board")
    await client.send({"action": "unsubscribe", "topic": "orders.board"})
    assert without_seq(await client.receive()) == {"type": "unsubscribed", "topic": "orders.board"}
    await publish_now("order.created", branch_id=w.branch_a.pk, data={"order": 1})
    assert await client.nothing()
    await client.close()


async def test_two_topics_on_one_group_survive_leaving_one_of_them():
    w = await make_world()
    client = await open_live(w.dispatcher_a)
    await client.subscribe("inspections.board")
    await client.subscribe("inspections.board", date=w.day.isoformat())
    await client.send({"action": "unsubscribe", "topic": "inspections.board", "date": w.day.isoformat()})
    assert (await client.receive())["type"] == "unsubscribed"
    await publish_now("inspection.cancelled", branch_id=w.branch_a.pk, data={"inspection": 1})
    assert (await client.receive())["type"] == "inspection.cancelled"
    await client.close()


async def test_an_event_in_two_of_the_connections_groups_arrives_once():
    w = await make_world()
    client = await open_live(w.sales_a)
    await client.subscribe("customers.board")
    await client.subscribe(f"customer:{w.customer_a.pk}")
    await database_sync_to_async(customer_update)(
        actor=w.sales_a, customer=w.customer_a, expected_version=None, name="مرة واحدة"
    )
    assert (await client.receive())["type"] == "customer.updated"
    assert await client.nothing()
    await client.close()


async def test_too_many_topics_are_refused(monkeypatch):
    monkeypatch.setattr("consumers.base.MAX_SUBSCRIPTIONS", 2)
    w = await make_world()
    client = await open_live(w.sales_a)
    assert (await client.subscribe("orders.board"))["type"] == "subscribed"
    assert (await client.subscribe("customers.board"))["type"] == "subscribed"
    assert (await client.subscribe("stock.board"))["code"] == "too_many_topics"
    assert (await client.subscribe("orders.board"))["type"] == "subscribed"  # asking again is fine
    await client.close()


async def test_the_per_event_recheck_drops_what_a_group_should_never_have_carried():
    """Even if a group carried an event it should not have (a bug in choosing groups), the
    consumer's own check against the user's scope keeps it from the user."""
    w = await make_world()
    client = await open_live(w.sales_b)
    await client.subscribe("orders.board")
    stray = await database_sync_to_async(make_event)("order.created", branch_id=w.branch_a.pk, data={"order": 1})
    layer = get_channel_layer()
    group = f"b{w.branch_b.pk}.orders"
    await layer.group_send(group, {"type": "crm.event", "event": stray.as_message(), "users": [], "group": group})
    assert await client.nothing()
    fine = await database_sync_to_async(make_event)("order.created", branch_id=w.branch_b.pk, data={"order": 2})
    await layer.group_send(group, {"type": "crm.event", "event": fine.as_message(), "users": [], "group": group})
    assert (await client.receive())["data"] == {"order": 2}
    await client.close()
