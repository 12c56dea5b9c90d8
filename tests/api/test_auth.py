"""Authentication: JWT (obtain, refresh once, verify, blacklist), every way a token can be bad,
inactive users, the browser session with CSRF, django-axes lockout, throttling, WebSocket tickets."""

from __future__ import annotations

import base64
import json
import threading
from datetime import timedelta

import pytest
from django.core.cache import cache
from django.db import connection
from django.utils import timezone
from rest_framework.test import APIClient
from rest_framework_simplejwt.tokens import AccessToken, RefreshToken

from crm_core.accounts.models import ActivityLog, Role, User
from crm_core.common.api.tickets import consume_ws_ticket, issue_ws_ticket
from tests.api.conftest import API
from tests.factories import UserFactory

PASSWORD = "pass-12345-word"  # tests.factories.UserFactory's


@pytest.fixture
def sales(world) -> User:
    return world.user(Role.SALES, username="mona")


def obtain(client: APIClient, username: str, password: str = PASSWORD):
    return client.post(f"{API}/auth/token/", {"username": username, "password": password}, format="json")


def me(token: str):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    return client.get(f"{API}/users/me/")


def assert_401(response, code: str | None = None) -> None:
    assert response.status_code == 401, response.content
    error = response.json()["error"]
    assert set(error) >= {"code", "message", "fields"}
    if code:
        assert error["code"] == code, error


# --- Obtaining and using tokens ---------------------------------------------------------------------


def test_a_token_pair_for_the_right_password_opens_the_api(sales):
    response = obtain(APIClient(), "mona")
    assert response.status_code == 200
    tokens = response.json()
    assert set(tokens) == {"access", "refresh"}
    answer = me(tokens["access"])
    assert answer.status_code == 200
    assert answer.json()["username"] == "mona"
    assert "customers.view_customer" in answer.json()["permissions"]
    # Recorded like a web sign-in.
    assert ActivityLog.objects.filter(action="auth.login", actor=sales).count() == 1
    sales.refresh_from_db()
    assert sales.last_login is not None


def test_access_tokens_are_short_lived(sales, settings):
    token = AccessToken(obtain(APIClient(), "mona").json()["access"])
    lifetime = token["exp"] - token["iat"]
    assert 60 <= lifetime <= 60 * 60
    assert lifetime == int(settings.SIMPLE_JWT["ACCESS_TOKEN_LIFETIME"].total_seconds())


def test_a_wrong_password_is_401_and_is_recorded_like_a_web_sign_in_failure(sales):
    response = obtain(APIClient(), "mona", "wrong-password")
    assert_401(response, "no_active_account")
    failure = ActivityLog.objects.get(action="auth.login_failed")
    assert failure.changes == {"username": "mona"}


def test_an_inactive_user_gets_no_token(sales):
    sales.is_active = False
    sales.save(update_fields=["is_active"])
    assert_401(obtain(APIClient(), "mona"))


def test_failed_obtains_count_toward_the_axes_lockout(sales, settings):
    assert settings.AXES_ENABLED
    client = APIClient()
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        assert_401(obtain(client, "mona", "wrong"))
    locked = obtain(client, "mona", "wrong")
    assert locked.status_code == 429, locked.content
    assert locked.json()["error"]["code"] == "locked_out"
    # Locked out even with the right password now, and still in the API's error shape.
    again = obtain(client, "mona")
    assert again.status_code == 429
    assert again.json()["error"]["code"] == "locked_out"


def test_a_successful_obtain_clears_earlier_failures(sales, settings):
    client = APIClient()
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        assert_401(obtain(client, "mona", "wrong"))
    assert obtain(client, "mona").status_code == 200
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        assert_401(obtain(client, "mona", "wrong"))
    assert obtain(client, "mona").status_code == 200


# --- Bad tokens: all 401 ----------------------------------------------------------------------------


def _b64(data: dict) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).decode().rstrip("=")


def test_an_expired_access_token_is_401(sales):
    token = AccessToken.for_user(sales)
    token.set_exp(from_time=timezone.now() - timedelta(hours=1), lifetime=timedelta(minutes=5))
    assert_401(me(str(token)), "token_not_valid")


def test_a_tampered_token_is_401(sales, world):
    token = str(AccessToken.for_user(sales))
    header, payload, signature = token.split(".")
    claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    other = world.user(Role.ADMIN, all_branches=True)
    claims["user_id"] = str(other.pk)  # become the administrator, keep the old signature
    assert_401(me(f"{header}.{_b64(claims)}.{signature}"), "token_not_valid")
    flipped = signature[:-2] + ("A" if signature[-2] != "A" else "B") + signature[-1]
    assert_401(me(f"{header}.{payload}.{flipped}"), "token_not_valid")


