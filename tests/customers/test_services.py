"""Customer services: what staff see when they add, edit and annotate customers."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction

from crm_core.accounts.models import ActivityLog, Role
from crm_core.common.exceptions import StaleVersionError
from crm_core.common.text import normalize_search
from crm_core.customers.models import Customer, CustomerCategory, CustomerNote
from crm_core.customers.services import (
    customer_add_note,
    customer_category_create,
    customer_category_update,
    customer_create,
    customer_update,
)
from tests.factories import CustomerCategoryFactory

pytestmark = pytest.mark.django_db


def _counts():
    return (
        Customer.objects.count(),
        CustomerNote.objects.count(),
        CustomerCategory.objects.count(),
        ActivityLog.objects.count(),
    )


def _search(term: str) -> set[int]:
    return set(Customer.objects.filter(search_text__contains=normalize_search(term)).values_list("pk", flat=True))


@pytest.fixture
def manager(world):
    return world.user(Role.MANAGER, first_name="منى", last_name="سالم")


@pytest.fixture
def customer(personas):
    return customer_create(actor=personas.owner, name="أحمد محمود", phone="01012345678", city="Cairo")


# --- customer_create -----------------------------------------------------------------------------


def test_create_numbers_logs_and_publishes(personas, world, published, django_capture_on_commit_callbacks):
    owner = personas.owner
    with django_capture_on_commit_callbacks(execute=True):
        customer = customer_create(
            actor=owner, name="  أحمد مُحَمَّد  ", phone="٠١٠ ١٢٣٤ ٥٦٧٨", email="Ahmed@Example.com", city="القاهرة"
        )

    customer.refresh_from_db()
    assert customer.code == "CAI-C000001"
    assert customer.branch == world.branch_a
    assert customer.name == "أحمد مُحَمَّد"
    assert customer.phone_digits == "01012345678"
    assert customer.created_by == owner
    assert customer.version == 1

    log = ActivityLog.objects.get()
    assert (log.actor, log.action, log.branch) == (owner, "customer.create", world.branch_a)
    assert log.target_id == str(customer.pk)
    assert log.changes["name"] == [None, "أحمد مُحَمَّد"]

    assert [(t, sorted(g)) for t, g, _ in published] == [
        ("customer.created", sorted([f"b{world.branch_a.pk}.customers", "all.customers"]))
    ]
    event = published[0][2]
    assert event.branch == world.branch_a.pk
    assert event.data["customer"] == customer.pk
    assert event.data["code"] == "CAI-C000001"


def test_codes_count_per_branch(personas, world):
    first = customer_create(actor=personas.owner, name="عميل أول", phone="0101111111")
    second = customer_create(actor=personas.owner, name="عميل ثان", phone="0101111112")
    other = customer_create(actor=personas.outsider, name="عميل إسكندرية", phone="0301111111")
    assert [first.code, second.code, other.code] == ["CAI-C000001", "CAI-C000002", "ALX-C000001"]


def test_search_finds_the_customer_as_people_type_it(personas):
    customer = customer_create(actor=personas.owner, name="أحمد مصطفى", phone="٠١٠١٢٣٤٥٦٧٨", email="A.M@Mail.com")
    customer_create(actor=personas.owner, name="محمود علي", phone="0109999999")
    for term in ("احمد", "إحمد", "مصطفي", "أحمد مصطفى", "01012345678", "٠١٠١٢٣", "a.m@mail.com", "CAI-C000001"):
        assert _search(term) == {customer.pk}, term


def test_all_branches_user_chooses_the_branch(world):
    hq = world.user(Role.MANAGER, all_branches=True)
    customer = customer_create(actor=hq, name="عميل", phone="0301234567", branch=world.branch_b)
    assert customer.branch == world.branch_b
    assert customer.code == "ALX-C000001"


def _refused(django_capture_on_commit_callbacks, published, exc, **kwargs):
    before = _counts()
    with django_capture_on_commit_callbacks(execute=True), pytest.raises(exc) as info:
        customer_create(**kwargs)
    assert _counts() == before
    assert published == []
    return info.value


@pytest.mark.parametrize(
    ("values", "field"),
    [
        ({"name": "   ", "phone": "01012345678"}, "name"),
        ({"name": "عميل", "phone": "12-34"}, "phone"),
        ({"name": "عميل", "phone": "٠١٢٣٤٥"}, "phone"),
        ({"name": "عميل", "phone": "01012345678", "email": "not-an-email"}, "email"),
        ({"name": "عميل", "phone": "01012345678", "kind": "alien"}, "kind"),
    ],
)
def test_create_refuses_bad_input_and_changes_nothing(
    personas, published, django_capture_on_commit_callbacks, values, field
):
    error = _refused(django_capture_on_commit_callbacks, published, ValidationError, actor=personas.owner, **values)
    assert field in error.message_dict


def test_create_refuses_inactive_category(personas, published, django_capture_on_commit_callbacks):
    category = CustomerCategoryFactory(is_active=False)
    error = _refused(
        django_capture_on_commit_callbacks,
        published,
        ValidationError,
        actor=personas.owner,
        name="عميل",
        phone="01012345678",
        category=category,
    )
    assert "category" in error.message_dict


def test_create_refuses_actor_without_permission(world, published, django_capture_on_commit_callbacks):
    inspector = world.user(Role.INSPECTOR)
    _refused(
        django_capture_on_commit_callbacks,
        published,
        PermissionDenied,
        actor=inspector,
        name="عميل",
        phone="01012345678",
    )


def test_create_refuses_inactive_actor(world, published, django_capture_on_commit_callbacks):
    gone = world.user(Role.SALES, is_active=False)
    _refused(django_capture_on_commit_callbacks, published, PermissionDenied, actor=gone, name="ع", phone="0101234567")


def test_create_refuses_a_branch_the_actor_cannot_see(personas, world, published, django_capture_on_commit_callbacks):
    from crm_core.accounts.models import Branch

    _refused(
        django_capture_on_commit_callbacks,
        published,
        Branch.DoesNotExist,
        actor=personas.owner,
        name="عميل",
        phone="01012345678",
        branch=world.branch_b,
    )


def test_a_rolled_back_create_publishes_nothing(personas, published, django_capture_on_commit_callbacks):
    before = _counts()
    with (
        django_capture_on_commit_callbacks(execute=True) as callbacks,
        pytest.raises(RuntimeError),
        transaction.atomic(),
    ):
        customer_create(actor=personas.owner, name="عميل", phone="01012345678")
        raise RuntimeError("the view failed after the service")
    assert callbacks == []
    assert published == []
    assert _counts() == before
    # The rolled-back code is not lost: the next customer gets it.
    assert customer_create(actor=personas.owner, name="عميل", phone="01012345678").code == "CAI-C000001"


# --- customer_update ------------------------------------------------------------------------------


def test_update_changes_fields_bumps_version_logs_and_publishes(
    customer, personas, world, published, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        updated = customer_update(
            actor=personas.owner,
            customer=customer,
            expected_version=1,
            name="أحمد محمود علي",
            phone="٠١١١٢٢٢٣٣٣٤",
            city="Cairo",
        )

    customer.refresh_from_db()
    assert updated.version == customer.version == 2
    assert customer.name == "أحمد محمود علي"
    assert customer.phone_digits == "01112223334"
    assert _search("علي") == {customer.pk}
    assert _search("01112223334") == {customer.pk}
    assert _search("01012345678") == set()

    log = ActivityLog.objects.filter(action="customer.update").get()
    assert (log.actor, log.branch) == (personas.owner, world.branch_a)
    assert log.changes == {"name": ["أحمد محمود", "أحمد محمود علي"], "phone": ["01012345678", "٠١١١٢٢٢٣٣٣٤"]}

    assert [(t, sorted(g)) for t, g, _ in published] == [
        ("customer.updated", sorted([f"b{world.branch_a.pk}.customers", "all.customers"]))
    ]
    assert sorted(published[0][2].data["fields"]) == ["name", "phone"]


def test_update_without_changes_writes_nothing(customer, personas, published, django_capture_on_commit_callbacks):
    before = _counts()
    with django_capture_on_commit_callbacks(execute=True):
        customer_update(actor=personas.owner, customer=customer, expected_version=1, name=" أحمد محمود ")
    customer.refresh_from_db()
    assert customer.version == 1
    assert _counts() == before
    assert published == []


def test_stale_version_names_the_other_person_and_changes_nothing(
    customer, personas, world, published, django_capture_on_commit_callbacks
):
    sara = world.user(Role.SALES, first_name="سارة", last_name="عبد الله")
    customer_update(actor=sara, customer=customer, expected_version=1, city="الجيزة")
    before = _counts()

    with django_capture_on_commit_callbacks(execute=True), pytest.raises(StaleVersionError) as info:
        customer_update(actor=personas.owner, customer=customer, expected_version=1, city="طنطا", name="اسم آخر")

    assert "سارة عبد الله" in str(info.value)
    assert info.value.current == 2
    customer.refresh_from_db()
    assert (customer.city, customer.name, customer.version) == ("الجيزة", "أحمد محمود", 2)
    assert _counts() == before
    assert published == []


def test_update_refuses_bad_phone_and_changes_nothing(
    customer, personas, published, django_capture_on_commit_callbacks
):
    before = _counts()
    with django_capture_on_commit_callbacks(execute=True), pytest.raises(ValidationError) as info:
        customer_update(actor=personas.owner, customer=customer, expected_version=1, phone="123", city="طنطا")
    assert "phone" in info.value.message_dict
    customer.refresh_from_db()
    assert (customer.phone, customer.city, customer.version) == ("01012345678", "Cairo", 1)
    assert _counts() == before
    assert published == []


def test_another_branch_customer_cannot_be_updated(customer, personas, published, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True), pytest.raises(Customer.DoesNotExist):
        customer_update(actor=personas.outsider, customer=customer, expected_version=1, name="مسروق")
    customer.refresh_from_db()
    assert customer.name == "أحمد محمود"
    assert published == []


def test_update_refuses_actor_without_permission(customer, personas):
    with pytest.raises(PermissionDenied):
        customer_update(actor=personas.colleague, customer=customer, expected_version=1, name="اسم")
    customer.refresh_from_db()
    assert customer.name == "أحمد محمود"


def test_customer_of_a_deactivated_category_stays_editable(personas, manager):
    category = customer_category_create(actor=manager, name="كبار العملاء", discount_percent=Decimal("5"))
    customer = customer_create(actor=personas.owner, name="عميل", phone="01012345678", category=category)
    customer_category_update(actor=manager, category=category, is_active=False)

    customer = customer_update(actor=personas.owner, customer=customer, expected_version=1, city="طنطا")
    assert customer.city == "طنطا"
    assert customer.category == category

    other = customer_create(actor=personas.owner, name="عميل آخر", phone="01012345679")
    with pytest.raises(ValidationError) as info:
        customer_update(actor=personas.owner, customer=other, expected_version=1, category=category)
    assert "category" in info.value.message_dict
    other.refresh_from_db()
    assert other.category is None


# --- notes --------------------------------------------------------------------------------------


def test_add_note(customer, personas, world, published, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        note = customer_add_note(actor=personas.owner, customer=customer, body="  اتصل بخصوص عرض السعر  ")
    assert note.body == "اتصل بخصوص عرض السعر"
    assert list(CustomerNote.objects.filter(customer=customer)) == [note]
    assert note.author == personas.owner
    log = ActivityLog.objects.get(action="customer.note")
    assert (log.actor, log.branch, log.target_id) == (personas.owner, world.branch_a, str(customer.pk))
    assert [t for t, _, _ in published] == ["customer.note_added"]


@pytest.mark.parametrize("body", ["", "   \n ", "x" * 5001])
def test_add_note_refuses_blank_or_huge(customer, personas, published, django_capture_on_commit_callbacks, body):
    before = _counts()
    with django_capture_on_commit_callbacks(execute=True), pytest.raises(ValidationError) as info:
        customer_add_note(actor=personas.owner, customer=customer, body=body)
    assert "body" in info.value.message_dict
    assert _counts() == before
    assert published == []


def test_note_on_another_branch_customer_is_refused(customer, personas):
    with pytest.raises(Customer.DoesNotExist):
        customer_add_note(actor=personas.outsider, customer=customer, body="ملاحظة")
    assert not CustomerNote.objects.exists()


# --- categories -----------------------------------------------------------------------------------


def test_category_create_and_update(manager):
    category = customer_category_create(actor=manager, name=" جملة ", discount_percent=Decimal("7.50"))
    assert (category.name, category.discount_percent) == ("جملة", Decimal("7.50"))
    assert ActivityLog.objects.filter(action="customer_category.create", actor=manager).count() == 1

    customer_category_update(actor=manager, category=category, discount_percent=Decimal("10"), name="جملة كبرى")
    category.refresh_from_db()
    assert (category.name, category.discount_percent) == ("جملة كبرى", Decimal("10"))
    log = ActivityLog.objects.get(action="customer_category.update")
    assert log.changes["name"] == ["جملة", "جملة كبرى"]


def test_category_duplicate_name_refused(manager):
    customer_category_create(actor=manager, name="VIP")
    other = customer_category_create(actor=manager, name="Retail")
    before = _counts()
    with pytest.raises(ValidationError) as info:
        customer_category_create(actor=manager, name="vip")
    assert "name" in info.value.message_dict
    with pytest.raises(ValidationError) as info:
        customer_category_update(actor=manager, category=other, name="Vip")
    assert "name" in info.value.message_dict
    other.refresh_from_db()
    assert other.name == "Retail"
    assert _counts() == before


@pytest.mark.parametrize("discount", [Decimal("-1"), Decimal("100.01"), Decimal("150")])
def test_category_discount_outside_0_to_100_refused(manager, discount):
    with pytest.raises(ValidationError):
        customer_category_create(actor=manager, name="خصم", discount_percent=discount)
    assert not CustomerCategory.objects.exists()

    category = customer_category_create(actor=manager, name="عادي", discount_percent=Decimal("100"))
    with pytest.raises(ValidationError):
        customer_category_update(actor=manager, category=category, discount_percent=discount)
    category.refresh_from_db()
    assert category.discount_percent == Decimal("100")


def test_category_needs_permission(personas):
    with pytest.raises(PermissionDenied):
        customer_category_create(actor=personas.owner, name="جملة")
    assert not CustomerCategory.objects.exists()
