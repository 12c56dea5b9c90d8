"""Reads for the inspection pages. Every query starts from ``visible_to`` (DESIGN.md rule 3)."""

from __future__ import annotations

import io
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta

from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db.models import Prefetch, Q, QuerySet
from django.utils import timezone

from crm_core.accounts.models import Branch, Role, User
from crm_core.common.text import normalize_search
from crm_core.customers.models import Customer, CustomerStatus
from crm_core.inspections.models import (
    ACTIVE_INSPECTION_STATUSES,
    Inspection,
    InspectionPhoto,
    InspectionStatus,
)
from crm_core.inventory.models import Product

# Egypt's working week starts on Saturday (the demo data and the dispatchers count it so).
WEEK_START_WEEKDAY = 5
WEEK_DAYS = 7
# The part of the day free slots are offered in, local time.
WORKDAY_START = time(8, 0)
WORKDAY_END = time(20, 0)
MIN_FREE_SLOT = timedelta(minutes=15)
# A week of one branch is a few hundred visits; the cap only guards against a runaway page.
CALENDAR_LIMIT = 2000
THUMBNAIL_SIZE = (320, 320)

# Sort keys the list offers, each served by an index: (branch|inspector|status, scheduled_start)
# for the time order, the unique index on number for the number order.
LIST_SORTS: dict[str, tuple[str, ...]] = {
    "-start": ("-scheduled_start", "-id"),
    "start": ("scheduled_start", "id"),
    "-number": ("-number",),
    "number": ("number",),
}
DEFAULT_SORT = "-start"


def local_day_bounds(day: date) -> tuple[datetime, datetime]:
    start = timezone.make_aware(datetime.combine(day, time.min))
    return start, timezone.make_aware(datetime.combine(day + timedelta(days=1), time.min))


def week_start_of(day: date) -> date:
    return day - timedelta(days=(day.weekday() - WEEK_START_WEEKDAY) % 7)


# --- Lists -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ListFilters:
    q: str = ""
    status: str = ""
    inspector: User | None = None
    unassigned: bool = False
    branch: Branch | None = None
    customer: Customer | None = None
    date_from: date | None = None
    date_to: date | None = None
    sort: str = DEFAULT_SORT


def inspection_list(user: User, filters: ListFilters) -> QuerySet[Inspection]:
    qs = Inspection.objects.visible_to(user).select_related("customer", "inspector", "branch")
    if filters.status:
        qs = qs.filter(status=filters.status)
    if filters.unassigned:
        qs = qs.filter(inspector__isnull=True)
    elif filters.inspector is not None:
        qs = qs.filter(inspector=filters.inspector)
    if filters.branch is not None:
        qs = qs.filter(branch=filters.branch)
    if filters.customer is not None:
        qs = qs.filter(customer=filters.customer)
    if filters.date_from:
        qs = qs.filter(scheduled_start__gte=local_day_bounds(filters.date_from)[0])
    if filters.date_to:
        qs = qs.filter(scheduled_start__lt=local_day_bounds(filters.date_to)[1])
    term = filters.q.strip()
    if term:
        # The customer half runs on the customers' trigram index (PostgreSQL); a number is
        # typed whole or by its start, so a prefix match on the upper-cased number serves it.
        matching = Customer.objects.visible_to(user).filter(search_text__contains=normalize_search(term))
        qs = qs.filter(Q(number__startswith=term.upper()) | Q(customer__in=matching.values("pk")))
    return qs.order_by(*LIST_SORTS.get(filters.sort, LIST_SORTS[DEFAULT_SORT]))


def inspection_detail_queryset(user: User) -> QuerySet[Inspection]:
    return (
        Inspection.objects.visible_to(user)
        .select_related("customer", "inspector", "branch", "order", "created_by", "result", "result__recorded_by")
        .prefetch_related(
            Prefetch(
                "photos", queryset=InspectionPhoto.objects.select_related("uploaded_by").order_by("uploaded_at", "id")
            )
        )
    )


def inspection_for_change(user: User) -> QuerySet[Inspection]:
    """What the forms and actions load before calling a service (which locks it again)."""
    return Inspection.objects.visible_to(user).select_related("customer", "inspector", "branch")


def my_day(user: User, day: date) -> QuerySet[Inspection]:
    start, end = local_day_bounds(day)
    return (
        Inspection.objects.visible_to(user)
        .filter(inspector=user, scheduled_start__gte=start, scheduled_start__lt=end)
        .select_related("customer", "result")
        .order_by("scheduled_start", "id")
    )