def test_an_unsigned_alg_none_token_is_401(sales):
    token = AccessToken.for_user(sales)
    unsigned = f"{_b64({'alg': 'none', 'typ': 'JWT'})}.{_b64(dict(token.payload))}."
    assert_401(me(unsigned), "token_not_valid")


def test_a_token_signed_with_another_key_is_401(sales):
    import jwt

    payload = dict(AccessToken.for_user(sales).payload)
    forged = jwt.encode(payload, "not-the-server-key-but-long-enough-to-look-real", algorithm="HS256")
    assert_401(me(forged), "token_not_valid")


def test_a_refresh_token_is_not_an_access_token(sales):
    assert_401(me(str(RefreshToken.for_user(sales))), "token_not_valid")


def test_a_refresh_token_works_once(sales):
    tokens = obtain(APIClient(), "mona").json()
    first = APIClient().post(f"{API}/auth/token/refresh/", {"refresh": tokens["refresh"]}, format="json")
    assert first.status_code == 200
    assert set(first.json()) == {"access", "refresh"}
    assert first.json()["refresh"] != tokens["refresh"]
    assert me(first.json()["access"]).status_code == 200
    reused = APIClient().post(f"{API}/auth/token/refresh/", {"refresh": tokens["refresh"]}, format="json")
    assert_401(reused, "token_not_valid")
    # The rotated one still works (once).
    second = APIClient().post(f"{API}/auth/token/refresh/", {"refresh": first.json()["refresh"]}, format="json")
    assert second.status_code == 200


def test_a_blacklisted_refresh_token_is_401_everywhere(sales):
    tokens = obtain(APIClient(), "mona").json()
    out = APIClient().post(f"{API}/auth/token/blacklist/", {"refresh": tokens["refresh"]}, format="json")
    assert out.status_code == 200
    refresh = APIClient().post(f"{API}/auth/token/refresh/", {"refresh": tokens["refresh"]}, format="json")
    assert_401(refresh, "token_not_valid")
    verify = APIClient().post(f"{API}/auth/token/verify/", {"token": tokens["refresh"]}, format="json")
    assert_401(verify)


def test_verify_answers_200_for_a_good_token_and_401_for_a_bad_one(sales):
    tokens = obtain(APIClient(), "mona").json()
    assert APIClient().post(f"{API}/auth/token/verify/", {"token": tokens["access"]}, format="json").status_code == 200
    bad = APIClient().post(f"{API}/auth/token/verify/", {"token": tokens["access"] + "x"}, format="json")
    assert_401(bad, "token_not_valid")


def test_a_user_deactivated_after_the_token_was_issued_is_refused_on_the_next_request(sales):
    tokens = obtain(APIClient(), "mona").json()
    assert me(tokens["access"]).status_code == 200
    User.objects.filter(pk=sales.pk).update(is_active=False)
    assert_401(me(tokens["access"]), "user_inactive")
    refresh = APIClient().post(f"{API}/auth/token/refresh/", {"refresh": tokens["refresh"]}, format="json")
    assert_401(refresh, "no_active_account")


def test_a_password_change_revokes_issued_tokens(sales):
    tokens = obtain(APIClient(), "mona").json()
    sales.set_password("a-brand-new-pass-2026")
    sales.save(update_fields=["password"])
    assert_401(me(tokens["access"]), "password_changed")


def test_refreshing_for_a_deleted_user_is_401_not_500(world):
    gone = UserFactory(branch=world.branch_a, username="gone")
    refresh = str(RefreshToken.for_user(gone))
    gone.delete()
    response = APIClient().post(f"{API}/auth/token/refresh/", {"refresh": refresh}, format="json")
    assert_401(response)


@pytest.mark.parametrize("header", ["Bearer", "Bearer ", "Token abc", "Bearer a.b", "Bearer " + "x" * 5000])
def test_malformed_authorization_headers_are_401(header, sales):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=header)
    response = client.get(f"{API}/users/me/")
    assert response.status_code == 401, response.content


# --- The browser: session + CSRF ---------------------------------------------------------------------


def test_the_browser_session_works_and_writes_need_the_csrf_token(sales):
    client = APIClient(enforce_csrf_checks=True)
    client.force_login(sales)
    assert client.get(f"{API}/users/me/").status_code == 200
    refused = client.post(f"{API}/auth/ws-ticket/")
    assert refused.status_code == 403
    assert "CSRF" in refused.json()["error"]["message"]
    client.cookies["csrftoken"] = token = "k" * 32  # what the site's pages set
    accepted = client.post(f"{API}/auth/ws-ticket/", HTTP_X_CSRFTOKEN=token)
    assert accepted.status_code == 201
    assert consume_ws_ticket(accepted.json()["ticket"]) == sales


