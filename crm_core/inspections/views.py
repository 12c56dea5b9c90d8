"""Inspection pages: list, week calendar, "my day", detail, scheduling, the field workflow."""

from __future__ import annotations

import mimetypes
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.storage import default_storage
from django.forms import Form
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from django.utils.dateparse import parse_date
from django.utils.formats import date_format
from django.utils.http import content_disposition_header, url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from crm_core.accounts.models import Branch, Role, User
from crm_core.common.exceptions import StaleVersionError
from crm_core.common.live_lists import list_refetch
from crm_core.common.pagination import CappedCountPaginator
from crm_core.customers.models import Customer
from crm_core.inspections import forms, selectors, services
from crm_core.inspections.models import ACTIVE_INSPECTION_STATUSES, Inspection, InspectionPhoto, InspectionStatus
from crm_core.orders.services import ItemInput
from realtime.events import last_event_id

PAGE_SIZE = 25
VIEW = "inspections.view_inspection"
ADD = "inspections.add_inspection"
CHANGE = "inspections.change_inspection"
ADD_RESULT = "inspections.add_inspectionresult"
ADD_PHOTO = "inspections.add_inspectionphoto"


def _require(user: User, *perms: str) -> None:
    if not all(user.has_perm(perm) for perm in perms):
        raise PermissionDenied(_("You do not have permission to do this."))


def _is_field_inspector(user: User) -> bool:
    return user.role == Role.INSPECTOR and not user.sees_all_branches


def _apply_errors(form: Form, exc: ValidationError, mapping: dict[str, str] | None = None) -> None:
    """A service's refusal shown where the user looks: on the field it names, else on the form."""
    if hasattr(exc, "error_dict"):
        for key, errors in exc.message_dict.items():
            name = (mapping or {}).get(key, key)
            form.add_error(name if name in form.fields else None, errors)
    else:
        form.add_error(None, exc.messages)


def _error_text(exc: ValidationError) -> str:
    return " ".join(exc.messages)


def _next_url(request: HttpRequest, default: str) -> str:
    target = request.POST.get("next") or request.GET.get("next") or ""
    if target and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return default


def _visible(user: User, pk: int, queryset: Any = None) -> Inspection:
    return get_object_or_404(queryset if queryset is not None else selectors.inspection_for_change(user), pk=pk)


@dataclass(frozen=True)
class Actions:
    """What the user may do to one inspection now: the buttons shown, the views that accept."""

    reschedule: bool
    assign: bool
    start: bool
    cancel: bool
    no_show: bool
    result: bool
    add_photo: bool
    create_order: bool


def actions_for(user: User, inspection: Inspection) -> Actions:
    status = inspection.status
    active = status in ACTIVE_INSPECTION_STATUSES
    scheduled = status == InspectionStatus.SCHEDULED
    field_inspector = _is_field_inspector(user)
    can_change = user.has_perm(CHANGE)
    return Actions(
        reschedule=can_change and scheduled,
        assign=can_change and scheduled and not field_inspector,
        start=can_change and scheduled and inspection.inspector_id is not None,
        cancel=can_change and active and not field_inspector,
        no_show=can_change and active and inspection.scheduled_start <= timezone.now(),
        result=user.has_perm(ADD_RESULT) and active and inspection.inspector_id is not None,
        add_photo=user.has_perm(ADD_PHOTO) and status not in (InspectionStatus.CANCELLED, InspectionStatus.NO_SHOW),
        create_order=user.has_perm("orders.add_order")
        and user.has_perm("orders.add_orderitem")
        and inspection.order_id is None
        and status not in (InspectionStatus.CANCELLED, InspectionStatus.NO_SHOW),
    )


# --- Lists -------------------------------------------------------------------------------------


