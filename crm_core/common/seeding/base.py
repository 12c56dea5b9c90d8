"""The demo base set: a believable company, written through the services.

Every domain row is created by a service (``crm_core.*.services``) acting as the bootstrap
superuser ``admin``, so the activity log, the stock ledger, the low-stock notifications and the
order history are exactly what the application itself would have produced. The data is
deterministic (one ``random.Random`` with a fixed seed) and its dates are relative to today in
``settings.TIME_ZONE``, so the week views always have something to show.

The only direct writes are bootstrap and cosmetic history that no service sets:
``User.objects.create_superuser`` for ``admin`` and back-dated ``created_at`` of customers and
orders (marked "demo-only" below).
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from django.conf import settings
from django.contrib.auth.models import Group
from django.core.management.base import CommandError
from django.db import transaction
from django.utils import timezone

from crm_core.accounts.models import Branch, Department, Role, User
from crm_core.accounts.services import branch_create, department_create, user_create
from crm_core.common.seeding import names as N
from crm_core.customers.models import Customer, CustomerCategory, CustomerKind, CustomerStatus
from crm_core.customers.services import customer_add_note, customer_category_create, customer_create
from crm_core.inspections.models import Inspection, InspectionStatus
from crm_core.inspections.services import (
    inspection_cancel,
    inspection_create_order,
    inspection_mark_no_show,
    inspection_record_result,
    inspection_schedule,
    inspection_start,
)
from crm_core.inventory.models import Category, Product, StockLevel, Warehouse
from crm_core.inventory.services import (
    category_create,
    product_create,
    stock_issue,
    stock_receive,
    stock_transfer,
    warehouse_create,
)
from crm_core.orders.models import Order, OrderStatus, PaymentMethod, ShippingMethod
from crm_core.orders.services import (
    ItemInput,
    line_total,
    order_create,
    order_set_shipping,
    order_transition,
    payment_record,
)

SEED = 2026
CUSTOMERS_PER_BRANCH = 20
# Orders of the base set per final status (80 in all).
ORDER_PLAN = {
    OrderStatus.NEW: 12,
    OrderStatus.CONFIRMED: 10,
    OrderStatus.IN_PROGRESS: 10,
    OrderStatus.READY: 10,
    OrderStatus.SHIPPED: 10,
    OrderStatus.DELIVERED: 20,
    OrderStatus.CANCELLED: 8,
}
# How many days ago an order in each status was taken (min, max).
ORDER_AGE = {
    OrderStatus.NEW: (0, 2),
    OrderStatus.CONFIRMED: (1, 5),
    OrderStatus.IN_PROGRESS: (2, 8),
    OrderStatus.READY: (3, 10),
    OrderStatus.SHIPPED: (4, 12),
    OrderStatus.DELIVERED: (8, 60),
    OrderStatus.CANCELLED: (3, 45),
}
FORWARD = [
    OrderStatus.CONFIRMED,
    OrderStatus.IN_PROGRESS,
    OrderStatus.READY,
    OrderStatus.SHIPPED,
    OrderStatus.DELIVERED,
]
# Inspection slots in local time: never overlapping, so no inspector is double-booked.
SLOTS = [((9, 0), (10, 30)), ((11, 0), (12, 30)), ((13, 0), (14, 30)), ((15, 0), (16, 30))]
SATURDAY = 5  # date.weekday(); Egypt's working week is Saturday to Thursday.

Log = Callable[[str], None]


@dataclass
class Demo:
    admin: User
    branches: dict[str, Branch] = field(default_factory=dict)
    warehouses: dict[str, Warehouse] = field(default_factory=dict)
    departments: dict[str, Department] = field(default_factory=dict)
    users: dict[str, User] = field(default_factory=dict)
    customer_categories: dict[str, CustomerCategory] = field(default_factory=dict)
    products: dict[str, Product] = field(default_factory=dict)
    customers: dict[str, list[Customer]] = field(default_factory=dict)

    def staff(self, branch_code: str, role: str) -> list[User]:
        prefix = branch_code.lower() + "."
        return [u for name, u in self.users.items() if name.startswith(prefix) and u.role == role]


# --- State ----------------------------------------------------------------------------------------


def is_seeded() -> bool:
    """The marker of an already-seeded database: branch CAI and the user ``admin``."""
    return Branch.objects.filter(code="CAI").exists() and User.objects.filter(username=N.ADMIN_USERNAME).exists()


def ensure_admin() -> tuple[User, bool]:
    """The bootstrap superuser every service call of the base set acts as."""
    admin = User.objects.filter(username=N.ADMIN_USERNAME).first()
    if admin is not None:
        if not (admin.is_active and admin.is_superuser):
            raise CommandError(f"User {N.ADMIN_USERNAME!r} exists but is not an active superuser.")
        return admin, False
    admin = User.objects.create_superuser(
        N.ADMIN_USERNAME,
        email="admin@example.com",
        password=N.DEMO_PASSWORD,
        first_name=N.ADMIN_NAME[0],
        last_name=N.ADMIN_NAME[1],
        role=Role.ADMIN,
        all_branches=True,
    )
    admin.groups.set([Group.objects.get(name=Role.ADMIN)])
    return admin, True


def demo_logins() -> list[tuple[str, str, str, str]]:
    """(username, role, branch, password) of the demo users that exist."""
    wanted = [N.ADMIN_USERNAME, *(row[0] for row in N.STAFF)]
    users = {u.username: u for u in User.objects.filter(username__in=wanted).select_related("branch")}
    rows = []
    for username in wanted:
        user = users.get(username)
        if user is None:
            continue
        branch = f"{user.branch.code} {user.branch.name}" if user.branch else "* (all branches)"
        rows.append((username, user.role, branch, N.DEMO_PASSWORD))
    return rows


# --- Time helpers ---------------------------------------------------------------------------------


class Clock:
    """Today and "now" in the project's time zone, and aware datetimes on local days."""

    def __init__(self) -> None:
        self.tz = ZoneInfo(settings.TIME_ZONE)
        self.now = timezone.now()
        self.today = timezone.localdate(self.now, self.tz)

    def at(self, day: date, hour: int, minute: int = 0) -> datetime:
        return datetime.combine(day, time(hour, minute), tzinfo=self.tz)

    def past(self, moment: datetime) -> datetime:
        """``moment``, but never later than a few minutes ago (payments cannot be in the future)."""
        return min(moment, self.now - timedelta(minutes=5))

    @property
    def week_start(self) -> date:
        """Saturday of the current working week."""
        return self.today - timedelta(days=(self.today.weekday() - SATURDAY) % 7)


