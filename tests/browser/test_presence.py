"""Presence: two people open the same order's edit page at the same time, each in their own
browser, and each sees the other there and editing; when one leaves, the other's page clears."""

from __future__ import annotations

from decimal import Decimal

import pytest
from playwright.sync_api import Page, expect

from crm_core.accounts.models import Role
from crm_core.customers.services import customer_create
from crm_core.inventory.services import product_create
from crm_core.orders.services import ItemInput, order_create
from tests.browser.helpers import ensure_language, login, shot, translated

pytestmark = pytest.mark.browser


@pytest.fixture
def order_and_people(world):
    admin = world.user(Role.ADMIN, all_branches=True)
    mona = world.user(Role.SALES, first_name="Mona", last_name="Adel")
    karim = world.user(Role.MANAGER, first_name="Karim", last_name="Said")
    customer = customer_create(actor=mona, name="سلمى إبراهيم", phone="01011112222")
    pump = product_create(actor=admin, sku="PMP-100", name="مضخة مياه", price=Decimal("450.00"))
    order = order_create(actor=mona, customer=customer, items=[ItemInput(pump.pk, Decimal("2"))])
    return order, mona, karim


def avatars(page: Page):
    return page.locator("[data-testid=presence] [data-testid=presence-avatar]")


def banner(page: Page):
    return page.locator("[data-testid=presence] [data-presence-banner]")


def test_two_people_editing_one_order_see_each_other(order_and_people, new_context):
    order, mona, karim = order_and_people
    mona_page = new_context().new_page()
    karim_page = new_context().new_page()
    login(mona_page, mona)
    login(karim_page, karim)
    ensure_language(mona_page, "en")

    mona_page.goto(f"/orders/{order.pk}/edit/")
    # Alone on the page: nobody listed, no banner.
    expect(mona_page.locator("#live-status")).to_be_hidden()
    expect(avatars(mona_page)).to_have_count(0)
    expect(banner(mona_page)).to_be_hidden()

    karim_page.goto(f"/orders/{order.pk}/edit/")
    expect(avatars(mona_page)).to_have_count(1)
    expect(avatars(mona_page)).to_have_text("KS")
    expect(avatars(mona_page)).to_have_attribute("title", "Karim Said")
    expect(banner(mona_page)).to_have_text(translated("{name} is editing this order", "en").format(name="Karim Said"))

    expect(avatars(karim_page)).to_have_text("MA")
    expect(avatars(karim_page)).to_have_attribute("title", "Mona Adel")
    lang = karim_page.locator("html").get_attribute("lang")
    expect(banner(karim_page)).to_have_text(translated("{name} is editing this order", lang).format(name="Mona Adel"))
    shot(karim_page, "presence", "order-edit")
    shot(mona_page, "presence", "order-edit")

    # Karim goes back to the order's page: still there, no longer editing.
    karim_page.goto(f"/orders/{order.pk}/")
    expect(banner(mona_page)).to_be_hidden()
    expect(avatars(mona_page)).to_have_text("KS")
    expect(banner(karim_page)).to_have_text(translated("{name} is editing this order", lang).format(name="Mona Adel"))
    shot(karim_page, "presence", "order-detail")

    # Then he leaves the order altogether: Mona's page clears.
    karim_page.goto("/")
    expect(avatars(mona_page)).to_have_count(0)
    expect(mona_page.locator("[data-testid=presence] [data-presence-people]")).to_be_hidden()


def test_a_closed_browser_leaves_the_room(order_and_people, new_context):
    order, mona, karim = order_and_people
    mona_page = new_context().new_page()
    karim_context = new_context()
    karim_page = karim_context.new_page()
    login(mona_page, mona)
    login(karim_page, karim)
    mona_page.goto(f"/orders/{order.pk}/")
    karim_page.goto(f"/orders/{order.pk}/")
    expect(avatars(mona_page)).to_have_text("KS")
    karim_context.close()
    expect(avatars(mona_page)).to_have_count(0)


