"""Fixtures for the API tests: JWT clients, an isolated cache, and a two-branch scene built
through the services (so every row is one the API could have written itself)."""

from __future__ import annotations

import io
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal

import pytest
from django.conf import settings as django_settings
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image
from rest_framework.test import APIClient
from rest_framework_simplejwt.tokens import AccessToken, RefreshToken

from crm_core.accounts.models import Branch, Department, Notification, NotificationKind, Role, User
from crm_core.accounts.services import notify_users
from crm_core.customers.models import Customer, CustomerCategory
from crm_core.inspections.models import Inspection, InspectionPhoto
from crm_core.inspections.services import inspection_add_photo, inspection_schedule
from crm_core.inventory.models import Category, Product, Warehouse
from crm_core.orders.models import Order
from crm_core.orders.services import ItemInput, order_create, order_set_shipping, payment_record
from tests.factories import (
    CategoryFactory,
    CustomerCategoryFactory,
    CustomerFactory,
    DepartmentFactory,
    ProductFactory,
    slot,
    stock,
)

API = "/api/v1"


@pytest.fixture(autouse=True)
def _isolated_cache_and_rates(settings):
    """Each test gets a cache of its own (throttle counters, WS tickets) — on Redis too, where
    other processes share the server — and throttle rates no ordinary test reaches."""
    cache = dict(django_settings.CACHES["default"])
    if "redis" in cache["BACKEND"].lower():
        cache["KEY_PREFIX"] = f"crm-test-{uuid.uuid4().hex}"
    else:
        cache["LOCATION"] = f"crm-test-{uuid.uuid4().hex}"
    settings.CACHES = {"default": cache}
    rest = dict(settings.REST_FRAMEWORK)
    rest["DEFAULT_THROTTLE_RATES"] = {"anon": "100000/min", "user": "100000/min", "auth": "100000/min"}
    settings.REST_FRAMEWORK = rest


def bearer(user: User) -> str:
    return f"Bearer {AccessToken.for_user(user)}"


@pytest.fixture
def api() -> Callable[[User | None], APIClient]:
    """``api(user)``: a client that sends a fresh JWT access token for ``user``; ``api()``: anonymous."""

    def make(user: User | None = None) -> APIClient:
        client = APIClient()
        if user is not None:
            client.credentials(HTTP_AUTHORIZATION=bearer(user))
        return client

    return make


def refresh_for(user: User) -> RefreshToken:
    return RefreshToken.for_user(user)


def png_upload(name: str = "site.png") -> SimpleUploadedFile:
    buffer = io.BytesIO()
    Image.new("RGB", (4, 4), (200, 30, 30)).save(buffer, format="PNG")
    return SimpleUploadedFile(name, buffer.getvalue(), content_type="image/png")


@dataclass
class Side:
    branch: Branch
    warehouse: Warehouse
    sales: User
    storekeeper: User
    dispatcher: User
    inspector: User
    inspector2: User
    manager: User
    admin: User
    customer: Customer
    order: Order
    inspection: Inspection
    past_inspection: Inspection
    photo: InspectionPhoto
    notification: Notification


@dataclass
class ApiScene:
    a: Side
    b: Side
    product: Product
    product2: Product
    category: Category
    customer_category: CustomerCategory
    department: Department
    head_admin: User


def _side(world, branch: Branch, warehouse: Warehouse, product: Product, product2: Product, code: str) -> Side:
    sales = world.user(Role.SALES, branch=branch, username=f"{code}.sales")
    storekeeper = world.user(Role.STOREKEEPER, branch=branch, username=f"{code}.keeper")
    dispatcher = world.user(Role.DISPATCHER, branch=branch, username=f"{code}.dispatcher")
    inspector = world.user(Role.INSPECTOR, branch=branch, username=f"{code}.inspector")
    inspector2 = world.user(Role.INSPECTOR, branch=branch, username=f"{code}.inspector2")
    manager = world.user(Role.MANAGER, branch=branch, username=f"{code}.manager")
    admin = world.user(Role.ADMIN, branch=branch, username=f"{code}.admin")
    stock(product, warehouse, 50, actor=storekeeper)
    stock(product2, warehouse, 50, actor=storekeeper)
    customer = CustomerFactory(branch=branch, name=f"أحمد {code}", address="شارع التحرير")
    order = order_create(
        actor=sales,
        customer=customer,
        items=[ItemInput(product.pk, Decimal("2")), ItemInput(product2.pk, Decimal("1"))],
    )
    order_set_shipping(actor=sales, order=order, method="delivery", recipient_name="أحمد", phone="01000000000")
    payment_record(actor=sales, order=order, amount=Decimal("10.00"))
    order.refresh_from_db()
    start, end = slot(24)
    inspection = inspection_schedule(
        actor=dispatcher, customer=customer, scheduled_start=start, scheduled_end=end, inspector=inspector
    )
    start, end = slot(-3)
    past = inspection_schedule(
        actor=dispatcher, customer=customer, scheduled_start=start, scheduled_end=end, inspector=inspector2
    )
    photo = inspection_add_photo(actor=inspector, inspection=inspection, image=png_upload(), caption="واجهة")
    inspection.refresh_from_db()
    (notification,) = notify_users(
        recipients=[sales], kind=NotificationKind.SYSTEM, title=f"تنبيه {code}", branch_id=branch.pk
    )
    return Side(
        branch=branch,
        warehouse=warehouse,
        sales=sales,
        storekeeper=storekeeper,
        dispatcher=dispatcher,
        inspector=inspector,
        inspector2=inspector2,
        manager=manager,
        admin=admin,
        customer=customer,
        order=order,
        inspection=inspection,
        past_inspection=past,
        photo=photo,
        notification=notification,
    )


@pytest.fixture
def scene(world) -> ApiScene:
    product = ProductFactory(sku="TILE-1", name="سيراميك أبيض", price=Decimal("100.00"))
    product2 = ProductFactory(sku="GLUE-1", name="لاصق بلاط", price=Decimal("25.50"))
    return ApiScene(
        a=_side(world, world.branch_a, world.warehouse_a, product, product2, "cai"),
        b=_side(world, world.branch_b, world.warehouse_b, product, product2, "alx"),
        product=product,
        product2=product2,
        category=CategoryFactory(name="أرضيات"),
        customer_category=CustomerCategoryFactory(name="جملة", discount_percent=Decimal("5")),
        department=DepartmentFactory(code="SAL", name="المبيعات"),
        head_admin=world.user(Role.ADMIN, branch=world.branch_a, all_branches=True, username="hq.admin"),
    )
