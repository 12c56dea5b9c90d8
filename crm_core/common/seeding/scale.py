"""Bulk demo data for performance work: ``seed_demo --customers N --orders M``.

This loader BYPASSES THE SERVICES ON PURPOSE. A million orders through ``order_create``,
``order_transition`` and ``payment_record`` would take hours; here rows are generated in Python
and written with PostgreSQL's ``COPY ... FROM STDIN`` (psycopg 3) or, on SQLite, with batched
``executemany`` inserts. No ActivityLog rows and no realtime events are produced for them.
To stay indistinguishable from what the services write, it reproduces their rules exactly:

* customer codes ``<BRANCH>-C000123`` and order numbers ``<BRANCH>-<YEAR>-000123`` come from
  ranges reserved on the same counters the services use (``next_number`` locks the counter,
  ``set_counter_at_least`` moves it past the range), so later service calls continue the
  sequence without a collision;
* ``search_text`` / ``phone_digits`` are built with ``build_search_text`` / ``phone_digits``
  from the same fields as ``customers.services._refresh_search``;
* order totals are computed like ``orders.services`` (line totals with the customer category's
  discount rounded half-up to the piastre, order discount, tax at ``settings.CRM_TAX_RATE``,
  shipping cost) — in integer piastres, which gives the same results as the Decimal code;
  payments never exceed the total; cancelled orders take no payment;
* every order has its status history (OrderStatusChange rows from creation to its current
  status), shipped and delivered orders issued their items from the order's warehouse: one
  "issue" StockMovement per item, preceded by one "receive" per (product, warehouse) equal to
  the quantity issued in this load, so no balance goes negative, ``balance_after`` runs per
  (product, warehouse) in id order, and the StockLevel rows (unchanged) still equal the sum of
  the movements — which is verified before the transaction commits.

Everything is written in one transaction: a failure leaves nothing behind. The receive rows are
dated before the first bulk order, but their ids come after the rows already in the ledger.
"""

from __future__ import annotations

import bisect
import queue
import random
import threading
import time
from collections import Counter as Tally
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from datetime import time as dtime
from decimal import Decimal
from zoneinfo import ZoneInfo

from django.conf import settings
from django.core.management.base import CommandError
from django.db import connection, transaction
from django.db.models import Sum
from django.utils import timezone

from crm_core.accounts.models import Branch, Role, User
from crm_core.common.models import next_number, set_counter_at_least
from crm_core.common.seeding import names as N
from crm_core.common.seeding.base import ensure_admin, seed_base
from crm_core.common.text import build_search_text, phone_digits
from crm_core.customers.models import Customer, CustomerCategory, CustomerKind, CustomerStatus
from crm_core.inventory.models import Product, StockLevel, StockMovement, Warehouse
from crm_core.orders.models import Order

Log = Callable[[str], None]

DAY = 86_400
ORDER_WINDOW_DAYS = 730  # orders over the last two years
CUSTOMER_WINDOW_DAYS = 820  # customers joined a little earlier
CHUNK = 20_000  # orders per COPY round
BRANCH_WEIGHTS = {"CAI": 45, "ALX": 30, "GIZ": 25}

CUSTOMER_COLUMNS = (
    "id",
    "created_at",
    "updated_at",
    "version",
    "code",
    "branch_id",
    "category_id",
    "kind",
    "status",
    "name",
    "phone",
    "phone_digits",
    "alt_phone",
    "email",
    "city",
    "address",
    "tax_number",
    "search_text",
    "created_by_id",
)
ORDER_COLUMNS = (
    "id",
    "created_at",
    "updated_at",
    "version",
    "number",
    "branch_id",
    "customer_id",
    "salesperson_id",
    "warehouse_id",
    "status",
    "order_date",
    "subtotal",
    "discount_amount",
    "tax_rate",
    "tax_amount",
    "total",
    "amount_paid",
    "balance",
    "currency",
    "notes",
    "created_by_id",
    "status_changed_at",
)
ITEM_COLUMNS = ("order_id", "product_id", "description", "quantity", "unit_price", "discount_percent", "line_total")
PAYMENT_COLUMNS = (
    "order_id",
    "branch_id",
    "amount",
    "method",
    "reference",
    "received_by_id",
    "received_at",
    "note",
    "created_at",
)
SHIPPING_COLUMNS = (
    "created_at",
    "updated_at",
    "order_id",
    "method",
    "recipient_name",
    "phone",
    "city",
    "address",
    "scheduled_date",
    "carrier",
    "tracking_number",
    "cost",
    "notes",
)
STATUS_COLUMNS = ("order_id", "from_status", "to_status", "changed_by_id", "changed_at", "note")
MOVEMENT_COLUMNS = (
    "product_id",
    "warehouse_id",
    "branch_id",
    "kind",
    "quantity",
    "balance_after",
    "unit_cost",
    "order_id",
    "transfer_peer_id",
    "reference",
    "note",
    "actor_id",
    "created_at",
)