@login_required
@require_GET
def inspection_list(request: HttpRequest) -> HttpResponse:
    _require(request.user, VIEW)
    # Before any query: an event committed while the page renders then triggers a resync.
    since = last_event_id()
    form = forms.InspectionFilterForm(request.GET or None, user=request.user)
    filters = form.filters() if request.GET else selectors.ListFilters()
    paginator = CappedCountPaginator(selectors.inspection_list(request.user, filters), PAGE_SIZE)
    page = paginator.get_page(request.GET.get("page"))
    context = {
        "form": form,
        "live_since": since,
        "live_refetch": list_refetch(
            filtered=bool(form.active_count),
            fixed_order=filters.sort in ("number", "-number"),
            takes_new_rows=filters.sort == "-number" and page.number == 1,
        ),
        "filters": filters,
        "page_obj": page,
        "show_branch": request.user.sees_all_branches,
        "can_add": request.user.has_perm(ADD),
        "is_inspector": request.user.role == Role.INSPECTOR,
    }
    template = "inspections/list.html#results" if request.htmx and not request.htmx.boosted else "inspections/list.html"
    return render(request, template, context)


# Days a page may be asked about: far enough for any plan, near enough that a week or a day
# either side never overflows the calendar.
EARLIEST_DAY = date(2000, 1, 1)
LATEST_DAY = date(2100, 12, 31)


def _parse_day(value: str | None, default: date) -> date:
    parsed = None
    if value:
        try:
            parsed = parse_date(value)
        except ValueError:
            parsed = None
    if parsed is None or not EARLIEST_DAY <= parsed <= LATEST_DAY:
        return default
    return parsed


def _pick(queryset: Any, value: str | None) -> Any:
    if value and value.isdigit():
        return queryset.filter(pk=int(value)).first()
    return None


def _chosen_branch(user: User, wanted: str) -> tuple[list[Branch], Branch | None]:
    """For users who see every branch: the branches to choose from and the one asked for (else
    their own, else the first). Others see their own branch and choose nothing."""
    if not user.sees_all_branches:
        return [], None
    branches = list(selectors.visible_branches(user))
    branch = next((b for b in branches if str(b.pk) == wanted), None)
    if branch is None:
        branch = next((b for b in branches if b.pk == user.branch_id), branches[0] if branches else None)
    return branches, branch


@login_required
@require_GET
def inspection_calendar(request: HttpRequest) -> HttpResponse:
    user = request.user
    _require(user, VIEW)
    since = last_event_id()
    week_start = selectors.week_start_of(_parse_day(request.GET.get("week"), timezone.localdate()))
    branches, branch = _chosen_branch(user, request.GET.get("branch", ""))
    inspectors = (
        [] if _is_field_inspector(user) else list(selectors.visible_inspectors(user, branch.pk if branch else None))
    )
    inspector = next((p for p in inspectors if str(p.pk) == request.GET.get("inspector", "")), None)
    calendar = selectors.week_calendar(
        user, week_start=week_start, branch=branch, inspector=inspector, inspectors=inspectors or None
    )
    context = {
        "calendar": calendar,
        "live_since": since,
        "branches": branches,
        "branch": branch,
        "inspectors": inspectors,
        "inspector": inspector,
        "today": timezone.localdate(),
        "statuses": InspectionStatus.choices,
        "can_add": user.has_perm(ADD),
        "is_inspector": user.role == Role.INSPECTOR,
        "cell_branch": branch.pk if branch else user.branch_id,
    }
    template = (
        "inspections/calendar.html#week" if request.htmx and not request.htmx.boosted else "inspections/calendar.html"
    )
    return render(request, template, context)