# --- The base set ---------------------------------------------------------------------------------


def seed_base(*, log: Log, seed: int = SEED) -> Demo:
    rng = random.Random(seed)
    clock = Clock()
    with transaction.atomic():
        admin, _ = ensure_admin()
        demo = Demo(admin=admin)
        _organisation(demo)
        log(f"  {len(demo.branches)} branches, {len(demo.warehouses)} warehouses, {len(demo.users) + 1} users")
        _catalogue(demo)
        _receive_stock(demo, rng)
        log(f"  {len(demo.products)} products, stock received in every warehouse")
        _customers(demo, rng, clock)
        log(f"  {sum(len(c) for c in demo.customers.values())} customers")
        orders = _orders(demo, rng, clock)
        log(f"  {orders} orders")
        _issues(demo, rng)
        inspections = _inspections(demo, rng, clock)
        log(f"  {inspections} inspections")
    return demo


def _organisation(demo: Demo) -> None:
    actor = demo.admin
    for code, name in N.DEPARTMENTS:
        demo.departments[code] = department_create(actor=actor, code=code, name=name)
    for code, name, address, phone in N.BRANCHES:
        demo.branches[code] = branch_create(actor=actor, code=code, name=name, address=address, phone=phone)
    for code, name, branch_code, address, is_default in N.WAREHOUSES:
        demo.warehouses[code] = warehouse_create(
            actor=actor,
            code=code,
            name=name,
            branch=demo.branches[branch_code],
            address=address,
            is_default=is_default,
        )
    rng = random.Random(SEED + 1)
    for username, role, branch_code, first, last in N.STAFF:
        demo.users[username] = user_create(
            actor=actor,
            username=username,
            password=N.DEMO_PASSWORD,
            role=role,
            branch=demo.branches[branch_code] if branch_code else None,
            first_name=first,
            last_name=last,
            email=f"{username}@example.com",
            phone=N.egyptian_mobile(rng),
            department=demo.departments[N.ROLE_DEPARTMENT[role]],
            all_branches=branch_code is None,
        )


