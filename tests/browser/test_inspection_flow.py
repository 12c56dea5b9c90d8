"""Flow 3: a dispatcher schedules an inspection; the inspector, on a phone, carries it out."""

from __future__ import annotations

import io
import re
from datetime import datetime, timedelta

import pytest
from django.utils import timezone, translation
from PIL import Image
from playwright.sync_api import expect

from crm_core.accounts.models import Role
from crm_core.customers.services import customer_create
from crm_core.inspections.models import Inspection, InspectionOutcome, InspectionStatus
from crm_core.inspections.services import inspection_schedule
from tests.browser.helpers import PHONE, login, nav_to, shot

pytestmark = pytest.mark.browser

LANG = "ar"


def label(choice, lang: str = LANG) -> str:
    with translation.override(lang):
        return str(choice.label)


def png_bytes() -> bytes:
    picture = Image.new("RGB", (64, 48))
    picture.putdata([(x * 4, y * 5, 128) for y in range(48) for x in range(64)])
    buffer = io.BytesIO()
    picture.save(buffer, format="PNG")
    return buffer.getvalue()


def next_slot() -> datetime:
    """Local time 10 to 15 minutes from now, on a 5-minute mark (what a time input takes)."""
    now = timezone.localtime() + timedelta(minutes=10)
    return now.replace(second=0, microsecond=0) + timedelta(minutes=(5 - now.minute % 5) % 5)


def busy_period_on(day, start: datetime) -> tuple[datetime, datetime]:
    """An hour of the same local day that does not touch [start, start + 30 min)."""
    for begin in (start - timedelta(hours=2), start + timedelta(hours=1)):
        end = begin + timedelta(hours=1)
        if timezone.localtime(begin).date() == day and timezone.localtime(end).date() == day:
            return begin, end
    raise AssertionError("no free hour found on the day")  # pragma: no cover - a day has 24 hours