@login_required
@require_GET
def my_day(request: HttpRequest) -> HttpResponse:
    user = request.user
    _require(user, VIEW)
    today = timezone.localdate()
    day = _parse_day(request.GET.get("date"), today)
    since = last_event_id()
    visits = list(selectors.my_day(user, day))
    rows = [(visit, actions_for(user, visit)) for visit in visits]
    context = {
        "day": day,
        "today": today,
        "previous_day": day - timedelta(days=1),
        "next_day": day + timedelta(days=1),
        "rows": rows,
        "done": sum(1 for visit in visits if visit.status not in ACTIVE_INSPECTION_STATUSES),
        "live_since": since,
    }
    partial = request.htmx and not request.htmx.boosted
    return render(request, "inspections/my_day.html#visits" if partial else "inspections/my_day.html", context)


# --- Detail and photos -------------------------------------------------------------------------


@login_required
@require_GET
def inspection_detail(request: HttpRequest, pk: int) -> HttpResponse:
    user = request.user
    _require(user, VIEW)
    inspection = get_object_or_404(selectors.inspection_detail_queryset(user), pk=pk)
    actions = actions_for(user, inspection)
    context = {
        "inspection": inspection,
        # select_related caches a missing result as None: no query either way.
        "result": getattr(inspection, "result", None),
        "photos": list(inspection.photos.all()),
        "actions": actions,
        "cancel_form": forms.CancelForm(initial={"version": inspection.version}),
        "no_show_form": forms.NoShowForm(initial={"version": inspection.version}),
        "photo_form": forms.PhotoForm(),
        "is_own": inspection.inspector_id == user.pk,
    }
    part = request.GET.get("part", "")
    # The action buttons and forms carry the version and a CSRF token: after a live change each
    # viewer fetches their own, rather than sharing a broadcast fragment.
    if request.htmx and not request.htmx.boosted and part in ("actions", "panels"):
        return render(request, f"inspections/detail.html#{part}", context)
    return render(request, "inspections/detail.html", context)


def _file_response(storage_name: str, *, download_name: str, content_type: str | None = None) -> HttpResponse:
    guessed = content_type or mimetypes.guess_type(download_name)[0] or ""
    safe = guessed in services.SAFE_IMAGE_TYPES
    # Photos are capped at upload (MAX_PHOTO_BYTES), so they are read whole: under Daphne a
    # FileResponse would be a synchronous iterator that Django has to drain in a thread, with a
    # warning on every thumbnail of a page.
    with default_storage.open(storage_name, "rb") as handle:
        content = handle.read()
    # Only picture types render inline: an upload named "x.html" must never run as a page here.
    response = HttpResponse(content, content_type=guessed if safe else "application/octet-stream")
    response["Content-Disposition"] = content_disposition_header(not safe, download_name)
    response["Cache-Control"] = "private, max-age=86400"
    return response


@login_required
@require_GET
def inspection_photo(request: HttpRequest, pk: int, photo_pk: int) -> HttpResponse:
    _require(request.user, VIEW, "inspections.view_inspectionphoto")
    try:
        photo = selectors.photo_for(request.user, pk, photo_pk)
    except InspectionPhoto.DoesNotExist:
        raise Http404 from None
    if not photo.image or not default_storage.exists(photo.image.name):
        raise Http404
    filename = photo.image.name.rsplit("/", 1)[-1]
    if request.GET.get("size") == "thumb":
        try:
            thumb = selectors.photo_thumbnail(photo)
        except (OSError, ValueError):
            raise Http404 from None
        return _file_response(thumb, download_name=f"thumb-{photo.pk}.jpg", content_type="image/jpeg")
    return _file_response(photo.image.name, download_name=filename)


@login_required
@require_POST
def inspection_add_photo(request: HttpRequest, pk: int) -> HttpResponse:
    user = request.user
    _require(user, ADD_PHOTO)
    inspection = _visible(user, pk)
    form = forms.PhotoForm(request.POST, request.FILES)
    detail_url = reverse("inspections:detail", args=[inspection.pk])
    if form.is_valid():
        try:
            services.inspection_add_photo(
                actor=user,
                inspection=inspection,
                image=form.cleaned_data["photo"],
                caption=form.cleaned_data["caption"],
            )
        except ValidationError as exc:
            messages.error(request, _error_text(exc))
        except Inspection.DoesNotExist:
            raise Http404 from None
        else:
            messages.success(request, _("The photo was added."))
    else:
        messages.error(request, " ".join(str(e) for errors in form.errors.values() for e in errors))
    return redirect(f"{detail_url}#photos")


