"""Flow 1: a salesperson signs in (Arabic by default) and adds a customer through the form."""

from __future__ import annotations

import re

import pytest
from django.utils import translation
from django.utils.translation import gettext
from playwright.sync_api import expect

from crm_core.accounts.models import Role
from crm_core.customers.models import Customer
from crm_core.customers.services import customer_create
from tests.browser.helpers import login, shot

pytestmark = pytest.mark.browser

NAME = "أحمد عبد الرحمن"
# Arabic-Indic digits, as typed on an Arabic keyboard; 6 digits first (too short), then 11.
SHORT_PHONE = "٠١٠ ١٢٣"
PHONE = "٠١٠ ١٢٣ ٤٥٦٧٨"
PHONE_DIGITS = "01012345678"


def test_sales_signs_in_in_arabic_and_adds_a_customer(world, page):
    sales = world.user(Role.SALES)
    # Someone the search must leave out.
    customer_create(actor=sales, name="محمود سعيد", phone="01099999999")

    login(page, sales)
    # The browser asks for English; the user's saved language (Arabic, the default) wins.
    html = page.locator("html")
    expect(html).to_have_attribute("dir", "rtl")
    expect(html).to_have_attribute("lang", "ar")
    shot(page, "customer", "signed-in")

    page.locator("nav.navbar a.nav-link[href='/customers/']").click()
    expect(page).to_have_url(re.compile(r"/customers/$"))
    page.locator("[data-testid=new-customer]").click()
    expect(page).to_have_url(re.compile(r"/customers/new/$"))

    # 1. No name: the browser refuses to send the form and marks the field.
    name = page.locator("#id_name")
    phone = page.locator("#id_phone")
    phone.fill(PHONE)
    page.locator("[data-testid=save-customer]").click()
    assert name.evaluate("el => el.validity.valueMissing") is True
    assert name.evaluate("el => el.validationMessage") != ""
    expect(page).to_have_url(re.compile(r"/customers/new/$"))
    assert Customer.objects.filter(name=NAME).count() == 0

    # 2. A phone number with too few digits passes the browser's pattern; the server refuses it
    #    with a field error in Arabic, keeps what was typed and saves nothing.
    name.fill(NAME)
    phone.fill(SHORT_PHONE)
    page.locator("[data-testid=save-customer]").click()
    error = page.locator("#id_phone_error")
    with translation.override("ar"):
        expected_error = gettext("Enter a phone number of at least 7 digits.")
    expect(error).to_have_text(expected_error)
    expect(page.locator("#id_phone")).to_have_class(re.compile(r"\bis-invalid\b"))
    expect(page.locator("#id_name")).to_have_value(NAME)
    expect(page.locator("#id_phone")).to_have_value(SHORT_PHONE)
    assert Customer.objects.filter(name=NAME).count() == 0
    shot(page, "customer", "phone-error")

    # 3. Fixed: saved, and the customer's page shows it.
    page.locator("#id_phone").fill(PHONE)
    page.locator("[data-testid=save-customer]").click()
    expect(page).to_have_url(re.compile(r"/customers/\d+/$"))
    customer = Customer.objects.get(name=NAME)
    assert page.url.endswith(f"/customers/{customer.pk}/")
    expect(page.locator("h1")).to_contain_text(NAME)
    expect(page.locator("[data-testid=customer-code]")).to_have_text(customer.code)
    # The number as typed, dialled as plain digits.
    expect(page.locator(f"a[href='tel:{PHONE_DIGITS}']").first).to_have_text(PHONE)
    assert customer.phone_digits == PHONE_DIGITS
    shot(page, "customer", "detail")

    # 4. The list finds it when typed without the hamza ("احمد" for "أحمد"), and only it.
    page.locator("nav.navbar a.nav-link[href='/customers/']").click()
    rows = page.locator("[data-testid=customer-row]")
    expect(rows).to_have_count(2)
    page.locator("#id_q").fill("احمد")
    expect(page).to_have_url(re.compile(r"[?&]q="))
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text(NAME)
    expect(rows.first.locator(f"a[href='/customers/{customer.pk}/']")).to_be_visible()
    shot(page, "customer", "search")
