"""The fragments order events carry to the browsers: the board's card in its status's column, the
list's row, the detail page's changing parts — per audience, never leaking another branch."""

from __future__ import annotations

import re
from decimal import Decimal
from html.parser import HTMLParser

import pytest
from django.utils import translation

from crm_core.accounts.models import Role
from crm_core.orders.live import DETAIL_PARTS, ORDER_EVENTS
from crm_core.orders.models import Order, OrderStatus
from crm_core.orders.services import order_set_shipping, order_transition, order_update, payment_record
from realtime.audiences import audience_key
from realtime.renderers import Audience, renderer_for, renderers_for


@pytest.fixture
def order(make_order) -> Order:
    return make_order()


@pytest.fixture
def capture(published, django_capture_on_commit_callbacks):
    """``capture(lambda: service(...))`` → the event the call published."""

    def run(call):
        published.clear()
        with django_capture_on_commit_callbacks(execute=True):
            call()
        assert published, "nothing was published"
        return published[-1][2]

    return run


def render(event, user, language: str = "en") -> str | None:
    role, scope = audience_key(user)
    with translation.override(language):
        return renderer_for(event.type)(event, Audience(role=role, scope=scope, language=language), user)


class _Extract(HTMLParser):
    """The text and markup of one element, found by id, nested tags included."""

    VOID = frozenset({"input", "br", "img", "hr", "meta", "link"})

    def __init__(self, element_id: str) -> None:
        super().__init__()
        self.element_id = element_id
        self.depth = 0
        self.found = False
        self.parts: list[str] = []

    def handle_starttag(self, tag, attrs):
        if not self.depth and dict(attrs).get("id") == self.element_id and not self.found:
            self.found = True
            self.depth = 1 if tag not in self.VOID else 0
            self.parts.append(self.get_starttag_text())
            return
        if self.depth:
            self.parts.append(self.get_starttag_text())
            if tag not in self.VOID:
                self.depth += 1

    def handle_endtag(self, tag):
        if self.depth:
            self.parts.append(f"</{tag}>")
            self.depth -= 1

    def handle_data(self, data):
        if self.depth:
            self.parts.append(data)


def element(html: str, element_id: str) -> str:
    parser = _Extract(element_id)
    parser.feed(html)
    assert parser.found, f"no element #{element_id}"
    return "".join(parser.parts)


def test_every_order_event_has_the_three_renderers():
    assert set(ORDER_EVENTS) == set(DETAIL_PARTS)
    for event_type in ORDER_EVENTS:
        names = {renderer.__name__ for renderer in renderers_for(event_type)}
        assert {"board_card", "list_row", "detail_parts"} <= names


def test_a_status_change_moves_the_card_to_its_new_column(capture, sales, order):
    event = capture(lambda: order_transition(actor=sales, order=order, to_status=OrderStatus.CONFIRMED))
    html = render(event, sales)
    card = element(html, f"board-card-{order.pk}")
    assert 'data-live-into="board-col-confirmed"' in card
    assert re.search(r'data-sort-key="\d{17}-\d{12}"', card)
    assert 'data-version="2"' in card
    assert 'data-targets="in_progress cancelled"' in card
    # The list's row and the detail page's header and history come along.
    assert "Confirmed" in element(html, f"order-row-{order.pk}")
    assert "Confirmed" in element(html, "order-status-badge")
    assert 'data-testid="transition-in_progress"' in element(html, "order-actions")
    assert "New → Confirmed" in element(html, "order-history")


def test_cards_of_newer_arrivals_sort_first(capture, sales, make_order):
    first, second = make_order(), make_order()
    keys = []
    for target in (first, second):
        event = capture(lambda target=target: order_transition(actor=sales, order=target, to_status="confirmed"))
        keys.append(re.search(r'data-sort-key="([^"]+)"', render(event, sales)).group(1))
    assert keys[1] < keys[0]


def test_a_payment_updates_the_cards_balance_and_the_detail_figures(capture, sales, order):
    event = capture(lambda: payment_record(actor=sales, order=order, amount=Decimal("28.00")))
    html = render(event, sales)
    card = element(html, f"board-card-{order.pk}")
    assert 'data-live-into="board-col-new"' in card
    assert "200.00" in card
    assert "200.00" in element(html, "order-totals")
    assert "28.00" in element(html, "order-payments-list")
    assert "28.00" in element(html, "order-payments-paid")
    assert "order-status-badge" not in html  # a payment does not change the status


def test_detail_parts_follow_what_each_event_changes(capture, sales, order):
    event = capture(lambda: order_update(actor=sales, order=order, expected_version=1, notes="اتصل قبل التوصيل"))
    html = render(event, sales)
    assert 'id="order-items"' in html and 'id="order-totals"' in html
    current = Order.objects.get(pk=order.pk)
    event = capture(lambda: order_set_shipping(actor=sales, order=current, recipient_name="أحمد", phone="0100"))
    html = render(event, sales)
    assert "أحمد" in element(html, "order-shipping-details")


def test_live_forms_carry_no_personal_token(capture, sales, order):
    event = capture(lambda: order_transition(actor=sales, order=order, to_status=OrderStatus.CONFIRMED))
    html = render(event, sales)
    assert 'name="csrfmiddlewaretoken" value="" data-csrf' in html
    assert 'value="' + "x" * 10 not in html


def test_another_branchs_audience_gets_nothing(capture, sales, personas, world, order):
    event = capture(lambda: order_transition(actor=sales, order=order, to_status=OrderStatus.CONFIRMED))
    assert render(event, personas.outsider) is None
    assert render(event, world.user(Role.MANAGER, branch=world.branch_b)) is None


def test_all_branch_users_get_every_branchs_cards(capture, personas, hq_manager, outsider_order):
    event = capture(
        lambda: order_transition(actor=personas.outsider, order=outsider_order, to_status=OrderStatus.CONFIRMED)
    )
    assert f"board-card-{outsider_order.pk}" in render(event, hq_manager)


def test_buttons_follow_the_role(capture, sales, world, order):
    event = capture(lambda: order_transition(actor=sales, order=order, to_status=OrderStatus.CONFIRMED))
    dispatcher = render(event, world.user(Role.DISPATCHER))
    card = element(dispatcher, f"board-card-{order.pk}")
    assert 'data-targets=""' in card and "data-board-move=" not in card
    assert 'data-testid="transition-' not in element(dispatcher, "order-actions")
    storekeeper = render(event, world.user(Role.STOREKEEPER))
    assert 'data-board-move="in_progress"' in element(storekeeper, f"board-card-{order.pk}")


def test_an_inspector_gets_nothing(capture, sales, world, order):
    event = capture(lambda: order_transition(actor=sales, order=order, to_status=OrderStatus.CONFIRMED))
    assert render(event, world.user(Role.INSPECTOR)) is None


def test_the_fragment_is_the_same_for_everyone_of_an_audience(capture, sales, world, order):
    """Rendered once per (role, branch, language) and shared: nothing may depend on the person."""
    event = capture(lambda: payment_record(actor=sales, order=order, amount=Decimal("10")))
    colleague = world.user(Role.SALES, first_name="كريم", language="en")
    assert audience_key(colleague) == audience_key(sales)
    assert render(event, sales) == render(event, colleague)


def test_fragments_speak_the_audiences_language(capture, sales, order):
    event = capture(lambda: order_transition(actor=sales, order=order, to_status=OrderStatus.CONFIRMED))
    arabic = render(event, sales, "ar")
    assert "مؤكد" in element(arabic, "order-status-badge") or "تأكيد" in element(arabic, "order-status-badge")
    assert "Confirmed" not in arabic