def visible_branches(user: User) -> QuerySet[Branch]:
    return Branch.objects.visible_to(user).filter(is_active=True).order_by("name")


def visible_inspectors(user: User, branch_id: int | None = None) -> QuerySet[User]:
    """Active inspectors the user may send: of their branch, or of every branch for HQ users."""
    qs = User.objects.visible_to(user).active().with_role(Role.INSPECTOR).select_related("branch")
    if branch_id is not None:
        qs = qs.filter(Q(branch_id=branch_id) | Q(all_branches=True))
    return qs.order_by("first_name", "last_name", "username")


def schedulable_customers(user: User) -> QuerySet[Customer]:
    return Customer.objects.visible_to(user).exclude(status=CustomerStatus.BLOCKED).select_related("branch")


def customer_lookup(user: User, term: str, limit: int = 15) -> list[Customer]:
    needle = normalize_search(term)
    if len(needle) < 2:
        return []
    return list(schedulable_customers(user).filter(search_text__contains=needle).order_by("name", "id")[:limit])


def orderable_products() -> QuerySet[Product]:
    return Product.objects.active().order_by("name")


# --- Week calendar -----------------------------------------------------------------------------


@dataclass
class CalendarRow:
    inspector: User | None
    cells: list[list[Inspection]]


@dataclass
class WeekCalendar:
    week_start: date
    days: list[date]
    rows: list[CalendarRow] = field(default_factory=list)
    truncated: bool = False

    @property
    def previous_week(self) -> date:
        return self.week_start - timedelta(days=7)

    @property
    def next_week(self) -> date:
        return self.week_start + timedelta(days=7)

    @property
    def is_empty(self) -> bool:
        return not any(cell for row in self.rows for cell in row.cells)


def week_calendar(
    user: User,
    *,
    week_start: date,
    branch: Branch | None = None,
    inspector: User | None = None,
    inspectors: list[User] | None = None,
) -> WeekCalendar:
    """One row per inspector (one for an inspector's own week), one column per day, in two queries.

    ``inspectors`` is the branch's list when the caller already has it (the page's filter).
    """
    days = [week_start + timedelta(days=i) for i in range(WEEK_DAYS)]
    start, _ = local_day_bounds(days[0])
    _, end = local_day_bounds(days[-1])
    qs = (
        Inspection.objects.visible_to(user)
        .filter(scheduled_start__gte=start, scheduled_start__lt=end)
        .select_related("customer", "inspector")
        .order_by("scheduled_start", "id")
    )
    if inspector is not None:
        inspectors = [inspector]
        qs = qs.filter(inspector=inspector)
    else:
        if branch is not None:
            qs = qs.filter(branch=branch)
        if user.role == Role.INSPECTOR and not user.sees_all_branches:
            inspectors = [user]
        elif inspectors is None:
            inspectors = list(visible_inspectors(user, branch.pk if branch else None))
    visits = list(qs[: CALENDAR_LIMIT + 1])
    calendar = WeekCalendar(week_start=week_start, days=days, truncated=len(visits) > CALENDAR_LIMIT)
    visits = visits[:CALENDAR_LIMIT]
    index = {day: i for i, day in enumerate(days)}
    by_inspector: dict[int | None, CalendarRow] = {}
    for person in inspectors:
        by_inspector[person.pk] = CalendarRow(person, [[] for _ in days])
    for visit in visits:
        as_board_card(visit)
        key = visit.inspector_id
        if key not in by_inspector:
            # A visit of someone no longer in the list (deactivated, moved branch) or nobody yet.
            by_inspector[key] = CalendarRow(visit.inspector, [[] for _ in days])
        by_inspector[key].cells[index[timezone.localdate(visit.scheduled_start)]].append(visit)
    rows = list(by_inspector.values())
    # Unassigned visits last: they are the dispatcher's to-do row.
    calendar.rows = [row for row in rows if row.inspector is not None] + [row for row in rows if row.inspector is None]
    return calendar


# --- Dispatch board ----------------------------------------------------------------------------

# Who plans the day on the board: the roles that move other people's visits. Inspectors change
# their own visits (start, finish) and keep their "my day" page.
BOARD_ROLES = frozenset({Role.ADMIN, Role.MANAGER, Role.DISPATCHER})
# The hours offered as drop zones, local time: a visit dropped on 09:00 starts at 09:00.
BOARD_FIRST_HOUR = 8
BOARD_LAST_HOUR = 18
# A branch's day is a few dozen visits; the cap only guards against a runaway page.
BOARD_LIMIT = 500
# Cancelled and no-show visits no longer hold anyone's time: they stay on the board (the
# dispatcher sees that a slot was freed, and why) but sort after every live visit.
CLOSED_STATUSES = (InspectionStatus.CANCELLED, InspectionStatus.NO_SHOW)
CLOSED_SORT_PREFIX = "~"