# --- Scheduling --------------------------------------------------------------------------------


def _schedule_context(request: HttpRequest, form: Form, inspection: Inspection | None = None, **extra: Any) -> dict:
    """The form plus the chosen inspector's day, so the panel is filled before any script runs."""
    source = form.data if form.is_bound else form.initial
    fallback = inspection.inspector_id if inspection else ""
    inspector_value = str((source.get("inspector") if "inspector" in form.fields else fallback) or "")
    if "date" in form.fields:
        day = _parse_day(str(source.get("date") or ""), timezone.localdate())
    else:
        day = timezone.localdate(inspection.scheduled_start) if inspection else timezone.localdate()
    inspector = _pick(selectors.visible_inspectors(request.user), inspector_value)
    schedule = (
        selectors.inspector_day(request.user, inspector, day, inspection.pk if inspection else None)
        if inspector is not None
        else None
    )
    return {"form": form, "inspection": inspection, "schedule": schedule, "slots_day": day, **extra}


@login_required
@require_http_methods(["GET", "POST"])
def inspection_create(request: HttpRequest) -> HttpResponse:
    user = request.user
    _require(user, ADD)
    customer = _pick(selectors.schedulable_customers(user), request.GET.get("customer"))
    if request.method == "POST":
        posted = _pick(selectors.schedulable_customers(user), request.POST.get("customer"))
        form = forms.ScheduleForm(request.POST, user=user, customer=posted or customer)
        if form.is_valid():
            data = form.cleaned_data
            try:
                inspection = services.inspection_schedule(
                    actor=user,
                    customer=data["customer"],
                    scheduled_start=data["scheduled_start"],
                    scheduled_end=data["scheduled_end"],
                    inspector=data["inspector"],
                    address=data["address"],
                    notes=data["notes"],
                )
            except ValidationError as exc:
                _apply_errors(form, exc, form.service_fields)
            except Customer.DoesNotExist:
                form.add_error("customer", _("Choose a customer you can see."))
            else:
                messages.success(request, _("Inspection %(number)s was scheduled.") % {"number": inspection.number})
                return redirect("inspections:detail", pk=inspection.pk)
    else:
        initial: dict[str, Any] = {"date": timezone.localdate() + timedelta(days=1)}
        if request.GET.get("date"):
            initial["date"] = _parse_day(request.GET.get("date"), initial["date"])
        if (request.GET.get("inspector") or "").isdigit():
            initial["inspector"] = int(request.GET["inspector"])
        form = forms.ScheduleForm(initial=initial, user=user, customer=customer)
    return render(
        request,
        "inspections/form.html",
        _schedule_context(request, form, mode="create", chosen_customer=form.chosen_customer()),
    )


@login_required
@require_http_methods(["GET", "POST"])
def inspection_reschedule(request: HttpRequest, pk: int) -> HttpResponse:
    user = request.user
    _require(user, CHANGE)
    inspection = _visible(user, pk)
    if not actions_for(user, inspection).reschedule:
        messages.error(request, _("Only a scheduled inspection can be rescheduled."))
        return redirect("inspections:detail", pk=inspection.pk)
    if request.method == "POST":
        form = forms.RescheduleForm(request.POST, user=user, inspection=inspection)
        if form.is_valid():
            data = form.cleaned_data
            try:
                updated = services.inspection_reschedule(
                    actor=user,
                    inspection=inspection,
                    scheduled_start=data["scheduled_start"],
                    scheduled_end=data["scheduled_end"],
                    inspector=data["inspector"] if "inspector" in form.fields else False,
                    expected_version=data["version"],
                )
            except StaleVersionError as exc:
                form.add_error(None, exc.message)
            except ValidationError as exc:
                _apply_errors(form, exc, form.service_fields)
            except Inspection.DoesNotExist:
                raise Http404 from None
            else:
                messages.success(request, _("Inspection %(number)s was rescheduled.") % {"number": updated.number})
                return redirect("inspections:detail", pk=updated.pk)
    else:
        initial = {**forms.SlotForm.initial_for(inspection), "version": inspection.version}
        initial["inspector"] = inspection.inspector_id
        if initial["date"] < timezone.localdate():
            initial["date"] = timezone.localdate()
        form = forms.RescheduleForm(initial=initial, user=user, inspection=inspection)
    return render(request, "inspections/form.html", _schedule_context(request, form, inspection, mode="reschedule"))