def _catalogue(demo: Demo) -> None:
    actor = demo.admin
    for name, discount, description in N.CUSTOMER_CATEGORIES:
        demo.customer_categories[name] = customer_category_create(
            actor=actor, name=name, discount_percent=discount, description=description
        )
    categories: dict[tuple[str, str | None], Category] = {}
    for root, children in N.PRODUCT_CATEGORIES.items():
        parent = category_create(actor=actor, name=root)
        categories[(root, None)] = parent
        for child in children:
            categories[(root, child)] = category_create(actor=actor, name=child, parent=parent)
    for sku, name, path, unit, price, cost, reorder, _qty in N.PRODUCTS:
        demo.products[sku] = product_create(
            actor=actor,
            sku=sku,
            name=name,
            category=categories[path],
            unit=unit,
            price=Decimal(price),
            cost=Decimal(cost),
            reorder_level=Decimal(reorder),
        )


def _receive_stock(demo: Demo, rng: random.Random) -> None:
    actor = demo.admin
    for receipt, (wh_code, warehouse) in enumerate(demo.warehouses.items(), start=1):
        for product in demo.products.values():
            factor = rng.randint(2, 4) if not warehouse.is_default else rng.randint(6, 10)
            stock_receive(
                actor=actor,
                product=product,
                warehouse=warehouse,
                quantity=product.reorder_level * factor,
                unit_cost=product.cost,
                reference=f"GRN-{wh_code}-{receipt:04d}",
                note="رصيد أول المدة",
            )
    # Move some stock between the two Cairo warehouses.
    source, target = demo.warehouses["CAI-W1"], demo.warehouses["CAI-W2"]
    for sku, quantity in (("CER-101", "120"), ("PNT-401", "15"), ("INS-901", "40")):
        stock_transfer(
            actor=actor,
            product=demo.products[sku],
            from_warehouse=source,
            to_warehouse=target,
            quantity=Decimal(quantity),
            note="تعزيز رصيد مخزن العبور",
        )


def _customers(demo: Demo, rng: random.Random, clock: Clock) -> None:
    actor = demo.admin
    cats = demo.customer_categories
    serial = 0
    company_names = iter(rng.sample(N.COMPANY_NAMES, len(N.COMPANY_NAMES)))
    for branch_index, (code, branch) in enumerate(demo.branches.items()):
        created: list[Customer] = []
        for i in range(CUSTOMERS_PER_BRANCH):
            serial += 1
            city, address = N.place(rng, code)
            is_company = i < 2 or (i == 10 and code == "CAI")
            if is_company:
                category = cats["شركات"] if rng.random() < 0.6 else cats["جملة"]
            else:
                r = rng.random()
                category = cats["أفراد"] if r < 0.75 else (cats["جملة"] if r < 0.85 else None)
            status = CustomerStatus.ACTIVE
            if i == 5 + branch_index:
                status = CustomerStatus.INACTIVE
            if code == "GIZ" and i == 17:
                status = CustomerStatus.BLOCKED
            customer = customer_create(
                actor=actor,
                branch=branch,
                name=next(company_names) if is_company else N.person_name(rng),
                phone=N.egyptian_mobile(rng),
                kind=CustomerKind.COMPANY if is_company else CustomerKind.INDIVIDUAL,
                status=status,
                category=category,
                alt_phone=N.egyptian_mobile(rng) if rng.random() < 0.25 else "",
                email=N.email_address(rng, serial) if is_company or rng.random() < 0.3 else "",
                city=city,
                address=address,
                tax_number=N.tax_number(rng) if is_company else "",
            )
            # Demo-only: customers "joined" over the last two years. created_at is set by no
            # service (auto_now_add), so back-dating it fakes no business history.
            joined = clock.at(
                clock.today - timedelta(days=rng.randint(65, 720)), rng.randint(9, 17), rng.randint(0, 59)
            )
            Customer.objects.filter(pk=customer.pk).update(created_at=joined)
            created.append(customer)
        demo.customers[code] = created
    everyone = [c for customers in demo.customers.values() for c in customers]
    for customer in rng.sample(everyone, 14):
        for body in rng.sample(N.CUSTOMER_NOTES, rng.randint(1, 2)):
            customer_add_note(actor=actor, customer=customer, body=body)


def _orderable(demo: Demo) -> list[Product]:
    low = {sku for sku, _ in N.LOW_STOCK}
    return [p for sku, p in demo.products.items() if sku not in low]


def _quantity(rng: random.Random, sku: str) -> Decimal:
    low, high = next(row[7] for row in N.PRODUCTS if row[0] == sku)
    quantity = Decimal(rng.randint(low, high))
    if demo_unit(sku) == "m2" and rng.random() < 0.3:
        quantity += Decimal("0.5")
    return quantity


