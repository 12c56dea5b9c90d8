"""A two-branch scene built through the services, shared by the scoping tests.

Branch A (CAI) and branch B (ALX) each get customers, notes, an order with a payment, stock
with its movement, an inspection, notifications and the audit rows those writes leave.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal

from crm_core.accounts.models import ActivityLog, Branch, Notification, NotificationKind, Role, User
from crm_core.accounts.services import department_create, notify_users
from crm_core.customers.models import Customer, CustomerNote
from crm_core.customers.services import customer_add_note, customer_create
from crm_core.inspections.models import Inspection
from crm_core.inspections.services import inspection_schedule
from crm_core.inventory.models import StockLevel, StockMovement, Warehouse
from crm_core.orders.models import Order, Payment
from crm_core.orders.services import ItemInput, order_create, payment_record
from tests.factories import ProductFactory, UserFactory, slot, stock


@dataclass
class Side:
    """Everything one branch owns, by model."""

    branch: Branch
    rows: dict[type, set[int]] = field(default_factory=dict)

    def add(self, *objects) -> None:
        for obj in objects:
            self.rows.setdefault(type(obj), set()).add(obj.pk)

    def ids(self, model: type) -> set[int]:
        return self.rows.get(model, set())


@dataclass
class Scene:
    a: Side
    b: Side
    # Inspectors of branch A: each is sent to one customer of A; a third customer of A has none.
    inspector_1: User
    inspector_2: User
    customer_1: Customer
    customer_2: Customer
    customer_unvisited: Customer
    inspection_1: Inspection
    inspection_2: Inspection
    note_1: CustomerNote
    # Audit rows that belong to no branch (a department created at head office).
    branchless_logs: set[int]

    def side(self, branch: Branch) -> Side:
        return self.a if branch.pk == self.a.branch.pk else self.b


def _logs_since(last_id: int, branch: Branch) -> set[int]:
    return set(ActivityLog.objects.filter(pk__gt=last_id, branch=branch).values_list("pk", flat=True))


def build_scene(world, personas) -> Scene:
    last_log = ActivityLog.objects.order_by("-pk").values_list("pk", flat=True).first() or 0
    product = ProductFactory()
    sides = {}
    extra = {}
    for branch, sales, storekeeper, warehouse in (
        (world.branch_a, personas.owner, personas.colleague, world.warehouse_a),
        (world.branch_b, personas.outsider, world.user(Role.STOREKEEPER, branch=world.branch_b), world.warehouse_b),
    ):
        side = Side(branch=branch)
        dispatcher = world.user(Role.DISPATCHER, branch=branch)
        inspector_1 = world.user(Role.INSPECTOR, branch=branch)
        inspector_2 = world.user(Role.INSPECTOR, branch=branch)
        customers = [
            customer_create(actor=sales, name=f"عميل {branch.code} {n}", phone=f"0100000{n}{branch.pk:03d}")
            for n in range(3)
        ]
        notes = [customer_add_note(actor=sales, customer=c, body=f"ملاحظة {c.code}") for c in customers]
        level = stock(product, warehouse, 10, actor=storekeeper)
        order = order_create(actor=sales, customer=customers[0], items=[ItemInput(product.pk, Decimal("2"))])
        payment = payment_record(actor=sales, order=order, amount=Decimal("10.00"))
        inspections = [
            inspection_schedule(
                actor=dispatcher, customer=customers[n], scheduled_start=start, scheduled_end=end, inspector=inspector
            )
            for n, (inspector, (start, end)) in enumerate(((inspector_1, slot(24)), (inspector_2, slot(48))))
        ]
        notify_users(
            recipients=[sales, storekeeper],
            kind=NotificationKind.SYSTEM,
            title=f"تنبيه {branch.code}",
            branch_id=branch.pk,
        )
        side.add(*customers, *notes, order, payment, level, *inspections)
        side.add(*StockMovement.objects.filter(warehouse=warehouse))
        side.add(*Warehouse.objects.filter(branch=branch))
        side.add(*User.objects.filter(branch=branch))
        side.add(branch)
        side.rows[ActivityLog] = _logs_since(last_log, branch)
        sides[branch.pk] = side
        extra[branch.pk] = (inspector_1, inspector_2, customers, inspections, notes)

    admin = UserFactory(role=Role.ADMIN, branch=None, all_branches=True, username="hq-admin")
    department_create(actor=admin, code="HQ", name="الإدارة")
    branchless = set(ActivityLog.objects.filter(pk__gt=last_log, branch=None).values_list("pk", flat=True))

    inspector_1, inspector_2, customers, inspections, notes = extra[world.branch_a.pk]
    scene = Scene(
        a=sides[world.branch_a.pk],
        b=sides[world.branch_b.pk],
        inspector_1=inspector_1,
        inspector_2=inspector_2,
        customer_1=customers[0],
        customer_2=customers[1],
        customer_unvisited=customers[2],
        inspection_1=inspections[0],
        inspection_2=inspections[1],
        note_1=notes[0],
        branchless_logs=branchless,
    )
    # The scene is only useful if both branches really hold every kind of record.
    for side in (scene.a, scene.b):
        for model in BRANCH_MODELS:
            assert side.ids(model), f"{model.__name__} missing in {side.branch}"
    assert scene.branchless_logs
    assert Notification.objects.count() == 4
    return scene


BRANCH_MODELS = (
    Customer,
    CustomerNote,
    Order,
    Payment,
    Inspection,
    Warehouse,
    StockLevel,
    StockMovement,
    User,
    Branch,
    ActivityLog,
)
