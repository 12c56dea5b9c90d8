"""Sign-in, sign-out, password, language and the notifications page."""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import update_session_auth_hash
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404, redirect, render
from django.template.loader import render_to_string
from django.urls import reverse, reverse_lazy
from django.utils import translation
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_POST

from crm_core.accounts import selectors, services
from crm_core.accounts.models import Notification
from crm_core.common.pagination import CappedCountPaginator

LANGUAGE_COOKIE_AGE = 365 * 24 * 3600


def _set_language_cookie(response: HttpResponse, language: str) -> None:
    response.set_cookie(
        settings.LANGUAGE_COOKIE_NAME,
        language,
        max_age=LANGUAGE_COOKIE_AGE,
        samesite="Lax",
        secure=settings.SESSION_COOKIE_SECURE,
        httponly=False,
    )


class SignInView(auth_views.LoginView):
    redirect_authenticated_user = True

    def form_valid(self, form):
        response = super().form_valid(form)
        # The interface speaks the language the user chose last time, on any device.
        language = form.get_user().language
        translation.activate(language)
        _set_language_cookie(response, language)
        return response


class SignOutView(auth_views.LogoutView):
    next_page = reverse_lazy("accounts:login")


class PasswordChangeView(auth_views.PasswordChangeView):
    success_url = reverse_lazy("dashboard")

    def form_valid(self, form):
        user = services.user_set_password(
            actor=self.request.user, user=self.request.user, password=form.cleaned_data["new_password1"]
        )
        update_session_auth_hash(self.request, user)
        messages.success(self.request, _("Your password was changed."))
        return HttpResponseRedirect(self.get_success_url())


@require_POST
def language_switch(request: HttpRequest) -> HttpResponse:
    language = request.POST.get("language", "")
    if language not in dict(settings.LANGUAGES):
        language = settings.LANGUAGE_CODE
    target = request.POST.get("next") or "/"
    if not url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        target = "/"
    if request.user.is_authenticated:
        try:
            services.user_set_language(actor=request.user, language=language)
        except ValidationError:
            language = settings.LANGUAGE_CODE
    response = redirect(target)
    _set_language_cookie(response, language)
    return response


@login_required
def notification_list(request: HttpRequest) -> HttpResponse:
    unread_only = request.GET.get("unread") == "1"
    paginator = CappedCountPaginator(selectors.notification_list(request.user, unread_only=unread_only), 25)
    page = paginator.get_page(request.GET.get("page"))
    template = "accounts/notifications.html#list" if request.htmx else "accounts/notifications.html"
    return render(request, template, {"page_obj": page, "unread_only": unread_only})


@login_required
@require_GET
@never_cache
def notification_badge(request: HttpRequest) -> HttpResponse:
    """The bell's unread count, fetched again when a notification arrives or the stream resyncs."""
    count = selectors.unread_notification_count(request.user)
    # Rendered without the request: the context processors would count the unread ones again.
    return HttpResponse(render_to_string("accounts/notifications.html#badge", {"unread_notifications": count}))


@login_required
@require_POST
def notification_read(request: HttpRequest, pk: int) -> HttpResponse:
    notification = get_object_or_404(Notification.objects.visible_to(request.user), pk=pk)
    notification = services.notification_mark_read(actor=request.user, notification=notification)
    if notification.url and request.POST.get("open") == "1":
        return redirect(notification.url)
    if request.htmx:
        return render(
            request,
            "accounts/notifications.html#read",
            {"notification": notification, "unread_notifications": selectors.unread_notification_count(request.user)},
        )
    return redirect(reverse("accounts:notifications"))


@login_required
@require_POST
def notification_read_all(request: HttpRequest) -> HttpResponse:
    count = services.notification_mark_all_read(actor=request.user)
    if count:
        messages.success(request, _("All notifications marked as read."))
    return redirect(reverse("accounts:notifications"))
