"""Production serves static files from ``collectstatic``'s hashed manifest: every file it ships
must survive post-processing (a CSS or JS file that names a missing source map fails it)."""

from __future__ import annotations

import json

from django.core.management import call_command


def test_collectstatic_builds_the_production_manifest(settings, tmp_path):
    settings.STATIC_ROOT = tmp_path
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
    }

    call_command("collectstatic", interactive=False, verbosity=0)

    manifest = json.loads((tmp_path / "staticfiles.json").read_text())["paths"]
    for name in (
        "vendor/bootstrap/css/bootstrap.rtl.min.css",
        "vendor/bootstrap/js/bootstrap.bundle.min.js",
        "js/live.js",
        "css/app.css",
    ):
        assert name in manifest
        assert (tmp_path / manifest[name]).is_file()
        assert (tmp_path / (manifest[name] + ".gz")).is_file()