def demo_unit(sku: str) -> str:
    return next(row[3] for row in N.PRODUCTS if row[0] == sku)


def _pay(demo: Demo, rng: random.Random, clock: Clock, order: Order, fraction: float, when: datetime) -> None:
    """Record one payment of ``fraction`` of what is still due (whole pounds unless it settles)."""
    order.refresh_from_db(fields=["total", "amount_paid", "balance"])
    if order.balance <= 0:
        return
    if fraction >= 1:
        amount = order.balance
    elif order.amount_paid == 0:
        # Whole pounds where possible, and exact in SQLite's REAL arithmetic as well.
        amount = Decimal(N.partial_payment(int(order.total * 100), fraction)) / 100
    else:
        return
    if amount <= 0 or amount > order.balance:
        return
    method = rng.choices(
        [
            PaymentMethod.CASH,
            PaymentMethod.CARD,
            PaymentMethod.BANK_TRANSFER,
            PaymentMethod.WALLET,
            PaymentMethod.CHEQUE,
        ],
        weights=[45, 20, 15, 15, 5],
    )[0]
    reference = "" if method == PaymentMethod.CASH else f"TRX-{rng.randrange(10**6, 10**7)}"
    payment_record(
        actor=demo.admin, order=order, amount=amount, method=method, reference=reference, received_at=clock.past(when)
    )


def _orders(demo: Demo, rng: random.Random, clock: Clock) -> int:
    actor = demo.admin
    products = _orderable(demo)
    plan = [status for status, count in ORDER_PLAN.items() for _ in range(count)]
    rng.shuffle(plan)
    branch_cycle = ["CAI", "ALX", "CAI", "GIZ"]
    count = 0
    for index, target in enumerate(plan):
        code = branch_cycle[index % len(branch_cycle)]
        branch_customers = [c for c in demo.customers[code] if c.status == CustomerStatus.ACTIVE]
        customer = rng.choice(branch_customers)
        discount_pct = customer.category.discount_percent if customer.category_id else Decimal("0")
        chosen = rng.sample(products, rng.choice([1, 1, 2, 2, 3, 4]))
        items = [ItemInput(product_id=p.pk, quantity=_quantity(rng, p.sku)) for p in chosen]
        subtotal = sum(line_total(i.quantity, p.price, discount_pct) for i, p in zip(items, chosen, strict=True))
        discount = Decimal(rng.choice([50, 100, 200, 250])) if rng.random() < 0.15 else Decimal("0")
        if discount > subtotal:
            discount = Decimal("0")
        warehouse = demo.warehouses["CAI-W2"] if code == "CAI" and rng.random() < 0.2 else None
        low, high = ORDER_AGE[target]
        order_date = clock.today - timedelta(days=rng.randint(low, high))
        sellers = demo.staff(code, Role.SALES) + demo.staff(code, Role.MANAGER)
        order = order_create(
            actor=actor,
            customer=customer,
            items=items,
            discount_amount=discount,
            notes=rng.choice(N.ORDER_NOTES) if rng.random() < 0.25 else "",
            salesperson=sellers[0] if rng.random() < 0.7 else sellers[-1],
            warehouse=warehouse,
            order_date=order_date,
        )
        taken = clock.past(clock.at(order_date, rng.randint(9, 18), rng.randint(0, 59)))
        # Demo-only: the order "was taken" on its order date. created_at is set by no service.
        Order.objects.filter(pk=order.pk).update(created_at=taken)
        count += 1
        if rng.random() < 0.45 or (target in (OrderStatus.SHIPPED, OrderStatus.DELIVERED) and rng.random() < 0.6):
            method = rng.choices(
                [ShippingMethod.DELIVERY, ShippingMethod.COURIER, ShippingMethod.PICKUP], weights=[60, 25, 15]
            )[0]
            order_set_shipping(
                actor=actor,
                order=order,
                method=method,
                recipient_name=customer.name,
                phone=customer.phone,
                city=customer.city,
                address=customer.address,
                scheduled_date=order_date + timedelta(days=rng.randint(2, 5)),
                carrier=rng.choice(N.CARRIERS) if method == ShippingMethod.COURIER else "",
                tracking_number=f"EG{rng.randrange(10**9, 10**10)}" if method == ShippingMethod.COURIER else "",
                cost=Decimal("0") if method == ShippingMethod.PICKUP else Decimal(rng.choice([75, 100, 150, 250])),
                notes=rng.choice(N.SHIPPING_NOTES),
            )
        if target != OrderStatus.CANCELLED:
            chance = {
                OrderStatus.NEW: 0.2,
                OrderStatus.CONFIRMED: 0.5,
                OrderStatus.IN_PROGRESS: 0.6,
                OrderStatus.READY: 0.7,
                OrderStatus.SHIPPED: 0.8,
                OrderStatus.DELIVERED: 0.95,
            }[target]
            if rng.random() < chance:
                full = (target == OrderStatus.DELIVERED and rng.random() < 0.8) or rng.random() < 0.2
                if full and rng.random() < 0.4:
                    _pay(demo, rng, clock, order, rng.uniform(0.3, 0.5), taken + timedelta(hours=1))
                    _pay(demo, rng, clock, order, 1.0, taken + timedelta(days=rng.randint(1, 6)))
                else:
                    _pay(demo, rng, clock, order, 1.0 if full else rng.uniform(0.25, 0.6), taken + timedelta(hours=2))
        if target == OrderStatus.CANCELLED:
            path = FORWARD[: rng.randint(0, 3)]
        else:
            path = FORWARD[: FORWARD.index(target) + 1] if target != OrderStatus.NEW else []
        for step in path:
            order = order_transition(actor=actor, order=order, to_status=step)
        if target == OrderStatus.CANCELLED:
            order_transition(actor=actor, order=order, to_status=OrderStatus.CANCELLED, note=rng.choice(N.CANCEL_NOTES))
    return count


