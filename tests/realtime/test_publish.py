"""publish(): delivered to the channel layer after commit, in id order, never on rollback, and a
broken channel layer never breaks the change that caused the event."""

from __future__ import annotations

import asyncio
import itertools
import json
import logging

import pytest
from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.db import transaction

from crm_core.accounts.models import ActivityLog, Role
from crm_core.inspections.models import Inspection
from crm_core.inspections.services import inspection_cancel, inspection_reschedule, inspection_schedule
from realtime import layer as layer_module
from realtime import publish as publish_module
from tests.channel_layers import delete_layer_keys, with_own_prefix
from tests.factories import CustomerFactory, slot

SENTINEL = {"type": "test.sentinel"}


@pytest.fixture
def layer(settings):
    """A fresh channel layer of the configured kind (Redis when REDIS_URL is set), under a prefix
    of its own so runs sharing one Redis never hear each other."""
    layers, prefix = with_own_prefix(settings.CHANNEL_LAYERS)
    settings.CHANNEL_LAYERS = layers
    yield get_channel_layer()
    if prefix is not None:
        delete_layer_keys(layers, prefix)


def listen(layer, *groups: str) -> str:
    channel = async_to_sync(layer.new_channel)()
    for group in groups:
        async_to_sync(layer.group_add)(group, channel)
    return channel


def receive(layer, channel: str, timeout: float = 5) -> dict:
    async def _receive():
        return await asyncio.wait_for(layer.receive(channel), timeout)

    return async_to_sync(_receive)()


def assert_nothing_more(layer, channel: str, group: str) -> None:
    """Without waiting on a timeout: a marker sent now must be the next thing the channel gets."""
    async_to_sync(layer.group_send)(group, SENTINEL)
    assert receive(layer, channel) == SENTINEL


@pytest.fixture
def team(world):
    class Team:
        dispatcher = world.user(Role.DISPATCHER)
        inspector = world.user(Role.INSPECTOR)
        customer = CustomerFactory(branch=world.branch_a, address="المعادي")
        customer_b = CustomerFactory(branch=world.branch_b)
        hq = world.user(Role.MANAGER, all_branches=True)

    return Team


def schedule(team, hours: float = 24, **kwargs) -> Inspection:
    start, end = slot(hours)
    return inspection_schedule(
        actor=kwargs.pop("actor", team.dispatcher),
        customer=kwargs.pop("customer", team.customer),
        inspector=kwargs.pop("inspector", team.inspector),
        scheduled_start=start,
        scheduled_end=end,
        **kwargs,
    )


def test_a_committed_change_reaches_the_groups_that_may_see_it(
    world, team, layer, published, django_capture_on_commit_callbacks
):
    a, b = world.branch_a.pk, world.branch_b.pk
    board_a = listen(layer, f"b{a}.inspections")
    hq_board = listen(layer, "all.inspections")
    inspector = listen(layer, f"u{team.inspector.pk}")
    board_b = listen(layer, f"b{b}.inspections")

    with django_capture_on_commit_callbacks(execute=True):
        inspection = schedule(team)

    for channel in (board_a, hq_board, inspector):
        message = receive(layer, channel)
        assert message["type"] == "crm.event"
        event = message["event"]
        assert event["type"] == "inspection.scheduled"
        assert event["branch"] == a
        assert event["id"] == published[0][2].id
        assert event["data"]["inspection"] == inspection.pk
        assert event["data"]["number"] == "CAI-I000001"
        assert "users" not in event  # who else was told stays on the server
        assert message["users"] == [team.inspector.pk]
        json.dumps(message)  # what a JSON client gets must serialise as is
    assert_nothing_more(layer, board_b, f"b{b}.inspections")
    assert_nothing_more(layer, board_a, f"b{a}.inspections")


def test_a_change_committed_in_a_thread_that_runs_an_event_loop_is_delivered(
    team, layer, published, django_capture_on_commit_callbacks, monkeypatch
):
    """A notebook, an async shell or a script driving a browser calls services from a thread that
    runs an event loop. Its changes go out like any other, and nothing is recorded as lost (which
    would make every open page resync)."""
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")  # what such a thread needs for the ORM
    monkeypatch.setattr(layer_module, "_lost_events", False)
    board = listen(layer, f"b{team.customer.branch_id}.inspections")
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        inspection = schedule(team)

    async def commit_inside_a_loop():
        for callback in callbacks:
            callback()

    asyncio.run(commit_inside_a_loop())
    assert receive(layer, board)["event"]["data"]["inspection"] == inspection.pk
    assert layer_module._lost_events is False


def test_event_ids_strictly_increase(team, layer, published, django_capture_on_commit_callbacks):
    channel = listen(layer, "all.inspections")

    with django_capture_on_commit_callbacks(execute=True):
        first = schedule(team, 24)
    with django_capture_on_commit_callbacks(execute=True):
        schedule(team, 30, customer=team.customer_b, actor=team.hq, inspector=None)
    start, end = slot(48)
    with django_capture_on_commit_callbacks(execute=True):
        inspection_reschedule(actor=team.dispatcher, inspection=first, scheduled_start=start, scheduled_end=end)
    with django_capture_on_commit_callbacks(execute=True):
        inspection_cancel(actor=team.dispatcher, inspection=first, reason="العميل ألغى")

    received = [receive(layer, channel)["event"] for _ in range(4)]
    assert [e["type"] for e in received] == [
        "inspection.scheduled",
        "inspection.scheduled",
        "inspection.rescheduled",
        "inspection.cancelled",
    ]
    ids = [e["id"] for e in received]
    assert all(earlier < later for earlier, later in itertools.pairwise(ids)), ids
    assert ids == [event.id for _type, _groups, event in published]


