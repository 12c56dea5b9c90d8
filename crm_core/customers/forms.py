"""Forms of the customer pages. Choices come from ``visible_to`` querysets, so a posted id of
another branch (or an inactive category) is a field error, never accepted; the services check
everything again."""

from __future__ import annotations

import re
from decimal import Decimal
from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from crm_core.accounts.models import Branch, User
from crm_core.common.text import phone_digits
from crm_core.customers import selectors
from crm_core.customers.models import Customer, CustomerCategory, CustomerKind, CustomerStatus

TEXT = {"class": "form-control"}
SELECT = {"class": "form-select"}
# The list's filters: small, and marked so a change reloads the table (hx-trigger "change from:").
FILTER_SELECT = {"class": "form-select form-select-sm customer-filter"}
# Digits of any script, spaces and the punctuation people write phone numbers with.
PHONE_PATTERN = r"[0-9\u0660-\u0669\u06f0-\u06f9+\(\)\-\.\/\s]+"
_PHONE_RE = re.compile(rf"^{PHONE_PATTERN}$")


def _phone_widget(*, required: bool) -> forms.TextInput:
    attrs = {
        **TEXT,
        "type": "tel",
        "inputmode": "tel",
        "autocomplete": "tel",
        "dir": "ltr",
        "pattern": PHONE_PATTERN,
        "minlength": "7",
    }
    if not required:
        attrs.pop("minlength")
    return forms.TextInput(attrs=attrs)


def _check_phone(value: str, *, main: bool = False) -> str:
    value = value.strip()
    if value and not _PHONE_RE.match(value):
        raise ValidationError(_("Use digits, spaces, + - ( ) only in a phone number."), code="phone_chars")
    # The service refuses it too; checked here as well so every error of the form shows at once.
    if main and len(phone_digits(value)) < 7:
        raise ValidationError(_("Enter a phone number of at least 7 digits."), code="phone_short")
    return value


class MarksErrors:
    """Fields with an error get Bootstrap's ``is-invalid`` and point screen readers at the message."""

    def add_error(self, field: str | None, error: Any) -> None:
        super().add_error(field, error)
        for name in self.errors:
            if name in self.fields:
                attrs = self.fields[name].widget.attrs
                if "is-invalid" not in attrs.get("class", ""):
                    attrs["class"] = f"{attrs.get('class', '')} is-invalid".strip()
                attrs["aria-describedby"] = f"id_{name}_error"


class CustomerFilterForm(forms.Form):
    """GET search and filters of the list. A bad value is dropped field by field, never an error page."""

    q = forms.CharField(
        label=_("Search"),
        required=False,
        max_length=100,
        widget=forms.TextInput(
            attrs={
                **TEXT,
                "type": "search",
                "placeholder": _("Name, code or phone"),
                "autocomplete": "off",
                "spellcheck": "false",
            }
        ),
    )
    category = forms.ModelChoiceField(
        label=_("Category"),
        queryset=CustomerCategory.objects.none(),
        required=False,
        empty_label=_("All categories"),
        widget=forms.Select(attrs=FILTER_SELECT),
    )
    branch = forms.ModelChoiceField(
        label=_("Branch"),
        queryset=Branch.objects.none(),
        required=False,
        empty_label=_("All branches"),
        widget=forms.Select(attrs=FILTER_SELECT),
    )
    kind = forms.ChoiceField(
        label=_("Kind"),
        choices=[("", _("All kinds")), *CustomerKind.choices],
        required=False,
        widget=forms.Select(attrs=FILTER_SELECT),
    )
    status = forms.ChoiceField(
        label=_("Status"),
        choices=[("", _("Any status")), *CustomerStatus.choices],
        required=False,
        widget=forms.Select(attrs=FILTER_SELECT),
    )
    sort = forms.ChoiceField(
        label=_("Sort by"),
        choices=[
            ("newest", _("Newest first")),
            ("oldest", _("Oldest first")),
            ("name", _("Name")),
            ("code", _("Code")),
        ],
        required=False,
        widget=forms.Select(attrs=FILTER_SELECT),
    )

    def __init__(self, *args: Any, user: User, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["category"].queryset = selectors.category_choices()
        if user.sees_all_branches:
            self.fields["branch"].queryset = Branch.objects.visible_to(user).order_by("name")
        else:
            # One branch only: nothing to choose.
            del self.fields["branch"]

    def filters(self) -> dict[str, Any]:
        """The valid filter values; an invalid one (a tampered id, an unknown sort) is left out."""
        self.is_valid()
        data = getattr(self, "cleaned_data", {})
        return {
            "query": data.get("q") or "",
            "category": data.get("category"),
            "branch": data.get("branch"),
            "kind": data.get("kind") or "",
            "status": data.get("status") or "",
        }

    def sort_key(self) -> str:
        self.is_valid()
        value = getattr(self, "cleaned_data", {}).get("sort")
        return value if value in selectors.CUSTOMER_SORTS else selectors.DEFAULT_SORT


class CategoryChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: CustomerCategory) -> str:
        if obj.discount_percent:
            return str(_("%(name)s (%(discount)s%% discount)") % {"name": obj.name, "discount": obj.discount_percent})
        return obj.name