@login_required
@require_http_methods(["GET", "POST"])
def inspection_assign(request: HttpRequest, pk: int) -> HttpResponse:
    user = request.user
    _require(user, CHANGE)
    inspection = _visible(user, pk)
    if _is_field_inspector(user):
        raise PermissionDenied(_("Inspectors cannot reassign inspections."))
    if not actions_for(user, inspection).assign:
        messages.error(request, _("Only a scheduled inspection can be assigned."))
        return redirect("inspections:detail", pk=inspection.pk)
    if request.method == "POST":
        form = forms.AssignForm(request.POST, user=user, inspection=inspection)
        if form.is_valid():
            try:
                updated = services.inspection_assign(
                    actor=user,
                    inspection=inspection,
                    inspector=form.cleaned_data["inspector"],
                    expected_version=form.cleaned_data["version"],
                )
            except StaleVersionError as exc:
                form.add_error(None, exc.message)
            except ValidationError as exc:
                _apply_errors(form, exc)
            except Inspection.DoesNotExist:
                raise Http404 from None
            else:
                if updated.inspector is None:
                    messages.success(request, _("%(number)s has no inspector now.") % {"number": updated.number})
                else:
                    messages.success(
                        request,
                        _("%(number)s was assigned to %(inspector)s.")
                        % {"number": updated.number, "inspector": updated.inspector},
                    )
                return redirect("inspections:detail", pk=updated.pk)
    else:
        form = forms.AssignForm(
            initial={"inspector": inspection.inspector_id, "version": inspection.version},
            user=user,
            inspection=inspection,
        )
    return render(request, "inspections/form.html", _schedule_context(request, form, inspection, mode="assign"))


@login_required
@require_GET
def free_slots(request: HttpRequest) -> HttpResponse:
    """The chosen inspector's day: busy visits and the free gaps (an htmx partial of the form)."""
    user = request.user
    if not (user.has_perm(ADD) or user.has_perm(CHANGE)):
        raise PermissionDenied
    inspector = _pick(selectors.visible_inspectors(user), request.GET.get("inspector"))
    day = _parse_day(request.GET.get("date"), timezone.localdate())
    exclude = request.GET.get("exclude", "")
    schedule = None
    if inspector is not None:
        schedule = selectors.inspector_day(user, inspector, day, int(exclude) if exclude.isdigit() else None)
    return render(request, "inspections/form.html#free_slots", {"schedule": schedule, "slots_day": day})


@login_required
@require_GET
def customer_lookup(request: HttpRequest) -> HttpResponse:
    _require(request.user, ADD)
    term = request.GET.get("customer_q", "")
    found = selectors.customer_lookup(request.user, term)
    # The customer already picked stays picked while the user searches for another.
    chosen = _pick(selectors.schedulable_customers(request.user), request.GET.get("customer"))
    return render(
        request,
        "inspections/form.html#customer_results",
        {"found_customers": found, "customer_term": term, "chosen_customer": chosen},
    )


# --- Status actions ----------------------------------------------------------------------------


