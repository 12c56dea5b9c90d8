"""Inventory pages: stock levels, the catalogue and its category tree, warehouses, the stock
ledger and the forms that receive, issue, adjust and transfer stock.

Each view: access check → form → one service call → render or redirect. An htmx request
for a list renders the page template's ``list`` partial.
"""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from typing import Any
from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth.decorators import login_required, permission_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods

from crm_core.common.exceptions import StaleVersionError
from crm_core.common.live_lists import list_refetch
from crm_core.common.pagination import CappedCountPaginator, keyset_paginate
from crm_core.common.templatetags.crm import qty
from crm_core.inventory import forms, selectors, services
from crm_core.inventory.models import StockMovement
from realtime.events import last_event_id

PER_PAGE = 50
LEDGER_PAGE = 50
PRODUCT_MOVEMENTS = 15


def _page_or_list(request: HttpRequest, template: str) -> str:
    """The whole page, or only its ``list`` partial for an htmx filter/search request."""
    if request.htmx and not request.htmx.boosted:
        return f"{template}#list"
    return template


def _require(request: HttpRequest, *perms: str) -> None:
    if not request.user.has_perms(perms):
        raise PermissionDenied


# --- Stock levels ---------------------------------------------------------------------------


@login_required
@permission_required("inventory.view_stocklevel", raise_exception=True)
@require_GET
def stock(request: HttpRequest) -> HttpResponse:
    since = last_event_id()
    tree = selectors.category_tree()
    form = forms.StockFilterForm(request.GET or None, user=request.user, tree=tree)
    levels = selectors.stock_levels(request.user, **form.filters())
    page = CappedCountPaginator(levels, PER_PAGE).get_page(request.GET.get("page"))
    context = {
        "form": form,
        "page_obj": page,
        "live_stock": selectors.follows_stock_board(request.user),
        "live_since": since,
        # Product names and SKUs never change with stock, but a level new to a warehouse may go
        # on any page of the name order.
        "live_refetch": list_refetch(
            filtered=form.is_filtered,
            fixed_order=True,
            takes_new_rows=True,
        ),
    }
    return render(request, _page_or_list(request, "inventory/stock.html"), context)


# --- Stock alerts ---------------------------------------------------------------------------


@login_required
@require_GET
def stock_alerts(request: HttpRequest) -> HttpResponse:
    """The levels below their reorder level, kept current by the stock.alerts stream."""
    if not selectors.follows_stock_alerts(request.user):
        raise PermissionDenied
    context = {"alerts": selectors.stock_alerts(request.user)}
    template = "inventory/alerts.html#alerts" if request.htmx and not request.htmx.boosted else "inventory/alerts.html"
    return render(request, template, context)


@login_required
@permission_required("inventory.view_stocklevel", raise_exception=True)
@require_GET
def stock_alerts_panel(request: HttpRequest) -> HttpResponse:
    """The dashboard's alerts panel again, after a resync."""
    user = request.user
    context = {
        "alerts": selectors.stock_alerts(user, limit=selectors.PANEL_LIMIT),
        "live_alerts": selectors.follows_stock_alerts(user),
    }
    return render(request, "inventory/alerts.html#panel", context)


# --- Products -------------------------------------------------------------------------------


@login_required
@permission_required("inventory.view_product", raise_exception=True)
@require_GET
def product_list(request: HttpRequest) -> HttpResponse:
    tree = selectors.category_tree()
    form = forms.ProductFilterForm(request.GET or None, tree=tree)
    page = CappedCountPaginator(selectors.product_list(**form.filters()), PER_PAGE).get_page(request.GET.get("page"))
    selected = form.selected_category_id()
    context = {
        "form": form,
        "page_obj": page,
        "tree": tree,
        "selected_category": selected,
        "selected_path": tree.ancestor_ids(selected),
    }
    return render(request, _page_or_list(request, "inventory/products.html"), context)


@login_required
@permission_required("inventory.view_product", raise_exception=True)
@require_GET
def product_detail(request: HttpRequest, pk: int) -> HttpResponse:
    user = request.user
    product = get_object_or_404(selectors.products(user), pk=pk)
    context = {
        "live_since": last_event_id(),
        "product": product,
        "live_stock": selectors.follows_stock_board(user),
        "levels": selectors.product_levels(user, product) if user.has_perm("inventory.view_stocklevel") else None,
        "movements": (
            selectors.product_recent_movements(user, product, PRODUCT_MOVEMENTS)
            if user.has_perm("inventory.view_stockmovement")
            else None
        ),
    }
    if request.htmx and not request.htmx.boosted and context["levels"] is not None:
        # A resync of the live levels card.
        return render(request, "inventory/product_detail.html#levels", context)
    return render(request, "inventory/product_detail.html", context)


