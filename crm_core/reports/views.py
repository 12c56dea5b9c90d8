from __future__ import annotations

from typing import Any

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.http import require_GET

from crm_core.accounts.models import User
from crm_core.reports import selectors
from realtime.events import last_event_id
from realtime.topics import TopicError, authorize

# The boards whose events change the dashboard's figures; the page follows those the user's role
# may follow (the inspections board for today only).
FIGURE_TOPICS = ("orders.board", "inspections.board", "stock.board")


def live_topics(user: User) -> list[dict[str, Any]]:
    today = timezone.localdate()
    topics = []
    for topic in FIGURE_TOPICS:
        day = today if topic == "inspections.board" else None
        try:
            authorize(user, topic, day)
        except TopicError:
            continue
        topics.append({"topic": topic, "date": day.isoformat() if day else ""})
    return topics


def _figures_context(user: User) -> dict[str, Any]:
    return {
        "figures": selectors.dashboard_figures(user),
        "inspections": selectors.todays_inspections(user) if user.has_perm("inspections.view_inspection") else None,
    }


@login_required
@require_GET
def dashboard(request: HttpRequest) -> HttpResponse:
    user = request.user
    # Read before the figures: a change committed in between makes the page refetch them.
    live_since = last_event_id()
    if request.htmx and request.GET.get("part") == "figures":
        # The live refresh (static/js/dashboard.js): the figures, today's inspections and the
        # orders by status of this user's own scope, never a broadcast.
        return render(request, "reports/dashboard.html#figures", {**_figures_context(user), "oob": True})
    if request.htmx and request.GET.get("part") == "notifications":
        context = {"notifications": selectors.recent_unread_notifications(user)}
        return render(request, "reports/dashboard.html#notifications", context)
    context = {
        **_figures_context(user),
        "live_since": live_since,
        "live_topics": live_topics(user),
        "notifications": selectors.recent_unread_notifications(user),
    }
    return render(request, "reports/dashboard.html", context)
