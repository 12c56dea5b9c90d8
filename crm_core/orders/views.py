"""The orders pages: list, create/edit form, detail with payments, shipping and status changes."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from django.utils.formats import get_format
from django.utils.timesince import timesince
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from crm_core.accounts.models import User
from crm_core.common.exceptions import StaleVersionError
from crm_core.common.live_lists import list_refetch
from crm_core.orders import selectors
from crm_core.orders.forms import (
    BoardFilterForm,
    OrderEditor,
    OrderFilterForm,
    PaymentForm,
    ShippingForm,
    TransitionForm,
    add_service_error,
    category_discount,
)
from crm_core.orders.models import EDITABLE_ORDER_STATUSES, Order, OrderStatus, ShippingDetails
from crm_core.orders.services import order_transition, payment_record
from realtime.events import last_event_id

# Statuses from which shipping details may still change (order_set_shipping refuses the others).
SHIPPING_LOCKED = (OrderStatus.SHIPPED, OrderStatus.DELIVERED, OrderStatus.CANCELLED)


def _require(user: User, *perms: str) -> None:
    if not all(user.has_perm(perm) for perm in perms):
        raise PermissionDenied


def _url_or_none(name: str, *args: Any) -> str | None:
    # The customer and inspection pages are built by other apps; link to them once they exist.
    try:
        return reverse(name, args=args)
    except NoReverseMatch:
        return None


def _partial(request: HttpRequest, template: str, name: str, target: str) -> str:
    """The fragment for htmx swaps into ``target``; the whole page otherwise.

    A boosted link aimed at the fragment (the pager) gets the fragment too; a history restore
    (Back after pushed URLs, with no cached snapshot) replaces the body, so it needs the page.
    """
    htmx = request.htmx
    if htmx and not htmx.history_restore_request and (not htmx.boosted or htmx.target == target):
        return f"{template}#{name}"
    return template


# --- List ----------------------------------------------------------------------------------------


@login_required
@require_GET
def order_list(request: HttpRequest) -> HttpResponse:
    _require(request.user, "orders.view_order")
    form = OrderFilterForm(request.GET or None, user=request.user)
    filters = form.filters()
    live_since = last_event_id()
    page = selectors.order_page(
        request.user, filters, cursor=request.GET.get("cursor") or None, backwards=request.GET.get("dir") == "prev"
    )
    context = {
        "form": form,
        "filters": filters,
        "page": page,
        "customer_url": _url_or_none("customers:detail", filters.customer.pk) if filters.customer else None,
        "live_since": live_since,
        "live_refetch": list_refetch(
            filtered=form.is_filtered,
            fixed_order=filters.sort in ("newest", "oldest"),
            takes_new_rows=filters.sort == "newest" and not page.has_previous,
        ),
    }
    return render(request, _partial(request, "orders/list.html", "results", "order-results"), context)


# --- Create and edit -------------------------------------------------------------------------------


def _money_format() -> dict[str, str]:
    """How the page's script writes amounts, the same way the ``money`` template filter does."""
    return {
        "decimal": str(get_format("DECIMAL_SEPARATOR")),
        "thousands": str(get_format("THOUSAND_SEPARATOR")),
        "grouping": str(get_format("NUMBER_GROUPING")),
        "pattern": _("%(amount)s %(currency)s") % {"amount": "{amount}", "currency": _(settings.CRM_CURRENCY)},
    }


def _form_page(request: HttpRequest, editor: OrderEditor, status: int = 200) -> HttpResponse:
    customer = editor.customer
    context = {
        "editor": editor,
        "form": editor.form,
        "items": editor.items,
        "order": editor.order,
        "customer": customer,
        "default_discount": category_discount(customer),
        "totals": editor.initial_totals(),
        "money_format": _money_format(),
    }
    return render(request, "orders/form.html", context, status=status)


@login_required
@require_http_methods(["GET", "POST"])
def order_create(request: HttpRequest) -> HttpResponse:
    _require(request.user, "orders.add_order", "orders.add_orderitem")
    if request.method == "POST":
        editor = OrderEditor(request.POST, user=request.user)
        if editor.is_valid():
            order = editor.save()
            if order is not None:
                messages.success(request, _("Order %(number)s was created.") % {"number": order.number})
                return redirect("orders:detail", pk=order.pk)
        return _form_page(request, editor, status=400)
    editor = OrderEditor(user=request.user)
    # The salesperson defaults to whoever takes the order (the blank choice means the same).
    editor.form.initial["salesperson"] = request.user.pk
    customer = selectors.customer_for_order(request.user, request.GET.get("customer"))
    if customer is not None:
        editor.form.initial["customer"] = customer
    return _form_page(request, editor)