@login_required
@permission_required("inventory.add_product", raise_exception=True)
@require_http_methods(["GET", "POST"])
def product_create(request: HttpRequest) -> HttpResponse:
    form = forms.ProductForm(request.POST if request.method == "POST" else None, tree=selectors.category_tree())
    if form.is_valid():
        try:
            product = services.product_create(actor=request.user, **form.values())
        except ValidationError as exc:
            forms.apply_service_error(form, exc)
        else:
            messages.success(request, _("Product %(product)s was added.") % {"product": product})
            return redirect("inventory:product_detail", pk=product.pk)
    return render(request, "inventory/product_form.html", {"form": form, "product": None})


@login_required
@permission_required("inventory.change_product", raise_exception=True)
@require_http_methods(["GET", "POST"])
def product_edit(request: HttpRequest, pk: int) -> HttpResponse:
    product = get_object_or_404(selectors.products(request.user), pk=pk)
    tree = selectors.category_tree()
    form = forms.ProductForm(request.POST if request.method == "POST" else None, tree=tree, product=product)
    conflict: list[selectors.RecordChange] | None = None
    if form.is_valid():
        try:
            product = services.product_update(
                actor=request.user, product=product, expected_version=form.cleaned_data["version"], **form.values()
            )
        except StaleVersionError as exc:
            # Keep what the user typed, show what the other person changed, and carry the
            # current version: saving again is now a deliberate choice made with their change in view.
            current = get_object_or_404(selectors.products(request.user), pk=pk)
            conflict = selectors.product_changes_since(current, exc.expected)
            data = request.POST.copy()
            data["version"] = str(current.version)
            form = forms.ProductForm(data, tree=tree, product=current)
            form.is_valid()
            form.add_error(None, exc.message)
            product = current
        except ValidationError as exc:
            forms.apply_service_error(form, exc)
        else:
            messages.success(request, _("Product %(product)s was saved.") % {"product": product})
            return redirect("inventory:product_detail", pk=product.pk)
    return render(request, "inventory/product_form.html", {"form": form, "product": product, "conflict": conflict})


@login_required
@permission_required("inventory.view_product", raise_exception=True)
@require_GET
def product_lookup(request: HttpRequest) -> HttpResponse:
    """The picker's suggestions: active products whose name or SKU matches what was typed."""
    text = request.GET.get("product_search", "")[:100]
    return render(
        request,
        "inventory/includes/product_picker.html#results",
        {"products": selectors.product_lookup(text), "search": text.strip()},
    )


# --- Categories -----------------------------------------------------------------------------


@login_required
@permission_required("inventory.view_category", raise_exception=True)
@require_GET
def category_list(request: HttpRequest) -> HttpResponse:
    return render(request, "inventory/categories.html", {"tree": selectors.category_tree()})


@login_required
@permission_required("inventory.add_category", raise_exception=True)
@require_http_methods(["GET", "POST"])
def category_create(request: HttpRequest) -> HttpResponse:
    initial = {"parent": request.GET.get("parent")} if request.GET.get("parent") else None
    form = forms.CategoryForm(
        request.POST if request.method == "POST" else None, tree=selectors.category_tree(), initial=initial
    )
    if form.is_valid():
        try:
            category = services.category_create(
                actor=request.user, name=form.cleaned_data["name"], parent=form.cleaned_data["parent"]
            )
        except ValidationError as exc:
            forms.apply_service_error(form, exc)
        else:
            messages.success(request, _("Category %(category)s was added.") % {"category": category})
            return redirect("inventory:categories")
    return render(request, "inventory/category_form.html", {"form": form, "category": None})


@login_required
@permission_required("inventory.change_category", raise_exception=True)
@require_http_methods(["GET", "POST"])
def category_edit(request: HttpRequest, pk: int) -> HttpResponse:
    category = get_object_or_404(selectors.categories(), pk=pk)
    form = forms.CategoryForm(
        request.POST if request.method == "POST" else None, tree=selectors.category_tree(), category=category
    )
    if form.is_valid():
        try:
            category = services.category_update(actor=request.user, category=category, **form.cleaned_data)
        except ValidationError as exc:
            forms.apply_service_error(form, exc)
        else:
            messages.success(request, _("Category %(category)s was saved.") % {"category": category})
            return redirect("inventory:categories")
    return render(request, "inventory/category_form.html", {"form": form, "category": category})


