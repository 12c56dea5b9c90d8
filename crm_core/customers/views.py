"""Customer pages: the list, the customer's page with its timeline, create/edit, notes, categories."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.forms import Form
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import NoReverseMatch, reverse
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from crm_core.accounts.models import User
from crm_core.common.exceptions import StaleVersionError
from crm_core.common.live_lists import REFETCH_CREATED, list_refetch
from crm_core.common.pagination import CappedCountPaginator, keyset_paginate
from crm_core.customers import forms, selectors, services
from crm_core.customers.models import Customer, CustomerCategory, CustomerKind, CustomerStatus
from realtime.events import last_event_id

VIEW = "customers.view_customer"
ADD = "customers.add_customer"
CHANGE = "customers.change_customer"
ADD_NOTE = "customers.add_customernote"
ADD_CATEGORY = "customers.add_customercategory"
CHANGE_CATEGORY = "customers.change_customercategory"
CATEGORY_PAGE_SIZE = 50


def _require(user: User, *perms: str) -> None:
    if not all(user.has_perm(perm) for perm in perms):
        raise PermissionDenied(_("You do not have permission to do this."))


def _may_manage_categories(user: User) -> bool:
    return user.has_perm(ADD_CATEGORY) or user.has_perm(CHANGE_CATEGORY)


def url_or_none(name: str, *args: Any, query: dict[str, Any] | None = None) -> str | None:
    """A link to another area's page, or None while that page does not exist (yet)."""
    try:
        url = reverse(name, args=args)
    except NoReverseMatch:
        return None
    return f"{url}?{urlencode(query)}" if query else url


def _apply_errors(form: Form, exc: ValidationError) -> None:
    """A service's refusal shown where the user looks: on the field it names, else on the form."""
    if hasattr(exc, "error_dict"):
        for key, errors in exc.message_dict.items():
            form.add_error(key if key in form.fields else None, errors)
    else:
        form.add_error(None, exc.messages)


def _partial(request: HttpRequest, template: str, name: str) -> str:
    """An htmx swap gets the named partial; a full load, a boosted link or a history restore the page."""
    htmx = request.htmx
    if htmx and not htmx.boosted and not htmx.history_restore_request:
        return f"{template}#{name}"
    return template


# --- List ----------------------------------------------------------------------------------------


@login_required
@require_GET
def customer_list(request: HttpRequest) -> HttpResponse:
    user = request.user
    _require(user, VIEW)
    # Read before the rows: an event committed in between makes the page resync, not miss it.
    live_since = last_event_id()
    form = forms.CustomerFilterForm(request.GET or None, user=user)
    filters = form.filters() if request.GET else {}
    sort = form.sort_key() if request.GET else selectors.DEFAULT_SORT
    ordering = selectors.CUSTOMER_SORTS[sort]
    cursor = request.GET.get("cursor") or None
    page = keyset_paginate(
        selectors.customer_list(user, **filters),
        ordering=ordering,
        cursor=cursor,
        per_page=selectors.PAGE_SIZE,
        backwards=request.GET.get("dir") == "prev",
    )
    is_filtered = any(value not in (None, "") for value in filters.values())
    live_refetch = list_refetch(
        filtered=is_filtered,
        fixed_order=sort in ("newest", "oldest", "code"),
        takes_new_rows=sort == selectors.DEFAULT_SORT and not page.has_previous,
    )
    context = {
        "form": form,
        "page_obj": page,
        "is_filtered": is_filtered,
        "live_since": live_since,
        # Only the unfiltered first page of the newest customers takes a new customer on top.
        "live_inserts": live_refetch == REFETCH_CREATED,
        "live_refetch": live_refetch,
        "show_branch": user.sees_all_branches,
        "can_add": user.has_perm(ADD),
        "can_manage_categories": _may_manage_categories(user),
    }
    return render(request, _partial(request, "customers/list.html", "table"), context)


# --- Detail and notes ----------------------------------------------------------------------------


def _timeline_links(entries: list[selectors.TimelineEntry]) -> None:
    for entry in entries:
        if entry.kind == "order":
            entry.url = url_or_none("orders:detail", entry.obj.pk)
        elif entry.kind == "payment":
            entry.url = url_or_none("orders:detail", entry.obj.order_id)
        elif entry.kind == "inspection":
            entry.url = url_or_none("inspections:detail", entry.obj.pk)


