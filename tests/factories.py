"""Factories for tests. Domain rows that services would normally create are built directly
here only where a test needs a starting state; tests of behaviour call the services."""

from __future__ import annotations

from decimal import Decimal

import factory
from django.contrib.auth.models import Group
from django.utils import timezone

from crm_core.accounts.models import Branch, Department, Role, User
from crm_core.customers.models import Customer, CustomerCategory
from crm_core.inventory.models import Category, Product, StockLevel, Warehouse


class BranchFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Branch
        django_get_or_create = ("code",)

    code = factory.Sequence(lambda n: f"B{n:02d}")
    name = factory.Sequence(lambda n: f"فرع {n}")


class DepartmentFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Department
        django_get_or_create = ("code",)

    code = factory.Sequence(lambda n: f"D{n:02d}")
    name = factory.Sequence(lambda n: f"قسم {n}")


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    first_name = "مستخدم"
    last_name = factory.Sequence(lambda n: f"رقم {n}")
    branch = factory.SubFactory(BranchFactory)
    role = Role.SALES
    password = factory.django.Password("pass-12345-word")

    @factory.post_generation
    def join_role_group(self, create: bool, extracted: object, **kwargs: object) -> None:
        if create:
            self.groups.set([Group.objects.get(name=self.role)])


class CustomerCategoryFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = CustomerCategory
        django_get_or_create = ("name",)

    name = factory.Sequence(lambda n: f"فئة {n}")
    discount_percent = Decimal("0")


class CustomerFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Customer

    code = factory.Sequence(lambda n: f"T-C{n:06d}")
    branch = factory.SubFactory(BranchFactory)
    name = factory.Sequence(lambda n: f"أحمد محمود {n}")
    phone = factory.Sequence(lambda n: f"0100{n:07d}")
    phone_digits = factory.LazyAttribute(lambda o: o.phone)
    search_text = factory.LazyAttribute(lambda o: f"{o.name} {o.code} {o.phone}")


class CategoryFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Category

    name = factory.Sequence(lambda n: f"صنف {n}")


class ProductFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Product

    sku = factory.Sequence(lambda n: f"SKU-{n:05d}")
    name = factory.Sequence(lambda n: f"منتج {n}")
    price = Decimal("100.00")
    cost = Decimal("60.00")
    reorder_level = Decimal("0")


class WarehouseFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Warehouse

    code = factory.Sequence(lambda n: f"WH{n:03d}")
    name = factory.Sequence(lambda n: f"مخزن {n}")
    branch = factory.SubFactory(BranchFactory)
    is_default = True


def stock(product: Product, warehouse: Warehouse, quantity: Decimal | int, actor: User | None = None) -> StockLevel:
    """Put stock in place through the ledger, so movements always sum to the level."""
    from crm_core.inventory.services import stock_receive

    if actor is None:
        actor = UserFactory(branch=warehouse.branch, role=Role.STOREKEEPER)
    stock_receive(actor=actor, product=product, warehouse=warehouse, quantity=Decimal(quantity))
    return StockLevel.objects.get(product=product, warehouse=warehouse)


def slot(hours_from_now: float, length_hours: float = 1.0) -> tuple:
    start = timezone.now().replace(microsecond=0) + timezone.timedelta(hours=hours_from_now)
    return start, start + timezone.timedelta(hours=length_hours)