def test_dispatcher_schedules_and_inspector_records_the_result(world, new_context):
    dispatcher = world.user(Role.DISPATCHER, first_name="ياسمين", last_name="فؤاد")
    inspector = world.user(Role.INSPECTOR, first_name="كريم", last_name="منصور")
    sales = world.user(Role.SALES)
    customer = customer_create(
        actor=sales, name="شركة النيل للمقاولات", phone="0223456789", kind="company", address="١٢ شارع التحرير"
    )
    other = customer_create(actor=sales, name="هدى كامل", phone="01055554444")
    start = next_slot()
    day = start.date()
    busy_start, busy_end = busy_period_on(day, start)
    busy = inspection_schedule(
        actor=dispatcher, customer=other, scheduled_start=busy_start, scheduled_end=busy_end, inspector=inspector
    )

    # --- The dispatcher schedules the visit, looking at the inspector's day. -------------------
    desk = new_context().new_page()
    login(desk, dispatcher)
    nav_to(desk, "/inspections/")
    desk.locator("[data-testid=schedule-button]").click()
    expect(desk).to_have_url(re.compile(r"/inspections/new/"))
    expect(desk.locator("[data-testid=slots-hint]")).to_be_visible()

    desk.locator("#customer-q").fill("النيل")
    desk.locator("#customer-results label", has_text=customer.name).click()
    expect(desk.locator(f"#customer-{customer.pk}")).to_be_checked()

    desk.locator("#id_date").fill(day.isoformat())
    desk.locator("#id_inspector").select_option(str(inspector.pk))
    slots = desk.locator("#free-slots")
    expect(slots.locator("[data-testid=slots-title]")).to_contain_text(inspector.get_full_name())
    expect(slots.locator("[data-testid=busy-slot]")).to_have_count(1)
    expect(slots.locator("[data-testid=busy-slot]")).to_contain_text(busy.number)
    expect(slots.locator("[data-testid=busy-slot]")).to_contain_text(
        f"{timezone.localtime(busy_start):%H:%M}–{timezone.localtime(busy_end):%H:%M}"
    )
    assert slots.locator("[data-testid=free-slot]").count() >= 1
    shot(desk, "inspection", "schedule")

    desk.locator("#id_start_time").fill(f"{start:%H:%M}")
    desk.locator("#id_duration").select_option("30")
    desk.locator("[data-testid=schedule-form] [data-testid=submit]").click()
    expect(desk).to_have_url(re.compile(r"/inspections/\d+/$"))
    inspection = Inspection.objects.get(customer=customer)
    assert inspection.inspector_id == inspector.pk
    assert timezone.localtime(inspection.scheduled_start) == start
    expect(desk.locator("[data-testid=status]")).to_have_text(label(InspectionStatus.SCHEDULED))
    shot(desk, "inspection", "scheduled")

    # --- The inspector, on a phone, opens My day, starts the visit and records the result. -----
    phone = new_context(viewport=PHONE, is_mobile=True, has_touch=True).new_page()
    login(phone, inspector)
    nav_to(phone, "/inspections/")
    phone.locator("a[href='/inspections/my-day/']").click()
    expect(phone).to_have_url(re.compile(r"/inspections/my-day/"))
    if day != timezone.localdate():
        phone.locator("a[rel=next]").click()
    visit = phone.locator("[data-testid=my-day-visit]", has_text=customer.name)
    expect(visit).to_be_visible()
    expect(phone.locator("[data-testid=my-day-visit]")).to_have_count(2)
    shot(phone, "inspection", "my-day")

    visit.locator("[data-testid=start-button]").click()
    visit = phone.locator("[data-testid=my-day-visit]", has_text=customer.name)
    expect(visit.locator(".badge").first).to_have_text(label(InspectionStatus.IN_PROGRESS))
    visit.locator("[data-testid=result-button]").click()
    expect(phone).to_have_url(re.compile(rf"/inspections/{inspection.pk}/result/"))

    form = phone.locator("[data-testid=result-form]")
    form.locator("label", has_text=label(InspectionOutcome.FOLLOW_UP)).click()
    expect(form.locator("input[name=outcome][value=follow_up]")).to_be_checked()
    form.locator("#id_findings").fill("تسريب بسيط عند الوصلة الرئيسية.")
    form.locator("#id_m-0-name").fill("ضغط المياه (بار)")
    form.locator("#id_m-0-value").fill("2.5")
    form.locator("input[type=file][name=photos]").set_input_files(
        files=[{"name": "site.png", "mimeType": "image/png", "buffer": png_bytes()}]
    )
    shot(phone, "inspection", "result-form")
    form.locator("[data-testid=submit]").click()

    # Back on My day: done, with the outcome.
    expect(phone).to_have_url(re.compile(r"/inspections/my-day/"))
    visit = phone.locator("[data-testid=my-day-visit]", has_text=customer.name)
    expect(visit).to_contain_text(label(InspectionStatus.COMPLETED))
    expect(visit).to_contain_text(label(InspectionOutcome.FOLLOW_UP))
    expect(visit.locator("[data-testid=start-button]")).to_have_count(0)
    expect(visit.locator("[data-testid=result-button]")).to_have_count(0)
    inspection.refresh_from_db()
    assert inspection.status == InspectionStatus.COMPLETED

    # The visit's page: completed, the findings, the measurement and the photo's thumbnail.
    visit.locator(f"a[href='/inspections/{inspection.pk}/']").click()
    expect(phone.locator("[data-testid=status]")).to_have_text(label(InspectionStatus.COMPLETED))
    result = phone.locator("[data-testid=result]")
    expect(result).to_contain_text("تسريب بسيط عند الوصلة الرئيسية.")
    expect(result).to_contain_text("ضغط المياه (بار)")
    expect(result).to_contain_text("2.5")
    thumb = phone.locator("[data-testid=photos] img")
    expect(thumb).to_have_count(1)
    thumb.scroll_into_view_if_needed()
    phone.wait_for_function("img => img.complete && img.naturalWidth > 0", arg=thumb.element_handle())
    shot(phone, "inspection", "completed")

    # The dispatcher's page shows the same result after a reload.
    desk.reload()
    expect(desk.locator("[data-testid=status]")).to_have_text(label(InspectionStatus.COMPLETED))
    expect(desk.locator("[data-testid=photos] img")).to_have_count(1)
