"""Administration pages: users, branches, departments and the activity log.

Each page: access check → form → one service call → render or redirect. Every record comes
from ``visible_to(request.user)``, so another branch's user or branch is a 404.
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required, permission_required
from django.core.exceptions import ValidationError
from django.core.paginator import Page
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from crm_core.accounts import forms, selectors, services
from crm_core.accounts.models import Branch, Department, User
from crm_core.common.pagination import CappedCountPaginator

PAGE_SIZE = 25


def _admin(perm: str):
    """Signed-out visitors go to the sign-in page; signed-in people without ``perm`` get a 403."""

    def decorate(view):
        return login_required(permission_required(perm, raise_exception=True)(view))

    return decorate


def _page(request: HttpRequest, queryset: QuerySet) -> Page:
    return CappedCountPaginator(queryset, PAGE_SIZE).get_page(request.GET.get("page"))


def _wants_partial(request: HttpRequest) -> bool:
    """An htmx filter request gets the list alone; a boosted link or a history restore needs the page."""
    htmx = request.htmx
    return bool(htmx) and not htmx.boosted and not htmx.history_restore_request


def _filtered(request: HttpRequest, *ignored: str) -> bool:
    return any(value for key, value in request.GET.items() if key not in ignored)


# --- Users ---------------------------------------------------------------------------------------


@_admin("accounts.change_user")
def user_list(request: HttpRequest) -> HttpResponse:
    form = forms.UserFilterForm(request.GET or None, actor=request.user)
    page = _page(request, selectors.user_list(request.user, **form.filters()))
    template = "accounts/users.html#list" if _wants_partial(request) else "accounts/users.html"
    context = {"filter_form": form, "page_obj": page, "filtered": _filtered(request, "page", "sort")}
    return render(request, template, context)


@_admin("accounts.add_user")
def user_create(request: HttpRequest) -> HttpResponse:
    form = forms.UserCreateForm(request.POST or None, actor=request.user)
    if request.method == "POST" and form.is_valid():
        try:
            user = services.user_create(actor=request.user, **form.service_values())
        except ValidationError as error:
            forms.add_service_errors(form, error, rename={"password": "password1"})
        else:
            messages.success(request, _("User %(name)s was created.") % {"name": user})
            return redirect("accounts:user_edit", pk=user.pk)
    return render(request, "accounts/user_form.html", {"form": form, "target": None})


@_admin("accounts.change_user")
def user_edit(request: HttpRequest, pk: int) -> HttpResponse:
    target = get_object_or_404(User.objects.visible_to(request.user).select_related("branch", "department"), pk=pk)
    form = forms.UserEditForm(request.POST or None, instance=target, actor=request.user)
    if request.method == "POST" and form.is_valid():
        try:
            services.user_update(actor=request.user, user=target, **form.service_values())
        except ValidationError as error:
            forms.add_service_errors(form, error)
        else:
            messages.success(request, _("The changes to %(name)s were saved.") % {"name": target})
            return redirect("accounts:user_edit", pk=target.pk)
    return render(request, "accounts/user_form.html", {"form": form, "target": target})


@_admin("accounts.change_user")
@require_POST
def user_set_active(request: HttpRequest, pk: int) -> HttpResponse:
    target = get_object_or_404(User.objects.visible_to(request.user), pk=pk)
    active = request.POST.get("active") == "1"
    try:
        services.user_update(actor=request.user, user=target, is_active=active)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        if active:
            messages.success(request, _("%(name)s can sign in again.") % {"name": target})
        else:
            messages.success(request, _("%(name)s was deactivated and can no longer sign in.") % {"name": target})
    return redirect("accounts:user_edit", pk=target.pk)


@_admin("accounts.change_user")
def user_password(request: HttpRequest, pk: int) -> HttpResponse:
    target = get_object_or_404(User.objects.visible_to(request.user), pk=pk)
    if target.pk == request.user.pk:
        # Your own password is changed with the old one, on the page made for that.
        return redirect("accounts:password_change")
    form = forms.UserPasswordForm(request.POST or None, user=target)
    if request.method == "POST" and form.is_valid():
        try:
            services.user_set_password(actor=request.user, user=target, password=form.cleaned_data["password1"])
        except ValidationError as error:
            forms.add_service_errors(form, error, rename={"password": "password1"})
        else:
            messages.success(request, _("A new password was set for %(name)s.") % {"name": target})
            return redirect("accounts:user_edit", pk=target.pk)
    return render(request, "accounts/user_password.html", {"form": form, "target": target})


# --- Branches ------------------------------------------------------------------------------------


@_admin("accounts.change_branch")
def branch_list(request: HttpRequest) -> HttpResponse:
    page = _page(request, selectors.branch_list(request.user))
    return render(request, "accounts/branches.html", {"page_obj": page})


@_admin("accounts.add_branch")
def branch_create(request: HttpRequest) -> HttpResponse:
    form = forms.BranchCreateForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            branch = services.branch_create(actor=request.user, **form.cleaned_data)
        except ValidationError as error:
            forms.add_service_errors(form, error)
        else:
            messages.success(request, _("Branch %(name)s was created.") % {"name": branch})
            return redirect("accounts:branches")
    return render(request, "accounts/branch_form.html", {"form": form, "target": None})


@_admin("accounts.change_branch")
def branch_edit(request: HttpRequest, pk: int) -> HttpResponse:
    target = get_object_or_404(Branch.objects.visible_to(request.user), pk=pk)
    form = forms.BranchEditForm(request.POST or None, instance=target)
    if request.method == "POST" and form.is_valid():
        try:
            services.branch_update(actor=request.user, branch=target, **form.cleaned_data)
        except ValidationError as error:
            forms.add_service_errors(form, error)
        else:
            messages.success(request, _("The changes to %(name)s were saved.") % {"name": target})
            return redirect("accounts:branches")
    return render(request, "accounts/branch_form.html", {"form": form, "target": target})


@_admin("accounts.change_branch")
@require_POST
def branch_set_active(request: HttpRequest, pk: int) -> HttpResponse:
    target = get_object_or_404(Branch.objects.visible_to(request.user), pk=pk)
    active = request.POST.get("active") == "1"
    services.branch_update(actor=request.user, branch=target, is_active=active)
    if active:
        messages.success(request, _("Branch %(name)s is active again.") % {"name": target})
    else:
        messages.success(request, _("Branch %(name)s was deactivated.") % {"name": target})
    return redirect("accounts:branch_edit", pk=target.pk)


# --- Departments ---------------------------------------------------------------------------------


@_admin("accounts.change_department")
def department_list(request: HttpRequest) -> HttpResponse:
    page = _page(request, selectors.department_list(request.user))
    return render(request, "accounts/departments.html", {"page_obj": page})


@_admin("accounts.add_department")
def department_create(request: HttpRequest) -> HttpResponse:
    form = forms.DepartmentCreateForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            department = services.department_create(actor=request.user, **form.cleaned_data)
        except ValidationError as error:
            forms.add_service_errors(form, error)
        else:
            messages.success(request, _("Department %(name)s was created.") % {"name": department})
            return redirect("accounts:departments")
    return render(request, "accounts/department_form.html", {"form": form, "target": None})


@_admin("accounts.change_department")
def department_edit(request: HttpRequest, pk: int) -> HttpResponse:
    target = get_object_or_404(Department, pk=pk)
    form = forms.DepartmentEditForm(request.POST or None, instance=target)
    if request.method == "POST" and form.is_valid():
        try:
            services.department_update(actor=request.user, department=target, **form.cleaned_data)
        except ValidationError as error:
            forms.add_service_errors(form, error)
        else:
            messages.success(request, _("The changes to %(name)s were saved.") % {"name": target})
            return redirect("accounts:departments")
    return render(request, "accounts/department_form.html", {"form": form, "target": target})


@_admin("accounts.change_department")
@require_POST
def department_set_active(request: HttpRequest, pk: int) -> HttpResponse:
    target = get_object_or_404(Department, pk=pk)
    active = request.POST.get("active") == "1"
    services.department_update(actor=request.user, department=target, is_active=active)
    if active:
        messages.success(request, _("Department %(name)s is active again.") % {"name": target})
    else:
        messages.success(request, _("Department %(name)s was deactivated.") % {"name": target})
    return redirect("accounts:department_edit", pk=target.pk)


# --- Activity log --------------------------------------------------------------------------------


@_admin("accounts.view_activitylog")
def activity(request: HttpRequest) -> HttpResponse:
    form = forms.ActivityFilterForm(request.GET or None, actor=request.user)
    filters = form.filters() if form.is_bound else selectors.ActivityFilters()
    page, rows = (None, [])
    if filters is not None:
        page, rows = selectors.activity_page(
            request.user,
            filters,
            cursor=request.GET.get("cursor") or None,
            backwards=request.GET.get("dir") == "prev",
        )
    context = {
        "filter_form": form,
        "page_obj": page,
        "rows": rows,
        "known_actions": [(code, selectors.ACTION_LABELS[code]) for code in selectors.KNOWN_ACTIONS],
        "filtered": _filtered(request, "cursor", "dir"),
    }
    template = "accounts/activity.html#list" if _wants_partial(request) else "accounts/activity.html"
    return render(request, template, context)