def test_a_session_of_a_deactivated_user_is_not_authenticated(sales):
    client = APIClient()
    client.force_login(sales)
    User.objects.filter(pk=sales.pk).update(is_active=False)
    assert client.get(f"{API}/users/me/").status_code in (401, 403)


# --- Throttling ---------------------------------------------------------------------------------------


def _rates(settings, **rates):
    rest = dict(settings.REST_FRAMEWORK)
    rest["DEFAULT_THROTTLE_RATES"] = {**rest["DEFAULT_THROTTLE_RATES"], **rates}
    settings.REST_FRAMEWORK = rest


def test_token_obtain_has_a_stricter_throttle(sales, settings):
    settings.AXES_ENABLED = False  # so the limit met is the throttle's, not the lockout's
    _rates(settings, auth="3/min")
    client = APIClient()
    for _ in range(3):
        assert obtain(client, "mona", "wrong").status_code == 401
    throttled = obtain(client, "mona")
    assert throttled.status_code == 429
    assert throttled.json()["error"]["code"] == "throttled"
    assert int(throttled["Retry-After"]) > 0
    assert throttled.json()["error"]["retry_after"] > 0


def test_signed_in_users_are_throttled_per_user(sales, world, api, settings):
    _rates(settings, user="2/min")
    client = api(sales)
    assert client.get(f"{API}/users/me/").status_code == 200
    assert client.get(f"{API}/users/me/").status_code == 200
    assert client.get(f"{API}/users/me/").status_code == 429
    # Another user has a budget of their own.
    assert api(world.user(Role.SALES)).get(f"{API}/users/me/").status_code == 200


def test_anonymous_clients_are_throttled_per_address(settings):
    _rates(settings, anon="2/min")
    client = APIClient()
    url = f"{API}/auth/token/verify/"
    for _ in range(2):
        assert client.post(url, {"token": "junk"}, format="json").status_code == 401
    assert client.post(url, {"token": "junk"}, format="json").status_code == 429
    # X-Forwarded-For from the client is not trusted (CRM_TRUSTED_PROXIES=0): no way around it.
    spoofed = client.post(url, {"token": "junk"}, format="json", HTTP_X_FORWARDED_FOR="203.0.113.9")
    assert spoofed.status_code == 429


# --- WebSocket tickets ----------------------------------------------------------------------------------


def test_a_ws_ticket_names_its_user_once(sales, api):
    response = api(sales).post(f"{API}/auth/ws-ticket/")
    assert response.status_code == 201
    body = response.json()
    assert body["expires_in"] == 30
    assert response["Cache-Control"] == "no-store"
    assert consume_ws_ticket(body["ticket"]) == sales
    assert consume_ws_ticket(body["ticket"]) is None


@pytest.mark.parametrize("ticket", [None, "", "nope", "x" * 500, 42])
def test_unknown_or_malformed_tickets_name_nobody(ticket, sales):
    assert consume_ws_ticket(ticket) is None


def test_an_expired_ticket_names_nobody(sales, settings):
    settings.CRM_WS_TICKET_SECONDS = 5
    ticket = issue_ws_ticket(sales)
    from crm_core.common.api import tickets

    cache.delete(tickets._cache_key(ticket))  # what expiry does
    assert consume_ws_ticket(ticket) is None


def test_a_ticket_of_a_user_deactivated_since_names_nobody(sales):
    ticket = issue_ws_ticket(sales)
    User.objects.filter(pk=sales.pk).update(is_active=False)
    assert consume_ws_ticket(ticket) is None


def _race_for(ticket: str, racers: int) -> list[int]:
    barrier = threading.Barrier(racers, timeout=30)
    winners: list[int] = []
    lock = threading.Lock()

    def handshake() -> None:
        try:
            barrier.wait()
            found = consume_ws_ticket(ticket)
            if found is not None:
                with lock:
                    winners.append(found.pk)
        finally:
            connection.close()

    threads = [threading.Thread(target=handshake) for _ in range(racers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return winners


@pytest.mark.django_db(transaction=True)
def test_a_ticket_raced_by_many_handshakes_is_accepted_exactly_once(world):
    user = world.user(Role.SALES)
    for _round in range(5):
        assert _race_for(issue_ws_ticket(user), 8) == [user.pk]


def test_anonymous_clients_get_no_ticket():
    response = APIClient().post(f"{API}/auth/ws-ticket/")
    assert_401(response)
