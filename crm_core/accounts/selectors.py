"""Reads for accounts: notifications, users, the activity log."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any

from django.apps import apps
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import FieldDoesNotExist
from django.db import models
from django.db.models import CharField, Count, F, Q, QuerySet, Value
from django.db.models.functions import Concat
from django.urls import NoReverseMatch, reverse
from django.utils import formats, timezone
from django.utils.dateparse import parse_date, parse_datetime
from django.utils.text import capfirst
from django.utils.translation import gettext_lazy as _

from crm_core.accounts.models import ActivityLog, Branch, Department, Notification, User
from crm_core.common.pagination import KeysetPage, keyset_paginate
from crm_core.common.text import normalize_search


def unread_notification_count(user: User) -> int:
    return Notification.objects.visible_to(user).unread().count()


def notification_list(user: User, *, unread_only: bool = False) -> QuerySet[Notification]:
    qs = Notification.objects.visible_to(user).order_by("-created_at", "-id")
    return qs.unread() if unread_only else qs


# --- Administration: users, branches, departments ----------------------------------------------

# Characters normalize_search folds that can appear in stored names. Derived from the canonical
# normaliser, so the SQL side never drifts from the Python side.
_FOLD_CANDIDATES = (
    "أإآٱىةؤئ\u0640\u0670"
    + "".join(chr(code) for code in range(0x064B, 0x0660))
    + "".join(chr(code) for code in range(0x0660, 0x066A))
    + "".join(chr(code) for code in range(0x06F0, 0x06FA))
)


def _fold_classes() -> tuple[dict[str, str], str]:
    """Per folded character, every character that folds to it; and the characters folded away."""
    variants: dict[str, str] = {}
    ignored = ""
    for char in _FOLD_CANDIDATES:
        folded = normalize_search(char)
        if folded == "":
            ignored += char
        elif len(folded) == 1 and folded != char:
            variants[folded] = variants.get(folded, folded) + char
    return variants, ignored


_VARIANTS, _IGNORED = _fold_classes()
_IGNORABLE = f"[{_IGNORED}]*"


def search_pattern(query: str) -> str:
    """A regular expression that finds ``query`` in text as stored, the way normalize_search would.

    Users have no stored search column (the staff table is small), so instead of folding every
    row in SQL the query is widened: "احمد" becomes "[اأإآٱ][ًٌ…]*ح…", which both SQLite (Django's
    REGEXP) and PostgreSQL (``~*``) run the same way.
    """
    parts = []
    for char in normalize_search(query):
        if char == " ":
            parts.append(r"\s+")
        elif char in _VARIANTS:
            parts.append(f"[{_VARIANTS[char]}]")
        else:
            parts.append(re.escape(char))
    return _IGNORABLE.join(parts)


USER_SORTS: dict[str, tuple[Any, ...]] = {
    "name": ("first_name", "last_name", "username"),
    "username": ("username",),
    # People who never signed in go last on every database (PostgreSQL puts NULLs first when descending).
    "-last_login": (F("last_login").desc(nulls_last=True), "username"),
}


def user_list(
    actor: User,
    *,
    q: str = "",
    role: str = "",
    branch: Branch | None = None,
    department: Department | None = None,
    active: bool | None = None,
    sort: str = "name",
) -> QuerySet[User]:
    qs = User.objects.visible_to(actor).select_related("branch", "department")
    if role:
        qs = qs.filter(role=role)
    if branch is not None:
        qs = qs.filter(branch=branch)
    if department is not None:
        qs = qs.filter(department=department)
    if active is not None:
        qs = qs.filter(is_active=active)
    pattern = search_pattern(q)
    if pattern:
        haystack = Concat(
            "first_name", Value(" "), "last_name", Value(" "), "username", Value(" "), "email", output_field=CharField()
        )
        qs = qs.annotate(search=haystack).filter(search__iregex=pattern)
    return qs.order_by(*USER_SORTS.get(sort, USER_SORTS["name"]), "pk")


def branch_list(actor: User) -> QuerySet[Branch]:
    return Branch.objects.visible_to(actor).annotate(user_count=Count("users")).order_by("-is_active", "name", "pk")


def department_list(actor: User) -> QuerySet[Department]:
    # Only the people the viewer may see are counted: another branch's head count is not theirs to know.
    visible_users = User.objects.visible_to(actor).values("pk")
    return Department.objects.annotate(
        user_count=Count("users", filter=Q(users__in=visible_users), distinct=True)
    ).order_by("-is_active", "name", "pk")


# --- Activity log --------------------------------------------------------------------------------

ACTION_LABELS: dict[str, Any] = {
    "auth.login": _("Signed in"),
    "auth.logout": _("Signed out"),
    "auth.login_failed": _("Failed sign-in"),
    "user.create": _("User created"),
    "user.update": _("User changed"),
    "user.set_password": _("Password set"),
    "user.language": _("Language changed"),
    "branch.create": _("Branch created"),
    "branch.update": _("Branch changed"),
    "department.create": _("Department created"),
    "department.update": _("Department changed"),
    "customer.create": _("Customer created"),
    "customer.update": _("Customer changed"),
    "customer.note": _("Customer note added"),
    "customer_category.create": _("Customer category created"),
    "customer_category.update": _("Customer category changed"),
    "order.create": _("Order created"),
    "order.update": _("Order changed"),
    "order.transition": _("Order status changed"),
    "order.item_add": _("Order item added"),
    "order.item_update": _("Order item changed"),
    "order.item_remove": _("Order item removed"),
    "order.payment": _("Payment recorded"),
    "order.shipping": _("Shipping details changed"),
    "inspection.schedule": _("Inspection scheduled"),
    "inspection.reschedule": _("Inspection rescheduled"),
    "inspection.assign": _("Inspector assigned"),
    "inspection.started": _("Inspection started"),
    "inspection.cancelled": _("Inspection cancelled"),
    "inspection.no_show": _("Customer not present"),
    "inspection.result": _("Inspection result recorded"),
    "inspection.photo": _("Inspection photo added"),
    "category.create": _("Product category created"),
    "category.update": _("Product category changed"),
    "product.create": _("Product created"),
    "product.update": _("Product changed"),
    "warehouse.create": _("Warehouse created"),
    "warehouse.update": _("Warehouse changed"),
    "stock.receive": _("Stock received"),
    "stock.issue": _("Stock issued"),
    "stock.adjust": _("Stock adjusted"),
    "stock.transfer": _("Stock transferred"),
}
KNOWN_ACTIONS: tuple[str, ...] = tuple(sorted(ACTION_LABELS))
ACTIVITY_ORDERING = ("-created_at", "-id")  # activity_recent_idx; narrowed scans use the branch/actor indexes
ACTIVITY_PAGE_SIZE = 50
AUDITED_APPS = ("accounts", "customers", "orders", "inspections", "inventory")

# Where a target's own page lives: url names tried in order, each with ``pk``. A page that
# does not exist (yet) simply leaves the target unlinked.
TARGET_URLS: dict[str, tuple[str, ...]] = {
    "accounts.user": ("accounts:user_edit",),
    "accounts.branch": ("accounts:branch_edit",),
    "accounts.department": ("accounts:department_edit",),
    "customers.customer": ("customers:detail",),
    "orders.order": ("orders:detail",),
    "inspections.inspection": ("inspections:detail",),
    "inventory.product": ("inventory:product_detail", "inventory:product"),
    "inventory.warehouse": ("inventory:warehouse_detail", "inventory:warehouse"),
}

# Ids in ``changes`` that name a record: resolved to names in one query per model and page.
# Only models whose name is one of their own columns (no query per row in __str__).
NAMED_MODELS: dict[str, str] = {
    "branch": "accounts.Branch",
    "department": "accounts.Department",
    "inspector": "accounts.User",
    "salesperson": "accounts.User",
    "received_by": "accounts.User",
    "created_by": "accounts.User",
    "customer": "customers.Customer",
    "category": "inventory.Category",
    "product": "inventory.Product",
    "warehouse": "inventory.Warehouse",
    "from_warehouse": "inventory.Warehouse",
    "to_warehouse": "inventory.Warehouse",
    "order": "orders.Order",
    "inspection": "inspections.Inspection",
}
_NAMED_LABELS = {label.lower() for label in NAMED_MODELS.values()}


@dataclass(frozen=True)
class ActivityFilters:
    user: User | None = None
    action: str = ""
    target_type: ContentType | None = None
    target_id: str = ""
    branch: Branch | None = None
    date_from: date | None = None
    date_to: date | None = None


@dataclass
class ChangeLine:
    label: str
    old: str
    new: str
    # A single value (a failed sign-in's username), not an old → new pair.
    single: bool = False


@dataclass
class ActivityRow:
    entry: ActivityLog
    action_label: str
    target_url: str | None
    target_type_label: str
    changes: list[ChangeLine] = field(default_factory=list)


def activity_target_types() -> QuerySet[ContentType]:
    return ContentType.objects.filter(app_label__in=AUDITED_APPS).order_by("app_label", "model")


def _day_start(day: date) -> datetime:
    return timezone.make_aware(datetime.combine(day, time.min))


def activity_list(actor: User, filters: ActivityFilters) -> QuerySet[ActivityLog]:
    qs = ActivityLog.objects.visible_to(actor).select_related("branch", "target_type")
    if filters.user is not None:
        qs = qs.filter(actor=filters.user)
    action = filters.action.strip()
    if action:
        # A known action is matched exactly; anything else is a prefix ("order." = every order change).
        qs = qs.filter(action=action) if action in ACTION_LABELS else qs.filter(action__startswith=action)
    if filters.target_type is not None:
        qs = qs.filter(target_type=filters.target_type)
    if filters.target_id:
        qs = qs.filter(target_id=filters.target_id.strip())
    if filters.branch is not None:
        qs = qs.filter(branch=filters.branch)
    if filters.date_from is not None:
        qs = qs.filter(created_at__gte=_day_start(filters.date_from))
    if filters.date_to is not None:
        qs = qs.filter(created_at__lt=_day_start(filters.date_to + timedelta(days=1)))
    return qs


def activity_page(
    actor: User, filters: ActivityFilters, *, cursor: str | None, backwards: bool = False
) -> tuple[KeysetPage, list[ActivityRow]]:
    page = keyset_paginate(
        activity_list(actor, filters),
        ordering=ACTIVITY_ORDERING,
        cursor=cursor,
        per_page=ACTIVITY_PAGE_SIZE,
        backwards=backwards,
    )
    return page, _present(actor, page.object_list)


def _target_url(entry: ActivityLog, cache: dict[str, str | None]) -> str | None:
    if entry.target_type is None or not entry.target_id.isdigit():
        return None
    label = f"{entry.target_type.app_label}.{entry.target_type.model}"
    names = TARGET_URLS.get(label, ())
    known = cache.get(label, "")
    if known is None:
        return None
    for name in (known,) if known else names:
        try:
            url = reverse(name, kwargs={"pk": int(entry.target_id)})
        except NoReverseMatch:
            continue
        cache[label] = name
        return url
    cache[label] = None
    return None


def _field(model: type[models.Model] | None, name: str) -> models.Field | None:
    if model is None:
        return None
    try:
        found = model._meta.get_field(name)
    except FieldDoesNotExist:
        return None
    return found if isinstance(found, models.Field) else None


def _related_label(model: type[models.Model] | None, name: str) -> str | None:
    """The ``app.model`` whose ids field ``name`` of ``model`` holds, if we show its names."""
    found = _field(model, name)
    if found is not None and found.many_to_one:
        label = found.related_model._meta.label_lower
        return label if label in _NAMED_LABELS else None
    if found is None and name in NAMED_MODELS:
        return NAMED_MODELS[name].lower()
    return None


def _present(actor: User, entries: list[ActivityLog]) -> list[ActivityRow]:
    wanted: dict[str, set[int]] = {}
    for entry in entries:
        model = entry.target_type.model_class() if entry.target_type else None
        for name, value in (entry.changes or {}).items():
            label = _related_label(model, name)
            if label is None:
                continue
            for item in value if isinstance(value, list) else [value]:
                if isinstance(item, int) or (isinstance(item, str) and item.isdigit()):
                    wanted.setdefault(label, set()).add(int(item))
    names: dict[str, dict[int, str]] = {}
    for label, ids in wanted.items():
        related = apps.get_model(label)
        manager = related._default_manager
        source = manager.visible_to(actor) if hasattr(manager, "visible_to") else manager.all()
        names[label] = {obj.pk: str(obj) for obj in source.filter(pk__in=ids)}

    url_cache: dict[str, str | None] = {}
    rows = []
    for entry in entries:
        model = entry.target_type.model_class() if entry.target_type else None
        lines = []
        for name, value in (entry.changes or {}).items():
            found = _field(model, name)
            label = _related_label(model, name)
            caption = _field_caption(model, found, name, label)
            if isinstance(value, list) and len(value) == 2 and value[0] is not None:
                old, new = (_display(found, label, names, item) for item in value)
                lines.append(ChangeLine(label=caption, old=old, new=new))
            elif isinstance(value, list) and len(value) == 2:
                # Set for the first time (a creation): the empty "before" says nothing.
                lines.append(
                    ChangeLine(label=caption, old="", new=_display(found, label, names, value[1]), single=True)
                )
            else:
                lines.append(ChangeLine(label=caption, old="", new=_display(found, label, names, value), single=True))
        rows.append(
            ActivityRow(
                entry=entry,
                action_label=str(ACTION_LABELS.get(entry.action, entry.action)),
                target_url=_target_url(entry, url_cache),
                target_type_label=capfirst(model._meta.verbose_name) if model is not None else "",
                changes=lines,
            )
        )
    return rows


FIELD_CAPTIONS: dict[str, Any] = {
    "username": _("username"),
    "quantity": _("quantity"),
    "item": _("order item"),
    "status": _("status"),
    "balance_after": _("balance after"),
    # Keys that services log but that are not fields of the logged record (else they show in English).
    "items": _("Items"),
    "outcome": _("outcome"),
    "photos": _("Photos"),
    "method": _("method"),
    "from_warehouse": _("From warehouse"),
    "to_warehouse": _("To warehouse"),
}


def _field_caption(model: type[models.Model] | None, found: models.Field | None, name: str, related: str | None) -> str:
    if found is not None:
        return capfirst(found.verbose_name)
    if name in FIELD_CAPTIONS:
        return capfirst(FIELD_CAPTIONS[name])
    if related is not None:
        return capfirst(apps.get_model(related)._meta.verbose_name)
    return capfirst(name.replace("_", " "))


def _display(found: models.Field | None, related: str | None, names: dict[str, dict[int, str]], value: Any) -> str:
    """One old or new value of a change, as a person reads it in their language."""
    if value is None or value == "":
        return "—"
    if isinstance(value, bool):
        return str(_("Yes") if value else _("No"))
    if related is not None and (isinstance(value, int) or (isinstance(value, str) and value.isdigit())):
        return names.get(related, {}).get(int(value), f"#{value}")
    if found is not None and found.choices:
        return str(dict(found.flatchoices).get(value, value))
    if isinstance(value, str):
        if isinstance(found, models.DateTimeField) and (moment := parse_datetime(value)) is not None:
            if timezone.is_aware(moment):
                moment = timezone.localtime(moment)
            return formats.date_format(moment, "SHORT_DATETIME_FORMAT")
        if isinstance(found, models.DateField) and (day := parse_date(value)) is not None:
            return formats.date_format(day, "SHORT_DATE_FORMAT")
        if isinstance(found, models.DecimalField):
            try:
                number = Decimal(value)
            except InvalidOperation:
                return value
            # Money keeps its two decimals; quantities and rates drop trailing zeros.
            places = 2 if found.decimal_places == 2 else max(0, -number.normalize().as_tuple().exponent)
            return formats.number_format(number, decimal_pos=places, use_l10n=True, force_grouping=True)
    if isinstance(value, dict | list):
        return json.dumps(value, ensure_ascii=False)
    return str(value)
