"""The notifications page: a person's own notifications, marking them read, the nav badge."""

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

PAGE = reverse("accounts:notifications")


def notify(user, title: str, url: str = "") -> Notification:
    return notify_users(recipients=[user], kind=NotificationKind.SYSTEM, title=title, url=url)[0]


def badge(content: str) -> str:
    """The nav's unread badge: its classes and number."""
    match = re.search(r'<span id="unread-count"[^>]*class="([^"]*)"[^>]*>(\d*)</span>', content)
    assert match, "no unread badge"
    return f"{match.group(2)}|{'hidden' if 'd-none' in match.group(1) else 'shown'}"


@pytest.fixture
def owner_client(client, personas):
    return signed_in(client, personas.owner, "en")


def test_anonymous_goes_to_sign_in(client):
    response = client.get(PAGE)
    assert response.status_code == 302 and response["Location"].startswith(reverse("accounts:login"))


def test_only_own_notifications_are_listed(owner_client, personas):
    notify(personas.owner, "Stock of cement is low")
    notify(personas.colleague, "Colleague's alert")
    notify(personas.outsider, "Other branch alert")
    content = owner_client.get(PAGE).content.decode()
    assert "Stock of cement is low" in content
    assert "Colleague&#x27;s alert" not in content and "Other branch alert" not in content
    assert badge(content) == "1|shown"


def test_unread_filter(owner_client, personas):
    read = notify(personas.owner, "Already seen")
    Notification.objects.filter(pk=read.pk).update(is_read=True)
    notify(personas.owner, "Brand new")
    content = owner_client.get(PAGE, {"unread": "1"}).content.decode()
    assert "Brand new" in content and "Already seen" not in content


def test_mark_read_over_htmx_updates_the_item_and_the_nav_badge(owner_client, personas):
    first = notify(personas.owner, "First")
    notify(personas.owner, "Second")
    response = owner_client.post(reverse("accounts:notification_read", args=[first.pk]), headers={"HX-Request": "true"})
    assert response.status_code == 200
    content = response.content.decode()
    assert f'id="notification-{first.pk}"' in content
    assert "bg-primary-subtle" not in content  # no longer highlighted as unread
    assert "Mark as read" not in content
    assert 'hx-swap-oob="true"' in content
    assert badge(content) == "1|shown"
    first.refresh_from_db()
    assert first.is_read and first.read_at is not None


def test_marking_the_last_one_hides_the_badge(owner_client, personas):
    only = notify(personas.owner, "Only one")
    response = owner_client.post(reverse("accounts:notification_read", args=[only.pk]), headers={"HX-Request": "true"})
    assert badge(response.content.decode()) == "0|hidden"


def test_mark_read_without_htmx_goes_back_to_the_page(owner_client, personas):
    note = notify(personas.owner, "Plain form")
    response = owner_client.post(reverse("accounts:notification_read", args=[note.pk]))
    assert response.status_code == 302 and response["Location"] == PAGE
    note.refresh_from_db()
    assert note.is_read


def test_open_marks_read_and_follows_the_link(owner_client, personas):
    note = notify(personas.owner, "Order confirmed", url="/orders/1/")
    response = owner_client.post(reverse("accounts:notification_read", args=[note.pk]), {"open": "1"})
    assert response.status_code == 302 and response["Location"] == "/orders/1/"
    note.refresh_from_db()
    assert note.is_read


def test_someone_elses_notification_is_404(owner_client, personas):
    theirs = notify(personas.colleague, "Not yours")
    response = owner_client.post(reverse("accounts:notification_read", args=[theirs.pk]))
    assert response.status_code == 404
    theirs.refresh_from_db()
    assert not theirs.is_read


def test_mark_read_needs_post(owner_client, personas):
    note = notify(personas.owner, "GET is not enough")
    assert owner_client.get(reverse("accounts:notification_read", args=[note.pk])).status_code == 405
    note.refresh_from_db()
    assert not note.is_read


def test_mark_all_read(owner_client, personas):
    for n in range(3):
        notify(personas.owner, f"Alert {n}")
    theirs = notify(personas.colleague, "Untouched")
    response = owner_client.post(reverse("accounts:notifications_read_all"), follow=True)
    content = response.content.decode()
    assert "All notifications marked as read." in content
    assert badge(content) == "0|hidden"
    assert not Notification.objects.filter(recipient=personas.owner, is_read=False).exists()
    theirs.refresh_from_db()
    assert not theirs.is_read


def test_empty_state(owner_client):
    assert "No notifications" in owner_client.get(PAGE).content.decode()


def test_query_count_does_not_grow(owner_client, personas):
    notify(personas.owner, "One")
    with CaptureQueriesContext(connection) as few:
        owner_client.get(PAGE)
    for n in range(20):
        notify(personas.owner, f"More {n}", url=f"/orders/{n}/")
    with CaptureQueriesContext(connection) as many:
        owner_client.get(PAGE)
    assert len(many) == len(few) <= 8