def board_allowed(user: User) -> bool:
    return bool(
        user.is_authenticated
        and user.is_active
        and user.has_perm("inspections.change_inspection")
        and (user.is_superuser or user.role in BOARD_ROLES)
    )


def _utc_stamp(moment: datetime) -> str:
    # One fixed format in UTC, so keys compare as strings in the browser (static/js/live.js).
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def board_sort_key(inspection: Inspection) -> str:
    """The card's place in its column: by start (ISO, UTC), closed visits last."""
    key = f"{_utc_stamp(inspection.scheduled_start)}#{inspection.pk:012d}"
    return CLOSED_SORT_PREFIX + key if inspection.status in CLOSED_STATUSES else key


def board_column_id(day: date, branch_id: int | None, inspector_id: int | None) -> str:
    """The DOM id of a column: the same on every page and in every live fragment."""
    who = f"insp-{inspector_id}" if inspector_id else "unassigned"
    return f"board-{day.isoformat()}-b{branch_id or 0}-{who}"


def board_column_for(inspection: Inspection) -> str:
    return board_column_id(
        timezone.localdate(inspection.scheduled_start), inspection.branch_id, inspection.inspector_id
    )


def as_board_card(inspection: Inspection) -> Inspection:
    """The inspection with what its card template reads: its column, sort key, closed or not."""
    inspection.board_column_id = board_column_for(inspection)
    inspection.board_sort_key = board_sort_key(inspection)
    inspection.board_closed = inspection.status in CLOSED_STATUSES
    return inspection


@dataclass(frozen=True)
class BoardSlot:
    start: datetime
    sort_key: str


@dataclass
class BoardColumn:
    dom_id: str
    inspector: User | None
    cards: list[Inspection] = field(default_factory=list)
    # Cards and hour slots in one time order: the column is a timeline, and a card that arrives
    # live lands between the right hours by its sort key alone.
    entries: list[BoardSlot | Inspection] = field(default_factory=list)

    @property
    def active_count(self) -> int:
        return sum(1 for card in self.cards if card.status not in CLOSED_STATUSES)

    @property
    def key(self) -> str:
        return str(self.inspector.pk) if self.inspector is not None else ""


@dataclass
class Board:
    day: date
    branch_id: int | None
    columns: list[BoardColumn]
    truncated: bool = False

    @property
    def is_empty(self) -> bool:
        return not any(column.cards for column in self.columns)

    @property
    def previous_day(self) -> date:
        return self.day - timedelta(days=1)

    @property
    def next_day(self) -> date:
        return self.day + timedelta(days=1)


def board_slots(day: date) -> list[BoardSlot]:
    slots = []
    for hour in range(BOARD_FIRST_HOUR, BOARD_LAST_HOUR):
        start = timezone.make_aware(datetime.combine(day, time(hour, 0)))
        slots.append(BoardSlot(start=start, sort_key=_utc_stamp(start)))
    return slots


def board_card_queryset(user: User) -> QuerySet[Inspection]:
    """What a board card shows, in one query (the page and the live fragments share it)."""
    return Inspection.objects.visible_to(user).select_related("customer", "order", "inspector")


