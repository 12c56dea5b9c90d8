"""Flow 5: the language switch flips the page's language and direction, and the choice stays."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from crm_core.accounts.models import Role
from tests.browser.helpers import login, nav_to, shot, sign_out, switch_language, wait_until

pytestmark = pytest.mark.browser


def assert_arabic(page: Page) -> None:
    html = page.locator("html")
    expect(html).to_have_attribute("lang", "ar")
    expect(html).to_have_attribute("dir", "rtl")
    expect(page.locator("link[href*='bootstrap.rtl']")).to_have_count(1)


def assert_english(page: Page) -> None:
    html = page.locator("html")
    expect(html).to_have_attribute("lang", "en")
    expect(html).to_have_attribute("dir", "ltr")
    expect(page.locator("link[href*='bootstrap.rtl']")).to_have_count(0)


def brand_side(page: Page) -> str:
    """Which half of the window the navbar's brand sits in: the start of the reading direction."""
    box = page.locator(".navbar-brand").bounding_box()
    assert box is not None
    return "right" if box["x"] + box["width"] / 2 > page.viewport_size["width"] / 2 else "left"


def test_language_switch_flips_direction_and_is_remembered(world, new_context):
    user = world.user(Role.SALES)
    page = new_context().new_page()

    # Signed in, the page's live stream connects and the server greets it.
    frames: list[str] = []
    page.on(
        "websocket",
        lambda ws: (
            ws.on("framereceived", lambda payload: frames.append(str(payload)))
            if ws.url.endswith("/ws/live/")
            else None
        ),
    )
    login(page, user)
    wait_until(page, lambda: any('"type":"hello"' in frame for frame in frames), "the live stream's hello")
    expect(page.locator("#live-status:visible")).to_have_count(0)

    assert_arabic(page)
    assert brand_side(page) == "right"
    nav_to(page, "/customers/")
    heading = page.locator("h1")
    arabic_heading = heading.inner_text()
    shot(page, "language", "before")

    # The navbar's switch: same page, now English and left-to-right.
    switch_language(page)
    assert_english(page)
    expect(page).to_have_url(re.compile(r"/customers/$"))
    assert brand_side(page) == "left"
    expect(heading).not_to_have_text(arabic_heading)
    expect(page.locator("[data-testid=language-switch]")).to_have_text("العربية")
    shot(page, "language", "after")
    user.refresh_from_db()
    assert user.language == "en"

    # Remembered: on the next page, after a reload, on the sign-in page after signing out …
    nav_to(page, "/orders/")
    assert_english(page)
    page.reload()
    assert_english(page)
    sign_out(page)
    assert_english(page)
    # … and after signing in again.
    login(page, user)
    assert_english(page)
    assert brand_side(page) == "left"

    # On another device whose browser asks for Arabic, the user's saved choice wins once signed in.
    other = new_context(locale="ar-EG").new_page()
    other.goto("/accounts/login/")
    assert_arabic(other)
    login(other, user)
    assert_english(other)

    # Switching back works the same way.
    switch_language(other)
    assert_arabic(other)
    assert brand_side(other) == "right"
    user.refresh_from_db()
    assert user.language == "ar"
