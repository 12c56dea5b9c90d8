"""Writes for customers, their notes and categories."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from crm_core.accounts.audit import log_activity
from crm_core.accounts.models import Branch, User
from crm_core.common.models import next_number
from crm_core.common.services import (
    apply_changes,
    check_version,
    diff,
    lock_visible,
    require_perm,
    resolve_branch,
    snapshot,
    validate_model,
)
from crm_core.common.text import build_search_text, phone_digits
from crm_core.customers.models import Customer, CustomerCategory, CustomerNote
from realtime.publish import publish

CUSTOMER_FIELDS = (
    "name",
    "phone",
    "alt_phone",
    "email",
    "city",
    "address",
    "tax_number",
    "kind",
    "status",
    "category",
)


def _refresh_search(customer: Customer) -> None:
    customer.phone_digits = phone_digits(customer.phone)
    customer.search_text = build_search_text(
        customer.name,
        customer.code,
        customer.phone_digits,
        phone_digits(customer.alt_phone),
        customer.email,
        customer.city,
    )


def _validate(customer: Customer, *, check_category: bool = True) -> None:
    validate_model(customer, exclude=["code", "branch", "phone_digits", "search_text", "created_by"])
    digits = phone_digits(customer.phone)
    if len(digits) < 7:
        raise ValidationError({"phone": _("Enter a phone number of at least 7 digits.")})
    if (
        check_category
        and customer.category_id
        and not CustomerCategory.objects.filter(pk=customer.category_id, is_active=True).exists()
    ):
        raise ValidationError({"category": _("Choose an active category.")})


def _event_data(customer: Customer) -> dict[str, Any]:
    return {"customer": customer.pk, "code": customer.code, "name": customer.name, "status": customer.status}


def customer_create(
    *,
    actor: User,
    name: str,
    phone: str,
    branch: Branch | None = None,
    kind: str = "individual",
    status: str = "active",
    category: CustomerCategory | None = None,
    alt_phone: str = "",
    email: str = "",
    city: str = "",
    address: str = "",
    tax_number: str = "",
) -> Customer:
    require_perm(actor, "customers.add_customer")
    branch = resolve_branch(actor, branch)
    customer = Customer(
        branch=branch,
        name=name.strip(),
        phone=phone.strip(),
        kind=kind,
        status=status,
        category=category,
        alt_phone=alt_phone.strip(),
        email=email.strip(),
        city=city.strip(),
        address=address.strip(),
        tax_number=tax_number.strip(),
        created_by=actor,
    )
    _validate(customer)
    with transaction.atomic():
        customer.code = f"{branch.code}-C{next_number(f'customer:{branch.pk}'):06d}"
        _refresh_search(customer)
        customer.save()
        log_activity(
            actor=actor,
            action="customer.create",
            target=customer,
            branch_id=branch.pk,
            changes={k: [None, v] for k, v in snapshot(customer, CUSTOMER_FIELDS).items() if v not in ("", None)},
        )
        publish("customer.created", branch_id=branch.pk, data=_event_data(customer))
    return customer


def customer_update(*, actor: User, customer: Customer, expected_version: int | None, **values: Any) -> Customer:
    require_perm(actor, "customers.change_customer")
    unknown = set(values) - set(CUSTOMER_FIELDS)
    if unknown:
        raise TypeError(f"customer_update() got unexpected fields {sorted(unknown)}")
    with transaction.atomic():
        customer = lock_visible(Customer.objects, actor, customer.pk)
        check_version(customer, expected_version)
        before = snapshot(customer, CUSTOMER_FIELDS)
        for key in ("name", "phone", "alt_phone", "email", "city", "address", "tax_number"):
            if isinstance(values.get(key), str):
                values[key] = values[key].strip()
        changed = apply_changes(customer, values, CUSTOMER_FIELDS)
        if not changed:
            return customer
        # A category deactivated since keeps its customers editable; only choosing one is refused.
        _validate(customer, check_category="category" in changed)
        _refresh_search(customer)
        customer.version += 1
        customer.save()
        log_activity(
            actor=actor,
            action="customer.update",
            target=customer,
            branch_id=customer.branch_id,
            changes=diff(before, snapshot(customer, CUSTOMER_FIELDS)),
        )
        publish("customer.updated", branch_id=customer.branch_id, data={**_event_data(customer), "fields": changed})
    return customer


def customer_add_note(*, actor: User, customer: Customer, body: str) -> CustomerNote:
    require_perm(actor, "customers.add_customernote")
    body = (body or "").strip()
    if not body:
        raise ValidationError({"body": _("Write the note first.")})
    if len(body) > 5000:
        raise ValidationError({"body": _("A note may have at most 5,000 characters.")})
    with transaction.atomic():
        customer = lock_visible(Customer.objects, actor, customer.pk)
        note = CustomerNote.objects.create(customer=customer, author=actor, body=body)
        log_activity(
            actor=actor,
            action="customer.note",
            target=customer,
            branch_id=customer.branch_id,
            changes={"note": [None, body[:200]]},
        )
        publish(
            "customer.note_added",
            branch_id=customer.branch_id,
            data={"customer": customer.pk, "note": note.pk, "author": str(actor)},
        )
    return note


def customer_category_create(
    *, actor: User, name: str, discount_percent: Decimal = Decimal("0"), description: str = ""
) -> CustomerCategory:
    require_perm(actor, "customers.add_customercategory")
    category = CustomerCategory(name=name.strip(), discount_percent=discount_percent, description=description)
    validate_model(category)
    _check_discount(category.discount_percent)
    if CustomerCategory.objects.filter(name__iexact=category.name).exists():
        raise ValidationError({"name": _("A category with this name already exists.")})
    with transaction.atomic():
        category.save()
        log_activity(actor=actor, action="customer_category.create", target=category)
    return category


def customer_category_update(*, actor: User, category: CustomerCategory, **values: Any) -> CustomerCategory:
    require_perm(actor, "customers.change_customercategory")
    fields = ("name", "discount_percent", "description", "is_active")
    with transaction.atomic():
        category = CustomerCategory.objects.select_for_update().get(pk=category.pk)
        before = snapshot(category, fields)
        changed = apply_changes(category, values, fields)
        if changed:
            validate_model(category)
            _check_discount(category.discount_percent)
            if CustomerCategory.objects.filter(name__iexact=category.name).exclude(pk=category.pk).exists():
                raise ValidationError({"name": _("A category with this name already exists.")})
            category.save()
            log_activity(
                actor=actor,
                action="customer_category.update",
                target=category,
                changes=diff(before, snapshot(category, fields)),
            )
    return category


def _check_discount(value: Decimal) -> None:
    if value < 0 or value > 100:
        raise ValidationError({"discount_percent": _("The discount must be between 0 and 100%.")})
