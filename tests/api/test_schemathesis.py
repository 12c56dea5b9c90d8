"""Property-based tests of the whole API against its own OpenAPI schema (schemathesis).

For every operation in /api/schema/, schemathesis generates a handful of valid requests and sends
them through Django's WSGI application, authenticated as a head-office administrator over a
seeded two-branch scene; ids in paths name existing records, so updates and actions really run.
Each response must not be a server error and must conform to the schema: a documented status
code, content type and headers, and a body that validates against the response schema.
"""

from __future__ import annotations

import pytest
import schemathesis
from django.core.handlers.wsgi import WSGIHandler
from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from hypothesis import HealthCheck, settings
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)
from schemathesis.config import SchemathesisConfig

from tests.api.conftest import bearer

_COMMON = """
[phases.examples]
enabled = true

[phases.coverage]
enabled = false

[phases.stateful]
enabled = false

[parameters]
"path.id" = 1
"path.order_pk" = 1
"path.photo_pk" = 1
"""
# Valid and invalid requests (wrong types, missing fields, out-of-range values) alike.
CONFIG = SchemathesisConfig.from_str(
    """
seed = 20261124

[generation]
max-examples = 6
mode = "all"
"""
    + _COMMON
)


APP = WSGIHandler()
schema = schemathesis.openapi.from_wsgi("/api/schema/?format=json", APP, config=CONFIG)

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
]


@pytest.fixture
def keep_connection():
    """Requests must not close the test's database connection (its transaction holds the scene):
    what django.test.Client does, done here for schemathesis' WSGI client."""
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


@pytest.fixture
def admin_headers(scene, keep_connection) -> dict[str, str]:
    return {"Authorization": bearer(scene.head_admin)}


# The seeded scene is built once per operation; its examples share it (and its transaction).
HYPOTHESIS = settings(
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow, HealthCheck.filter_too_much],
)


@pytest.mark.django_db
@schema.parametrize()
@HYPOTHESIS
def test_the_api_answers_as_its_schema_says(case, admin_headers):
    case.call_and_validate(headers=admin_headers, checks=CHECKS)
