"""Browser tests: Debian's headless Chromium, driven by Playwright's sync API, against the app
served by Daphne (HTTP and WebSocket, see ``AsgiLiveServer``) on a transactional database.

Chromium is not optional where the suite runs for real: a missing /usr/bin/chromium (or a
missing Playwright) fails every browser test with a message saying what to install. A developer
without Chromium opts out explicitly with ``CRM_SKIP_BROWSER=1``, and the tests are then skipped
with that reason.

Playwright's sync API keeps an asyncio event loop registered as running in this thread for as
long as it is started. Django refuses database calls from a thread with a running loop
(SynchronousOnlyOperation), and pytest-asyncio cannot start its own loop next to it. So
Playwright lives only while this package's tests run (``scope="package"``), and
DJANGO_ALLOW_ASYNC_UNSAFE is set for exactly that time, never for the rest of the suite.

Each test gets a fresh browser context (no cookies). The context asks for English
(Accept-Language en-US) like a typical office PC, so the Arabic a test sees comes from the
app (the user's saved language, the language switch), not from the machine's locale.

Screenshots go to $BROWSER_SHOTS_DIR, by default test-output/screenshots/ at the repository
root, as ``<flow>-<step>-<lang>.png``; the language is read from the page's ``<html lang>``.
A failed test also leaves ``failure-<test>-<n>.png`` of each page it had open.
"""

from __future__ import annotations

import contextlib
import os
import re
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from django.apps import apps
from django.conf import settings
from django.contrib.auth.models import Group
from playwright.sync_api import expect, sync_playwright

from crm_core.accounts.models import Role
from crm_core.accounts.roles import sync_role_groups
from tests.browser.helpers import DESKTOP, shots_dir

CHROMIUM = "/usr/bin/chromium"
SKIP_ENV = "CRM_SKIP_BROWSER"
LAUNCH_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
]
# Long enough for a cold Chromium on a busy 2-core machine, short enough to fail fast.
TIMEOUT_MS = 15_000
FAILED = pytest.StashKey[bool]()


# --- Playwright and Chromium, for this package only ---------------------------------------------


@pytest.fixture(scope="package")
def browser() -> Iterator[Any]:
    if os.environ.get(SKIP_ENV) == "1":
        pytest.skip(f"{SKIP_ENV}=1: browser tests skipped on request (no Chromium on this machine)")
    if not os.access(CHROMIUM, os.X_OK):
        pytest.fail(
            f"{CHROMIUM} is missing: the browser tests drive Debian's Chromium. Install it "
            f"(apt-get install chromium; .ci/run does) or set {SKIP_ENV}=1 to skip them on a "
            "developer machine.",
            pytrace=False,
        )
    for stale in shots_dir().glob("failure-*.png"):
        stale.unlink()
    previous = os.environ.get("DJANGO_ALLOW_ASYNC_UNSAFE")
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    playwright = sync_playwright().start()
    try:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=LAUNCH_ARGS)
        try:
            yield chromium
        finally:
            chromium.close()
    finally:
        playwright.stop()
        if previous is None:
            os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
        else:
            os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = previous


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo) -> Any:
    report = yield
    if report.when == "call":
        item.stash[FAILED] = report.failed
    return report


class AsgiLiveServer:
    """Daphne serving config.asgi.application (HTTP and WebSocket, as in production) from a
    thread of this process, so it shares the test database, with static files from the finders.

    pytest-django's ``live_server`` is a WSGI server: every page's live stream (/ws/live/) would
    get a 404 there and show "live updates paused". The server's sync code runs in asgiref's
    single sync thread, so requests are handled one at a time, like the live server's.
    """

    def __init__(self) -> None:
        from daphne.server import Server  # installs Twisted's asyncio reactor first
        from django.contrib.staticfiles.handlers import ASGIStaticFilesHandler
        from twisted.internet import reactor

        from config import twisted_writes
        from config.asgi import application

        # As under the daphne command (config.asgi may have been imported before Twisted was).
        twisted_writes.install()
        if reactor.running or getattr(reactor, "_started", False):
            raise RuntimeError("Twisted's reactor already ran in this process; it cannot be started twice")
        self.reactor = reactor
        self.server = Server(
            application=ASGIStaticFilesHandler(application),
            endpoints=["tcp:port=0:interface=127.0.0.1"],
            signal_handlers=False,
            verbosity=0,
        )
        self.thread = threading.Thread(target=self.server.run, name="daphne-live-server", daemon=True)
        self.thread.start()
        deadline = time.monotonic() + 20
        while not self.server.listening_addresses:
            if time.monotonic() > deadline or not self.thread.is_alive():
                raise RuntimeError("Daphne did not start listening within 20 s")
            time.sleep(0.02)
        host, port = self.server.listening_addresses[0]
        self.url = f"http://{host}:{port}"

    def _busy(self) -> int:
        return sum(
            1
            for details in self.server.connections.values()
            if details.get("application_instance") is not None and not details["application_instance"].done()
        )

    def wait_idle(self, timeout: float = 30) -> None:
        """Wait until no request or socket is still being handled (closed browsers hang up first)."""
        from twisted.internet.threads import blockingCallFromThread

        deadline = time.monotonic() + timeout
        while blockingCallFromThread(self.reactor, self._busy):
            if time.monotonic() > deadline:
                raise RuntimeError(f"the live server is still busy after {timeout} s")
            time.sleep(0.02)

    def stop(self) -> None:
        self.reactor.callFromThread(self.reactor.stop)
        self.thread.join(timeout=10)


@pytest.fixture(scope="package")
def asgi_live_server(browser) -> Iterator[AsgiLiveServer]:
    server = AsgiLiveServer()
    yield server
    server.stop()


@pytest.fixture
def live_url(transactional_db, asgi_live_server) -> Iterator[str]:
    """The server's address for one test; the test's database is flushed only once it is idle."""
    yield asgi_live_server.url
    asgi_live_server.wait_idle()


@pytest.fixture
def new_context(request, browser, live_url) -> Iterator[Callable[..., Any]]:
    """Open a fresh browser context (its own cookies) on the live server; all are closed after the test.

    When the test failed, each open page is saved as failure-<test>-<n>.png next to the screenshots.
    """
    opened: list = []

    def make(**options: Any) -> Any:
        options.setdefault("viewport", DESKTOP)
        options.setdefault("locale", "en-US")
        options.setdefault("timezone_id", settings.TIME_ZONE)
        context = browser.new_context(base_url=live_url, **options)
        context.set_default_timeout(TIMEOUT_MS)
        context.set_default_navigation_timeout(TIMEOUT_MS)
        opened.append(context)
        return context

    yield make
    if request.node.stash.get(FAILED, False):
        name = re.sub(r"[^\w.-]+", "_", request.node.name)
        pages = [page for context in opened for page in context.pages]
        for number, page in enumerate(pages, start=1):
            with contextlib.suppress(Exception):
                page.screenshot(path=str(shots_dir() / f"failure-{name}-{number}.png"), full_page=True)
    for context in opened:
        context.close()


@pytest.fixture
def page(new_context) -> Any:
    return new_context().new_page()


@pytest.fixture(autouse=True)
def _expect_timeout(browser) -> None:
    expect.set_options(timeout=TIMEOUT_MS)


# --- Data ---------------------------------------------------------------------------------------


@pytest.fixture(autouse=True)
def role_groups(transactional_db) -> None:
    """A transactional test starts from whatever the last flush left: make sure the roles exist."""
    if Group.objects.filter(name__in=Role.values).count() != len(Role.values):
        sync_role_groups(apps)