# --- Warehouses -----------------------------------------------------------------------------


@login_required
@permission_required("inventory.view_warehouse", raise_exception=True)
@require_GET
def warehouse_list(request: HttpRequest) -> HttpResponse:
    page = CappedCountPaginator(selectors.warehouse_list(request.user), PER_PAGE).get_page(request.GET.get("page"))
    return render(request, "inventory/warehouses.html", {"page_obj": page})


@login_required
@permission_required("inventory.add_warehouse", raise_exception=True)
@require_http_methods(["GET", "POST"])
def warehouse_create(request: HttpRequest) -> HttpResponse:
    form = forms.WarehouseForm(request.POST if request.method == "POST" else None, user=request.user)
    if form.is_valid():
        try:
            warehouse = services.warehouse_create(actor=request.user, **form.cleaned_data)
        except ValidationError as exc:
            forms.apply_service_error(form, exc)
        else:
            messages.success(request, _("Warehouse %(warehouse)s was added.") % {"warehouse": warehouse})
            return redirect("inventory:warehouses")
    return render(request, "inventory/warehouse_form.html", {"form": form, "warehouse": None})


@login_required
@require_http_methods(["GET", "POST"])
def warehouse_edit(request: HttpRequest, pk: int) -> HttpResponse:
    # Out of scope is a 404 before the permission is even looked at: a 403 would confirm it exists.
    warehouse = get_object_or_404(selectors.warehouse_list(request.user), pk=pk)
    _require(request, "inventory.change_warehouse")
    form = forms.WarehouseForm(
        request.POST if request.method == "POST" else None, user=request.user, warehouse=warehouse
    )
    if form.is_valid():
        try:
            warehouse = services.warehouse_update(actor=request.user, warehouse=warehouse, **form.cleaned_data)
        except ValidationError as exc:
            forms.apply_service_error(form, exc)
        else:
            messages.success(request, _("Warehouse %(warehouse)s was saved.") % {"warehouse": warehouse})
            return redirect("inventory:warehouses")
    return render(request, "inventory/warehouse_form.html", {"form": form, "warehouse": warehouse})


# --- Ledger ---------------------------------------------------------------------------------


@login_required
@permission_required("inventory.view_stockmovement", raise_exception=True)
@require_GET
def movement_list(request: HttpRequest) -> HttpResponse:
    form = forms.MovementFilterForm(request.GET or None, user=request.user)
    filters = form.filters()
    # partials/keyset_pagination.html links carry ?cursor=…[&dir=prev].
    page = keyset_paginate(
        selectors.movement_ledger(request.user, **filters),
        ordering=selectors.MOVEMENT_ORDERING,
        cursor=request.GET.get("cursor") or None,
        per_page=LEDGER_PAGE,
        backwards=request.GET.get("dir") == "prev",
    )
    context = {"form": form, "page_obj": page, "selected_product": filters["product"]}
    return render(request, _page_or_list(request, "inventory/movements.html"), context)


# --- Stock operations -----------------------------------------------------------------------


def _prefill(request: HttpRequest, *names: str) -> dict[str, str]:
    """Links from the stock page and the product page pre-select the product and warehouse."""
    return {name: request.GET[name] for name in ("product", *names) if request.GET.get(name, "").isdigit()}


def _stock_form(
    request: HttpRequest, form_class: type[forms.StockFormBase], *warehouse_params: str
) -> forms.StockFormBase:
    if request.method == "POST":
        return form_class(request.POST, user=request.user)
    return form_class(user=request.user, initial=_prefill(request, *warehouse_params))


def _render_stock_form(request: HttpRequest, form: forms.StockFormBase, operation: str) -> HttpResponse:
    context = {"form": form, "operation": operation, "selected_product": form.selected_product()}
    return render(request, "inventory/stock_form.html", context)


