"""The API's knobs come from the environment, loudly (DESIGN.md rule 8), and the schema has no
warnings (what `manage.py spectacular --validate --fail-on-warn` checks)."""

from __future__ import annotations

import json
import subprocess

import pytest
from django.core.management import call_command

from tests.fresh_process import environment, run_python

_PROBE = """
import json
from django.conf import settings
print(json.dumps({
    "rates": settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"],
    "access_seconds": settings.SIMPLE_JWT["ACCESS_TOKEN_LIFETIME"].total_seconds(),
    "refresh_days": settings.SIMPLE_JWT["REFRESH_TOKEN_LIFETIME"].days,
    "ticket_seconds": settings.CRM_WS_TICKET_SECONDS,
    "proxies": settings.REST_FRAMEWORK["NUM_PROXIES"],
}))
"""


def _run(**env_changes: str) -> subprocess.CompletedProcess:
    env = environment(DJANGO_SETTINGS_MODULE="config.settings", DJANGO_DEBUG="1", **env_changes)
    return run_python("-c", "import django; django.setup()\n" + _PROBE, env=env)


def test_defaults_and_overrides():
    result = _run()
    assert result.returncode == 0, result.stderr
    defaults = json.loads(result.stdout.strip().splitlines()[-1])
    assert defaults["rates"] == {"anon": "60/min", "user": "1200/min", "auth": "10/min"}
    assert 5 * 60 <= defaults["access_seconds"] <= 15 * 60
    assert defaults["ticket_seconds"] == 30
    assert defaults["proxies"] == 0
    result = _run(
        CRM_API_AUTH_RATE="5/hour", CRM_JWT_ACCESS_MINUTES="5", CRM_JWT_REFRESH_DAYS="2", CRM_TRUSTED_PROXIES="1"
    )
    assert result.returncode == 0, result.stderr
    values = json.loads(result.stdout.strip().splitlines()[-1])
    assert values["rates"]["auth"] == "5/hour"
    assert values["access_seconds"] == 300
    assert values["refresh_days"] == 2
    assert values["proxies"] == 1


@pytest.mark.parametrize(
    ("variable", "value"),
    [
        ("CRM_API_USER_RATE", "lots"),
        ("CRM_API_ANON_RATE", "0/min"),
        ("CRM_API_AUTH_RATE", "10/fortnight"),
        ("CRM_JWT_ACCESS_MINUTES", "0"),
        ("CRM_JWT_ACCESS_MINUTES", "600"),
        ("CRM_WS_TICKET_SECONDS", "1"),
        ("CRM_IDEMPOTENCY_TTL_HOURS", "soon"),
    ],
)
def test_a_malformed_value_stops_start_up_naming_the_variable(variable, value):
    result = _run(**{variable: value})
    assert result.returncode != 0, result.stdout
    message = result.stderr.strip().splitlines()[-1]
    assert "ImproperlyConfigured" in message
    assert variable in message and value in message


def test_the_schema_generates_without_a_single_warning(tmp_path):
    call_command("spectacular", "--validate", "--fail-on-warn", "--file", str(tmp_path / "schema.yml"))
    assert (tmp_path / "schema.yml").stat().st_size > 10_000
