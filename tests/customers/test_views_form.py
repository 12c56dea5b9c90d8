"""Create and edit: saved through the services, bad input shows errors and writes nothing,
branch and category choices limited, stale edits refused with who changed what."""

from __future__ import annotations

import pytest
from django.urls import reverse
from django.utils import translation

from crm_core.accounts.models import ActivityLog, Role
from crm_core.customers.models import Customer
from crm_core.customers.services import customer_update
from tests.factories import CustomerCategoryFactory

pytestmark = pytest.mark.django_db

CREATE = reverse("customers:create")


def edit_url(customer) -> str:
    return reverse("customers:edit", args=[customer.pk])


def _valid(**overrides) -> dict:
    data = {
        "name": "سارة عبد الله",
        "kind": "individual",
        "phone": "٠١٠ ٢٢٣٣ ٤٤٥٥",
        "alt_phone": "",
        "email": "sara@example.com",
        "city": "القاهرة",
        "address": "١٢ شارع التحرير",
        "tax_number": "",
        "category": "",
        "status": "active",
    }
    data.update(overrides)
    return data


def _edit_data(customer, **overrides) -> dict:
    data = {
        "name": customer.name,
        "kind": customer.kind,
        "phone": customer.phone,
        "alt_phone": customer.alt_phone,
        "email": customer.email,
        "city": customer.city,
        "address": customer.address,
        "tax_number": customer.tax_number,
        "category": customer.category_id or "",
        "status": customer.status,
        "version": customer.version,
    }
    data.update(overrides)
    return data


# --- Create -----------------------------------------------------------------------------------------


def test_sales_create_a_customer_in_their_branch(login, personas, world):
    response = login(personas.owner).post(CREATE, _valid())

    customer = Customer.objects.get(name="سارة عبد الله")
    assert response.status_code == 302
    assert response["Location"] == reverse("customers:detail", args=[customer.pk])
    assert customer.branch == world.branch_a
    assert customer.phone_digits == "01022334455"
    assert customer.created_by == personas.owner
    assert ActivityLog.objects.filter(action="customer.create", target_id=str(customer.pk)).exists()


def test_the_form_carries_html_constraints(login, personas):
    text = login(personas.owner).get(CREATE).text
    assert 'name="name"' in text and 'maxlength="200"' in text
    assert 'type="tel"' in text
    assert 'type="email"' in text
    assert "required" in text
    # Single-branch users do not choose a branch.
    assert 'name="branch"' not in text


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("name", "", "This field is required."),
        ("name", "   ", "This field is required."),
        ("phone", "", "This field is required."),
        ("phone", "12 34", "Enter a phone number of at least 7 digits."),
        ("phone", "call me", "Use digits, spaces, + - ( ) only in a phone number."),
        ("email", "not-an-email", "Enter a valid email address."),
        ("kind", "robot", "Select a valid choice."),
    ],
)
def test_bad_input_shows_the_field_error_and_saves_nothing(login, personas, field, value, message):
    before = Customer.objects.count()
    response = login(personas.owner).post(CREATE, _valid(**{field: value}))

    assert response.status_code == 200
    assert response.context["form"].errors[field]
    with translation.override("en"):
        assert message in " ".join(response.context["form"].errors[field])
    assert message in response.text
    assert "is-invalid" in response.text
    assert Customer.objects.count() == before
    # What the user typed is still there.
    assert "سارة عبد الله" in response.text or field == "name"


def test_errors_are_shown_in_arabic_pages_too(login, personas):
    response = login(personas.owner, language="ar").post(CREATE, _valid(name=""))
    assert response.status_code == 200
    assert response.context["form"].errors["name"]
    assert 'lang="ar"' in response.text
    assert 'dir="rtl"' in response.text


def test_only_active_categories_may_be_chosen(login, personas):
    active = CustomerCategoryFactory(name="جملة")
    retired = CustomerCategoryFactory(name="قديمة", is_active=False)
    client = login(personas.owner)
    page = client.get(CREATE).text
    assert "جملة" in page
    assert "قديمة" not in page

    response = client.post(CREATE, _valid(category=retired.pk))
    assert response.context["form"].errors["category"]
    assert not Customer.objects.exists()

    client.post(CREATE, _valid(category=active.pk))
    assert Customer.objects.get().category == active


def test_all_branch_users_choose_the_branch(login, hq_manager, world):
    client = login(hq_manager)
    assert 'name="branch"' in client.get(CREATE).text

    client.post(CREATE, _valid(branch=world.branch_b.pk))
    assert Customer.objects.get().branch == world.branch_b


