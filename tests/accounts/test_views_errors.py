"""The styled error pages, as served with DEBUG off (pytest-django's default)."""

from __future__ import annotations

import pytest
from django.conf import settings
from django.test import Client
from django.urls import reverse

from crm_core.accounts.models import Role
from tests.accounts.conftest import signed_in

pytestmark = pytest.mark.django_db


def test_debug_is_off():
    assert settings.DEBUG is False


def test_a_hand_typed_url_to_a_missing_record_shows_the_styled_404(admin_client):
    response = admin_client.get(reverse("accounts:user_edit", args=[999999]))
    assert response.status_code == 404
    content = response.content.decode()
    assert "This page does not exist." in content
    assert "Back to the dashboard" in content
    assert 'id="nav-bell"' in content  # the site's own layout, with the menu


def test_another_branchs_record_looks_exactly_like_a_missing_one(client, world, branch_admin):
    outsider = world.user(branch=world.branch_b)
    signed_in(client, branch_admin, "en")
    missing = client.get(reverse("accounts:user_edit", args=[999999]))
    hidden = client.get(reverse("accounts:user_edit", args=[outsider.pk]))
    assert missing.status_code == hidden.status_code == 404
    assert "This page does not exist." in hidden.content.decode()


def test_unknown_path_is_the_styled_404_in_arabic(client, world):
    signed_in(client, world.user())
    response = client.get("/no-such-page/")
    assert response.status_code == 404
    assert 'dir="rtl"' in response.content.decode()


def test_forbidden_page_is_the_styled_403(client, world):
    signed_in(client, world.user(Role.SALES), "en")
    response = client.get(reverse("accounts:users"))
    assert response.status_code == 403
    content = response.content.decode()
    assert "You are not allowed to do that." in content and 'id="nav-bell"' in content


def test_server_error_is_the_styled_500(world, head_admin, monkeypatch):
    def broken(*args, **kwargs):
        raise RuntimeError("boom")

    monkeypatch.setattr("crm_core.accounts.selectors.user_list", broken)
    client = Client(raise_request_exception=False)
    signed_in(client, head_admin, "en")
    response = client.get(reverse("accounts:users"))
    assert response.status_code == 500
    content = response.content.decode()
    assert "Something went wrong on our side." in content
    assert "boom" not in content and "Traceback" not in content