def _done(request: HttpRequest, movement: StockMovement, text: str) -> HttpResponse:
    """Success toast, a warning toast when the level just fell below the reorder level, then the ledger."""
    messages.success(request, text)
    product = movement.product
    before = movement.balance_after - movement.quantity
    if movement.balance_after < product.reorder_level <= before:
        messages.warning(
            request,
            _(
                "%(product)s is now below its reorder level in %(warehouse)s: "
                "%(quantity)s left, reorder level %(level)s."
            )
            % {
                "product": product.name,
                "warehouse": movement.warehouse.name,
                "quantity": qty(movement.balance_after),
                "level": qty(product.reorder_level),
            },
        )
    return redirect(reverse("inventory:movements") + "?" + urlencode({"product": movement.product_id}))


def _moved(movement: StockMovement, quantity: Decimal) -> dict[str, str]:
    return {
        "quantity": qty(quantity),
        "unit": movement.product.get_unit_display(),
        "product": movement.product.name,
        "warehouse": movement.warehouse.name,
    }


def _operate(
    request: HttpRequest, form: forms.StockFormBase, call: Callable[[dict[str, Any]], StockMovement]
) -> StockMovement | None:
    """Run the one service call of a valid form; a refusal becomes form errors and nothing is written."""
    if not form.is_valid():
        return None
    try:
        return call(form.cleaned_data)
    except ValidationError as exc:
        forms.apply_service_error(form, exc)
        return None


@login_required
@permission_required("inventory.add_stockmovement", raise_exception=True)
@require_http_methods(["GET", "POST"])
def stock_receive(request: HttpRequest) -> HttpResponse:
    form = _stock_form(request, forms.ReceiveForm, "warehouse")
    movement = _operate(
        request,
        form,
        lambda data: services.stock_receive(
            actor=request.user,
            product=data["product"],
            warehouse=data["warehouse"],
            quantity=data["quantity"],
            unit_cost=data["unit_cost"],
            reference=data["reference"],
            note=data["note"],
        ),
    )
    if movement is not None:
        text = _("Received %(quantity)s %(unit)s of %(product)s into %(warehouse)s.")
        return _done(request, movement, text % _moved(movement, movement.quantity))
    return _render_stock_form(request, form, "receive")


@login_required
@permission_required("inventory.add_stockmovement", raise_exception=True)
@require_http_methods(["GET", "POST"])
def stock_issue(request: HttpRequest) -> HttpResponse:
    form = _stock_form(request, forms.IssueForm, "warehouse")
    movement = _operate(
        request,
        form,
        lambda data: services.stock_issue(
            actor=request.user,
            product=data["product"],
            warehouse=data["warehouse"],
            quantity=data["quantity"],
            reference=data["reference"],
            note=data["note"],
        ),
    )
    if movement is not None:
        text = _("Issued %(quantity)s %(unit)s of %(product)s from %(warehouse)s.")
        return _done(request, movement, text % _moved(movement, -movement.quantity))
    return _render_stock_form(request, form, "issue")


@login_required
@permission_required(("inventory.add_stockmovement", "inventory.adjust_stock"), raise_exception=True)
@require_http_methods(["GET", "POST"])
def stock_adjust(request: HttpRequest) -> HttpResponse:
    form = _stock_form(request, forms.AdjustForm, "warehouse")
    movement = _operate(
        request,
        form,
        lambda data: services.stock_adjust(
            actor=request.user,
            product=data["product"],
            warehouse=data["warehouse"],
            counted_quantity=data["counted_quantity"],
            reason=data["reason"],
        ),
    )
    if movement is not None:
        text = _("Stock of %(product)s in %(warehouse)s set to %(quantity)s %(unit)s.")
        return _done(request, movement, text % _moved(movement, movement.balance_after))
    return _render_stock_form(request, form, "adjust")


@login_required
@permission_required("inventory.add_stockmovement", raise_exception=True)
@require_http_methods(["GET", "POST"])
def stock_transfer(request: HttpRequest) -> HttpResponse:
    form = _stock_form(request, forms.TransferForm, "from_warehouse", "to_warehouse")
    movement = _operate(
        request,
        form,
        lambda data: services.stock_transfer(
            actor=request.user,
            product=data["product"],
            from_warehouse=data["from_warehouse"],
            to_warehouse=data["to_warehouse"],
            quantity=data["quantity"],
            note=data["note"],
        )[0],
    )
    if movement is not None:
        text = _("Transferred %(quantity)s %(unit)s of %(product)s from %(source)s to %(target)s.")
        values = _moved(movement, -movement.quantity)
        values.update(source=movement.warehouse.name, target=form.cleaned_data["to_warehouse"].name)
        del values["warehouse"]
        return _done(request, movement, text % values)
    return _render_stock_form(request, form, "transfer")