def _issues(demo: Demo, rng: random.Random) -> None:
    """Some stock leaves for other reasons; a few levels end below their reorder level."""
    actor = demo.admin
    for index, (sku, wh_code) in enumerate(N.LOW_STOCK):
        product, warehouse = demo.products[sku], demo.warehouses[wh_code]
        level = StockLevel.objects.get(product=product, warehouse=warehouse)
        keep = (product.reorder_level * Decimal("0.4")).quantize(Decimal("1"))
        if level.quantity > keep:
            stock_issue(
                actor=actor,
                product=product,
                warehouse=warehouse,
                quantity=level.quantity - keep,
                reference=f"ISS-{wh_code}-{index + 1:04d}",
                note=N.LOW_STOCK_NOTES[index % len(N.LOW_STOCK_NOTES)],
            )
    # Samples for the showrooms: small issues that stay well above the reorder level.
    for index, (sku, wh_code) in enumerate((("CER-103", "CAI-W1"), ("POR-201", "GIZ-W1"), ("PNT-402", "ALX-W1"))):
        product, warehouse = demo.products[sku], demo.warehouses[wh_code]
        level = StockLevel.objects.get(product=product, warehouse=warehouse)
        quantity = Decimal(rng.randint(2, 6))
        if level.quantity - quantity >= product.reorder_level:
            stock_issue(
                actor=actor,
                product=product,
                warehouse=warehouse,
                quantity=quantity,
                reference=f"SMP-{wh_code}-{index + 1:04d}",
                note="عينات لمعرض الفرع",
            )


@dataclass
class _Visit:
    branch: str
    inspector: User | None
    start: datetime
    end: datetime
    status: str = InspectionStatus.SCHEDULED
    outcome: str = ""