@login_required
@require_http_methods(["GET", "POST"])
def order_edit(request: HttpRequest, pk: int) -> HttpResponse:
    _require(request.user, "orders.view_order")
    try:
        order = selectors.order_for_edit(request.user, pk)
    except Order.DoesNotExist:
        raise Http404 from None
    _require(request.user, "orders.change_order")
    if order.status not in EDITABLE_ORDER_STATUSES:
        messages.error(
            request, _("A %(status)s order can no longer be edited.") % {"status": order.get_status_display()}
        )
        return redirect("orders:detail", pk=order.pk)
    if request.method == "POST":
        editor = OrderEditor(request.POST, user=request.user, order=order)
        if editor.is_valid():
            saved = editor.save()
            if saved is not None:
                messages.success(request, _("Order %(number)s was saved.") % {"number": order.number})
                return redirect("orders:detail", pk=order.pk)
        return _form_page(request, editor, status=409 if editor.conflict is not None else 400)
    return _form_page(request, OrderEditor(user=request.user, order=order))


@login_required
@require_GET
def product_lookup(request: HttpRequest) -> HttpResponse:
    _require(request.user, "orders.add_orderitem")
    products = selectors.product_lookup(request.GET.get("q", ""))
    return render(
        request,
        "orders/form.html#product_results",
        {"products": products, "term": request.GET.get("q", "").strip(), "money_format": _money_format()},
    )


@login_required
@require_GET
def customer_lookup(request: HttpRequest) -> HttpResponse:
    _require(request.user, "orders.add_order")
    customers = selectors.customer_lookup(request.user, request.GET.get("q", ""))
    return render(
        request, "orders/form.html#customer_results", {"customers": customers, "term": request.GET.get("q", "").strip()}
    )


# --- Detail and the actions on it ------------------------------------------------------------------


def _load_detail(request: HttpRequest, pk: int) -> Order:
    _require(request.user, "orders.view_order")
    try:
        return selectors.order_detail(request.user, pk)
    except Order.DoesNotExist:
        raise Http404 from None


def _load_for_action(request: HttpRequest, pk: int) -> Order:
    _require(request.user, "orders.view_order")
    try:
        return selectors.order_for_change(request.user).get(pk=pk)
    except Order.DoesNotExist:
        raise Http404 from None


@dataclass(frozen=True)
class TransitionButton:
    status: str
    label: str
    icon: str
    confirm: str = ""


# What each forward move is called on its button; shipping takes stock, so it asks first.
TRANSITION_BUTTONS = {
    OrderStatus.CONFIRMED: (gettext_lazy("Confirm"), "bi-check2-circle", ""),
    OrderStatus.IN_PROGRESS: (gettext_lazy("Start preparing"), "bi-gear", ""),
    OrderStatus.READY: (gettext_lazy("Mark as ready"), "bi-box-seam", ""),
    OrderStatus.SHIPPED: (
        gettext_lazy("Ship"),
        "bi-truck",
        gettext_lazy("Shipping takes the items out of the warehouse's stock. Ship this order now?"),
    ),
    OrderStatus.DELIVERED: (gettext_lazy("Mark as delivered"), "bi-house-check", ""),
}


def _transitions(user: User, order: Order) -> list[TransitionButton]:
    if not user.has_perm("orders.transition_order"):
        return []
    buttons = []
    for status in order.allowed_transitions():
        label, icon, confirm = TRANSITION_BUTTONS.get(status, (OrderStatus(status).label, "bi-arrow-right", ""))
        buttons.append(TransitionButton(status=status, label=str(label), icon=icon, confirm=str(confirm)))
    return buttons


def detail_context(user: User, order: Order, **forms_: Any) -> dict[str, Any]:
    """What the detail page shows; its live fragments (crm_core/orders/live.py) use the same."""
    try:
        shipping = order.shipping
    except ShippingDetails.DoesNotExist:
        shipping = None
    can_pay = user.has_perm("orders.add_payment") and order.status != OrderStatus.CANCELLED and order.balance > 0
    can_ship = user.has_perm("orders.change_shippingdetails") and order.status not in SHIPPING_LOCKED
    transitions = _transitions(user, order)
    return {
        "order": order,
        "shipping": shipping,
        "tax_percent": order.tax_rate * 100,
        "can_edit": user.has_perm("orders.change_order") and order.status in EDITABLE_ORDER_STATUSES,
        "can_pay": can_pay,
        "can_ship": can_ship,
        "payment_form": forms_.get("payment_form") or (PaymentForm(order=order) if can_pay else None),
        "shipping_form": forms_.get("shipping_form") or (ShippingForm(order=order) if can_ship else None),
        "shipping_open": "shipping_form" in forms_,
        "forward_transitions": [button for button in transitions if button.status != OrderStatus.CANCELLED],
        "can_cancel": any(button.status == OrderStatus.CANCELLED for button in transitions),
        "transition_form": forms_.get("transition_form"),
        "customer_url": _url_or_none("customers:detail", order.customer_id),
        "inspections": [
            (inspection, _url_or_none("inspections:detail", inspection.pk)) for inspection in order.visible_inspections
        ],
    }


