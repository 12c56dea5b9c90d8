"""Sign-in, sign-out and password change, as a person uses them."""

from __future__ import annotations

import pytest
from django.urls import reverse

from crm_core.accounts.models import ActivityLog, Role
from tests.accounts.conftest import signed_in

pytestmark = pytest.mark.django_db

LOGIN = reverse("accounts:login")
PASSWORD = "pass-12345-word"  # tests.factories.UserFactory
NEW_PASSWORD = "Falcon-Orchard-91"


@pytest.fixture
def person(world):
    return world.user(Role.SALES, username="mona", first_name="Mona", language="en")


def test_sign_in_page_renders_in_arabic_by_default(client):
    response = client.get(LOGIN)
    content = response.content.decode()
    assert response.status_code == 200
    assert 'lang="ar" dir="rtl"' in content
    assert 'autocomplete="current-password"' in content and 'name="username"' in content


def test_successful_sign_in_lands_on_the_dashboard_in_the_users_language(client, person):
    response = client.post(LOGIN, {"username": "mona", "password": PASSWORD})
    assert response.status_code == 302 and response["Location"] == reverse("dashboard")
    assert response.cookies["django_language"].value == "en"
    dashboard = client.get(response["Location"])
    assert dashboard.status_code == 200 and "Welcome, Mona" in dashboard.content.decode()
    assert ActivityLog.objects.filter(action="auth.login", actor=person).exists()


def test_sign_in_follows_a_safe_next_only(client, person):
    response = client.post(LOGIN + "?next=/accounts/notifications/", {"username": "mona", "password": PASSWORD})
    assert response["Location"] == "/accounts/notifications/"
    client.logout()
    response = client.post(LOGIN + "?next=https://evil.example/", {"username": "mona", "password": PASSWORD})
    assert response["Location"] == reverse("dashboard")


def test_bad_password_shows_a_translated_error_and_is_logged(client, person):
    response = client.post(LOGIN, {"username": "mona", "password": "wrong-password"})
    assert response.status_code == 200
    content = response.content.decode()
    assert "الرجاء إدخال" in content  # Arabic, the default language
    assert 'role="alert"' in content
    assert "_auth_user_id" not in client.session
    failed = ActivityLog.objects.get(action="auth.login_failed")
    assert failed.changes == {"username": "mona"} and failed.actor is None


def test_bad_password_in_english(client, person):
    client.cookies["django_language"] = "en"
    content = client.post(LOGIN, {"username": "mona", "password": "nope"}).content.decode()
    assert "Please enter a correct username and password." in content


def test_inactive_user_cannot_sign_in(client, world):
    world.user(username="gone", is_active=False)
    response = client.post(LOGIN, {"username": "gone", "password": PASSWORD})
    assert response.status_code == 200
    assert "_auth_user_id" not in client.session


def test_signed_in_user_visiting_sign_in_goes_to_dashboard(client, person):
    signed_in(client, person)
    response = client.get(LOGIN)
    assert response.status_code == 302 and response["Location"] == reverse("dashboard")


def test_sign_out(client, person):
    signed_in(client, person)
    response = client.post(reverse("accounts:logout"))
    assert response.status_code == 302 and response["Location"] == LOGIN
    assert ActivityLog.objects.filter(action="auth.logout", actor=person).exists()
    after = client.get(reverse("dashboard"))
    assert after.status_code == 302 and after["Location"].startswith(LOGIN)


def test_sign_out_needs_post(client, person):
    signed_in(client, person)
    assert client.get(reverse("accounts:logout")).status_code == 405
    assert client.get(reverse("dashboard")).status_code == 200


def test_nav_offers_sign_out_as_a_button(client, person):
    signed_in(client, person, "en")
    content = client.get(reverse("dashboard")).content.decode()
    form = content[content.index(f'action="{reverse("accounts:logout")}"') :]
    assert '<button class="dropdown-item" type="submit">' in form[: form.index("</form>")]


def test_password_change(client, person):
    signed_in(client, person, "en")
    url = reverse("accounts:password_change")
    assert client.get(url).status_code == 200
    response = client.post(
        url, {"old_password": PASSWORD, "new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD}
    )
    assert response.status_code == 302 and response["Location"] == reverse("dashboard")
    person.refresh_from_db()
    assert person.check_password(NEW_PASSWORD)
    # Still signed in on this device, and told so.
    dashboard = client.get(reverse("dashboard"))
    assert dashboard.status_code == 200 and "Your password was changed." in dashboard.content.decode()
    assert ActivityLog.objects.filter(action="user.set_password", actor=person).exists()


@pytest.mark.parametrize(
    ("data", "field", "message"),
    [
        (
            {"old_password": "not-it", "new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD},
            "old_password",
            "incorrectly",
        ),
        (
            {"old_password": PASSWORD, "new_password1": NEW_PASSWORD, "new_password2": "Other-Orchard-91"},
            "new_password2",
            "didn",
        ),
        (
            {"old_password": PASSWORD, "new_password1": "12345678", "new_password2": "12345678"},
            "new_password2",
            "entirely numeric",
        ),
        ({"old_password": PASSWORD, "new_password1": "short", "new_password2": "short"}, "new_password2", "too short"),
    ],
    ids=["wrong-old", "mismatch", "numeric", "short"],
)
def test_password_change_refuses_bad_input(client, person, data, field, message):
    signed_in(client, person, "en")
    old_hash = person.password
    response = client.post(reverse("accounts:password_change"), data)
    assert response.status_code == 200
    assert message in " ".join(response.context["form"].errors[field])
    assert "invalid-feedback" in response.content.decode()
    person.refresh_from_db()
    assert person.password == old_hash
    assert not ActivityLog.objects.filter(action="user.set_password").exists()


def test_password_change_needs_sign_in(client):
    response = client.get(reverse("accounts:password_change"))
    assert response.status_code == 302 and response["Location"].startswith(LOGIN)