def _status_action(
    request: HttpRequest, pk: int, *, allowed: str, form_class: type[Form], call: Any, done: str
) -> HttpResponse:
    user = request.user
    _require(user, CHANGE)
    inspection = _visible(user, pk)
    back = _next_url(request, reverse("inspections:detail", args=[inspection.pk]))
    if not getattr(actions_for(user, inspection), allowed):
        if allowed in ("assign", "cancel") and _is_field_inspector(user):
            raise PermissionDenied
        messages.error(
            request,
            _("A %(status)s inspection cannot be changed this way.") % {"status": inspection.get_status_display()},
        )
        return redirect(back)
    form = form_class(request.POST)
    if not form.is_valid():
        messages.error(request, " ".join(str(e) for errors in form.errors.values() for e in errors))
        return redirect(back)
    try:
        call(user, inspection, form.cleaned_data)
    except StaleVersionError as exc:
        messages.error(request, exc.message)
    except ValidationError as exc:
        messages.error(request, _error_text(exc))
    except Inspection.DoesNotExist:
        raise Http404 from None
    else:
        messages.success(request, done % {"number": inspection.number})
    return redirect(back)


@login_required
@require_POST
def inspection_start(request: HttpRequest, pk: int) -> HttpResponse:
    return _status_action(
        request,
        pk,
        allowed="start",
        form_class=forms.VersionForm,
        call=lambda user, inspection, data: services.inspection_start(
            actor=user, inspection=inspection, expected_version=data["version"]
        ),
        done=_("Inspection %(number)s started."),
    )


@login_required
@require_POST
def inspection_cancel(request: HttpRequest, pk: int) -> HttpResponse:
    return _status_action(
        request,
        pk,
        allowed="cancel",
        form_class=forms.CancelForm,
        call=lambda user, inspection, data: services.inspection_cancel(
            actor=user, inspection=inspection, reason=data["reason"], expected_version=data["version"]
        ),
        done=_("Inspection %(number)s was cancelled."),
    )


@login_required
@require_POST
def inspection_no_show(request: HttpRequest, pk: int) -> HttpResponse:
    return _status_action(
        request,
        pk,
        allowed="no_show",
        form_class=forms.NoShowForm,
        call=lambda user, inspection, data: services.inspection_mark_no_show(
            actor=user, inspection=inspection, reason=data["reason"], expected_version=data["version"]
        ),
        done=_("Inspection %(number)s was marked as a no-show."),
    )


# --- Result ------------------------------------------------------------------------------------


@login_required
@require_http_methods(["GET", "POST"])
def inspection_result(request: HttpRequest, pk: int) -> HttpResponse:
    user = request.user
    _require(user, ADD_RESULT)
    inspection = _visible(user, pk)
    if not actions_for(user, inspection).result:
        messages.error(
            request,
            _("A result can be recorded only for a scheduled or started inspection with an inspector."),
        )
        return redirect("inspections:detail", pk=inspection.pk)
    if request.method == "POST":
        form = forms.ResultForm(request.POST, request.FILES)
        measurements = forms.MeasurementFormSet(request.POST, prefix="m")
        if form.is_valid() and measurements.is_valid():
            data = form.cleaned_data
            try:
                services.inspection_record_result(
                    actor=user,
                    inspection=inspection,
                    outcome=data["outcome"],
                    findings=data["findings"],
                    recommendations=data["recommendations"],
                    measurements=measurements.as_dict(),
                    photos=[(photo, "") for photo in data["photos"]],
                    expected_version=data["version"],
                )
            except StaleVersionError as exc:
                form.add_error(None, exc.message)
            except ValidationError as exc:
                _apply_errors(form, exc)
            except Inspection.DoesNotExist:
                raise Http404 from None
            else:
                messages.success(request, _("The result of %(number)s was recorded.") % {"number": inspection.number})
                return redirect(_next_url(request, reverse("inspections:detail", args=[inspection.pk])))
    else:
        form = forms.ResultForm(initial={"version": inspection.version})
        measurements = forms.MeasurementFormSet(prefix="m")
    context = {
        "inspection": inspection,
        "form": form,
        "measurements": measurements,
        "next": _next_url(request, ""),
    }
    return render(request, "inspections/result_form.html", context)