@login_required
@require_GET
def order_detail(request: HttpRequest, pk: int) -> HttpResponse:
    # Read before the order: an event committed in between then resyncs the page rather than being missed.
    live_since = last_event_id()
    order = _load_detail(request, pk)
    return render(request, "orders/detail.html", {**detail_context(request.user, order), "live_since": live_since})


@login_required
@require_POST
def order_transition_view(request: HttpRequest, pk: int) -> HttpResponse:
    order = _load_for_action(request, pk)
    _require(request.user, "orders.transition_order")
    form = TransitionForm(request.POST)
    if not form.is_valid():
        detail = _load_detail(request, pk)
        context = detail_context(request.user, detail, transition_form=form)
        return render(request, "orders/detail.html", context, status=400)
    to_status = form.cleaned_data["to_status"]
    try:
        order_transition(
            actor=request.user,
            order=order,
            to_status=to_status,
            note=form.cleaned_data.get("note") or "",
            expected_version=form.cleaned_data.get("version"),
        )
    except StaleVersionError as error:
        messages.error(request, error.message)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(
            request,
            _("Order %(number)s is now %(status)s.") % {"number": order.number, "status": OrderStatus(to_status).label},
        )
    return redirect("orders:detail", pk=order.pk)


@login_required
@require_POST
def order_add_payment(request: HttpRequest, pk: int) -> HttpResponse:
    order = _load_for_action(request, pk)
    _require(request.user, "orders.add_payment")
    form = PaymentForm(request.POST, order=order)
    saved = False
    if form.is_valid():
        try:
            payment_record(actor=request.user, order=order, **form.cleaned_data)
        except ValidationError as error:
            add_service_error(form, error)
        else:
            saved = True
            messages.success(request, _("The payment was recorded."))
    if not request.htmx:
        if saved:
            return redirect("orders:detail", pk=order.pk)
        detail = _load_detail(request, pk)
        context = detail_context(request.user, detail, payment_form=form)
        return render(request, "orders/detail.html", context, status=400)
    detail = _load_detail(request, pk)
    context = detail_context(request.user, detail, **({} if saved else {"payment_form": form}))
    context["oob"] = True
    # 200 even for a refused payment: htmx swaps only successful responses, and the form with its error must show.
    return render(request, "orders/detail.html#payments", context)


@login_required
@require_POST
def order_shipping(request: HttpRequest, pk: int) -> HttpResponse:
    order = _load_detail(request, pk)
    _require(request.user, "orders.change_shippingdetails")
    form = ShippingForm(request.POST, order=order)
    if form.is_valid():
        try:
            form.save(actor=request.user)
        except StaleVersionError as error:
            form.add_error(None, error.message)
        except ValidationError as error:
            add_service_error(form, error)
        else:
            messages.success(request, _("The shipping details were saved."))
            return redirect("orders:detail", pk=order.pk)
    return render(request, "orders/detail.html", detail_context(request.user, order, shipping_form=form), status=400)


# --- The board -------------------------------------------------------------------------------------

CANCEL_BUTTON = (gettext_lazy("Cancel order"), "bi-x-circle")
# Sort keys are compared as strings, smallest first: a key counting down from these gives newest first.
SORT_TIME_TOP = 10**17
SORT_ID_TOP = 10**12


@dataclass(frozen=True)
class BoardCard:
    order: Order
    moves: list[TransitionButton]
    sort_key: str
    age: str
    detail_url: str
    move_url: str
    moves_label: str

    @property
    def targets(self) -> str:
        return " ".join(move.status for move in self.moves)


def board_sort_key(order: Order) -> str:
    """Newest arrival in its column first (the columns' query order), then the newest order."""
    moment = order.status_changed_at or order.created_at
    micros = int(moment.timestamp() * 1_000_000) if isinstance(moment, datetime) else 0
    return f"{SORT_TIME_TOP - micros:017d}-{SORT_ID_TOP - order.pk:012d}"


