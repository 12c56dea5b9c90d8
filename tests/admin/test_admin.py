"""The admin: every page renders, ledgers and domain records are read-only, branches are scoped."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal

import pytest
from django.contrib import admin
from django.contrib.auth.models import Permission
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from crm_core.accounts.models import ActivityLog, Branch, Department, Notification, NotificationKind, Role, User
from crm_core.common.models import Counter
from crm_core.customers.models import Customer, CustomerCategory, CustomerNote
from crm_core.inspections.models import Inspection, InspectionOutcome, InspectionPhoto, InspectionResult
from crm_core.inventory.models import Category, MovementKind, Product, StockLevel, StockMovement, Warehouse
from crm_core.orders.models import Order, OrderItem, OrderStatus, OrderStatusChange, Payment, ShippingDetails

pytestmark = [
    pytest.mark.django_db,
    # WhiteNoise warns that STATIC_ROOT was never collected; the tests do not serve static files.
    pytest.mark.filterwarnings("ignore:No directory at:UserWarning"),
]

LEDGERS = [StockMovement, ActivityLog, OrderStatusChange]
VIEW_ONLY = [
    Customer,
    Order,
    Inspection,
    Payment,
    Product,
    StockLevel,
    StockMovement,
    ActivityLog,
    OrderStatusChange,
    Notification,
    Counter,
]
EDITABLE = [Branch, Department, CustomerCategory, Category, Warehouse, User]


def url(model, view: str, *args) -> str:
    return reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_{view}", args=args)


@pytest.fixture(autouse=True)
def _plain_static_files(settings):
    # Admin pages render {% static %}; with DEBUG off the manifest storage would need collectstatic.
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }


@dataclass
class BranchData:
    branch: Branch
    user: User
    customer: Customer
    warehouse: Warehouse
    order: Order
    movement: StockMovement
    activity: ActivityLog
    status_change: OrderStatusChange
    notification: Notification


def make_branch_data(branch: Branch, tag: str, product: Product, category: CustomerCategory) -> BranchData:
    """One of everything in ``branch``; ``tag`` keeps unique fields unique."""
    now = timezone.now()
    user = User.objects.create_user(
        username=f"user-{tag}", password="x-not-used-123", branch=branch, role=Role.SALES, first_name=f"موظف {tag}"
    )
    customer = Customer.objects.create(
        code=f"C-{tag}",
        branch=branch,
        category=category,
        name=f"عميل {tag}",
        phone="0100 123 4567",
        phone_digits="01001234567",
        created_by=user,
    )
    CustomerNote.objects.create(customer=customer, author=user, body="اتصل مساء")
    warehouse = Warehouse.objects.create(
        code=f"W-{tag}", name=f"مخزن {tag}", branch=branch, is_default=not branch.warehouses.exists()
    )
    StockLevel.objects.get_or_create(product=product, warehouse=warehouse, defaults={"quantity": Decimal("8")})
    order = Order.objects.create(
        number=f"ORD-{tag}",
        branch=branch,
        customer=customer,
        salesperson=user,
        warehouse=warehouse,
        order_date=now.date(),
        subtotal=Decimal("300.00"),
        total=Decimal("300.00"),
        amount_paid=Decimal("100.00"),
        balance=Decimal("200.00"),
        currency="EGP",
        created_by=user,
    )
    OrderItem.objects.create(
        order=order,
        product=product,
        description=product.name,
        quantity=Decimal("2"),
        unit_price=Decimal("150.00"),
        line_total=Decimal("300.00"),
    )
    Payment.objects.create(order=order, branch=branch, amount=Decimal("100.00"), received_by=user, received_at=now)
    ShippingDetails.objects.create(order=order, recipient_name=customer.name, phone=customer.phone)
    status_change = OrderStatusChange.objects.create(
        order=order, from_status="", to_status=OrderStatus.NEW, changed_by=user, changed_at=now
    )
    movement = StockMovement.objects.create(
        product=product,
        warehouse=warehouse,
        branch=branch,
        kind=MovementKind.RECEIVE,
        quantity=Decimal("10"),
        balance_after=Decimal("10"),
        order=order,
        actor=user,
    )
    inspection = Inspection.objects.create(
        number=f"INS-{tag}",
        branch=branch,
        customer=customer,
        inspector=user,
        order=order,
        scheduled_start=now,
        scheduled_end=now + timedelta(hours=1),
        created_by=user,
    )
    InspectionResult.objects.create(
        inspection=inspection, outcome=InspectionOutcome.PASSED, findings="سليم", recorded_by=user
    )
    InspectionPhoto.objects.create(inspection=inspection, image=f"inspections/{tag}/front.jpg", uploaded_by=user)
    notification = Notification.objects.create(
        recipient=user, branch=branch, kind=NotificationKind.ORDER, title=f"طلب جديد {tag}"
    )
    activity = ActivityLog.objects.create(
        actor=user, actor_repr=str(user), action="order.create", target_repr=order.number, branch=branch
    )
    return BranchData(branch, user, customer, warehouse, order, movement, activity, status_change, notification)


@dataclass
class World:
    a: BranchData
    b: BranchData
    product: Product
    category: CustomerCategory


@pytest.fixture
def world() -> World:
    cairo = Branch.objects.create(code="CAI", name="القاهرة")
    alexandria = Branch.objects.create(code="ALX", name="الإسكندرية")
    Department.objects.create(code="SALES", name="المبيعات")
    category = CustomerCategory.objects.create(name="جملة", discount_percent=Decimal("5"))
    flooring = Category.objects.create(name="أرضيات")
    tiles = Category.objects.create(name="سيراميك", parent=flooring)
    product = Product.objects.create(sku="TILE-1", name="بلاط سيراميك", category=tiles, price=Decimal("150.00"))
    Counter.objects.create(key="order", value=2)
    return World(
        a=make_branch_data(cairo, "A1", product, category),
        b=make_branch_data(alexandria, "B1", product, category),
        product=product,
        category=category,
    )


def staff_of(user: User, *perms: str) -> User:
    user.is_staff = True
    user.save()
    for perm in perms:
        app_label, codename = perm.split(".")
        user.user_permissions.add(Permission.objects.get(content_type__app_label=app_label, codename=codename))
    return User.objects.get(pk=user.pk)  # fresh, without a cached permission set


def test_every_admin_model_is_registered():
    registered = set(admin.site._registry)
    assert set(VIEW_ONLY) | set(EDITABLE) <= registered


def test_every_changelist_answers_200_for_a_superuser(admin_client, world):
    for model in admin.site._registry:
        response = admin_client.get(url(model, "changelist"))
        assert response.status_code == 200, model


def test_every_change_page_answers_200_for_a_superuser(admin_client, world):
    for model in admin.site._registry:
        obj = model._default_manager.order_by("pk").first()
        if obj is None:
            continue
        response = admin_client.get(url(model, "change", obj.pk))
        assert response.status_code == 200, model


def test_the_order_page_shows_its_items_payments_shipping_and_history(admin_client, world):
    content = admin_client.get(url(Order, "change", world.a.order.pk)).content.decode()
    assert "بلاط سيراميك" in content  # item
    assert "100.00" in content  # payment
    assert world.a.customer.name in content  # shipping recipient
    assert 'name="_save"' not in content  # read-only: no save button


def test_changelists_do_not_query_per_row(admin_client, world):
    """The number of queries of every list page is the same with one more row in each table."""

    def count_queries() -> dict[str, int]:
        counts = {}
        for model in admin.site._registry:
            with CaptureQueriesContext(connection) as ctx:
                assert admin_client.get(url(model, "changelist")).status_code == 200
            counts[model._meta.label] = len(ctx.captured_queries)
        return counts

    before = count_queries()
    make_branch_data(world.a.branch, "A2", world.product, world.category)
    Category.objects.create(name="دهانات")
    assert count_queries() == before


@pytest.mark.parametrize("model", VIEW_ONLY, ids=lambda m: m.__name__)
def test_view_only_admins_refuse_to_add(admin_client, world, model):
    assert admin_client.get(url(model, "add")).status_code == 403
    assert admin_client.post(url(model, "add"), {}).status_code == 403


@pytest.mark.parametrize("model", VIEW_ONLY, ids=lambda m: m.__name__)
def test_view_only_admins_refuse_to_change_or_delete(rf, admin_user, model):
    model_admin = admin.site._registry[model]
    request = rf.get("/")
    request.user = admin_user
    assert model_admin.has_view_permission(request)
    assert not model_admin.has_add_permission(request)
    assert not model_admin.has_change_permission(request)
    assert not model_admin.has_delete_permission(request)
    assert "delete_selected" not in model_admin.get_actions(request)


@pytest.mark.parametrize(
    ("model", "attr"),
    [(StockMovement, "movement"), (ActivityLog, "activity"), (OrderStatusChange, "status_change")],
    ids=["StockMovement", "ActivityLog", "OrderStatusChange"],
)
def test_ledger_rows_cannot_be_deleted_or_edited(admin_client, world, model, attr):
    row = getattr(world.a, attr)

    assert admin_client.get(url(model, "delete", row.pk)).status_code == 403
    assert admin_client.post(url(model, "delete", row.pk), {"post": "yes"}).status_code == 403
    assert model.objects.filter(pk=row.pk).exists()

    response = admin_client.post(
        url(model, "changelist"), {"action": "delete_selected", "_selected_action": [row.pk], "post": "yes"}
    )
    assert response.status_code in (200, 302)
    assert model.objects.filter(pk=row.pk).exists()

    # The change page shows the row, read-only, and refuses a POST.
    response = admin_client.get(url(model, "change", row.pk))
    assert response.status_code == 200
    assert 'name="_save"' not in response.content.decode()
    assert admin_client.post(url(model, "change", row.pk), {"note": "edited"}).status_code == 403


def test_stock_level_quantity_cannot_be_changed(admin_client, world):
    level = StockLevel.objects.get(warehouse=world.a.warehouse)
    response = admin_client.post(
        url(StockLevel, "change", level.pk),
        {"product": world.product.pk, "warehouse": world.a.warehouse.pk, "quantity": "999"},
    )
    assert response.status_code == 403
    level.refresh_from_db()
    assert level.quantity == Decimal("8")
    assert admin_client.post(url(StockLevel, "delete", level.pk), {"post": "yes"}).status_code == 403
    assert StockLevel.objects.filter(pk=level.pk).exists()


@pytest.mark.parametrize("model", EDITABLE, ids=lambda m: m.__name__)
def test_reference_data_can_be_added(admin_client, model):
    assert admin_client.get(url(model, "add")).status_code == 200


def test_a_department_is_added_through_the_admin(admin_client):
    response = admin_client.post(url(Department, "add"), {"code": "FIELD", "name": "المعاينات", "is_active": "on"})
    assert response.status_code == 302
    department = Department.objects.get(code="FIELD", name="المعاينات")
    assert ActivityLog.objects.filter(action="department.create", target_id=str(department.pk)).exists()


def test_a_duplicate_category_name_is_a_form_error_in_the_admin(admin_client, world):
    existing = CustomerCategory.objects.first()
    response = admin_client.post(
        url(CustomerCategory, "add"), {"name": existing.name.upper(), "discount_percent": "5", "is_active": "on"}
    )
    assert response.status_code == 200
    assert CustomerCategory.objects.filter(name__iexact=existing.name).count() == 1


def test_a_branch_user_sees_only_their_branchs_customers(client, world):
    user = staff_of(world.a.user, "customers.view_customer")
    client.force_login(user)

    content = client.get(url(Customer, "changelist")).content.decode()
    assert world.a.customer.name in content
    assert world.b.customer.name not in content
    # The branch filter offers only what the user may see (no other branch's name leaks).
    assert world.b.branch.name not in content

    assert client.get(url(Customer, "change", world.a.customer.pk)).status_code == 200
    response = client.get(url(Customer, "change", world.b.customer.pk))
    assert response.status_code in (302, 404)
    assert (
        world.b.customer.name
        not in client.get(url(Customer, "change", world.b.customer.pk), follow=True).content.decode()
    )


def test_a_branch_user_sees_only_their_branchs_ledgers(client, world):
    user = staff_of(
        world.a.user,
        "inventory.view_stockmovement",
        "accounts.view_activitylog",
        "orders.view_orderstatuschange",
        "orders.view_order",
    )
    client.force_login(user)
    for model, attr in [(StockMovement, "movement"), (ActivityLog, "activity"), (OrderStatusChange, "status_change")]:
        mine, theirs = getattr(world.a, attr), getattr(world.b, attr)
        assert client.get(url(model, "change", mine.pk)).status_code == 200, model
        assert client.get(url(model, "change", theirs.pk)).status_code in (302, 404), model
    content = client.get(url(OrderStatusChange, "changelist")).content.decode()
    assert world.a.order.number in content
    assert world.b.order.number not in content


def test_notifications_are_personal_except_for_superusers(client, admin_client, world):
    user = staff_of(world.a.user, "accounts.view_notification")
    colleague = User.objects.create_user(username="colleague", branch=world.a.branch)
    Notification.objects.create(recipient=colleague, branch=world.a.branch, kind=NotificationKind.SYSTEM, title="خاص")
    client.force_login(user)

    content = client.get(url(Notification, "changelist")).content.decode()
    assert world.a.notification.title in content
    assert "خاص" not in content

    content = admin_client.get(url(Notification, "changelist")).content.decode()
    assert world.a.notification.title in content
    assert world.b.notification.title in content
    assert "خاص" in content


def test_a_warehouse_never_moves_to_another_branch(client, world):
    user = staff_of(world.a.user, "inventory.view_warehouse", "inventory.change_warehouse")
    client.force_login(user)
    warehouse = world.a.warehouse
    response = client.post(
        url(Warehouse, "change", warehouse.pk),
        {"code": warehouse.code, "name": "مخزن جديد", "branch": world.b.branch.pk, "is_active": "on"},
    )
    assert response.status_code == 302
    warehouse.refresh_from_db()
    assert warehouse.branch == world.a.branch
    assert warehouse.name == "مخزن جديد"
    assert ActivityLog.objects.filter(action="warehouse.update", target_id=str(warehouse.pk), actor=user).exists()


def test_a_branch_user_cannot_create_a_warehouse_in_another_branch(client, world):
    user = staff_of(world.a.user, "inventory.view_warehouse", "inventory.add_warehouse")
    client.force_login(user)
    response = client.post(
        url(Warehouse, "add"), {"code": "X-1", "name": "مخزن", "branch": world.b.branch.pk, "is_active": "on"}
    )
    assert response.status_code == 200  # the form comes back with an error
    assert not Warehouse.objects.filter(code="X-1").exists()


def test_customer_search_matches_arabic_as_typed(admin_client, world):
    Customer.objects.filter(pk=world.a.customer.pk).update(name="أحمد فؤاد", search_text="احمد فواد c-a1 01001234567")
    content = admin_client.get(url(Customer, "changelist"), {"q": "احمد"}).content.decode()
    assert "أحمد فؤاد" in content
    assert world.b.customer.name not in content
    content = admin_client.get(url(Customer, "changelist"), {"q": "٠١٠٠١٢٣"}).content.decode()
    assert "أحمد فؤاد" in content


def test_a_branch_user_sees_only_their_branchs_users(client, world):
    user = staff_of(world.a.user, "accounts.view_user")
    client.force_login(user)
    content = client.get(url(User, "changelist")).content.decode()
    assert world.a.user.username in content
    assert world.b.user.username not in content
    assert client.get(url(User, "change", world.b.user.pk)).status_code in (302, 404)


def test_a_user_is_created_with_branch_and_role(admin_client, world):
    response = admin_client.post(
        url(User, "add"),
        {
            "username": "storekeeper-cai",
            "usable_password": "true",
            "password1": "Kx9!long-enough-pass",
            "password2": "Kx9!long-enough-pass",
            "first_name": "سعيد",
            "branch": world.a.branch.pk,
            "role": Role.STOREKEEPER,
            "language": "ar",
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    created = User.objects.get(username="storekeeper-cai")
    assert (created.branch, created.role, created.first_name) == (world.a.branch, Role.STOREKEEPER, "سعيد")
    assert list(created.groups.values_list("name", flat=True)) == [Role.STOREKEEPER]
    assert created.has_perm("inventory.adjust_stock")
    assert ActivityLog.objects.filter(action="user.create", target_id=str(created.pk)).exists()


def test_changing_a_role_in_the_admin_changes_the_users_permissions(admin_client, world):
    user = world.a.user
    user.groups.set([])
    response = admin_client.get(url(User, "change", user.pk))
    form = response.context["adminform"].form
    data = {name: value for name, value in form.initial.items() if value is not None and name != "password"}
    data.update(
        {
            "role": Role.ACCOUNTANT,
            "branch": user.branch_id,
            "date_joined_0": user.date_joined.date().isoformat(),
            "date_joined_1": "00:00:00",
            "is_active": "on",
        }
    )
    data.pop("date_joined", None)
    data.pop("last_login", None)
    response = admin_client.post(url(User, "change", user.pk), data)
    assert response.status_code == 302, response.context["adminform"].form.errors
    user.refresh_from_db()
    assert user.role == Role.ACCOUNTANT
    assert list(user.groups.values_list("name", flat=True)) == [Role.ACCOUNTANT]
    log = ActivityLog.objects.get(action="user.update", target_id=str(user.pk))
    assert log.changes["role"][1] == Role.ACCOUNTANT