def header_context(user: User, customer: Customer) -> dict[str, Any]:
    """What the customer's header shows: the same for everyone of one role (the live stream
    renders it once per audience, crm_core/customers/live.py)."""
    can_order = user.has_perm("orders.add_order") and user.has_perm("orders.add_orderitem")
    return {
        "customer": customer,
        "can_edit": user.has_perm(CHANGE),
        "new_order_url": url_or_none("orders:create", query={"customer": customer.pk}) if can_order else None,
        "new_inspection_url": (
            url_or_none("inspections:create", query={"customer": customer.pk})
            if user.has_perm("inspections.add_inspection")
            else None
        ),
    }


def _detail_context(request: HttpRequest, customer: Customer, note_form: forms.NoteForm | None = None) -> dict:
    user = request.user
    timeline = selectors.customer_timeline(user, customer)
    _timeline_links(timeline.entries)
    return {
        **header_context(user, customer),
        "timeline": timeline,
        "timeline_limit": selectors.TIMELINE_PER_KIND,
        "totals": selectors.customer_totals(user, customer),
        "note_form": note_form if note_form is not None else forms.NoteForm(),
        "can_add_note": user.has_perm(ADD_NOTE),
        "orders_url": (
            url_or_none("orders:list", query={"customer": customer.pk}) if user.has_perm("orders.view_order") else None
        ),
        "inspections_url": (
            url_or_none("inspections:list", query={"customer": customer.pk})
            if user.has_perm("inspections.view_inspection")
            else None
        ),
    }


@login_required
@require_GET
def customer_detail(request: HttpRequest, pk: int) -> HttpResponse:
    _require(request.user, VIEW)
    live_since = last_event_id()
    customer = get_object_or_404(selectors.customer_detail_queryset(request.user), pk=pk)
    return render(request, "customers/detail.html", {**_detail_context(request, customer), "live_since": live_since})


@login_required
@require_POST
def customer_add_note(request: HttpRequest, pk: int) -> HttpResponse:
    user = request.user
    _require(user, VIEW)
    customer = get_object_or_404(selectors.customer_detail_queryset(user), pk=pk)
    _require(user, ADD_NOTE)
    form = forms.NoteForm(request.POST)
    if form.is_valid():
        try:
            note = services.customer_add_note(actor=user, customer=customer, body=form.cleaned_data["body"])
        except ValidationError as exc:
            _apply_errors(form, exc)
        else:
            if not request.htmx:
                messages.success(request, _("Note added."))
                return redirect("customers:detail", pk=customer.pk)
            entry = selectors.TimelineEntry(kind="note", at=note.created_at, obj=note)
            # The new note goes on top of the timeline; a fresh form replaces the used one.
            return render(
                request,
                "customers/detail.html#note-added",
                {"entry": entry, "customer": customer, "note_form": forms.NoteForm(), "can_add_note": True},
            )
    if request.htmx:
        response = render(
            request, "customers/detail.html#note-form", {"customer": customer, "note_form": form, "can_add_note": True}
        )
        response["HX-Retarget"] = "#note-form"
        response["HX-Reswap"] = "outerHTML"
        return response
    return render(request, "customers/detail.html", _detail_context(request, customer, note_form=form))


# --- Create and edit -----------------------------------------------------------------------------


@login_required
@require_http_methods(["GET", "POST"])
def customer_create(request: HttpRequest) -> HttpResponse:
    user = request.user
    _require(user, ADD)
    form = forms.CustomerForm(request.POST or None, user=user)
    if request.method == "POST" and form.is_valid():
        try:
            customer = services.customer_create(
                actor=user, branch=form.cleaned_data.get("branch"), **form.service_values()
            )
        except ValidationError as exc:
            _apply_errors(form, exc)
        else:
            messages.success(request, _("Customer %(name)s was added.") % {"name": customer.name})
            return redirect("customers:detail", pk=customer.pk)
    return render(request, "customers/form.html", {"form": form, "customer": None})


def _describe(form: forms.CustomerForm, change: selectors.FieldChange) -> dict[str, str]:
    """One change of a conflicting save, in words: field label, old and new value."""
    choices = {"kind": CustomerKind, "status": CustomerStatus}

    def shown(value: Any) -> str:
        if value in (None, ""):
            return _("(empty)")
        if change.field in choices and value in choices[change.field].values:
            return str(choices[change.field](value).label)
        return str(value)

    return {"field": form.field_label(change.field), "old": shown(change.old), "new": shown(change.new)}