URL_PLACEHOLDER = 918273645


class CardMaker:
    """The cards of one board page or live fragment.

    What is the same for every card of a status — its moves and their labels, the links, the
    captions — is worked out once, not 350 times: a full board renders in a third of the time.
    """

    def __init__(self, user: User) -> None:
        self.user = user
        self.now = timezone.now()
        self._moves: dict[str, list[TransitionButton]] = {}
        self._detail = reverse("orders:detail", args=[URL_PLACEHOLDER]).split(str(URL_PLACEHOLDER))
        self._move = reverse("orders:board_move", args=[URL_PLACEHOLDER]).split(str(URL_PLACEHOLDER))
        self._moves_label = _("Move order %(number)s")
        self.labels = {
            "total": _("Total"),
            "balance": _("Balance due"),
            "salesperson": _("Salesperson"),
            "age": _("Age"),
        }

    def moves(self, order: Order) -> list[TransitionButton]:
        """The order's next statuses, if the role may change statuses (the same for every order of a status)."""
        if order.status not in self._moves:
            moves = []
            for button in _transitions(self.user, order):
                if button.status == OrderStatus.CANCELLED:
                    label, icon = CANCEL_BUTTON
                    button = TransitionButton(status=button.status, label=str(label), icon=icon)
                moves.append(button)
            self._moves[order.status] = moves
        return self._moves[order.status]

    def card(self, order: Order) -> BoardCard:
        fresh = self.now - order.created_at < timedelta(minutes=1)
        return BoardCard(
            order=order,
            moves=self.moves(order),
            sort_key=board_sort_key(order),
            age=_("Just now") if fresh else timesince(order.created_at, self.now, depth=1),
            detail_url=f"{self._detail[0]}{order.pk}{self._detail[1]}",
            move_url=f"{self._move[0]}{order.pk}{self._move[1]}",
            moves_label=self._moves_label % {"number": order.number},
        )


def render_board_card(user: User, order: Order) -> str:
    maker = CardMaker(user)
    return render_to_string("orders/board.html#card", {"card": maker.card(order), "labels": maker.labels})


@login_required
@require_GET
def order_board(request: HttpRequest) -> HttpResponse:
    _require(request.user, "orders.view_order")
    form = BoardFilterForm(request.GET or None, user=request.user)
    filters = form.filters()
    # Read before the columns: an event committed in between then resyncs the board rather than being missed.
    live_since = last_event_id()
    columns = selectors.board_columns(request.user, filters, limit=selectors.BOARD_COLUMN_LIMIT)
    maker = CardMaker(request.user)
    context = {
        "form": form,
        "filters": filters,
        "columns": [(column, [maker.card(order) for order in column.cards]) for column in columns],
        "labels": maker.labels,
        "column_limit": selectors.BOARD_COLUMN_LIMIT,
        "closed_days": selectors.CLOSED_RECENT_DAYS,
        "live_since": live_since,
        "can_move": request.user.has_perm("orders.transition_order"),
    }
    return render(request, _partial(request, "orders/board.html", "columns", "board-columns"), context)


@login_required
@require_POST
def order_board_move(request: HttpRequest, pk: int) -> HttpResponse:
    """A card dropped on another column (or its move button): the detail page's transition.

    An htmx request gets the card as it now stands (in its new column, or back in the old one
    when refused) and the outcome as a toast; any other request goes back to the board.
    """
    order = _load_for_action(request, pk)
    _require(request.user, "orders.transition_order")
    form = TransitionForm(request.POST)
    refusal, status = "", 200
    if not form.is_valid():
        refusal, status = " ".join(message for errors in form.errors.values() for message in errors), 400
    else:
        to_status = form.cleaned_data["to_status"]
        try:
            order_transition(
                actor=request.user,
                order=order,
                to_status=to_status,
                note=form.cleaned_data.get("note") or "",
                expected_version=form.cleaned_data.get("version"),
            )
        except StaleVersionError as error:
            refusal, status = error.message, 409
        except ValidationError as error:
            refusal, status = " ".join(error.messages), 400
    if refusal:
        messages.error(request, refusal)
    else:
        messages.success(
            request,
            _("Order %(number)s is now %(status)s.") % {"number": order.number, "status": OrderStatus(to_status).label},
        )
    if not request.htmx:
        return redirect("orders:board")
    current = selectors.board_card(request.user, pk)
    html = render_board_card(request.user, current) if current is not None else ""
    return HttpResponse(html, status=status)
