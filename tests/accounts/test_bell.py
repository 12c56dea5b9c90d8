"""The notification bell: its badge fetches the user's own unread count, the event that makes it
fetch carries what the toast shows, and the notifications page refreshes itself."""

from __future__ import annotations

import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from crm_core.accounts.models import Notification, NotificationKind
from crm_core.accounts.services import notify_users
from tests.accounts.conftest import signed_in

pytestmark = pytest.mark.django_db

BADGE = reverse("accounts:notification_badge")
TRIGGER = 'hx-trigger="crm:resync from:body, crm:notifications-changed from:body"'


def notify(user, title: str, url: str = "", kind: str = NotificationKind.SYSTEM) -> Notification:
    return notify_users(recipients=[user], kind=kind, title=title, url=url)[0]


def badge(content: str) -> str:
    match = re.search(r'<span id="unread-count"[^>]*class="([^"]*)"[^>]*>(\d*)</span>', content)
    assert match, "no unread badge"
    return f"{match.group(2)}|{'hidden' if 'd-none' in match.group(1) else 'shown'}"


def test_the_badge_counts_the_users_own_unread_notifications(client, personas):
    owner = signed_in(client, personas.owner, "en")
    assert badge(owner.get(BADGE).content.decode()) == "0|hidden"
    notify(personas.owner, "Yours")
    notify(personas.owner, "Also yours")
    notify(personas.colleague, "A colleague's")
    read = notify(personas.owner, "Already read")
    Notification.objects.filter(pk=read.pk).update(is_read=True)
    response = owner.get(BADGE)
    assert response.status_code == 200
    content = response.content.decode()
    assert badge(content) == "2|shown"
    # Only the badge, ready to replace itself, and never cached by the browser.
    assert content.startswith('<span id="unread-count"') and content.endswith("</span>")
    assert f'hx-get="{BADGE}"' in content and TRIGGER in content and 'hx-swap="outerHTML"' in content
    assert "no-cache" in response["Cache-Control"] or "max-age=0" in response["Cache-Control"]


def test_the_badge_costs_one_count(client, personas):
    owner = signed_in(client, personas.owner)
    owner.get(BADGE)
    with CaptureQueriesContext(connection) as captured:
        owner.get(BADGE)
    counts = [q["sql"] for q in captured if "COUNT(" in q["sql"].upper()]
    assert len(counts) == 1
    assert len(captured) <= 3  # session, user, the count


def test_the_badge_needs_a_signed_in_user_and_a_get(client, personas):
    response = client.get(BADGE)
    assert response.status_code == 302 and response["Location"].startswith(reverse("accounts:login"))
    assert signed_in(client, personas.owner).post(BADGE).status_code == 405


def test_every_page_has_the_bell_that_refreshes_itself(client, personas):
    notify(personas.owner, "One")
    html = signed_in(client, personas.owner, "en").get(reverse("dashboard")).content.decode()
    bell = re.search(r'<a[^>]*id="nav-bell".*?</a>', html, re.S).group(0)
    assert badge(bell) == "1|shown"
    assert TRIGGER in bell and f'hx-get="{BADGE}"' in bell
    assert 'data-msg-open="Open"' in bell
    assert "js/notifications.js" in html


def test_the_notification_event_carries_what_the_toast_shows(personas, published, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        note = notify(personas.owner, "Low stock: أسمنت", url="/inventory/alerts/", kind=NotificationKind.STOCK_LOW)
    created = [(groups, event) for kind, groups, event in published if kind == "notification.created"]
    assert len(created) == 1
    groups, event = created[0]
    assert groups == [f"u{personas.owner.pk}"]
    assert event.data == {
        "notification": note.pk,
        "kind": "stock_low",
        "title": "Low stock: أسمنت",
        "url": "/inventory/alerts/",
    }


def test_the_notifications_page_refetches_its_list_when_one_arrives(client, personas):
    notify(personas.owner, "First")
    owner = signed_in(client, personas.owner, "en")
    page = reverse("accounts:notifications")
    html = owner.get(page, {"unread": "1"}).content.decode()
    wrapper = re.search(r'<div id="notification-page"[^>]*>', html).group(0)
    assert TRIGGER in wrapper and 'hx-get="/accounts/notifications/?unread=1"' in wrapper
    notify(personas.owner, "Second")
    partial = owner.get(page, {"unread": "1"}, headers={"HX-Request": "true"}).content.decode()
    assert partial.lstrip().startswith('<div id="notification-page"') and "<html" not in partial
    assert "First" in partial and "Second" in partial