# --- Order from an inspection ------------------------------------------------------------------


@login_required
@require_http_methods(["GET", "POST"])
def inspection_create_order(request: HttpRequest, pk: int) -> HttpResponse:
    user = request.user
    _require(user, "orders.add_order", "orders.add_orderitem")
    inspection = _visible(user, pk)
    detail_url = reverse("inspections:detail", args=[inspection.pk])
    if not actions_for(user, inspection).create_order:
        if inspection.order_id:
            messages.info(request, _("An order was already created from this inspection."))
        else:
            messages.error(request, _("An order cannot be created from a cancelled inspection."))
        return redirect(detail_url)
    if request.method == "POST":
        form = forms.OrderFromInspectionForm(request.POST)
        items = forms.OrderItemFormSet(request.POST, prefix="items")
        if form.is_valid() and items.is_valid():
            try:
                order = services.inspection_create_order(
                    actor=user,
                    inspection=inspection,
                    items=[ItemInput(product_id=product, quantity=quantity) for product, quantity in items.items()],
                    notes=form.cleaned_data["notes"],
                )
            except ValidationError as exc:
                _apply_errors(form, exc)
            except Inspection.DoesNotExist:
                raise Http404 from None
            else:
                messages.success(
                    request,
                    _("Order %(order)s was created from %(number)s.")
                    % {"order": order.number, "number": inspection.number},
                )
                try:
                    return redirect(reverse("orders:detail", args=[order.pk]))
                except NoReverseMatch:
                    return redirect(detail_url)
    else:
        form = forms.OrderFromInspectionForm(
            initial={"notes": _("Order from inspection %(number)s") % {"number": inspection.number}}
        )
        items = forms.OrderItemFormSet(prefix="items")
    context = {"inspection": inspection, "form": form, "items": items, "result": getattr(inspection, "result", None)}
    return render(request, "inspections/order_form.html", context)


# --- Dispatch board ----------------------------------------------------------------------------


def _require_board(user: User) -> None:
    if not selectors.board_allowed(user):
        raise PermissionDenied(_("The dispatch board is for dispatchers and managers."))


def board_card_context(user: User, inspection: Inspection) -> dict[str, Any]:
    """What one card needs, the same for the page, a move's answer and a live fragment."""
    return {"visit": selectors.as_board_card(inspection), "can_view_orders": user.has_perm("orders.view_order")}


@login_required
@require_GET
def dispatch_board(request: HttpRequest) -> HttpResponse:
    user = request.user
    _require_board(user)
    day = _parse_day(request.GET.get("date"), timezone.localdate())
    branches, branch = _chosen_branch(user, request.GET.get("branch", ""))
    branch_id = branch.pk if branch else user.branch_id
    # Before the query: an event committed while the page renders then triggers a resync.
    since = last_event_id()
    inspectors = list(selectors.visible_inspectors(user, branch_id)) if branch_id else []
    board = selectors.dispatch_board(user, day=day, branch_id=branch_id, inspectors=inspectors)
    context = {
        "board": board,
        "live_since": since,
        "branches": branches,
        "branch": branch,
        "inspectors": inspectors,
        "today": timezone.localdate(),
        "slots": selectors.board_slots(day),
        "statuses": InspectionStatus.choices,
        "can_add": user.has_perm(ADD),
        "can_view_orders": user.has_perm("orders.view_order"),
        "board_query": f"date={day.isoformat()}" + (f"&branch={branch.pk}" if branch else ""),
    }
    template = "inspections/board.html#board" if request.htmx and not request.htmx.boosted else "inspections/board.html"
    return render(request, template, context)