STEPS = ("new", "confirmed", "in_progress", "ready", "shipped", "delivered")
# When each step happens, as a fraction of the order's lead time.
STEP_AT = (0.0, 0.08, 0.3, 0.55, 0.8, 1.0)
CANCEL_SHARE = 0.09  # cancelled before shipping
STALL_SHARE = 0.01  # old orders left open
# Final status → (chance of paying in full, chance of a partial payment).
PAYMENT_CHANCE = {
    "new": (0.05, 0.2),
    "confirmed": (0.15, 0.35),
    "in_progress": (0.25, 0.35),
    "ready": (0.35, 0.3),
    "shipped": (0.55, 0.25),
    "delivered": (0.7, 0.12),
    "cancelled": (0.0, 0.0),
}
PAYMENT_METHODS = ("cash", "cash", "cash", "cash", "card", "card", "bank_transfer", "wallet", "wallet", "cheque")
SHIPPING_METHODS = ("delivery", "delivery", "delivery", "delivery", "courier", "courier", "pickup")
SHIPPING_COSTS = (75, 100, 100, 150, 150, 200, 250)  # pounds


def _money(piastres: int) -> str:
    return f"{piastres // 100}.{piastres % 100:02d}"


def _qty(milli: int) -> str:
    if milli < 0:
        return f"-{-milli // 1000}.{-milli % 1000:03d}"
    return f"{milli // 1000}.{milli % 1000:03d}"


def _to_piastres(value: Decimal) -> int:
    return int(value.quantize(Decimal("0.01")) * 100)


def _to_milli(value: Decimal) -> int:
    return int(value.quantize(Decimal("0.001")) * 1000)


# --- Output: COPY on PostgreSQL, executemany on SQLite ------------------------------------------


class _Sink:
    """Writes batches of preformatted rows to one table."""

    null: str | None = None
    ts_suffix = ""

    def __init__(self) -> None:
        self.rows = Tally()
        self.seconds: dict[str, float] = defaultdict(float)  # time spent writing, per table

    def write(self, table: str, columns: Iterable[str], rows: list[tuple]) -> None:
        raise NotImplementedError

    def flush(self) -> None:
        """Wait until everything handed over is in the database."""

    def reserve_ids(self, table: str, count: int) -> list[int]:
        raise NotImplementedError


class _SqliteSink(_Sink):
    null = None

    def write(self, table, columns, rows):
        if not rows:
            return
        columns = tuple(columns)
        sql = f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({', '.join(['%s'] * len(columns))})"  # noqa: S608
        began = time.monotonic()
        with connection.cursor() as cursor:
            for start in range(0, len(rows), 5_000):
                cursor.executemany(sql, rows[start : start + 5_000])
        self.rows[table] += len(rows)
        self.seconds[table] += time.monotonic() - began

    def reserve_ids(self, table, count):
        # The load runs in one IMMEDIATE transaction: SQLite lets no other writer in meanwhile.
        with connection.cursor() as cursor:
            cursor.execute(f"SELECT COALESCE(MAX(id), 0) FROM {table}")  # noqa: S608
            highest = cursor.fetchone()[0]
            cursor.execute("SELECT COALESCE(MAX(seq), 0) FROM sqlite_sequence WHERE name = %s", [table])
            highest = max(highest, cursor.fetchone()[0])
        return list(range(highest + 1, highest + 1 + count))