def dispatch_board(user: User, *, day: date, branch_id: int | None, inspectors: list[User]) -> Board:
    """One column per inspector of the branch, then anyone else holding a visit that day, then
    the unassigned visits; each column's cards and hour slots in time order. Two queries with
    the inspectors the caller already has, whatever the number of cards."""
    start, end = local_day_bounds(day)
    qs = (
        board_card_queryset(user)
        .filter(scheduled_start__gte=start, scheduled_start__lt=end)
        .order_by("scheduled_start", "id")
    )
    if branch_id is not None:
        qs = qs.filter(branch_id=branch_id)
    visits = list(qs[: BOARD_LIMIT + 1])
    truncated = len(visits) > BOARD_LIMIT
    visits = visits[:BOARD_LIMIT]
    columns: dict[int | None, BoardColumn] = {
        person.pk: BoardColumn(board_column_id(day, branch_id, person.pk), person) for person in inspectors
    }
    extra: dict[int | None, BoardColumn] = {}
    unassigned = BoardColumn(board_column_id(day, branch_id, None), None)
    for visit in visits:
        as_board_card(visit)
        if visit.inspector_id is None:
            unassigned.cards.append(visit)
            continue
        column = columns.get(visit.inspector_id) or extra.get(visit.inspector_id)
        if column is None:
            # Someone no longer in the list (deactivated, moved branch) still holds this visit.
            column = extra[visit.inspector_id] = BoardColumn(
                board_column_id(day, branch_id, visit.inspector_id), visit.inspector
            )
        column.cards.append(visit)
    slots = board_slots(day)
    ordered = [*columns.values(), *extra.values(), unassigned]
    for column in ordered:
        column.entries = sorted(
            [*slots, *column.cards],
            key=lambda entry: entry.sort_key if isinstance(entry, BoardSlot) else entry.board_sort_key,
        )
    return Board(day=day, branch_id=branch_id, columns=ordered, truncated=truncated)


# --- Free slots --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Period:
    start: datetime
    end: datetime
    inspection: Inspection | None = None
    visible: bool = False

    @property
    def is_free(self) -> bool:
        return self.inspection is None

    @property
    def minutes(self) -> int:
        return int((self.end - self.start).total_seconds() // 60)


@dataclass
class DaySchedule:
    inspector: User
    day: date
    periods: list[Period]

    @property
    def busy(self) -> list[Period]:
        return [p for p in self.periods if not p.is_free]

    @property
    def free(self) -> list[Period]:
        return [p for p in self.periods if p.is_free]


def inspector_day(user: User, inspector: User, day: date, exclude_pk: int | None = None) -> DaySchedule:
    """The inspector's busy periods and the free gaps between them in working hours.

    Busy time is every active visit of the inspector, also those the user may not open (they
    still block the slot); only the visible ones are named.
    """
    start, end = local_day_bounds(day)
    busy_qs = (
        Inspection.objects.filter(inspector=inspector, status__in=ACTIVE_INSPECTION_STATUSES)
        .overlapping(start, end)
        .select_related("customer")
        .order_by("scheduled_start", "id")
    )
    if exclude_pk:
        busy_qs = busy_qs.exclude(pk=exclude_pk)
    busy = list(busy_qs)
    visible_ids = (
        set(Inspection.objects.visible_to(user).filter(pk__in=[b.pk for b in busy]).values_list("pk", flat=True))
        if busy
        else set()
    )
    work_start = timezone.make_aware(datetime.combine(day, WORKDAY_START))
    work_end = timezone.make_aware(datetime.combine(day, WORKDAY_END))
    periods: list[Period] = []
    cursor = work_start
    for visit in busy:
        gap_end = min(visit.scheduled_start, work_end)
        if gap_end - cursor >= MIN_FREE_SLOT:
            periods.append(Period(cursor, gap_end))
        periods.append(Period(visit.scheduled_start, visit.scheduled_end, visit, visit.pk in visible_ids))
        cursor = max(cursor, visit.scheduled_end)
    if work_end - cursor >= MIN_FREE_SLOT:
        periods.append(Period(cursor, work_end))
    return DaySchedule(inspector=inspector, day=day, periods=periods)


# --- Photos ------------------------------------------------------------------------------------


def photo_for(user: User, inspection_pk: int, photo_pk: int) -> InspectionPhoto:
    """A photo of an inspection the user may see; anything else is DoesNotExist (a 404)."""
    return InspectionPhoto.objects.select_related("inspection").get(
        pk=photo_pk, inspection_id=inspection_pk, inspection__in=Inspection.objects.visible_to(user).values("pk")
    )


def photo_thumbnail(photo: InspectionPhoto) -> str:
    """Storage name of a small JPEG of the photo, made once on first request and kept.

    The model keeps only the original upload (up to 8 MB); a phone on a site visit should not
    download that for a 96-pixel tile.
    """
    name = f"inspections/{photo.inspection_id}/thumbs/{photo.pk}.jpg"
    if default_storage.exists(name):
        return name
    from PIL import Image, ImageOps

    with photo.image.open("rb") as source, Image.open(source) as picture:
        picture = ImageOps.exif_transpose(picture)
        picture.thumbnail(THUMBNAIL_SIZE)
        buffer = io.BytesIO()
        picture.convert("RGB").save(buffer, format="JPEG", quality=80, optimize=True)
    return default_storage.save(name, ContentFile(buffer.getvalue()))