def _board_target(request: HttpRequest, inspection: Inspection, form: forms.BoardMoveForm) -> tuple[Any, Any]:
    """The inspector (False: unchanged) and start (None: unchanged) a move asks for.

    An inspector outside what the user may send to this inspection's branch is a 404, like the
    inspection itself: a refusal never confirms that someone exists.
    """
    data = form.cleaned_data
    inspector: User | bool | None = False
    if data["inspector"] is not None:
        if data["inspector"] == 0:
            inspector = None
        else:
            inspector = get_object_or_404(
                selectors.visible_inspectors(request.user, inspection.branch_id), pk=data["inspector"]
            )
        if (inspector.pk if inspector else None) == inspection.inspector_id:
            inspector = False
    start = data.get("scheduled_start")
    if start is not None and start == inspection.scheduled_start:
        start = None
    return inspector, start


@login_required
@require_POST
def board_move(request: HttpRequest) -> HttpResponse:
    """Reassign and/or reschedule one card; answers with the card as it now is (moved, or back
    where it was with the newest version when refused) and the outcome as a toast."""
    user = request.user
    _require_board(user)
    form = forms.BoardMoveForm(request.POST)
    if not form.is_valid():
        return _board_answer(request, None, form.error_text(), refused=True)
    inspection = _visible(user, form.cleaned_data["inspection"])
    inspector, start = _board_target(request, inspection, form)
    try:
        if start is not None:
            updated = services.inspection_reschedule(
                actor=user,
                inspection=inspection,
                scheduled_start=start,
                scheduled_end=start + (inspection.scheduled_end - inspection.scheduled_start),
                inspector=inspector,
                expected_version=form.cleaned_data["version"],
            )
        elif inspector is not False:
            updated = services.inspection_assign(
                actor=user, inspection=inspection, inspector=inspector, expected_version=form.cleaned_data["version"]
            )
        else:
            return _board_answer(
                request, inspection, _("Nothing to change: the visit is already there."), refused=True, level="info"
            )
    except StaleVersionError as exc:
        return _board_answer(request, inspection, exc.message, refused=True)
    except ValidationError as exc:
        return _board_answer(request, inspection, _error_text(exc), refused=True)
    except Inspection.DoesNotExist:
        raise Http404 from None
    return _board_answer(request, updated, _board_done(updated), refused=False)


def _board_done(inspection: Inspection) -> str:
    when = timezone.localtime(inspection.scheduled_start)
    # Unicode isolates: an Arabic name inside an English sentence (or a Latin number inside an
    # Arabic one) must not reorder the words around it.
    values = {
        "number": f"\u2068{inspection.number}\u2069",
        "inspector": f"\u2068{inspection.inspector}\u2069",
        "day": date_format(when, "DATE_FORMAT"),
        "time": date_format(when, "H:i"),
    }
    if inspection.inspector is None:
        return _("%(number)s is unassigned, %(day)s at %(time)s.") % values
    return _("%(number)s: %(inspector)s, %(day)s at %(time)s.") % values


def _board_answer(
    request: HttpRequest, inspection: Inspection | None, text: str, *, refused: bool, level: str = ""
) -> HttpResponse:
    messages.add_message(request, getattr(messages, (level or ("error" if refused else "success")).upper()), text)
    if not request.htmx:
        # Without script the move form posts as a page: back to the board it came from.
        return redirect(_next_url(request, reverse("inspections:board")))
    if inspection is None:
        return HttpResponse(status=400)
    fresh = selectors.board_card_queryset(request.user).filter(pk=inspection.pk).first()
    if fresh is None:
        raise Http404
    response = render(request, "inspections/board.html#card", board_card_context(request.user, fresh))
    # 409: the card goes back where the server has it; its html carries the newest version.
    response.status_code = 409 if refused else 200
    return response