class _PostgresSink(_Sink):
    """``COPY FROM STDIN`` in text format, fed by a background thread.

    The main thread formats the next batch while the writer thread streams the previous one
    (psycopg releases the GIL while it waits on the socket), so Python and the server work
    at the same time on the two cores.
    """

    null = "\\N"
    ts_suffix = "+00"

    def __init__(self) -> None:
        super().__init__()
        connection.ensure_connection()
        self.raw = connection.connection
        self.jobs: queue.Queue = queue.Queue(maxsize=3)
        self.error: BaseException | None = None
        self.thread = threading.Thread(target=self._run, name="seed-copy", daemon=True)
        self.thread.start()

    def _run(self) -> None:
        while True:
            job = self.jobs.get()
            try:
                if job is None:
                    return
                if isinstance(job, threading.Event):
                    job.set()
                    continue
                if self.error is None:
                    table, columns, data = job
                    began = time.monotonic()
                    with self.raw.cursor() as cursor, cursor.copy(f"COPY {table} ({columns}) FROM STDIN") as copy:
                        copy.write(data)
                    self.seconds[table] += time.monotonic() - began
            except BaseException as exc:  # handed to the main thread by flush()/write()
                self.error = exc
            finally:
                self.jobs.task_done()

    def _check(self) -> None:
        if self.error is not None:
            raise self.error

    def write(self, table, columns, rows):
        self._check()
        if not rows:
            return
        data = "\n".join(["\t".join(row) for row in rows])
        self.jobs.put((table, ", ".join(columns), data + "\n"))
        self.rows[table] += len(rows)

    def flush(self):
        done = threading.Event()
        self.jobs.put(done)
        while not done.wait(0.5):
            if not self.thread.is_alive():
                break
        self._check()

    def close(self, abort: bool = False) -> None:
        """Stop the writer thread; after an error the jobs still queued are dropped."""
        if not self.thread.is_alive():
            return
        if abort and self.error is None:
            self.error = RuntimeError("bulk load aborted")
        self.jobs.put(None)
        self.thread.join()

    def reserve_ids(self, table, count):
        self.flush()
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT nextval(pg_get_serial_sequence(%s, 'id')) FROM generate_series(1, %s)", [table, count]
            )
            return sorted(row[0] for row in cursor.fetchall())


# --- Context read from the base set ------------------------------------------------------------


@dataclass
class _BranchCtx:
    pk: int
    code: str
    weight: int
    default_wh: int
    other_whs: list[int]
    sellers: list[int]
    receivers: list[int]
    storekeepers: list[int]
    # Customers who may order, by the time they joined: parallel lists.
    cust_ts: list[int] = field(default_factory=list)
    cust_rows: list[tuple] = field(default_factory=list)


@dataclass
class _ProductCtx:
    pk: int
    name: str
    price: int  # piastres
    cost: str
    low: int
    high: int
    halves: bool


class _Clock:
    """Epoch seconds ⇄ local days and the text forms each database expects."""

    def __init__(self, ts_suffix: str) -> None:
        self.tz = ZoneInfo(settings.TIME_ZONE)
        self.now = int(time.time()) - 60
        self.today = timezone.localdate()
        self.first_day = self.today - timedelta(days=CUSTOMER_WINDOW_DAYS + 30)
        days = (self.today - self.first_day).days + 40
        self.day_str = [(self.first_day + timedelta(days=i)).isoformat() for i in range(days)]
        self.day_year = [(self.first_day + timedelta(days=i)).year for i in range(days)]
        self.day_friday = [(self.first_day + timedelta(days=i)).weekday() == 4 for i in range(days)]
        self.midnight = [
            int(datetime.combine(self.first_day + timedelta(days=i), dtime(0), tzinfo=self.tz).timestamp())
            for i in range(days)
        ]
        self.today_index = (self.today - self.first_day).days
        self.suffix = ts_suffix
        self._utc_days: dict[int, str] = {}

    def ts(self, epoch: int) -> str:
        day, second = divmod(epoch, DAY)
        prefix = self._utc_days.get(day)
        if prefix is None:
            prefix = self._utc_days[day] = (date(1970, 1, 1) + timedelta(days=day)).isoformat() + " "
        hour, second = divmod(second, 3600)
        minute, second = divmod(second, 60)
        return f"{prefix}{hour:02d}:{minute:02d}:{second:02d}{self.suffix}"

    def local_day(self, epoch: int) -> int:
        return bisect.bisect_right(self.midnight, epoch) - 1


# --- The loader ---------------------------------------------------------------------------------