class CustomerForm(MarksErrors, forms.Form):
    """Create and edit. ``branch`` exists only for all-branch users creating a customer."""

    name = forms.CharField(
        label=_("Name"),
        max_length=200,
        widget=forms.TextInput(attrs={**TEXT, "autocomplete": "off"}),
    )
    kind = forms.ChoiceField(
        label=_("Kind"),
        choices=CustomerKind.choices,
        initial=CustomerKind.INDIVIDUAL,
        widget=forms.Select(attrs=SELECT),
    )
    branch = forms.ModelChoiceField(
        label=_("Branch"), queryset=Branch.objects.none(), empty_label=None, widget=forms.Select(attrs=SELECT)
    )
    phone = forms.CharField(label=_("Phone"), max_length=32, widget=_phone_widget(required=True))
    alt_phone = forms.CharField(
        label=_("Other phone"), max_length=32, required=False, widget=_phone_widget(required=False)
    )
    email = forms.EmailField(
        label=_("Email"),
        max_length=254,
        required=False,
        widget=forms.EmailInput(attrs={**TEXT, "autocomplete": "email", "dir": "ltr"}),
    )
    city = forms.CharField(label=_("City"), max_length=80, required=False, widget=forms.TextInput(attrs=TEXT))
    address = forms.CharField(label=_("Address"), max_length=255, required=False, widget=forms.TextInput(attrs=TEXT))
    tax_number = forms.CharField(
        label=_("Tax number"), max_length=40, required=False, widget=forms.TextInput(attrs={**TEXT, "dir": "ltr"})
    )
    category = CategoryChoiceField(
        label=_("Category"),
        queryset=CustomerCategory.objects.none(),
        required=False,
        empty_label=_("No category"),
        widget=forms.Select(attrs=SELECT),
    )
    status = forms.ChoiceField(
        label=_("Status"),
        choices=CustomerStatus.choices,
        initial=CustomerStatus.ACTIVE,
        widget=forms.Select(attrs=SELECT),
    )
    version = forms.IntegerField(widget=forms.HiddenInput, required=False, min_value=1)

    # The service's argument names; ``branch`` and ``version`` are passed on their own.
    SERVICE_FIELDS = (
        "name",
        "kind",
        "phone",
        "alt_phone",
        "email",
        "city",
        "address",
        "tax_number",
        "category",
        "status",
    )

    def __init__(self, *args: Any, user: User, customer: Customer | None = None, **kwargs: Any) -> None:
        if customer is not None and "initial" not in kwargs:
            kwargs["initial"] = {
                **{name: getattr(customer, name) for name in self.SERVICE_FIELDS if name != "category"},
                "category": customer.category_id,
                "version": customer.version,
            }
        super().__init__(*args, **kwargs)
        self.customer = customer
        self.fields["category"].queryset = selectors.active_categories(keep=customer.category_id if customer else None)
        if customer is None and user.sees_all_branches:
            self.fields["branch"].queryset = Branch.objects.visible_to(user).filter(is_active=True).order_by("name")
            self.fields["branch"].initial = user.branch_id
        else:
            del self.fields["branch"]
        if customer is None:
            del self.fields["version"]
        else:
            self.fields["version"].required = True

    def clean_phone(self) -> str:
        return _check_phone(self.cleaned_data["phone"], main=True)

    def clean_alt_phone(self) -> str:
        return _check_phone(self.cleaned_data["alt_phone"])

    def service_values(self) -> dict[str, Any]:
        return {name: self.cleaned_data[name] for name in self.SERVICE_FIELDS}

    def field_label(self, name: str) -> str:
        field = self.fields.get(name)
        return str(field.label) if field is not None else name


class NoteForm(MarksErrors, forms.Form):
    body = forms.CharField(
        label=_("Note"),
        max_length=5000,
        widget=forms.Textarea(
            attrs={**TEXT, "rows": 2, "placeholder": _("Write a note about this customer…"), "maxlength": 5000}
        ),
    )


class CategoryForm(MarksErrors, forms.Form):
    name = forms.CharField(label=_("Name"), max_length=100, widget=forms.TextInput(attrs=TEXT))
    discount_percent = forms.DecimalField(
        label=_("Discount %"),
        min_value=Decimal("0"),
        max_value=Decimal("100"),
        max_digits=5,
        decimal_places=2,
        initial=Decimal("0"),
        help_text=_("Taken off every order line of the category's customers, from 0 to 100."),
        widget=forms.NumberInput(attrs={**TEXT, "step": "0.01", "dir": "ltr"}),
    )
    description = forms.CharField(
        label=_("Description"), max_length=255, required=False, widget=forms.TextInput(attrs=TEXT)
    )

    def __init__(self, *args: Any, category: CustomerCategory | None = None, **kwargs: Any) -> None:
        if category is not None and "initial" not in kwargs:
            kwargs["initial"] = {
                "name": category.name,
                "discount_percent": category.discount_percent,
                "description": category.description,
            }
        super().__init__(*args, **kwargs)
