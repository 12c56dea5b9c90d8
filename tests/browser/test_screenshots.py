"""Flow 6: the main pages, on the demo data set, in Arabic and in English, saved as screenshots.

Each page must load, show its heading and fit the window: no sideways scrolling of the whole
page in either direction (wide tables scroll inside their own box).
"""

from __future__ import annotations

import io
from datetime import timedelta

import pytest
from django.db.models import Count, Q
from django.utils import timezone
from playwright.sync_api import Page, expect

from crm_core.accounts.models import Notification, User
from crm_core.common.seeding.base import seed_base
from crm_core.common.seeding.names import ADMIN_USERNAME, DEMO_PASSWORD
from crm_core.customers.models import Customer
from crm_core.inspections.models import Inspection
from crm_core.orders.models import Order
from tests.browser.helpers import PHONE, ensure_language, login, shot

pytestmark = pytest.mark.browser


def visit(page: Page, path: str, name: str) -> None:
    response = page.goto(path)
    assert response is not None and response.ok, f"{path} answered {response and response.status}"
    expect(page.locator("main h1").first).to_be_visible()
    overflow = page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")
    assert overflow <= 0, f"{path} ({page.locator('html').get_attribute('lang')}) is {overflow}px wider than the window"
    shot(page, "pages", name)


@pytest.fixture
def demo(transactional_db):
    seed_base(log=io.StringIO().write)
    customer = (
        Customer.objects.filter(branch__code="CAI")
        .annotate(n_orders=Count("orders"))
        .order_by("-n_orders", "id")
        .first()
    )
    order = (
        Order.objects.filter(branch__code="CAI")
        .annotate(n_payments=Count("payments", distinct=True), n_items=Count("items", distinct=True))
        .filter(n_payments__gt=0)
        .order_by("-n_items", "id")
        .first()
    )
    # Whoever has the most notifications shows the notifications page best.
    alerted = (
        User.objects.annotate(n=Count("notifications", filter=Q(notifications__is_read=False)))
        .filter(n__gt=0)
        .order_by("-n", "id")
        .first()
    )
    # The inspector with the most visits today, or on the nearest day with visits (none on Fridays).
    today = timezone.localdate()
    for offset in (0, 1, -1, 2, -2, 3, -3):
        day = today + timedelta(days=offset)
        busiest = (
            Inspection.objects.filter(scheduled_start__date=day, inspector__isnull=False)
            .values("inspector")
            .annotate(n=Count("id"))
            .order_by("-n", "inspector")
            .first()
        )
        if busiest:
            break
    assert busiest, "the demo data should plan visits this week"
    inspector = User.objects.get(pk=busiest["inspector"])
    my_day = "/inspections/my-day/" if day == today else f"/inspections/my-day/?date={day.isoformat()}"
    return {"customer": customer, "order": order, "alerted": alerted, "inspector": inspector, "my_day": my_day}


def test_main_pages_in_arabic_and_english(demo, new_context):
    assert demo["customer"] is not None and demo["order"] is not None
    assert demo["alerted"] is not None, "the demo data should leave someone with notifications"
    assert Notification.objects.exists()
    admin_pages = [
        ("/", "dashboard"),
        ("/customers/", "customers"),
        (f"/customers/{demo['customer'].pk}/", "customer-detail"),
        ("/orders/", "orders"),
        (f"/orders/{demo['order'].pk}/", "order-detail"),
        ("/inspections/", "inspections"),
        ("/inspections/calendar/", "calendar"),
        ("/inventory/", "stock-levels"),
        ("/inventory/movements/", "movement-ledger"),
        ("/accounts/users/", "users-admin"),
    ]

    desk = new_context().new_page()
    login(desk, ADMIN_USERNAME, DEMO_PASSWORD)
    alerts = new_context().new_page()
    login(alerts, demo["alerted"].username, DEMO_PASSWORD)
    phone = new_context(viewport=PHONE, is_mobile=True, has_touch=True).new_page()
    login(phone, demo["inspector"].username, DEMO_PASSWORD)

    for lang in ("ar", "en"):
        ensure_language(desk, lang)
        for path, name in admin_pages:
            visit(desk, path, name)
        ensure_language(alerts, lang)
        visit(alerts, "/accounts/notifications/", "notifications")
        ensure_language(phone, lang)
        visit(phone, demo["my_day"], "my-day-phone")
        expect(phone.locator("[data-testid=my-day-visit]").first).to_be_visible()