def load_scale(*, customers: int, orders: int, seed: int, log: Log) -> dict[str, int]:
    """Add ``customers`` customers and ``orders`` orders in bulk; returns rows per table."""
    if not Branch.objects.filter(code="CAI").exists() or not User.objects.filter(username=N.ADMIN_USERNAME).exists():
        log("The base set is missing: loading it first.")
        seed_base(log=log)
    started = time.monotonic()
    vendor = connection.vendor
    if vendor not in ("postgresql", "sqlite"):
        raise CommandError(f"seed_demo --customers/--orders supports PostgreSQL and SQLite, not {vendor}.")
    with transaction.atomic():
        if vendor == "postgresql":
            with connection.cursor() as cursor:
                # Check foreign keys per statement (each COPY) instead of queuing millions of
                # checks until COMMIT.
                cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        loader = _Loader(seed=seed, log=log, postgres=vendor == "postgresql")
        try:
            loader.prepare()
            if customers:
                loader.customers(customers)
            if orders:
                loader.orders(orders)
            loader.sink.flush()
        except BaseException:
            loader.close(abort=True)
            raise
        loader.close()
        loader.verify_stock()
        if vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("SET CONSTRAINTS ALL DEFERRED")
    if vendor == "postgresql" and (customers or orders):
        analyzed = time.monotonic()
        with connection.cursor() as cursor:
            for table in loader.sink.rows:
                cursor.execute(f"ANALYZE {table}")
        log(f"  ANALYZE {time.monotonic() - analyzed:.1f} s")
    elapsed = time.monotonic() - started
    total = sum(loader.sink.rows.values())
    log(f"Bulk load: {total:,} rows in {elapsed:.1f} s ({total / max(elapsed, 1e-9):,.0f} rows/s)")
    for table, count in sorted(loader.sink.rows.items()):
        log(f"  {table:<32} {count:>12,} rows  {loader.sink.seconds[table]:7.1f} s writing")
    return dict(loader.sink.rows)