@login_required
@require_http_methods(["GET", "POST"])
def customer_edit(request: HttpRequest, pk: int) -> HttpResponse:
    user = request.user
    _require(user, VIEW)
    customer = get_object_or_404(selectors.customer_detail_queryset(user), pk=pk)
    _require(user, CHANGE)
    form = forms.CustomerForm(request.POST or None, user=user, customer=customer)
    conflict = None
    if request.method == "POST" and form.is_valid():
        try:
            saved = services.customer_update(
                actor=user,
                customer=customer,
                expected_version=form.cleaned_data["version"],
                **form.service_values(),
            )
        except ValidationError as exc:
            _apply_errors(form, exc)
        except StaleVersionError as exc:
            saves = selectors.customer_changes_since(
                customer, expected_version=exc.expected, current_version=exc.current
            )
            if exc.changed_by:
                message = _("%(who)s saved changes to this customer while you were editing it.") % {
                    "who": exc.changed_by
                }
            else:
                message = _("Someone saved changes to this customer while you were editing it.")
            conflict = {
                "message": message,
                "saves": [
                    {"who": save.who, "at": save.at, "changes": [_describe(form, c) for c in save.changes]}
                    for save in saves
                ],
            }
            # The user's input stays; saving again now is a deliberate choice made after
            # seeing the other change, so the form carries the version it was compared with.
            data = request.POST.copy()
            data["version"] = str(exc.current)
            form = forms.CustomerForm(data, user=user, customer=customer)
            form.is_valid()
        else:
            if saved.version == customer.version:
                messages.info(request, _("Nothing was changed."))
            else:
                messages.success(request, _("Changes to %(name)s were saved.") % {"name": saved.name})
            return redirect("customers:detail", pk=customer.pk)
    return render(request, "customers/form.html", {"form": form, "customer": customer, "conflict": conflict})


# --- Categories ----------------------------------------------------------------------------------


@login_required
@require_GET
def category_list(request: HttpRequest) -> HttpResponse:
    user = request.user
    if not _may_manage_categories(user):
        raise PermissionDenied(_("You do not have permission to do this."))
    page = CappedCountPaginator(selectors.category_list(), CATEGORY_PAGE_SIZE).get_page(request.GET.get("page"))
    context = {"page_obj": page, "can_add": user.has_perm(ADD_CATEGORY), "can_change": user.has_perm(CHANGE_CATEGORY)}
    return render(request, "customers/categories.html", context)


@login_required
@require_http_methods(["GET", "POST"])
def category_create(request: HttpRequest) -> HttpResponse:
    user = request.user
    _require(user, ADD_CATEGORY)
    form = forms.CategoryForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            category = services.customer_category_create(actor=user, **form.cleaned_data)
        except ValidationError as exc:
            _apply_errors(form, exc)
        else:
            messages.success(request, _("Category %(name)s was added.") % {"name": category.name})
            return redirect("customers:categories")
    return render(request, "customers/category_form.html", {"form": form, "category": None})


@login_required
@require_http_methods(["GET", "POST"])
def category_edit(request: HttpRequest, pk: int) -> HttpResponse:
    user = request.user
    _require(user, CHANGE_CATEGORY)
    category = get_object_or_404(CustomerCategory, pk=pk)
    form = forms.CategoryForm(request.POST or None, category=category)
    if request.method == "POST" and form.is_valid():
        try:
            category = services.customer_category_update(actor=user, category=category, **form.cleaned_data)
        except ValidationError as exc:
            _apply_errors(form, exc)
        else:
            messages.success(request, _("Category %(name)s was saved.") % {"name": category.name})
            return redirect("customers:categories")
    return render(request, "customers/category_form.html", {"form": form, "category": category})


@login_required
@require_POST
def category_set_active(request: HttpRequest, pk: int) -> HttpResponse:
    user = request.user
    _require(user, CHANGE_CATEGORY)
    category = get_object_or_404(CustomerCategory, pk=pk)
    active = request.POST.get("active") == "1"
    category = services.customer_category_update(actor=user, category=category, is_active=active)
    if active:
        messages.success(request, _("Category %(name)s is active again.") % {"name": category.name})
    else:
        messages.success(
            request,
            _("Category %(name)s was deactivated: it can no longer be chosen for a customer.")
            % {"name": category.name},
        )
    return redirect("customers:categories")
