"""The dispatch board in two browsers at once: one dispatcher drags a card, the other sees it
arrive without reloading; a drag that would double-book an inspector is refused and the card
stays where it was."""

from __future__ import annotations

from datetime import datetime, time, timedelta

import pytest
from django.utils import timezone, translation
from playwright.sync_api import Page, expect

from crm_core.accounts.models import Role
from crm_core.customers.services import customer_create
from crm_core.inspections.models import Inspection
from crm_core.inspections.selectors import board_column_id
from crm_core.inspections.services import inspection_cancel, inspection_schedule
from tests.browser.helpers import PHONE, WATCH_SUBSCRIBED, assert_not_reloaded, login, no_reload_marker, shot

pytestmark = pytest.mark.browser


def at(day, hour: int, minute: int = 0) -> datetime:
    return timezone.make_aware(datetime.combine(day, time(hour, minute)))


def open_board(page: Page, user, day) -> None:
    page.add_init_script(WATCH_SUBSCRIBED)
    login(page, user)
    page.goto(f"/inspections/board/?date={day.isoformat()}")
    expect(page.locator("#dispatch-board")).to_be_visible()
    page.wait_for_function("() => window.__crmSubscribed > 0")


def test_two_dispatchers_share_one_live_board(world, new_context):
    ar_dispatcher = world.user(Role.DISPATCHER, first_name="ياسمين", last_name="فؤاد", language="ar")
    en_dispatcher = world.user(Role.DISPATCHER, first_name="Omar", last_name="Hassan", language="en")
    karim = world.user(Role.INSPECTOR, first_name="كريم", last_name="منصور")
    sami = world.user(Role.INSPECTOR, first_name="سامي", last_name="عادل")
    nour = world.user(Role.INSPECTOR, first_name="نور", last_name="الدين")
    sales = world.user(Role.SALES)
    nile = customer_create(
        actor=sales, name="شركة النيل للمقاولات", phone="0223456789", address="١٢ شارع التحرير، الدقي"
    )
    huda = customer_create(actor=sales, name="هدى كامل", phone="01055554444", address="٥ طريق الكورنيش")
    delta = customer_create(actor=sales, name="مصنع الدلتا", phone="0403334444", address="المنطقة الصناعية، طنطا")
    day = timezone.localdate() + timedelta(days=1)

    def book(customer, inspector, start, minutes=60):
        return inspection_schedule(
            actor=ar_dispatcher,
            customer=customer,
            scheduled_start=start,
            scheduled_end=start + timedelta(minutes=minutes),
            inspector=inspector,
        )

    moving = book(nile, karim, at(day, 9))
    busy = book(delta, nour, at(day, 9, 30))
    waiting = book(huda, None, at(day, 12))
    book(delta, sami, at(day, 15), minutes=90)
    dropped = book(huda, karim, at(day, 16))
    inspection_cancel(actor=ar_dispatcher, inspection=dropped, reason="العميل طلب التأجيل")

    def column(person) -> str:
        return "#" + board_column_id(day, world.branch_a.pk, person.pk if person else None)

    first = new_context().new_page()
    second = new_context().new_page()
    open_board(first, ar_dispatcher, day)
    open_board(second, en_dispatcher, day)
    expect(first.locator("html")).to_have_attribute("lang", "ar")
    expect(second.locator("html")).to_have_attribute("lang", "en")
    for page in (first, second):
        expect(page.locator(f"{column(karim)} #board-card-{moving.pk}")).to_be_visible()
        expect(page.locator(f"{column(None)} #board-card-{waiting.pk}")).to_be_visible()
    shot(first, "dispatch-board", "day")
    shot(second, "dispatch-board", "day")
    no_reload_marker(second)

    # --- Dispatcher 1 gives Karim's 09:00 visit to Sami: dispatcher 2 sees it arrive. -----------
    first.locator(f"#board-card-{moving.pk}").drag_to(first.locator(f"{column(sami)}-title"))

    # The server's answer replaces the card (version 2) once the change is committed. The test
    # reads the database only then: SQLite's shared in-memory database locks a table that the
    # server is writing.
    expect(first.locator(f"{column(sami)} #board-card-{moving.pk}")).to_have_attribute("data-version", "2")
    assert Inspection.objects.get(pk=moving.pk).inspector_id == sami.pk
    expect(second.locator(f"{column(sami)} #board-card-{moving.pk}")).to_be_visible(timeout=5_000)
    expect(second.locator(f"{column(karim)} #board-card-{moving.pk}")).to_have_count(0)
    # The column counts follow: Sami has two visits now, Karim none that still hold time.
    expect(second.locator(f"[data-board-column]:has({column(sami)}) [data-board-count]")).to_have_text("2")
    expect(second.locator(f"[data-board-column]:has({column(karim)}) [data-board-count]")).to_have_text("0")
    assert_not_reloaded(second)

    # --- Dispatcher 2 drops the unassigned visit on Karim's 14:00: who and when at once. --------
    second.locator(f"#board-card-{waiting.pk}").drag_to(
        second.locator(f"{column(karim)} [data-board-drop=slot][data-time='14:00']")
    )
    expect(second.locator(f"{column(karim)} #board-card-{waiting.pk}")).to_have_attribute("data-version", "2")
    waiting.refresh_from_db()
    assert waiting.inspector_id == karim.pk
    assert timezone.localtime(waiting.scheduled_start).time() == time(14, 0)
    assert waiting.scheduled_end - waiting.scheduled_start == timedelta(hours=1)
    card = first.locator(f"{column(karim)} #board-card-{waiting.pk}")
    expect(card).to_be_visible(timeout=5_000)
    expect(card.locator(".board-card-time")).to_have_text("14:00–15:00")
    # Sorted by time, and the cancelled 16:00 visit stays last.
    ids = first.locator(f"{column(karim)} .board-card").evaluate_all("cards => cards.map(c => c.id)")
    assert ids == [f"board-card-{waiting.pk}", f"board-card-{dropped.pk}"]

    # --- A drag that would double-book Nour is refused: the card stays with Sami. --------------
    before = Inspection.objects.get(pk=moving.pk).version
    first.locator(f"#board-card-{moving.pk}").drag_to(first.locator(f"{column(nour)}-title"))

    with translation.override("ar"):
        refusal = translation.gettext("%(inspector)s is already booked from %(start)s to %(end)s (%(number)s).")
    expected = refusal.split("%(")[0].strip()
    toast = first.locator(".toast", has_text=busy.number)
    expect(toast).to_be_visible()
    if expected:
        expect(toast).to_contain_text(expected)
    expect(first.locator(f"{column(sami)} #board-card-{moving.pk}")).to_be_visible()
    expect(first.locator(f"{column(nour)} #board-card-{moving.pk}")).to_have_count(0)
    expect(second.locator(f"{column(sami)} #board-card-{moving.pk}")).to_be_visible()
    row = Inspection.objects.get(pk=moving.pk)
    assert (row.inspector_id, row.version) == (sami.pk, before)
    shot(first, "dispatch-board", "refused")
    shot(second, "dispatch-board", "moved")


