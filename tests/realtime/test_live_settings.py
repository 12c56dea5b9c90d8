"""The live streams' settings come from the environment, loudly (DESIGN.md rule 8)."""

from __future__ import annotations

import json
import subprocess

from tests.fresh_process import environment, run_python

_PROBE = """
import json
from django.conf import settings
layer = settings.CHANNEL_LAYERS["default"]
print(json.dumps({
    "layer": layer["BACKEND"],
    "config": layer.get("CONFIG", {}),
    "cache_prefix": settings.CACHES["default"].get("KEY_PREFIX"),
    "cache_options": settings.CACHES["default"].get("OPTIONS", {}),
    "check": settings.CRM_LIVE_CHECK_SECONDS,
}))
"""


def _run(**env_changes: str) -> subprocess.CompletedProcess:
    env = environment(keep_django=True, DJANGO_SETTINGS_MODULE="config.settings", DJANGO_DEBUG="1", **env_changes)
    return run_python("-c", "import django; django.setup()\n" + _PROBE, env=env)


def test_redis_deployment_gets_prefix_capacity_expiry_and_bounded_cache_calls():
    result = _run(
        REDIS_URL="redis://cache.internal:6379/3",
        CRM_REDIS_PREFIX="crm-eu",
        CRM_CHANNEL_CAPACITY="4000",
        CRM_CHANNEL_EXPIRY="20",
        CRM_CHANNEL_GROUP_EXPIRY="3600",
    )
    assert result.returncode == 0, result.stderr
    values = json.loads(result.stdout)
    assert values["config"]["prefix"] == "crm-eu"
    assert (values["config"]["capacity"], values["config"]["expiry"], values["config"]["group_expiry"]) == (
        4000,
        20,
        3600,
    )
    assert values["cache_prefix"] == "crm-eu:cache"  # apart from the layer's keys, which clear() spares
    assert values["cache_options"]["socket_timeout"] <= 2  # a dead Redis costs a request seconds, not minutes


def test_the_embedded_default_uses_the_same_capacity_knobs():
    values = json.loads(_run(CRM_CHANNEL_CAPACITY="50").stdout)
    assert values["layer"] == "channels.layers.InMemoryChannelLayer"
    assert values["config"]["capacity"] == 50
    assert values["check"] == 5


def test_malformed_values_stop_start_up_naming_the_variable():
    for name, value in (
        ("CRM_REDIS_PREFIX", "crm prefix with spaces"),
        ("CRM_CHANNEL_CAPACITY", "lots"),
        ("CRM_CHANNEL_CAPACITY", "3"),
        ("CRM_LIVE_CHECK_SECONDS", "0"),
    ):
        result = _run(**{name: value})
        assert result.returncode != 0, (name, value)
        assert name in result.stderr, (name, value, result.stderr[-300:])