def _plan_inspections(demo: Demo, rng: random.Random, clock: Clock) -> list[_Visit]:
    week = clock.week_start
    this_week = [week + timedelta(days=i) for i in range(6)]
    last_week = [week - timedelta(days=7 - i) for i in range(6)]
    next_week = [week + timedelta(days=7 + i) for i in range(2)]
    visits: list[_Visit] = []
    for code in demo.branches:
        for inspector in demo.staff(code, Role.INSPECTOR):
            for days, chance in ((last_week, 0.12), (this_week, 0.5), (next_week, 0.3)):
                for day in days:
                    for (sh, sm), (eh, em) in SLOTS:
                        if rng.random() < chance:
                            visits.append(_Visit(code, inspector, clock.at(day, sh, sm), clock.at(day, eh, em)))
        # One visit nobody was sent to yet: the dispatcher's job.
        day = next_week[rng.randrange(len(next_week))]
        (sh, sm), (eh, em) = rng.choice(SLOTS)
        visits.append(_Visit(code, None, clock.at(day, sh, sm), clock.at(day, eh, em)))
    now = clock.now
    for visit in visits:
        r = rng.random()
        if visit.inspector is None:
            continue
        if visit.start <= now < visit.end:
            visit.status = InspectionStatus.IN_PROGRESS
        elif visit.end <= now:
            visit.status = (
                InspectionStatus.COMPLETED
                if r < 0.7
                else (InspectionStatus.NO_SHOW if r < 0.85 else InspectionStatus.CANCELLED)
            )
        else:
            visit.status = InspectionStatus.CANCELLED if r < 0.1 else InspectionStatus.SCHEDULED
    # Every state (and every outcome) at least once, whatever the day and hour.
    past = sorted((v for v in visits if v.end <= now and v.inspector), key=lambda v: v.start, reverse=True)
    if not any(v.status == InspectionStatus.IN_PROGRESS for v in visits) and past:
        past[0].status = InspectionStatus.IN_PROGRESS
    for wanted, position in ((InspectionStatus.NO_SHOW, 1), (InspectionStatus.CANCELLED, 2)):
        if not any(v.status == wanted for v in visits) and len(past) > position:
            past[position].status = wanted
    completed = [v for v in visits if v.status == InspectionStatus.COMPLETED]
    for visit in completed:
        visit.outcome = rng.choices(["passed", "failed", "follow_up"], weights=[55, 20, 25])[0]
    for outcome, visit in zip(["passed", "failed", "follow_up"], completed, strict=False):
        if not any(v.outcome == outcome for v in completed):
            visit.outcome = outcome
    return visits


def _measurements(rng: random.Random) -> dict[str, str]:
    length = rng.uniform(3, 12)
    width = rng.uniform(2.5, 8)
    return {
        "الطول (م)": f"{length:.2f}",
        "العرض (م)": f"{width:.2f}",
        "الارتفاع (م)": f"{rng.uniform(2.6, 3.2):.2f}",
        "المساحة (م²)": f"{length * width:.1f}",
        "نسبة الرطوبة (٪)": str(rng.randint(6, 30)),
    }


def _inspections(demo: Demo, rng: random.Random, clock: Clock) -> int:
    actor = demo.admin
    visits = _plan_inspections(demo, rng, clock)
    passed: list[Inspection] = []
    for visit in visits:
        customers = [c for c in demo.customers[visit.branch] if c.status == CustomerStatus.ACTIVE]
        inspection = inspection_schedule(
            actor=actor,
            customer=rng.choice(customers),
            scheduled_start=visit.start,
            scheduled_end=visit.end,
            inspector=visit.inspector,
            notes=rng.choice(N.INSPECTION_NOTES),
        )
        if visit.status == InspectionStatus.IN_PROGRESS:
            inspection_start(actor=actor, inspection=inspection)
        elif visit.status == InspectionStatus.COMPLETED:
            inspection = inspection_start(actor=actor, inspection=inspection)
            findings, recommendations = rng.choice(N.INSPECTION_FINDINGS[visit.outcome])
            inspection_record_result(
                actor=actor,
                inspection=inspection,
                outcome=visit.outcome,
                findings=findings,
                measurements=_measurements(rng),
                recommendations=recommendations,
            )
            if visit.outcome == "passed":
                passed.append(inspection)
        elif visit.status == InspectionStatus.CANCELLED:
            inspection_cancel(actor=actor, inspection=inspection, reason=rng.choice(N.INSPECTION_CANCEL_REASONS))
        elif visit.status == InspectionStatus.NO_SHOW:
            inspection_mark_no_show(actor=actor, inspection=inspection, reason=rng.choice(N.NO_SHOW_REASONS))
    # Two passed inspections turned into orders for what was measured.
    seen_branches: set[int] = set()
    for inspection in passed:
        if inspection.branch_id in seen_branches or len(seen_branches) == 2:
            continue
        seen_branches.add(inspection.branch_id)
        area = Decimal(str(inspection.result.measurements.get("المساحة (م²)", "30"))).quantize(Decimal("1"))
        code = next(c for c, b in demo.branches.items() if b.pk == inspection.branch_id)
        inspection_create_order(
            actor=actor,
            inspection=inspection,
            items=[
                ItemInput(product_id=demo.products["POR-201"].pk, quantity=area + Decimal(2)),
                ItemInput(product_id=demo.products["INS-902"].pk, quantity=(area / 4).quantize(Decimal("1")) + 1),
            ],
            salesperson=demo.staff(code, Role.SALES)[0],
            notes=f"طلب ناتج عن المعاينة {inspection.number}",
        )
    return len(visits)