def test_the_move_dialog_moves_a_card_from_the_keyboard(world, new_context):
    dispatcher = world.user(Role.DISPATCHER, language="en")
    karim = world.user(Role.INSPECTOR, first_name="Karim", last_name="Mansour")
    sami = world.user(Role.INSPECTOR, first_name="Sami", last_name="Adel")
    customer = customer_create(actor=world.user(Role.SALES), name="Nile Contracting", phone="0223456789")
    day = timezone.localdate() + timedelta(days=2)
    visit = inspection_schedule(
        actor=dispatcher, customer=customer, scheduled_start=at(day, 10), scheduled_end=at(day, 11), inspector=karim
    )
    page = new_context().new_page()
    open_board(page, dispatcher, day)

    page.locator(f"#board-card-{visit.pk} [data-testid=board-move]").focus()
    page.keyboard.press("Enter")
    dialog = page.locator("#board-move-dialog")
    expect(dialog).to_be_visible()
    expect(dialog.locator("[data-board-move-summary]")).to_contain_text(visit.number)
    expect(dialog.locator("#board-move-time")).to_have_value("10:00")
    dialog.locator("#board-move-inspector").select_option(str(sami.pk))
    dialog.locator("#board-move-time").fill("13:30")
    shot(page, "dispatch-board", "move-dialog")
    dialog.locator("[data-testid=board-move-submit]").click()

    column = "#" + board_column_id(day, world.branch_a.pk, sami.pk)
    expect(page.locator(f"{column} #board-card-{visit.pk} .board-card-time")).to_have_text("13:30–14:30")
    expect(page.locator(f"#board-card-{visit.pk}")).to_have_attribute("data-version", "2")
    visit.refresh_from_db()
    assert visit.inspector_id == sami.pk
    assert timezone.localtime(visit.scheduled_start).time() == time(13, 30)


