"""Settings from the environment, loudly (DESIGN.md rule 8).

Each case starts a fresh interpreter with ``config.settings``, because settings are read once
at import and the test process already runs on ``config.settings_test``.
"""

from __future__ import annotations

import json
import subprocess

import pytest

from tests.fresh_process import environment, run_python

_PROBE = """
import json
import django
from django.conf import settings
db = settings.DATABASES["default"]
print(json.dumps({
    "engine": db["ENGINE"],
    "db_name": str(db.get("NAME")),
    "db_host": db.get("HOST"),
    "db_options": {k: v for k, v in db.get("OPTIONS", {}).items() if k == "pool"},
    "channel_layer": settings.CHANNEL_LAYERS["default"]["BACKEND"],
    "channel_hosts": settings.CHANNEL_LAYERS["default"].get("CONFIG", {}).get("hosts"),
    "cache": settings.CACHES["default"]["BACKEND"],
    "cache_location": settings.CACHES["default"].get("LOCATION"),
    "time_zone": settings.TIME_ZONE,
    "language": settings.LANGUAGE_CODE,
    "currency": settings.CRM_CURRENCY,
    "tax_rate": str(settings.CRM_TAX_RATE),
    "debug": settings.DEBUG,
}))
"""
_OWNED = ("DATABASE_URL", "REDIS_URL")
_GOOD_KEY = "k" * 50


def _run(**env_changes: str) -> subprocess.CompletedProcess:
    return run_python("-c", _PROBE, env=environment(DJANGO_SETTINGS_MODULE="config.settings", **env_changes))


def _settings(**env_changes: str) -> dict:
    result = _run(**env_changes)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


def _refused(**env_changes: str) -> str:
    result = _run(**env_changes)
    assert result.returncode != 0, result.stdout
    assert "ImproperlyConfigured" in result.stderr
    return result.stderr.strip().splitlines()[-1]


def test_production_without_a_secret_key_refuses_to_start():
    message = _refused(DJANGO_ALLOWED_HOSTS="crm.example.com")
    assert "DJANGO_SECRET_KEY" in message


def test_production_with_a_short_secret_key_refuses_to_start():
    message = _refused(DJANGO_SECRET_KEY="too-short", DJANGO_ALLOWED_HOSTS="crm.example.com")
    assert "DJANGO_SECRET_KEY" in message


def test_production_without_allowed_hosts_refuses_to_start():
    message = _refused(DJANGO_SECRET_KEY=_GOOD_KEY)
    assert "DJANGO_ALLOWED_HOSTS" in message


def _manage(*args: str) -> subprocess.CompletedProcess:
    """``manage.py`` with none of the project's variables set, as in a bare checkout."""
    return run_python("manage.py", *args, env=environment())


def test_a_bare_checkout_can_check_its_migrations():
    """No key, no hosts, no debug: a command that only reads the code still runs (it used to fail
    with AppRegistryNotReady, the settings error swallowed by Django's command runner)."""
    result = _manage("makemigrations", "--check", "--dry-run")
    assert result.returncode == 0, result.stderr
    assert "No changes detected" in result.stdout


def test_a_bare_checkout_still_refuses_to_serve_or_touch_the_database():
    for command in (("check", "--deploy"), ("migrate", "--plan")):
        result = _manage(*command)
        assert result.returncode != 0
        assert "DJANGO_SECRET_KEY" in result.stderr


def test_production_with_key_and_hosts_starts():
    values = _settings(DJANGO_SECRET_KEY=_GOOD_KEY, DJANGO_ALLOWED_HOSTS="crm.example.com")
    assert values["debug"] is False


@pytest.mark.parametrize(
    ("variable", "value"),
    [
        ("DJANGO_DEBUG", "maybe"),
        ("CRM_TAX_RATE", "abc"),
        ("CRM_TAX_RATE", "1.5"),
        ("CRM_TAX_RATE", "-0.1"),
        ("CRM_TAX_RATE", "NaN"),
        ("CRM_TIME_ZONE", "Mars/Base"),
        ("CRM_LANGUAGE", "fr"),
        ("CRM_CURRENCY", "EURO"),
        ("CRM_CURRENCY", "E1P"),
        ("DATABASE_URL", "mysql://x"),
        ("DATABASE_URL", "postgres://"),
        ("REDIS_URL", "http://x"),
        ("CRM_DB_POOL_MAX", "0"),
        ("CRM_DB_POOL_MAX", "many"),
    ],
)
def test_a_malformed_value_stops_start_up_naming_the_variable(variable, value):
    changes = {"DJANGO_DEBUG": "1", variable: value}
    message = _refused(**changes)
    assert variable in message
    assert value in message


def test_embedded_default():
    values = _settings(DJANGO_DEBUG="1")
    assert values["engine"] == "django.db.backends.sqlite3"
    assert values["db_name"].endswith("db.sqlite3")
    assert values["channel_layer"] == "channels.layers.InMemoryChannelLayer"
    assert values["cache"] == "django.core.cache.backends.locmem.LocMemCache"
    assert values["debug"] is True


def test_defaults_are_cairo_arabic_egp():
    values = _settings(DJANGO_DEBUG="1")
    assert values["time_zone"] == "Africa/Cairo"
    assert values["language"] == "ar"
    assert values["currency"] == "EGP"
    assert values["tax_rate"] == "0.14"


def test_well_formed_values_are_taken():
    values = _settings(
        DJANGO_DEBUG="true",
        CRM_TIME_ZONE="Asia/Riyadh",
        CRM_LANGUAGE="en",
        CRM_CURRENCY="sar",
        CRM_TAX_RATE="0.15",
    )
    assert (values["time_zone"], values["language"], values["currency"], values["tax_rate"]) == (
        "Asia/Riyadh",
        "en",
        "SAR",
        "0.15",
    )


def test_database_url_switches_to_postgresql_with_a_pool():
    values = _settings(DJANGO_DEBUG="1", DATABASE_URL="postgres://u@h:5432/db", CRM_DB_POOL_MAX="7")
    assert values["engine"] == "django.db.backends.postgresql"
    assert (values["db_name"], values["db_host"]) == ("db", "h")
    assert values["db_options"]["pool"]["max_size"] == 7
    assert values["db_options"]["pool"]["min_size"] >= 1
    # The cache and channel layer stay embedded until REDIS_URL is set.
    assert values["channel_layer"] == "channels.layers.InMemoryChannelLayer"


def test_redis_url_switches_cache_and_channel_layer_to_redis():
    values = _settings(DJANGO_DEBUG="1", REDIS_URL="redis://cache.internal:6379/2")
    assert values["channel_layer"] == "realtime.redis_layer.RedisChannelLayer"
    assert values["channel_hosts"] == [{"address": "redis://cache.internal:6379/2", "max_connections": 1000}]
    # Django's RedisCache, degrading to "miss" while Redis is down (crm_core/common/cache.py).
    assert values["cache"] == "crm_core.common.cache.DegradingRedisCache"
    assert values["cache_location"] == "redis://cache.internal:6379/2"
    assert values["engine"] == "django.db.backends.sqlite3"
