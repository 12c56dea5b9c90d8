"""Run Python in a fresh interpreter from the project's folder, for what is read once per process
(settings, management commands) and cannot be changed inside the test process."""

from __future__ import annotations

import os
import subprocess
import sys

from django.conf import settings


def environment(*, keep_django: bool = False, **changes: str) -> dict[str, str]:
    """This process's environment without the project's own variables, plus ``changes``."""
    dropped = ("CRM_", "AXES_") if keep_django else ("DJANGO_", "CRM_", "AXES_")
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in ("DATABASE_URL", "REDIS_URL") and not key.startswith(dropped)
    }
    env.update(changes)
    return env


def run_python(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, *args],
        cwd=settings.BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
