from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from crm_core.reports import selectors


@login_required
def dashboard(request: HttpRequest) -> HttpResponse:
    user = request.user
    context = {
        "figures": selectors.dashboard_figures(user),
        "inspections": selectors.todays_inspections(user) if user.has_perm("inspections.view_inspection") else None,
        "low_stock": selectors.low_stock(user) if user.has_perm("inventory.view_stocklevel") else None,
        "notifications": selectors.recent_unread_notifications(user),
    }
    return render(request, "reports/dashboard.html", context)
