"""How long ago a notification arrived, as the bell and the dashboard say it."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone, translation

from crm_core.common.templatetags.crm import ago

NOW = timezone.now()


@pytest.mark.parametrize(
    ("seconds", "arabic", "english"),
    [
        (0, "الآن", "just now"),
        (59, "الآن", "just now"),
        (60, "منذ دقيقة", "1 minute ago"),
        (2 * 60, "منذ دقيقتين", "2 minutes ago"),
        (5 * 60, "منذ 5 دقائق", "5 minutes ago"),
        (11 * 60, "منذ 11 دقيقة", "11 minutes ago"),
        (3 * 3600, "منذ 3 ساعات", "3 hours ago"),
        (26 * 3600, "منذ يوم", "1 day ago"),
        (2 * 86400, "منذ يومين", "2 days ago"),
    ],
)
def test_recent_times_read_naturally_in_both_languages(seconds, arabic, english):
    moment = NOW - timedelta(seconds=seconds)
    with translation.override("ar"):
        assert ago(moment, NOW) == arabic
    with translation.override("en"):
        assert ago(moment, NOW) == english


def test_after_a_week_the_date_is_shown():
    moment = timezone.make_aware(timezone.datetime(2026, 11, 2, 14, 5))
    with translation.override("en"):
        assert ago(moment, moment + timedelta(days=8)) == "02/11/2026 2:05 PM"


def test_not_a_time_shows_nothing():
    assert ago(None) == ""