def test_a_posted_branch_is_ignored_for_single_branch_users(login, personas, world):
    login(personas.owner).post(CREATE, _valid(branch=world.branch_b.pk))
    assert Customer.objects.get().branch == world.branch_a


def test_roles_without_add_permission_cannot_create(login, scene, world):
    assert login(scene.inspector_1).get(CREATE).status_code == 403
    accountant = world.user(Role.ACCOUNTANT)
    assert login(accountant).post(CREATE, _valid()).status_code == 403
    assert not Customer.objects.filter(name="سارة عبد الله").exists()


# --- Edit -------------------------------------------------------------------------------------------


@pytest.fixture
def customer(make_customer):
    return make_customer("كريم فؤاد", phone="01011112222", city="طنطا")


def test_edit_saves_through_the_service_and_bumps_the_version(login, personas, customer):
    response = login(personas.owner).post(edit_url(customer), _edit_data(customer, city="المنصورة"))

    assert response.status_code == 302
    customer.refresh_from_db()
    assert customer.city == "المنصورة"
    assert customer.version == 2
    assert "منصوره" in customer.search_text


def test_edit_form_is_filled_and_carries_the_version(login, personas, customer):
    text = login(personas.owner).get(edit_url(customer)).text
    assert 'value="كريم فؤاد"' in text
    assert 'name="version" value="1"' in text


def test_saving_without_changes_says_so(login, personas, customer):
    response = login(personas.owner).post(edit_url(customer), _edit_data(customer), follow=True)
    assert "Nothing was changed." in response.text
    customer.refresh_from_db()
    assert customer.version == 1


def test_bad_edit_shows_errors_and_changes_nothing(login, personas, customer):
    response = login(personas.owner).post(edit_url(customer), _edit_data(customer, phone="123", name=""))
    assert response.status_code == 200
    errors = response.context["form"].errors
    assert errors["name"]
    # The service's phone check runs only for a form that is otherwise valid.
    response = login(personas.owner).post(edit_url(customer), _edit_data(customer, phone="123"))
    assert response.context["form"].errors["phone"] == ["Enter a phone number of at least 7 digits."]
    customer.refresh_from_db()
    assert (customer.phone, customer.version) == ("01011112222", 1)


def test_stale_edit_is_refused_naming_who_changed_what(login, personas, customer, world):
    colleague = world.user(Role.SALES, first_name="هاني", last_name="رمزي")
    vip = CustomerCategoryFactory(name="كبار العملاء")
    customer_update(actor=colleague, customer=customer, expected_version=1, city="أسيوط", category=vip)

    client = login(personas.owner)
    response = client.post(edit_url(customer), _edit_data(customer, name="كريم فؤاد الجديد", version=1))

    assert response.status_code == 200
    text = response.text
    assert 'data-testid="conflict"' in text
    assert "هاني رمزي" in text
    assert "أسيوط" in text and "طنطا" in text
    assert "كبار العملاء" in text
    assert "Nothing was saved." in text
    # The user's input is kept, the form now carries the version it was compared with.
    assert 'value="كريم فؤاد الجديد"' in text
    assert 'name="version" value="2"' in text
    customer.refresh_from_db()
    assert (customer.name, customer.city, customer.version) == ("كريم فؤاد", "أسيوط", 2)

    # Saving again after seeing the conflict is a deliberate choice and goes through.
    again = _edit_data(customer, name="كريم فؤاد الجديد", version=2)
    assert client.post(edit_url(customer), again).status_code == 302
    customer.refresh_from_db()
    assert customer.name == "كريم فؤاد الجديد"


def test_an_inactive_category_already_held_stays_selectable(login, personas, make_customer):
    retired = CustomerCategoryFactory(name="قديمة")
    customer = make_customer("عميل قديم", category=retired)
    retired.is_active = False
    retired.save()

    client = login(personas.owner)
    assert "قديمة" in client.get(edit_url(customer)).text
    response = client.post(edit_url(customer), _edit_data(customer, city="بنها"))
    assert response.status_code == 302
    customer.refresh_from_db()
    assert (customer.city, customer.category) == ("بنها", retired)


def test_edit_permissions(login, personas, scene, world):
    url = edit_url(scene.customer_1)
    assert login(world.user(Role.DISPATCHER)).get(url).status_code == 200
    assert login(world.user(Role.ACCOUNTANT)).get(url).status_code == 403
    assert login(scene.inspector_1).get(url).status_code == 403
    assert login(personas.outsider).get(url).status_code == 404
    assert login(personas.outsider).post(url, _edit_data(scene.customer_1, city="X")).status_code == 404
    scene.customer_1.refresh_from_db()
    assert scene.customer_1.version == 1