def test_someone_who_may_not_see_the_order_is_not_shown(order_and_people, world, new_context):
    order, mona, _karim = order_and_people
    outsider = world.user(Role.MANAGER, branch=world.branch_b, first_name="Omar", last_name="Farouk")
    mona_page = new_context().new_page()
    outsider_page = new_context().new_page()
    login(mona_page, mona)
    login(outsider_page, outsider)
    mona_page.goto(f"/orders/{order.pk}/")
    expect(mona_page.locator("#live-status")).to_be_hidden()
    response = outsider_page.goto(f"/orders/{order.pk}/")
    assert response is not None and response.status == 404
    # Even a hand-made request for the room is refused, and Mona's page never lists anyone.
    outsider_page.goto("/")
    outsider_page.wait_for_function("() => window.CrmLive && window.CrmLive.isOpen()")
    outsider_page.evaluate(
        "([room]) => window.CrmLive.send({action: 'presence', room: room, state: 'editing'})", [f"order:{order.pk}"]
    )
    mona_page.wait_for_timeout(700)
    expect(avatars(mona_page)).to_have_count(0)


@pytest.mark.parametrize("lang", ["ar", "en"])
def test_a_customers_page_shows_who_is_editing_and_follows_their_changes(world, new_context, lang):
    """Mona has the customer's page open; Karim opens its edit form, changes the city and adds a
    note. Mona sees him there and editing, then the new city and his note, without a reload."""
    mona = world.user(Role.SALES, first_name="منى", last_name="عادل", language=lang)
    karim = world.user(Role.MANAGER, first_name="كريم", last_name="سعيد")
    customer = customer_create(actor=mona, name="سلمى إبراهيم", phone="01011112222", city="طنطا")

    page = new_context().new_page()
    login(page, mona)
    page.goto(f"/customers/{customer.pk}/")
    expect(page.locator("#live-status")).to_be_hidden()
    page.evaluate("window.__crmNoReload = true")

    other = new_context().new_page()
    login(other, karim)
    other.goto(f"/customers/{customer.pk}/edit/")
    expect(avatars(page)).to_have_attribute("title", "كريم سعيد")
    expect(banner(page)).to_have_text(translated("{name} is editing this customer", lang).format(name="كريم سعيد"))
    expect(avatars(other)).to_have_attribute("title", "منى عادل")
    expect(banner(other)).to_be_hidden()  # Mona only looks
    shot(page, "presence", "customer-detail")

    other.locator("#id_city").fill("المنصورة")
    other.locator("[data-testid=save-customer]").click()
    expect(other).to_have_url(f"{other.url.split('/customers/')[0]}/customers/{customer.pk}/")
    details = page.locator(f"#customer-details-{customer.pk}")
    expect(details).to_contain_text("المنصورة")
    expect(banner(page)).to_be_hidden()

    other.locator("#note-form textarea").fill("العميل طلب زيارة يوم السبت")
    other.locator("[data-testid=add-note]").click()
    expect(other.locator("[data-testid=timeline-note]")).to_have_count(1)
    expect(page.locator("#timeline [data-testid=timeline-note]")).to_have_count(1)
    expect(page.locator("#timeline [data-testid=timeline-note]")).to_contain_text("العميل طلب زيارة يوم السبت")
    expect(page.locator("#timeline-empty")).to_have_count(0)
    assert page.evaluate("window.__crmNoReload === true")
    shot(page, "presence", "customer-live")


@pytest.mark.parametrize("lang", ["ar", "en"])
def test_a_product_being_edited_shows_who_is_editing_it(world, new_context, lang):
    """A storekeeper opens a product's edit form; a manager of another branch who has the
    product open sees who is editing it (products are company-wide), and the banner clears
    when the storekeeper leaves the form."""
    admin = world.user(Role.ADMIN, all_branches=True)
    keeper = world.user(Role.STOREKEEPER, first_name="سامي", last_name="نبيل")
    manager = world.user(Role.MANAGER, branch=world.branch_b, first_name="هدى", last_name="فؤاد", language=lang)
    product = product_create(actor=admin, sku="VLV-20", name="صمام نحاس", price=Decimal("85.00"))

    page = new_context().new_page()
    login(page, manager)
    page.goto(f"/inventory/products/{product.pk}/")
    expect(page.locator("#live-status")).to_be_hidden()

    form = new_context().new_page()
    login(form, keeper)
    form.goto(f"/inventory/products/{product.pk}/edit/")
    expect(avatars(page)).to_have_attribute("title", "سامي نبيل")
    expect(banner(page)).to_have_text(translated("{name} is editing this product", lang).format(name="سامي نبيل"))
    expect(avatars(form)).to_have_attribute("title", "هدى فؤاد")
    shot(page, "presence", "product-detail")

    form.goto(f"/inventory/products/{product.pk}/")
    expect(banner(page)).to_be_hidden()
    expect(avatars(page)).to_have_count(1)