class _Loader:
    def __init__(self, *, seed: int, log: Log, postgres: bool) -> None:
        self.rng = random.Random(seed * 7919 + 17)
        self.log = log
        self.sink: _Sink = _PostgresSink() if postgres else _SqliteSink()
        self.null = self.sink.null
        self.clock = _Clock(self.sink.ts_suffix)
        self.started = time.monotonic()

    def close(self, abort: bool = False) -> None:
        if isinstance(self.sink, _PostgresSink):
            self.sink.close(abort)

    # -- context --

    def prepare(self) -> None:
        admin, _ = ensure_admin()
        self.admin_id = admin.pk
        rate = Decimal(settings.CRM_TAX_RATE)
        if rate != rate.quantize(Decimal("0.0001")):
            raise CommandError("CRM_TAX_RATE has more than 4 decimal places; the order table cannot store it.")
        self.tax_rate = str(rate.quantize(Decimal("0.0001")))
        self.tax_bp = int(rate * 10_000)
        self.currency = settings.CRM_CURRENCY
        staff = defaultdict(list)
        for pk, role, branch_id in User.objects.filter(is_active=True).values_list("pk", "role", "branch_id"):
            staff[(branch_id, role)].append(pk)
        warehouses = defaultdict(list)
        for pk, branch_id, is_default in (
            Warehouse.objects.filter(is_active=True).order_by("pk").values_list("pk", "branch_id", "is_default")
        ):
            warehouses[branch_id].append((not is_default, pk))
        self.branches: list[_BranchCtx] = []
        for branch in Branch.objects.filter(is_active=True).order_by("pk"):
            whs = sorted(warehouses.get(branch.pk, []))
            if not whs or whs[0][0]:
                continue  # no default warehouse: orders cannot ship from it
            sellers = staff[(branch.pk, Role.SALES)] + staff[(branch.pk, Role.MANAGER)]
            self.branches.append(
                _BranchCtx(
                    pk=branch.pk,
                    code=branch.code,
                    weight=BRANCH_WEIGHTS.get(branch.code, 10),
                    default_wh=whs[0][1],
                    other_whs=[pk for _, pk in whs[1:]],
                    sellers=sellers or [self.admin_id],
                    receivers=(staff[(branch.pk, Role.ACCOUNTANT)] + sellers) or [self.admin_id],
                    storekeepers=staff[(branch.pk, Role.STOREKEEPER)] or sellers or [self.admin_id],
                )
            )
        if not self.branches:
            raise CommandError("No active branch with a default warehouse.")
        self.branch_by_pk = {b.pk: b for b in self.branches}
        self.wh_branch = dict(Warehouse.objects.values_list("pk", "branch_id"))
        categories = {c.name: c for c in CustomerCategory.objects.filter(is_active=True)}
        self.cat_individual = categories.get("أفراد")
        self.cat_company = [c for c in (categories.get("شركات"), categories.get("جملة")) if c]
        self.cat_wholesale = categories.get("جملة")
        self.cat_discount = {c.pk: int(c.discount_percent * 100) for c in categories.values()}
        ranges = {row[0]: row[7] for row in N.PRODUCTS}
        self.products: list[_ProductCtx] = []
        for p in Product.objects.filter(is_active=True).order_by("pk"):
            low, high = ranges.get(p.sku, (1, 10))
            self.products.append(
                _ProductCtx(
                    pk=p.pk,
                    name=p.name[:200],
                    price=_to_piastres(p.price),
                    cost=str(p.cost),
                    low=low,
                    high=high,
                    halves=p.unit == "m2",
                )
            )

    def _load_customer_pool(self) -> None:
        """Customers who may order (not blocked), per branch, by the time they joined."""
        rows = (
            Customer.objects.exclude(status=CustomerStatus.BLOCKED)
            .filter(branch_id__in=list(self.branch_by_pk))
            .order_by("created_at", "pk")
            .values_list("pk", "branch_id", "created_at", "name", "phone", "city", "address", "category_id")
        )
        for pk, branch_id, created, name, phone, city, address, category_id in rows.iterator(chunk_size=20_000):
            branch = self.branch_by_pk[branch_id]
            branch.cust_ts.append(int(created.timestamp()))
            branch.cust_rows.append((pk, name, phone, city, address, self.cat_discount.get(category_id, 0)))

    def _progress(self, label: str, done: int, total: int, since: float) -> None:
        elapsed = time.monotonic() - since
        rows = sum(self.sink.rows.values())
        overall = time.monotonic() - self.started
        self.log(
            f"  {label} {done:,}/{total:,}  {elapsed:.1f} s  "
            f"({rows:,} rows so far, {rows / max(overall, 1e-9):,.0f} rows/s)"
        )

    def _reserve_numbers(self, key: str, count: int) -> int:
        """First of ``count`` consecutive numbers on a service counter (the row stays locked)."""
        first = next_number(key)
        set_counter_at_least(key, first + count - 1)
        return first

    # -- customers --

    def customers(self, count: int) -> None:
        since = time.monotonic()
        rng, clock, null = self.rng, self.clock, self.null
        weights = [b.weight for b in self.branches]
        window_start = clock.now - CUSTOMER_WINDOW_DAYS * DAY
        plan = sorted(
            (rng.randint(window_start, clock.now - 3600), rng.choices(range(len(self.branches)), weights)[0])
            for _ in range(count)
        )
        per_branch = Tally(b for _, b in plan)
        next_code = {
            i: self._reserve_numbers(f"customer:{self.branches[i].pk}", n) for i, n in sorted(per_branch.items())
        }
        ids = self.sink.reserve_ids(Customer._meta.db_table, count)
        rows = []
        for (joined, bi), pk in zip(plan, ids, strict=True):
            branch = self.branches[bi]
            code = f"{branch.code}-C{next_code[bi]:06d}"
            next_code[bi] += 1
            city, address = N.place(rng, branch.code)
            company = rng.random() < 0.08
            if company:
                name = f"{rng.choice(N.COMPANY_NAMES)} - {rng.choice(N.CITIES.get(branch.code, N.CITIES['CAI'])[0][1])}"
                category = rng.choice(self.cat_company) if self.cat_company else None
            else:
                name = N.person_name(rng)
                r = rng.random()
                category = self.cat_individual if r < 0.75 else (self.cat_wholesale if r < 0.82 else None)
            r = rng.random()
            status = "active" if r < 0.93 else ("inactive" if r < 0.99 else "blocked")
            phone = N.egyptian_mobile(rng)
            alt_phone = N.egyptian_mobile(rng) if rng.random() < 0.2 else ""
            email = N.email_address(rng, pk) if company or rng.random() < 0.25 else ""
            digits = phone_digits(phone)
            search = build_search_text(name, code, digits, phone_digits(alt_phone), email, city)
            ts = clock.ts(joined)
            rows.append(
                (
                    str(pk),
                    ts,
                    ts,
                    "1",
                    code,
                    str(branch.pk),
                    str(category.pk) if category else null,
                    CustomerKind.COMPANY.value if company else CustomerKind.INDIVIDUAL.value,
                    status,
                    name,
                    phone,
                    digits,
                    alt_phone,
                    email,
                    city,
                    address,
                    N.tax_number(rng) if company else "",
                    search,
                    str(rng.choice(branch.sellers)),
                )
            )
            if len(rows) >= CHUNK:
                self.sink.write(Customer._meta.db_table, CUSTOMER_COLUMNS, rows)
                rows = []
        self.sink.write(Customer._meta.db_table, CUSTOMER_COLUMNS, rows)
        self.sink.flush()
        self._progress("customers", count, count, since)

    # -- orders --

    def orders(self, count: int) -> None:
        since = time.monotonic()
        rng, clock = self.rng, self.clock
        self._load_customer_pool()
        if not any(b.cust_rows for b in self.branches):
            raise CommandError("There are no customers to take orders from; add --customers.")
        if not self.products:
            raise CommandError("There are no active products to order.")
        branches = [i for i, b in enumerate(self.branches) if b.cust_rows]
        weights = [self.branches[i].weight for i in branches]
        first_day = clock.today_index - ORDER_WINDOW_DAYS
        plan: list[tuple[int, int]] = []
        while len(plan) < count:
            # Business grows: half the orders uniform over two years, half rising towards today.
            u = rng.random()
            offset = u if rng.random() < 0.5 else u**0.5
            day = first_day + int(offset * ORDER_WINDOW_DAYS)
            day = min(day, clock.today_index)
            if clock.day_friday[day] and rng.random() < 0.7:
                continue  # Friday: the shops are mostly closed
            moment = clock.midnight[day] + rng.randint(9 * 3600, 21 * 3600)
            if moment > clock.now:
                continue
            plan.append((moment, branches[rng.choices(range(len(branches)), weights)[0]]))
        plan.sort()
        per_key = Tally((bi, clock.day_year[clock.local_day(m)]) for m, bi in plan)
        numbers = {
            key: self._reserve_numbers(f"order:{self.branches[key[0]].pk}:{key[1]}", n)
            for key, n in sorted(per_key.items())
        }
        # All ids up front: reserving them later would wait for the COPY in flight.
        ids = self.sink.reserve_ids(Order._meta.db_table, count)
        self.issues: list[tuple] = []
        for start in range(0, count, CHUNK):
            chunk = plan[start : start + CHUNK]
            self._order_chunk(chunk, ids[start : start + CHUNK], numbers)
            done = start + len(chunk)
            if done == count or (done // CHUNK) % 5 == 0:
                self._progress("orders", done, count, since)
        self._movements()
        self._progress("orders with stock movements", count, count, since)

    def _order_chunk(self, chunk: list[tuple[int, int]], ids: list[int], numbers: dict) -> None:
        rng, clock = self.rng, self.clock
        now = clock.now
        ts = clock.ts
        products = self.products
        n_products = len(products)
        tax_bp, tax_rate, currency = self.tax_bp, self.tax_rate, self.currency
        orders, items, payments, shippings, changes = [], [], [], [], []
        issues = self.issues
        for (t0, bi), order_id in zip(chunk, ids, strict=True):
            branch = self.branches[bi]
            day = clock.local_day(t0)
            year = clock.day_year[day]
            serial = numbers[(bi, year)]
            numbers[(bi, year)] = serial + 1
            number = f"{branch.code}-{year}-{serial:06d}"
            joined = bisect.bisect_right(branch.cust_ts, t0) or len(branch.cust_ts)
            cust_id, cust_name, cust_phone, cust_city, cust_address, discount = branch.cust_rows[
                int(rng.random() * joined)
            ]
            seller = rng.choice(branch.sellers)
            warehouse = branch.default_wh
            if branch.other_whs and rng.random() < 0.15:
                warehouse = rng.choice(branch.other_whs)

            # Items and totals, exactly as orders.services computes them (in piastres).
            r = rng.random()
            k = 1 if r < 0.45 else (2 if r < 0.8 else 3)
            chosen = sorted(rng.sample(range(n_products), min(k, n_products)))
            subtotal = 0
            lines = []
            for pi in chosen:
                p = products[pi]
                milli = rng.randint(p.low, p.high) * 1000
                if p.halves and rng.random() < 0.3:
                    milli += 500
                line = (milli * p.price * (10_000 - discount) + 5_000_000) // 10_000_000
                subtotal += line
                lines.append((p, milli, line))
            order_discount = 0
            if rng.random() < 0.12:
                order_discount = subtotal * rng.choice((25, 50, 75, 100)) // 1000 // 100 * 100
            taxable = subtotal - order_discount
            tax = (taxable * tax_bp + 5_000) // 10_000
            shipping_cost = 0
            ship = rng.random() < 0.3
            if ship:
                method = rng.choice(SHIPPING_METHODS)
                shipping_cost = 0 if method == "pickup" else rng.choice(SHIPPING_COSTS) * 100
            total = taxable + tax + shipping_cost

            # Status history: a lead time, steps at fixed fractions of it, cut at "now".
            lead = rng.uniform(1.0, 12.0) * DAY
            r = rng.random()
            cancel_at = rng.randint(1, 4) if r < CANCEL_SHARE else 9
            stall_at = rng.randint(0, 4) if CANCEL_SHARE <= r < CANCEL_SHARE + STALL_SHARE else 9
            history = []  # (from, to, when)
            previous = ""
            for step in range(6):
                when = t0 + int(lead * STEP_AT[step])
                if when > now:
                    break
                if step == cancel_at:
                    history.append((previous, "cancelled", when))
                    break
                history.append((previous, STEPS[step], when))
                previous = STEPS[step]
                if step == stall_at:
                    break
            status = history[-1][1]
            status_at = history[-1][2]
            shipped_at = next((w for _, s, w in history if s == "shipped"), None)
            last_change = status_at
            changes_count = len(history) - 1
            for from_status, to_status, when in history:
                if to_status in ("in_progress", "ready", "shipped"):
                    by = rng.choice(branch.storekeepers)
                else:
                    by = seller if to_status in ("new", "confirmed") else rng.choice(branch.sellers)
                note = rng.choice(N.CANCEL_NOTES) if to_status == "cancelled" else ""
                changes.append((str(order_id), from_status, to_status, str(by), ts(when), note))

            # Payments: full or partial, never above the total; none on cancelled orders.
            paid = 0
            p_full, p_partial = PAYMENT_CHANCE[status]
            r = rng.random()
            if total > 0 and r < p_full + p_partial:
                receiver = rng.choice(branch.receivers)
                paid_at = min(t0 + rng.randint(300, 7200), now)  # a deposit when the order is taken
                settle_at = min(max(status_at, t0 + 7200) + rng.randint(600, 7200), now)
                if r < p_full:
                    if total >= 100_000 and rng.random() < 0.35:
                        deposit = self._partial(total, rng.uniform(0.3, 0.6))
                        if deposit:
                            payments.append(self._payment(order_id, branch, deposit, receiver, paid_at))
                            paid = deposit
                            changes_count += 1
                    payments.append(self._payment(order_id, branch, total - paid, receiver, settle_at))
                    paid = total
                    changes_count += 1
                    last_change = max(last_change, settle_at)
                else:
                    amount = self._partial(total, rng.uniform(0.2, 0.7))
                    if amount:
                        payments.append(self._payment(order_id, branch, amount, receiver, paid_at))
                        paid = amount
                        changes_count += 1
                        last_change = max(last_change, paid_at)

            if ship:
                shipped_on = clock.local_day(shipped_at) if shipped_at else day + rng.randint(2, 6)
                set_at = min(t0 + rng.randint(300, 3600), now)
                courier = method == "courier"
                shippings.append(
                    (
                        ts(set_at),
                        ts(set_at),
                        str(order_id),
                        method,
                        cust_name,
                        cust_phone,
                        cust_city,
                        cust_address,
                        clock.day_str[min(shipped_on, len(clock.day_str) - 1)],
                        rng.choice(N.CARRIERS) if courier else "",
                        f"EG{rng.randrange(10**9, 10**10)}" if courier else "",
                        _money(shipping_cost),
                        rng.choice(N.SHIPPING_NOTES),
                    )
                )
                changes_count += 1

            for p, milli, line in lines:
                items.append(
                    (
                        str(order_id),
                        str(p.pk),
                        p.name,
                        _qty(milli),
                        _money(p.price),
                        _money(discount),
                        _money(line),
                    )
                )
                if shipped_at is not None:
                    issues.append((shipped_at, warehouse, p.pk, milli, order_id, number, branch.pk))

            created = ts(t0)
            orders.append(
                (
                    str(order_id),
                    created,
                    ts(last_change),
                    str(1 + changes_count),
                    number,
                    str(branch.pk),
                    str(cust_id),
                    str(seller),
                    str(warehouse),
                    status,
                    clock.day_str[day],
                    _money(subtotal),
                    _money(order_discount),
                    tax_rate,
                    _money(tax),
                    _money(total),
                    _money(paid),
                    _money(total - paid),
                    currency,
                    rng.choice(N.ORDER_NOTES) if rng.random() < 0.05 else "",
                    str(seller),
                    ts(status_at),
                )
            )
        sink = self.sink
        sink.write(Order._meta.db_table, ORDER_COLUMNS, orders)
        sink.write("orders_orderitem", ITEM_COLUMNS, items)
        sink.write("orders_payment", PAYMENT_COLUMNS, payments)
        sink.write("orders_shippingdetails", SHIPPING_COLUMNS, shippings)
        sink.write("orders_orderstatuschange", STATUS_COLUMNS, changes)

    def _partial(self, total: int, share: float) -> int:
        return N.partial_payment(total, share)

    def _payment(self, order_id: int, branch: _BranchCtx, amount: int, receiver: int, when: int) -> tuple:
        method = self.rng.choice(PAYMENT_METHODS)
        reference = "" if method == "cash" else f"TRX-{self.rng.randrange(10**6, 10**7)}"
        stamp = self.clock.ts(when)
        return (str(order_id), str(branch.pk), _money(amount), method, reference, str(receiver), stamp, "", stamp)

    # -- stock ledger --

    def _movements(self) -> None:
        """One receive per (product, warehouse) equal to what this load issues, then the issues."""
        issues = self.issues
        if not issues:
            return
        self.sink.flush()
        issued: dict[tuple[int, int], int] = defaultdict(int)
        for _, warehouse, product, milli, *_ in issues:
            issued[(product, warehouse)] += milli
        StockLevel.objects.bulk_create(
            [StockLevel(product_id=p, warehouse_id=w) for p, w in issued], ignore_conflicts=True
        )
        balance: dict[tuple[int, int], int] = {}
        levels = StockLevel.objects.select_for_update().filter(
            product_id__in={p for p, _ in issued}, warehouse_id__in={w for _, w in issued}
        )
        for product, warehouse, quantity in levels.values_list("product_id", "warehouse_id", "quantity"):
            if (product, warehouse) in issued:
                balance[(product, warehouse)] = _to_milli(quantity)
        self.level_before = dict(balance)
        cost = {p.pk: p.cost for p in self.products}
        null, ts = self.null, self.clock.ts
        opening = ts(min(i[0] for i in issues) - DAY)
        rows = []
        for (product, warehouse), milli in sorted(issued.items()):
            balance[(product, warehouse)] += milli
            branch_id = self.wh_branch[warehouse]
            branch = self.branch_by_pk.get(branch_id)
            actor = branch.storekeepers[0] if branch else self.admin_id
            rows.append(
                (
                    str(product),
                    str(warehouse),
                    str(branch_id),
                    "receive",
                    _qty(milli),
                    _qty(balance[(product, warehouse)]),
                    cost.get(product, "0"),
                    null,
                    null,
                    "رصيد افتتاحي - تحميل بيانات تجريبية",
                    "",
                    str(actor),
                    opening,
                )
            )
        self.sink.write(StockMovement._meta.db_table, MOVEMENT_COLUMNS, rows)
        issues.sort(key=lambda issue: issue[0])
        rows = []
        for when, warehouse, product, milli, order_id, number, branch_id in issues:
            key = (product, warehouse)
            balance[key] -= milli
            branch = self.branch_by_pk[branch_id]
            rows.append(
                (
                    str(product),
                    str(warehouse),
                    str(branch_id),
                    "issue",
                    _qty(-milli),
                    _qty(balance[key]),
                    null,
                    str(order_id),
                    null,
                    number,
                    "",
                    str(branch.storekeepers[0]),
                    ts(when),
                )
            )
            if len(rows) >= 5 * CHUNK:
                self.sink.write(StockMovement._meta.db_table, MOVEMENT_COLUMNS, rows)
                rows = []
        self.sink.write(StockMovement._meta.db_table, MOVEMENT_COLUMNS, rows)
        self.issues = []

    def verify_stock(self) -> None:
        """Every level touched still equals the sum of its movements (else roll everything back)."""
        before = getattr(self, "level_before", None)
        if not before:
            return
        sums = {
            (row["product_id"], row["warehouse_id"]): row["total"]
            for row in StockMovement.objects.filter(
                product_id__in={p for p, _ in before}, warehouse_id__in={w for _, w in before}
            )
            .values("product_id", "warehouse_id")
            .annotate(total=Sum("quantity"))
        }
        levels = StockLevel.objects.filter(product_id__in={p for p, _ in before}).values_list(
            "product_id", "warehouse_id", "quantity"
        )
        for product, warehouse, quantity in levels:
            key = (product, warehouse)
            if key in before and _to_milli(sums.get(key) or Decimal(0)) != _to_milli(quantity):
                raise CommandError(f"Stock ledger mismatch for product {product} in warehouse {warehouse}.")
