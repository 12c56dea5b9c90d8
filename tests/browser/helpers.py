"""What the browser tests do over and over: sign in, switch language, screenshots, amounts."""

from __future__ import annotations

import os
import re
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path
from typing import Any

from django.conf import settings
from django.utils import translation
from playwright.sync_api import Page, expect

from crm_core.accounts.models import User

SHOTS_ENV = "BROWSER_SHOTS_DIR"
DESKTOP = {"width": 1280, "height": 900}
PHONE = {"width": 390, "height": 844}
# The password tests/factories.py gives every user.
PASSWORD = "pass-12345-word"


def shots_dir() -> Path:
    configured = os.environ.get(SHOTS_ENV)
    folder = Path(configured) if configured else Path(settings.BASE_DIR) / "test-output" / "screenshots"
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def login(page: Page, user: User | str, password: str = PASSWORD) -> None:
    """Sign in through the real form and wait for the signed-in page."""
    username = user if isinstance(user, str) else user.username
    page.goto("/accounts/login/")
    page.locator("#id_username").fill(username)
    page.locator("#id_password").fill(password)
    page.locator("form:has(#id_password) button[type=submit]").click()
    expect(page.locator("nav.navbar")).to_be_visible()
    expect(page).not_to_have_url(re.compile(r"/accounts/login/"))


def open_menu(page: Page) -> None:
    """On a narrow screen the navbar is collapsed behind its toggler: open it."""
    # Until the stylesheet has loaded, the toggler shows on every screen: decide after "load".
    page.wait_for_load_state("load")
    toggler = page.locator("nav.navbar .navbar-toggler")
    if toggler.is_visible():
        toggler.click()
        expect(page.locator("#main-nav")).to_be_visible()


def nav_to(page: Page, path: str) -> None:
    """Follow the main menu's link to ``path`` and wait for that page."""
    open_menu(page)
    page.locator(f"nav.navbar a.nav-link[href='{path}']").click()
    expect(page).to_have_url(re.compile(re.escape(path) + r"(\?.*)?$"))


def sign_out(page: Page) -> None:
    open_menu(page)
    page.locator("nav.navbar .dropdown-toggle:has(.avatar)").click()
    page.locator("form[action$='/accounts/logout/'] button").click()
    expect(page).to_have_url(re.compile(r"/accounts/login/"))


def switch_language(page: Page) -> str:
    """Click the language button (navbar, or the sign-in page's) and wait for the other language."""
    before = lang_of(page)
    open_menu(page)
    page.locator("[data-testid=language-switch]").first.click()
    expect(page.locator("html")).not_to_have_attribute("lang", before)
    return lang_of(page)


def ensure_language(page: Page, lang: str) -> None:
    if lang_of(page) != lang:
        switch_language(page)
    expect(page.locator("html")).to_have_attribute("lang", lang)


def lang_of(page: Page) -> str:
    return page.locator("html").get_attribute("lang") or "unknown"


def shot(page: Page, flow: str, step: str, *, full_page: bool = True) -> Path:
    """Save a screenshot of what the page shows now as <flow>-<step>-<lang>.png."""
    path = shots_dir() / f"{flow}-{step}-{lang_of(page)}.png"
    # Fonts and icon fonts are local files: wait for them so the picture shows the real page.
    page.evaluate("document.fonts.ready.then(() => true)")
    page.screenshot(path=str(path), full_page=full_page, animations="disabled", caret="hide")
    return path


def money(value: Decimal | int | str, lang: str) -> str:
    """An amount exactly as the pages write it in ``lang`` (the app's own ``money`` filter)."""
    from crm_core.common.templatetags.crm import money as money_filter

    with translation.override(lang):
        return str(money_filter(Decimal(value)))


def qty(value: Decimal | int | str, lang: str) -> str:
    from crm_core.common.templatetags.crm import qty as qty_filter

    with translation.override(lang):
        return str(qty_filter(Decimal(value)))


def translated(message: str, lang: str, **values: Any) -> str:
    """``message`` as the app's catalogue says it in ``lang``."""
    with translation.override(lang):
        text = translation.gettext(message)
    return text % values if values else text


def wait_until(page: Page, condition: Callable[[], bool], what: str, timeout_ms: int = 15_000) -> None:
    """Let Playwright deliver its events until ``condition()`` holds (for things outside the DOM)."""
    waited = 0
    while not condition():
        if waited >= timeout_ms:
            raise AssertionError(f"timed out after {timeout_ms} ms waiting for {what}")
        page.wait_for_timeout(50)
        waited += 50


def no_reload_marker(page: Page) -> None:
    """Mark the document; ``assert_not_reloaded`` fails if a navigation replaced it since."""
    page.evaluate("window.__crmNoReload = true")


def assert_not_reloaded(page: Page) -> None:
    assert page.evaluate("window.__crmNoReload === true"), "the page was reloaded"


# Marks the page once its live stream has confirmed a subscription: only then can a change made
# elsewhere reach it. (An init script runs before the page's own scripts and outside its CSP.)
WATCH_SUBSCRIBED = """
(() => {
  const Native = window.WebSocket;
  window.__crmSubscribed = 0;
  window.WebSocket = function (url, protocols) {
    const socket = protocols === undefined ? new Native(url) : new Native(url, protocols);
    socket.addEventListener("message", (message) => {
      try {
        if (JSON.parse(message.data).type === "subscribed") window.__crmSubscribed += 1;
      } catch (error) {}
    });
    return socket;
  };
  window.WebSocket.prototype = Native.prototype;
  Object.assign(window.WebSocket, { CONNECTING: 0, OPEN: 1, CLOSING: 2, CLOSED: 3 });
})();
"""
