"""The API's documentation page, served offline and under the site's strict CSP.

drf-spectacular's split Swagger view delivers its start-up script as a separate same-origin
file (``?script``), Swagger UI itself comes from drf-spectacular-sidecar's static files, and
this page's template has no inline ``<style>``: so ``script-src 'self'`` and ``style-src 'self'``
hold as they are, with nothing loaded from a CDN.
"""

from __future__ import annotations

from drf_spectacular.views import SpectacularSwaggerSplitView


class ApiDocsView(SpectacularSwaggerSplitView):
    template_name = "api/swagger_ui.html"
    title = "CRM API"