def test_the_other_inspection_pages_follow_the_board(world, new_context):
    dispatcher = world.user(Role.DISPATCHER, language="en")
    office = world.user(Role.DISPATCHER, language="en")
    karim = world.user(Role.INSPECTOR, first_name="Karim", last_name="Mansour", language="en")
    sami = world.user(Role.INSPECTOR, first_name="Sami", last_name="Adel", language="en")
    customer = customer_create(actor=world.user(Role.SALES), name="Delta Works", phone="0403334444")
    # Today, an hour ago: the visit can be started at once.
    now = timezone.localtime()
    day = now.date()
    start = now.replace(minute=0, second=0, microsecond=0) - timedelta(hours=1 if now.hour >= 1 else 0)
    visit = inspection_schedule(
        actor=dispatcher,
        customer=customer,
        scheduled_start=start,
        scheduled_end=start + timedelta(hours=2),
        inspector=karim,
    )

    watcher = new_context()
    detail = watcher.new_page()
    detail.add_init_script(WATCH_SUBSCRIBED)
    login(detail, office)
    detail.goto(f"/inspections/{visit.pk}/")
    detail.wait_for_function("() => window.__crmSubscribed > 0")
    listing = watcher.new_page()
    listing.add_init_script(WATCH_SUBSCRIBED)
    listing.goto(f"/inspections/?date_from={day.isoformat()}")
    listing.wait_for_function("() => window.__crmSubscribed > 0")
    phones = {}
    for person in (karim, sami):
        phone = new_context(viewport=PHONE).new_page()
        phone.add_init_script(WATCH_SUBSCRIBED)
        login(phone, person)
        phone.goto(f"/inspections/my-day/?date={day.isoformat()}")
        phone.wait_for_function("() => window.__crmSubscribed > 0")
        phones[person.pk] = phone
    expect(phones[karim.pk].locator("[data-testid=my-day-visit]")).to_have_count(1)
    expect(phones[sami.pk].locator("[data-testid=my-day-visit]")).to_have_count(0)
    board = new_context().new_page()
    open_board(board, dispatcher, day)

    # The dispatcher gives the visit to Sami on the board.
    board.locator(f"#board-card-{visit.pk}").drag_to(
        board.locator("#" + board_column_id(day, world.branch_a.pk, sami.pk) + "-title")
    )

    expect(detail.locator(f"#inspection-{visit.pk}-inspector")).to_have_text("Sami Adel", timeout=5_000)
    expect(listing.locator(f"#inspection-{visit.pk}-list-inspector")).to_have_text("Sami Adel")
    expect(phones[karim.pk].locator("[data-testid=my-day-visit]")).to_have_count(0)
    expect(phones[sami.pk].locator("[data-testid=my-day-visit]")).to_have_count(1)
    # The detail page's buttons carry the new version: Start works there without a reload.
    expect(detail.locator("#inspection-panels input[name=version]").first).to_have_value("2")

    # Sami starts the visit on his phone: every page's status chip says so.
    phones[sami.pk].locator("[data-testid=start-button]").click()
    expect(detail.locator(f"#inspection-{visit.pk}-status")).to_have_text("In progress", timeout=5_000)
    expect(listing.locator(f"#inspection-{visit.pk}-list-status")).to_have_text("In progress")
    card = board.locator(f"#board-card-{visit.pk}")
    expect(card.locator("[data-testid=board-status]")).to_have_text("In progress")
    expect(card).not_to_have_attribute("draggable", "true")
    shot(detail, "dispatch-board", "detail-live")
    shot(phones[sami.pk], "dispatch-board", "my-day-live")
