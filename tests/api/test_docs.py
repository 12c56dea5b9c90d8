"""The OpenAPI schema and the documentation page: served, offline, and under the strict CSP."""

from __future__ import annotations

import re

from django.contrib.staticfiles import finders
from django.test import Client


def test_the_schema_describes_every_endpoint_with_the_error_shape(db):
    response = Client().get("/api/schema/?format=json")
    assert response.status_code == 200
    schema = response.json()
    assert schema["openapi"].startswith("3.")
    assert "/api/v1/orders/{id}/transition/" in schema["paths"]
    assert schema["components"]["securitySchemes"].keys() >= {"jwtAuth", "cookieAuth"}
    transition = schema["paths"]["/api/v1/orders/{id}/transition/"]["post"]
    assert {"400", "401", "403", "404", "412", "429"} <= set(transition["responses"])
    payments = schema["paths"]["/api/v1/orders/{id}/payments/"]["post"]
    assert "Idempotency-Key" in {p["name"] for p in payments["parameters"]}
    assert "422" in payments["responses"]
    assert schema["components"]["schemas"]["Error"]["required"] == ["error"]


def test_the_docs_page_loads_everything_from_this_site_with_no_inline_script(db):
    response = Client().get("/api/docs/")
    assert response.status_code == 200
    html = response.content.decode()
    csp = response["Content-Security-Policy"]
    assert "script-src 'self'" in csp and "unsafe-inline" not in csp
    assert "<style" not in html
    scripts = re.findall(r"<script([^>]*)>(.*?)</script>", html, re.S)
    assert scripts and all('src="' in attrs and not body.strip() for attrs, body in scripts)
    sources = re.findall(r'(?:src|href)="([^"]+)"', html)
    assert sources and all(src.startswith("/") and not src.startswith("//") for src in sources), sources
    for src in sources:
        if src.startswith("/static/"):
            assert finders.find(src.removeprefix("/static/")), src
    start_up = Client().get("/api/docs/?script=")
    assert start_up.status_code == 200
    assert start_up["Content-Type"].startswith("application/javascript")
    assert "/api/schema/" in start_up.content.decode()
