"""Template helpers shared by every page."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django import template
from django.conf import settings
from django.contrib.humanize.templatetags.humanize import intcomma
from django.utils.formats import number_format
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

register = template.Library()

# Bootstrap colour per status, shared by orders and inspections so a status looks the same everywhere.
STATUS_COLOURS = {
    "new": "secondary",
    "confirmed": "info",
    "in_progress": "primary",
    "ready": "warning",
    "shipped": "dark",
    "delivered": "success",
    "cancelled": "danger",
    "scheduled": "info",
    "completed": "success",
    "no_show": "danger",
    "active": "success",
    "inactive": "secondary",
    "blocked": "danger",
    "passed": "success",
    "failed": "danger",
    "follow_up": "warning",
}


@register.simple_tag(takes_context=True)
def query_replace(context: template.Context, **changes: Any) -> str:
    """The current query string with some parameters replaced (pagination, sort links)."""
    query = context["request"].GET.copy()
    for key, value in changes.items():
        if value in (None, ""):
            query.pop(key, None)
        else:
            query[key] = value
    encoded = query.urlencode()
    return f"?{encoded}" if encoded else "?"


# money() translates the currency code at run time (_(code)); mark the codes in use here so that
# makemessages collects them and the Arabic catalogue can show "ج.م" for EGP.
CURRENCY_NAMES = (gettext_noop("EGP"),)


@register.filter
def money(value: Decimal | int | float | None, currency: str | None = None) -> str:
    if value in (None, ""):
        return ""
    amount = number_format(Decimal(value), decimal_pos=2, use_l10n=True, force_grouping=True)
    code = currency or settings.CRM_CURRENCY
    return _("%(amount)s %(currency)s") % {"amount": amount, "currency": _(code)}


@register.filter
def qty(value: Decimal | int | None) -> str:
    """A quantity without trailing zeros: 3, 2.5, 0.125."""
    if value in (None, ""):
        return ""
    number = Decimal(value).normalize()
    places = max(0, -number.as_tuple().exponent)
    return number_format(number, decimal_pos=places, use_l10n=True, force_grouping=True)


@register.filter
def intcomma_l(value: int | None) -> str:
    return intcomma(value, use_l10n=True)


@register.filter
def status_colour(status: str) -> str:
    return STATUS_COLOURS.get(str(status), "secondary")


@register.filter
def ago(value: Any, now: Any = None) -> str:
    """How long ago, as people say it: "just now" under a minute (never "0 minutes"), then
    minutes, hours and days with the language's plural forms, and the date after a week."""
    from datetime import datetime

    from django.template.defaultfilters import date as date_filter
    from django.utils import timezone
    from django.utils.translation import ngettext

    if not isinstance(value, datetime):
        return ""
    now = now or timezone.now()
    seconds = (now - value).total_seconds()
    if seconds < 60:
        return _("just now")
    minutes = int(seconds // 60)
    if minutes < 60:
        return ngettext("%(count)d minute ago", "%(count)d minutes ago", minutes) % {"count": minutes}
    hours = minutes // 60
    if hours < 24:
        return ngettext("%(count)d hour ago", "%(count)d hours ago", hours) % {"count": hours}
    days = hours // 24
    if days < 7:
        return ngettext("%(count)d day ago", "%(count)d days ago", days) % {"count": days}
    return date_filter(timezone.localtime(value), "SHORT_DATETIME_FORMAT")
