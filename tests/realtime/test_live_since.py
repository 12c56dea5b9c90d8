"""``{% live_since %}`` names the newest event, so a page can tell the stream what it reflects."""

from __future__ import annotations

import pytest
from django.db import transaction
from django.template import Context, Template

from realtime.events import last_event_id
from realtime.publish import publish


def render() -> int:
    return int(Template("{% load live %}{% live_since %}").render(Context()))


@pytest.mark.django_db(transaction=True)
def test_the_tag_follows_the_events_published(world, published):
    before = render()
    with transaction.atomic():
        publish("stock.changed", branch_id=world.branch_a.pk, data={"movement": 1})
    (_type, _groups, event), *_ = published
    assert render() == event.id == last_event_id()
    assert event.id > before
