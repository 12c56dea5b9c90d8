"""Forms of the inspection pages. Foreign keys come from ``visible_to`` querysets, so a posted id
of another branch is a field error, never accepted; the services check everything again."""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.forms import formset_factory
from django.utils import timezone
from django.utils.text import format_lazy
from django.utils.translation import gettext_lazy as _

from crm_core.accounts.models import Role, User
from crm_core.customers.models import Customer
from crm_core.inspections import selectors
from crm_core.inspections.models import Inspection, InspectionOutcome, InspectionStatus
from crm_core.inspections.services import MAX_PHOTO_BYTES, _check_photo

MAX_PHOTOS_PER_UPLOAD = 10
MAX_MEASUREMENTS = 50
PHOTO_ACCEPT = "image/jpeg,image/png,image/webp"

DURATION_CHOICES = [
    (30, _("30 minutes")),
    (45, _("45 minutes")),
    (60, _("1 hour")),
    (90, _("1 hour 30 minutes")),
    (120, _("2 hours")),
    (150, _("2 hours 30 minutes")),
    (180, _("3 hours")),
    (240, _("4 hours")),
    (360, _("6 hours")),
    (480, _("8 hours")),
    (720, _("12 hours")),
]


class InspectorChoiceField(forms.ModelChoiceField):
    """Inspectors by name; with the branch when the list spans several branches."""

    def __init__(self, *args: Any, show_branch: bool = False, **kwargs: Any) -> None:
        self.show_branch = show_branch
        super().__init__(*args, **kwargs)

    def label_from_instance(self, obj: User) -> str:
        name = str(obj)
        if self.show_branch and obj.branch is not None:
            return f"{name} · {obj.branch}"
        return name


def _inspector_field(
    user: User, branch_id: int | None, *, required: bool = False, label: Any = None
) -> InspectorChoiceField:
    return InspectorChoiceField(
        queryset=selectors.visible_inspectors(user, branch_id),
        required=required,
        label=label or _("Inspector"),
        empty_label=_("Not assigned yet"),
        show_branch=user.sees_all_branches and branch_id is None,
        widget=forms.Select(attrs={"class": "form-select"}),
    )


# --- The list's filters ------------------------------------------------------------------------