def test_events_of_one_transaction_are_numbered_in_order(team, layer, published, django_capture_on_commit_callbacks):
    channel = listen(layer, "all.inspections")
    with django_capture_on_commit_callbacks(execute=True), transaction.atomic():
        for hours in (24, 26, 28):
            schedule(team, hours)

    received = [receive(layer, channel)["event"] for _ in range(3)]
    assert [e["data"]["number"] for e in received] == ["CAI-I000001", "CAI-I000002", "CAI-I000003"]
    ids = [e["id"] for e in received]
    assert ids == sorted(set(ids))


def test_nothing_is_delivered_for_a_rolled_back_change(
    world, team, layer, published, django_capture_on_commit_callbacks
):
    group = f"b{world.branch_a.pk}.inspections"
    channel = listen(layer, group)

    with (
        django_capture_on_commit_callbacks(execute=True) as callbacks,
        pytest.raises(RuntimeError),
        transaction.atomic(),
    ):
        schedule(team, 24, notes="سيُلغى")
        raise RuntimeError("the request failed after the service ran")
    assert callbacks == []
    assert published == []
    assert not Inspection.objects.exists()

    # The next committed change is the first thing the board hears.
    with django_capture_on_commit_callbacks(execute=True):
        kept = schedule(team, 24)
    message = receive(layer, channel)
    assert message["event"]["data"]["inspection"] == kept.pk
    assert_nothing_more(layer, channel, group)


@pytest.fixture
def unreachable_redis(settings):
    settings.CHANNEL_LAYERS = {
        "default": {
            "BACKEND": "realtime.redis_layer.RedisChannelLayer",
            "CONFIG": {"hosts": ["redis://127.0.0.1:1"], "prefix": "crmtest-down"},
        }
    }


class _BrokenLayer:
    async def group_send(self, group, message):
        raise ConnectionError("channel layer is down")


@pytest.fixture
def raising_layer(monkeypatch):
    monkeypatch.setattr(publish_module, "get_channel_layer", lambda *args, **kwargs: _BrokenLayer())


@pytest.mark.parametrize("broken", ["unreachable_redis", "raising_layer"])
def test_a_broken_channel_layer_never_fails_the_change(
    request, broken, team, published, caplog, django_capture_on_commit_callbacks
):
    request.getfixturevalue(broken)
    caplog.set_level(logging.ERROR, logger="realtime.publish")

    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        inspection = schedule(team)

    assert len(callbacks) == 1
    row = Inspection.objects.get(pk=inspection.pk)
    assert row.number == "CAI-I000001"
    assert ActivityLog.objects.filter(action="inspection.schedule", target_id=str(row.pk)).count() == 1
    assert published == []  # never reported as delivered
    errors = [r for r in caplog.records if r.name == "realtime.publish" and r.levelno >= logging.ERROR]
    assert len(errors) == 1
    assert "inspection.scheduled" in errors[0].getMessage()
    # An unreachable layer is one line naming the error, not a traceback per event.
    assert "111" in errors[0].getMessage() or "channel layer is down" in errors[0].getMessage()
    assert layer_module.lost_events_pending()  # live clients will be told to resync


class _BuggyLayer:
    async def group_send(self, group, message):
        raise TypeError("a bug, not an outage")


def test_an_unexpected_error_is_logged_with_its_traceback(
    monkeypatch, team, published, caplog, django_capture_on_commit_callbacks
):
    monkeypatch.setattr(publish_module, "get_channel_layer", lambda *args, **kwargs: _BuggyLayer())
    caplog.set_level(logging.ERROR, logger="realtime.publish")
    with django_capture_on_commit_callbacks(execute=True):
        inspection = schedule(team)
    assert Inspection.objects.filter(pk=inspection.pk).exists()
    errors = [r for r in caplog.records if r.name == "realtime.publish"]
    assert len(errors) == 1 and errors[0].exc_info is not None


def test_an_event_id_that_cannot_be_drawn_never_fails_the_change(
    team, published, caplog, monkeypatch, django_capture_on_commit_callbacks
):
    """The id is drawn after commit; if the database is gone by then, the change still stands."""
    from django.db import OperationalError

    from realtime import events

    def no_database():
        raise OperationalError("server closed the connection unexpectedly")

    monkeypatch.setattr(events, "next_event_id", no_database)
    caplog.set_level(logging.ERROR, logger="realtime.publish")

    with django_capture_on_commit_callbacks(execute=True):
        inspection = schedule(team)

    assert Inspection.objects.filter(pk=inspection.pk).exists()
    assert published == []
    assert any("inspection.scheduled" in r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR)


def test_an_unknown_event_type_fails_inside_the_transaction(team, published, django_capture_on_commit_callbacks):
    """A misspelt event type is a programming error: caught before commit, so nothing is half-done."""
    from realtime.publish import publish

    with (
        django_capture_on_commit_callbacks(execute=True) as callbacks,
        pytest.raises(ValueError, match=r"inspection\.exploded"),
        transaction.atomic(),
    ):
        inspection = schedule(team)
        publish("inspection.exploded", branch_id=inspection.branch_id, data={})
    assert callbacks == []
    assert published == []
    assert not Inspection.objects.exists()