class InspectionFilterForm(forms.Form):
    """GET filters of the list. Bad values are ignored field by field, never an error page."""

    q = forms.CharField(
        label=_("Search"),
        required=False,
        max_length=100,
        widget=forms.TextInput(
            attrs={
                "type": "search",
                "class": "form-control",
                "placeholder": _("Number or customer name"),
                "autocomplete": "off",
            }
        ),
    )
    status = forms.ChoiceField(
        label=_("Status"),
        required=False,
        choices=[("", _("All statuses")), *InspectionStatus.choices],
        widget=forms.Select(attrs={"class": "form-select form-select-sm"}),
    )
    inspector = forms.CharField(
        label=_("Inspector"), required=False, widget=forms.Select(attrs={"class": "form-select form-select-sm"})
    )
    branch = forms.ModelChoiceField(
        label=_("Branch"),
        queryset=None,
        required=False,
        empty_label=_("All branches"),
        widget=forms.Select(attrs={"class": "form-select form-select-sm"}),
    )
    date_from = forms.DateField(
        label=_("From"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date", "class": "form-control form-control-sm"}),
    )
    date_to = forms.DateField(
        label=_("To"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date", "class": "form-control form-control-sm"}),
    )
    customer = forms.ModelChoiceField(queryset=None, required=False, widget=forms.HiddenInput)
    sort = forms.ChoiceField(
        label=_("Sort by"),
        required=False,
        choices=[
            ("-start", _("Latest visit first")),
            ("start", _("Earliest visit first")),
            ("-number", _("Number, descending")),
            ("number", _("Number, ascending")),
        ],
        widget=forms.Select(attrs={"class": "form-select form-select-sm"}),
    )

    UNASSIGNED = "none"

    def __init__(self, *args: Any, user: User, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.user = user
        self.fields["branch"].queryset = selectors.visible_branches(user)
        self.fields["customer"].queryset = Customer.objects.visible_to(user)
        self.show_branch = user.sees_all_branches
        self.show_inspector = not (user.role == Role.INSPECTOR and not user.sees_all_branches)
        if not self.show_branch:
            del self.fields["branch"]
        if self.show_inspector:
            self.inspectors = list(selectors.visible_inspectors(user))
            choices = [("", _("All inspectors")), (self.UNASSIGNED, _("Not assigned yet"))]
            choices += [
                (str(p.pk), f"{p} · {p.branch}" if self.show_branch and p.branch else str(p)) for p in self.inspectors
            ]
            self.fields["inspector"].widget.choices = choices
        else:
            del self.fields["inspector"]

    def filters(self) -> selectors.ListFilters:
        self.is_valid()
        data = {name: value for name, value in self.cleaned_data.items() if name not in self.errors}
        inspector = None
        unassigned = False
        raw = data.get("inspector") or ""
        if raw == self.UNASSIGNED:
            unassigned = True
        elif raw.isdigit():
            inspector = next((p for p in getattr(self, "inspectors", []) if p.pk == int(raw)), None)
        return selectors.ListFilters(
            q=data.get("q") or "",
            status=data.get("status") or "",
            inspector=inspector,
            unassigned=unassigned,
            branch=data.get("branch"),
            customer=data.get("customer"),
            date_from=data.get("date_from"),
            date_to=data.get("date_to"),
            sort=data.get("sort") or selectors.DEFAULT_SORT,
        )

    @property
    def active_count(self) -> int:
        names = ("q", "status", "inspector", "branch", "date_from", "date_to", "customer")
        return sum(1 for name in names if name in self.fields and self.data.get(name))


# --- Scheduling --------------------------------------------------------------------------------


class SlotForm(forms.Form):
    """Day + start time + duration, turned into the aware start and end the services take."""

    date = forms.DateField(label=_("Day"), widget=forms.DateInput(attrs={"type": "date", "class": "form-control"}))
    start_time = forms.TimeField(
        label=_("Start time"),
        widget=forms.TimeInput(attrs={"type": "time", "class": "form-control", "step": 300}, format="%H:%M"),
    )
    duration = forms.TypedChoiceField(
        label=_("Duration"),
        coerce=int,
        choices=DURATION_CHOICES,
        initial=60,
        widget=forms.Select(attrs={"class": "form-select"}),
    )

    # Service error keys → the field that shows them.
    service_fields = {"scheduled_start": "start_time", "scheduled_end": "duration"}

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        today = timezone.localdate()
        self.fields["date"].widget.attrs["min"] = today.isoformat()

    def clean_date(self):
        day = self.cleaned_data["date"]
        if day < timezone.localdate():
            raise ValidationError(_("Choose today or a later day."))
        return day

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        day, start_time, minutes = cleaned.get("date"), cleaned.get("start_time"), cleaned.get("duration")
        if day and start_time is not None and minutes:
            start = timezone.make_aware(datetime.combine(day, start_time.replace(second=0, microsecond=0)))
            if start < timezone.now() - timedelta(minutes=5):
                self.add_error("start_time", _("This time has already passed; choose a later one."))
            else:
                cleaned["scheduled_start"] = start
                cleaned["scheduled_end"] = start + timedelta(minutes=minutes)
        return cleaned

    @staticmethod
    def initial_for(inspection: Inspection) -> dict[str, Any]:
        start = timezone.localtime(inspection.scheduled_start)
        minutes = int((inspection.scheduled_end - inspection.scheduled_start).total_seconds() // 60)
        return {"date": start.date(), "start_time": start.time().replace(second=0), "duration": minutes}

    def ensure_duration_choice(self, minutes: int) -> None:
        """A visit booked for an unusual length keeps it as an option when rescheduled."""
        if minutes not in dict(DURATION_CHOICES) and 0 < minutes <= 720:
            label = _("%(minutes)s minutes") % {"minutes": minutes}
            self.fields["duration"].choices = sorted([*DURATION_CHOICES, (minutes, label)])


class ScheduleForm(SlotForm):
    customer = forms.ModelChoiceField(
        label=_("Customer"),
        queryset=None,
        error_messages={
            "required": _("Find and choose the customer."),
            "invalid_choice": _("Choose a customer you can see."),
        },
        widget=forms.RadioSelect,
    )
    inspector = forms.ModelChoiceField(queryset=None, required=False)
    address = forms.CharField(
        label=_("Address"),
        required=False,
        max_length=255,
        help_text=_("Leave empty to use the customer's address."),
        widget=forms.TextInput(attrs={"class": "form-control", "autocomplete": "street-address"}),
    )
    notes = forms.CharField(
        label=_("Notes for the inspector"),
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"class": "form-control", "rows": 3}),
    )

    field_order = ["customer", "inspector", "date", "start_time", "duration", "address", "notes"]

    def __init__(self, *args: Any, user: User, customer: Customer | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.user = user
        self.fields["customer"].queryset = selectors.schedulable_customers(user)
        branch_id = customer.branch_id if customer is not None else (None if user.sees_all_branches else user.branch_id)
        self.fields["inspector"] = _inspector_field(user, branch_id)
        self.order_fields(self.field_order)
        if customer is not None:
            self.initial.setdefault("customer", customer.pk)

    def chosen_customer(self) -> Customer | None:
        """The customer to show as picked: the posted one when valid, else the initial one."""
        value = self.data.get("customer") if self.is_bound else self.initial.get("customer")
        if not value or not str(value).isdigit():
            return None
        return self.fields["customer"].queryset.filter(pk=value).first()

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        customer, inspector = cleaned.get("customer"), cleaned.get("inspector")
        if customer and inspector and not (inspector.branch_id == customer.branch_id or inspector.all_branches):
            self.add_error("inspector", _("Choose an inspector of the customer's branch."))
        return cleaned


class RescheduleForm(SlotForm):
    version = forms.IntegerField(widget=forms.HiddenInput, min_value=1)

    def __init__(self, *args: Any, user: User, inspection: Inspection, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.user = user
        self.inspection = inspection
        # Inspectors move their own visits in time; sending one to a colleague is the dispatcher's call.
        if user.role != Role.INSPECTOR or user.sees_all_branches:
            self.fields["inspector"] = _inspector_field(user, inspection.branch_id)
        self.order_fields(["inspector", "date", "start_time", "duration"])
        minutes = int((inspection.scheduled_end - inspection.scheduled_start).total_seconds() // 60)
        self.ensure_duration_choice(minutes)


class AssignForm(forms.Form):
    version = forms.IntegerField(widget=forms.HiddenInput, min_value=1)

    def __init__(self, *args: Any, user: User, inspection: Inspection, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["inspector"] = _inspector_field(user, inspection.branch_id)
        self.order_fields(["inspector"])


class BoardMoveForm(forms.Form):
    """A card dropped on the dispatch board, or its "Move…" form: who and/or when.

    ``inspector`` absent keeps the inspector, 0 takes it off anyone's list; ``date`` and
    ``start_time`` together move the visit in time, keeping its length.
    """

    inspection = forms.IntegerField(min_value=1)
    version = forms.IntegerField(min_value=1)
    inspector = forms.IntegerField(required=False, min_value=0)
    date = forms.DateField(required=False)
    start_time = forms.TimeField(required=False)

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        day, start_time = cleaned.get("date"), cleaned.get("start_time")
        cleaned["scheduled_start"] = None
        if self.errors:
            return cleaned
        if (day is None) != (start_time is None):
            raise ValidationError(_("Choose both a day and a start time."))
        if day is not None:
            start = timezone.make_aware(datetime.combine(day, start_time.replace(second=0, microsecond=0)))
            if start < timezone.now() - timedelta(minutes=5):
                raise ValidationError(_("This time has already passed; choose a later one."))
            cleaned["scheduled_start"] = start
        if cleaned.get("inspector") is None and cleaned["scheduled_start"] is None:
            raise ValidationError(_("Choose an inspector or a start time."))
        return cleaned

    def error_text(self) -> str:
        if any(name in self.errors for name in ("inspection", "version")):
            return str(_("This card is out of date. Reload the board."))
        return " ".join(str(error) for errors in self.errors.values() for error in errors)


# --- Status actions ----------------------------------------------------------------------------


class VersionForm(forms.Form):
    version = forms.IntegerField(widget=forms.HiddenInput, min_value=1)


class CancelForm(VersionForm):
    reason = forms.CharField(
        label=_("Reason"),
        max_length=255,
        error_messages={"required": _("Say why the inspection is cancelled.")},
        widget=forms.TextInput(attrs={"class": "form-control"}),
    )


class NoShowForm(VersionForm):
    reason = forms.CharField(
        label=_("What happened (optional)"),
        required=False,
        max_length=255,
        widget=forms.TextInput(attrs={"class": "form-control"}),
    )


# --- Result ------------------------------------------------------------------------------------


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class MultiplePhotoField(forms.FileField):
    """Several pictures from one file input, each checked like the service checks it."""

    widget = MultipleFileInput

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("required", False)
        super().__init__(*args, **kwargs)

    def clean(self, data: Any, initial: Any = None) -> list[Any]:
        files = [f for f in (data if isinstance(data, list | tuple) else [data]) if f]
        if len(files) > MAX_PHOTOS_PER_UPLOAD:
            raise ValidationError(_("Upload at most %(count)s photos at a time.") % {"count": MAX_PHOTOS_PER_UPLOAD})
        cleaned = []
        errors: list[ValidationError] = []
        for upload in files:
            upload = super().clean(upload, initial)
            try:
                _check_photo(upload)
            except ValidationError as exc:
                messages = exc.message_dict.get("photos", exc.messages) if hasattr(exc, "error_dict") else exc.messages
                errors.extend(
                    ValidationError(_("%(name)s: %(problem)s") % {"name": upload.name, "problem": message})
                    for message in messages
                )
                continue
            cleaned.append(upload)
        if errors:
            raise ValidationError(errors)
        return cleaned


def _photo_widget_attrs(multiple: bool) -> dict[str, Any]:
    return {"class": "form-control", "accept": PHOTO_ACCEPT, **({"multiple": True} if multiple else {})}


class ResultForm(forms.Form):
    outcome = forms.ChoiceField(
        label=_("Outcome"),
        choices=InspectionOutcome.choices,
        widget=forms.RadioSelect,
        error_messages={"required": _("Choose an outcome.")},
    )
    findings = forms.CharField(
        label=_("Findings"),
        max_length=5000,
        error_messages={"required": _("Describe what was found.")},
        widget=forms.Textarea(attrs={"class": "form-control", "rows": 4}),
    )
    recommendations = forms.CharField(
        label=_("Recommendations"),
        required=False,
        max_length=5000,
        widget=forms.Textarea(attrs={"class": "form-control", "rows": 3}),
    )
    photos = MultiplePhotoField(
        label=_("Photos"),
        help_text=format_lazy(
            _("JPEG, PNG or WebP; up to {count} at a time, at most {size} MB each."),
            count=MAX_PHOTOS_PER_UPLOAD,
            size=MAX_PHOTO_BYTES // (1024 * 1024),
        ),
        widget=MultipleFileInput(attrs=_photo_widget_attrs(True)),
    )
    version = forms.IntegerField(widget=forms.HiddenInput, min_value=1)


class MeasurementForm(forms.Form):
    name = forms.CharField(
        label=_("Measurement"),
        required=False,
        max_length=60,
        widget=forms.TextInput(attrs={"class": "form-control", "placeholder": _("e.g. Width (m)")}),
    )
    value = forms.CharField(
        label=_("Value"),
        required=False,
        max_length=120,
        widget=forms.TextInput(attrs={"class": "form-control", "placeholder": _("e.g. 3.20")}),
    )

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        name, value = (cleaned.get("name") or "").strip(), (cleaned.get("value") or "").strip()
        if value and not name:
            self.add_error("name", _("Name this measurement."))
        if name and not value:
            self.add_error("value", _("Enter the value measured."))
        cleaned["name"], cleaned["value"] = name, value
        return cleaned


class BaseMeasurementFormSet(forms.BaseFormSet):
    def clean(self) -> None:
        if any(self.errors):
            return
        seen: set[str] = set()
        for form in self.forms:
            name = form.cleaned_data.get("name")
            if not name:
                continue
            if name.casefold() in seen:
                form.add_error("name", _("This measurement is already listed."))
            seen.add(name.casefold())

    def as_dict(self) -> dict[str, str]:
        return {f.cleaned_data["name"]: f.cleaned_data["value"] for f in self.forms if f.cleaned_data.get("name")}


MeasurementFormSet = formset_factory(
    MeasurementForm,
    formset=BaseMeasurementFormSet,
    extra=3,
    max_num=MAX_MEASUREMENTS,
    absolute_max=MAX_MEASUREMENTS,
    validate_max=True,
)


class PhotoForm(forms.Form):
    photo = forms.ImageField(
        label=_("Photo"),
        error_messages={"required": _("Choose a picture to upload.")},
        widget=forms.ClearableFileInput(attrs=_photo_widget_attrs(False)),
    )
    caption = forms.CharField(
        label=_("Caption"), required=False, max_length=200, widget=forms.TextInput(attrs={"class": "form-control"})
    )

    def clean_photo(self):
        photo = self.cleaned_data["photo"]
        try:
            _check_photo(photo)
        except ValidationError as exc:
            raise ValidationError(exc.message_dict.get("photos", exc.messages)) from None
        return photo


# --- Order from an inspection ------------------------------------------------------------------


class OrderFromInspectionForm(forms.Form):
    notes = forms.CharField(
        label=_("Order notes"),
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"class": "form-control", "rows": 2}),
    )


class OrderItemForm(forms.Form):
    product = forms.TypedChoiceField(
        label=_("Product"),
        coerce=int,
        required=False,
        empty_value=None,
        error_messages={"invalid_choice": _("Choose an active product.")},
        widget=forms.Select(attrs={"class": "form-select"}),
    )
    quantity = forms.DecimalField(
        label=_("Quantity"),
        required=False,
        min_value=Decimal("0.001"),
        max_value=Decimal("999999"),
        max_digits=12,
        decimal_places=3,
        widget=forms.NumberInput(
            attrs={"class": "form-control", "step": "0.001", "min": "0.001", "max": "999999", "inputmode": "decimal"}
        ),
    )

    def __init__(self, *args: Any, product_choices: list[tuple[Any, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["product"].choices = product_choices

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        product, quantity = cleaned.get("product"), cleaned.get("quantity")
        if product and quantity is None and "quantity" not in self.errors:
            self.add_error("quantity", _("Enter a quantity."))
        if quantity is not None and not product and "product" not in self.errors:
            self.add_error("product", _("Choose a product."))
        return cleaned


class BaseOrderItemFormSet(forms.BaseFormSet):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        # The catalogue is read once for every row's select, not once per row.
        products = selectors.orderable_products().only("pk", "name", "sku", "price")
        self.product_choices = [("", _("Choose a product")), *((p.pk, str(p)) for p in products)]
        super().__init__(*args, **kwargs)

    def get_form_kwargs(self, index: int | None) -> dict[str, Any]:
        return {**super().get_form_kwargs(index), "product_choices": self.product_choices}

    def clean(self) -> None:
        if any(self.errors):
            return
        seen: set[int] = set()
        for form in self.forms:
            product = form.cleaned_data.get("product")
            if not product:
                continue
            if product in seen:
                form.add_error("product", _("Each product may appear once; change the quantity instead."))
            seen.add(product)
        if not seen:
            raise ValidationError(_("Add at least one item."))

    def items(self) -> list[tuple[int, Decimal]]:
        return [
            (f.cleaned_data["product"], f.cleaned_data["quantity"]) for f in self.forms if f.cleaned_data.get("product")
        ]


OrderItemFormSet = formset_factory(
    OrderItemForm, formset=BaseOrderItemFormSet, extra=4, max_num=50, absolute_max=50, validate_max=True
)
