"""Forms for the order pages: list filters, the order editor (header + item rows), payments,
shipping and status changes. Foreign keys are limited to what the user may see, so an id of
another branch's record is a form error, never accepted."""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from django import forms
from django.conf import settings
from django.core.exceptions import ValidationError
from django.forms.formsets import TOTAL_FORM_COUNT
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from crm_core.accounts.models import User
from crm_core.common.exceptions import StaleVersionError
from crm_core.customers.models import Customer, CustomerStatus
from crm_core.inventory.models import Product
from crm_core.orders import selectors
from crm_core.orders.models import (
    Order,
    OrderItem,
    OrderStatus,
    PaymentMethod,
    ShippingDetails,
    ShippingMethod,
)
from crm_core.orders.services import (
    ItemChange,
    ItemInput,
    line_total,
    order_apply_edit,
    order_create,
    order_set_shipping,
)

CENT = Decimal("0.01")
MAX_ITEMS = 200
SORT_CHOICES = [
    ("newest", _("Newest first")),
    ("oldest", _("Oldest first")),
    ("date", _("Order date, latest first")),
    ("date_asc", _("Order date, earliest first")),
]


def _date_input() -> forms.DateInput:
    return forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


def _number(step: str, **attrs: Any) -> forms.NumberInput:
    return forms.NumberInput(attrs={"step": step, "inputmode": "decimal", **attrs})


def add_service_error(form: forms.Form, error: ValidationError) -> None:
    """A service's ValidationError on the form: on the field it names when the form has one."""
    if hasattr(error, "error_dict"):
        for name, messages in error.message_dict.items():
            form.add_error(name if name in form.fields else None, messages)
    else:
        form.add_error(None, error.messages)


def _bootstrap(form: forms.Form) -> None:
    for bound in form.visible_fields():
        widget = bound.field.widget
        css = "form-select" if isinstance(widget, forms.Select) else "form-control"
        if isinstance(widget, forms.CheckboxInput):
            css = "form-check-input"
        widget.attrs.setdefault("class", css)


# --- List filters --------------------------------------------------------------------------------


class OrderFilterForm(forms.Form):
    q = forms.CharField(
        label=_("Search"),
        required=False,
        max_length=100,
        widget=forms.TextInput(
            attrs={"type": "search", "placeholder": _("Order number or customer name"), "autocomplete": "off"}
        ),
    )
    status = forms.ChoiceField(
        label=_("Status"), required=False, choices=[("", _("All statuses")), *OrderStatus.choices]
    )
    branch = forms.ModelChoiceField(label=_("Branch"), required=False, queryset=None, empty_label=_("All branches"))
    salesperson = forms.ModelChoiceField(
        label=_("Salesperson"), required=False, queryset=None, empty_label=_("All salespeople")
    )
    date_from = forms.DateField(label=_("From"), required=False, widget=_date_input())
    date_to = forms.DateField(label=_("To"), required=False, widget=_date_input())
    balance = forms.BooleanField(label=_("Balance due only"), required=False)
    customer = forms.ModelChoiceField(queryset=None, required=False, widget=forms.HiddenInput)
    sort = forms.ChoiceField(label=_("Sort"), required=False, choices=SORT_CHOICES)

    def __init__(self, data: Any = None, *, user: User) -> None:
        super().__init__(data)
        if user.sees_all_branches:
            self.fields["branch"].queryset = selectors.visible_branches(user)
        else:
            # One branch: there is nothing to choose.
            del self.fields["branch"]
        self.fields["salesperson"].queryset = selectors.salespeople(user, active_only=False)
        self.fields["customer"].queryset = Customer.objects.visible_to(user)
        _bootstrap(self)

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        start, end = data.get("date_from"), data.get("date_to")
        if start and end and start > end:
            self.add_error("date_to", _("The end date is before the start date."))
        return data

    def filters(self) -> selectors.OrderFilters:
        """The valid filters; a bad value is reported on its field and left out."""
        if not self.is_bound:
            return selectors.OrderFilters()
        self.is_valid()
        data = self.cleaned_data
        return selectors.OrderFilters(
            q=data.get("q") or "",
            status=data.get("status") or "",
            branch=data.get("branch"),
            salesperson=data.get("salesperson"),
            customer=data.get("customer"),
            date_from=data.get("date_from"),
            date_to=data.get("date_to"),
            balance_due=bool(data.get("balance")),
            sort=data.get("sort") or selectors.DEFAULT_SORT,
        )

    @property
    def is_filtered(self) -> bool:
        if not self.is_bound:
            return False
        return any(self.cleaned_data.get(name) for name in self.fields if name != "sort")


class BoardFilterForm(forms.Form):
    branch = forms.ModelChoiceField(label=_("Branch"), required=False, queryset=None, empty_label=_("All branches"))
    salesperson = forms.ModelChoiceField(
        label=_("Salesperson"), required=False, queryset=None, empty_label=_("All salespeople")
    )
    mine = forms.BooleanField(label=_("My orders only"), required=False)

    def __init__(self, data: Any = None, *, user: User) -> None:
        super().__init__(data)
        self.user = user
        if user.sees_all_branches:
            self.fields["branch"].queryset = selectors.visible_branches(user)
        else:
            del self.fields["branch"]
        self.fields["salesperson"].queryset = selectors.salespeople(user, active_only=False)
        _bootstrap(self)

    def filters(self) -> selectors.BoardFilters:
        """The valid filters; "mine" wins over a chosen salesperson, a bad value is left out."""
        if not self.is_bound:
            return selectors.BoardFilters()
        self.is_valid()
        data = getattr(self, "cleaned_data", {})
        salesperson = self.user if data.get("mine") else data.get("salesperson")
        return selectors.BoardFilters(branch=data.get("branch"), salesperson=salesperson)

    @property
    def is_filtered(self) -> bool:
        return self.is_bound and any(getattr(self, "cleaned_data", {}).get(name) for name in self.fields)


# --- The order editor: header fields plus item rows ------------------------------------------------


class ProductField(forms.Field):
    """A product id checked against the active products loaded once for the whole formset."""

    widget = forms.HiddenInput
    default_error_messages = {
        "required": _("Choose a product."),
        "invalid_choice": _("Choose an active product."),
    }

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.products: dict[int, Product] = {}

    def prepare_value(self, value: Any) -> Any:
        return value.pk if isinstance(value, Product) else value

    def to_python(self, value: Any) -> Product | None:
        if value in self.empty_values:
            return None
        if isinstance(value, Product):
            # An existing row's product (the field is disabled there): it stays even if deactivated since.
            return value
        try:
            product = self.products.get(int(value))
        except (TypeError, ValueError):
            product = None
        if product is None:
            raise ValidationError(self.error_messages["invalid_choice"], code="invalid_choice")
        return product

    def has_changed(self, initial: Any, data: Any) -> bool:
        return str(self.prepare_value(initial) or "") != str(data or "")


class ItemForm(forms.Form):
    product = ProductField(label=_("Product"))
    quantity = forms.DecimalField(
        label=_("Quantity"),
        max_digits=12,
        decimal_places=3,
        min_value=Decimal("0.001"),
        widget=_number("0.001", min="0.001", required=True),
    )
    unit_price = forms.DecimalField(
        label=_("Unit price"),
        required=False,
        max_digits=12,
        decimal_places=2,
        min_value=Decimal("0"),
        widget=_number("0.01", min="0"),
    )
    discount_percent = forms.DecimalField(
        label=_("Discount %"),
        required=False,
        max_digits=5,
        decimal_places=2,
        min_value=Decimal("0"),
        max_value=Decimal("100"),
        widget=_number("0.01", min="0", max="100"),
    )

    def __init__(self, *args: Any, products: dict[int, Product], existing: bool = False, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["product"].products = products
        self.existing = existing
        if existing:
            # A row already on the order keeps its product; to change it, remove the row and add another.
            self.fields["product"].disabled = True
        for name in ("quantity", "unit_price", "discount_percent"):
            self.fields[name].widget.attrs.update({"class": "form-control form-control-sm", "data-calc": name})

    @property
    def item(self) -> OrderItem | None:
        return self.initial.get("item")

    @property
    def product_obj(self) -> Product | None:
        """The product the row shows: its own (existing row) or the one posted, if valid."""
        if self.existing:
            return self.initial.get("product")
        value = self["product"].value()
        if isinstance(value, Product):
            return value
        try:
            return self.fields["product"].products.get(int(value))
        except (TypeError, ValueError):
            return None


class BaseItemFormSet(forms.BaseFormSet):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # One query for every product posted, instead of one per row.
        ids = []
        if self.is_bound:
            for key, value in self.data.items():
                if key.startswith(f"{self.prefix}-") and key.endswith("-product"):
                    try:
                        ids.append(int(value))
                    except (TypeError, ValueError):
                        continue
        self.products = selectors.products_by_id(ids[: self.absolute_max])

    def initial_form_count(self) -> int:
        # The rows already on the order come from the database, never from the posted count.
        return len(self.initial or [])

    def total_form_count(self) -> int:
        if self.is_bound:
            try:
                posted = int(self.data.get(f"{self.prefix}-{TOTAL_FORM_COUNT}", 0))
            except (TypeError, ValueError):
                posted = 0
            return max(self.initial_form_count(), min(posted, self.absolute_max))
        return super().total_form_count()

    def get_form_kwargs(self, index: int | None) -> dict[str, Any]:
        return {
            "products": self.products,
            "existing": index is not None and index < self.initial_form_count(),
        }

    def live_forms(self) -> list[ItemForm]:
        """Rows that stay on the order: not removed, and not an untouched blank row."""
        return [
            form for form in self.forms if not self._should_delete_form(form) and (form.existing or form.has_changed())
        ]

    def clean(self) -> None:
        if any(self.errors):
            return
        live = self.live_forms()
        if not live:
            raise ValidationError(_("Add at least one item."), code="no_items")
        seen: set[int] = set()
        for form in live:
            product = form.cleaned_data.get("product")
            if product is None:
                continue
            if product.pk in seen:
                form.add_error(
                    "product", _("This product is already on the order; change that row's quantity instead.")
                )
            seen.add(product.pk)


ItemFormSet = forms.formset_factory(
    ItemForm, formset=BaseItemFormSet, extra=0, can_delete=True, max_num=MAX_ITEMS, validate_max=True
)


class OrderForm(forms.Form):
    customer = forms.ModelChoiceField(
        label=_("Customer"),
        queryset=None,
        widget=forms.HiddenInput,
        error_messages={
            "required": _("Choose a customer."),
            "invalid_choice": _("Choose one of your customers."),
        },
    )
    salesperson = forms.ModelChoiceField(label=_("Salesperson"), queryset=None, required=False)
    warehouse = forms.ModelChoiceField(label=_("Ships from"), queryset=None, required=False)
    order_date = forms.DateField(label=_("Order date"), widget=_date_input())
    discount_amount = forms.DecimalField(
        label=_("Order discount"),
        max_digits=14,
        decimal_places=2,
        min_value=Decimal("0"),
        initial=Decimal("0.00"),
        widget=_number("0.01", min="0"),
    )
    notes = forms.CharField(
        label=_("Notes"), required=False, max_length=2000, widget=forms.Textarea(attrs={"rows": 2, "maxlength": 2000})
    )
    version = forms.IntegerField(widget=forms.HiddenInput, required=False)

    def __init__(self, *args: Any, user: User, order: Order | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.order = order
        self.fields["salesperson"].queryset = selectors.salespeople(
            user, include=order.salesperson_id if order else None
        )
        self.fields["warehouse"].queryset = selectors.warehouses(user)
        if order is None:
            self.fields["customer"].queryset = selectors.orderable_customers(user)
            self.fields["salesperson"].empty_label = _("Me")
            self.fields["warehouse"].empty_label = _("Default warehouse")
            del self.fields["version"]
        else:
            # The customer of an order is fixed.
            del self.fields["customer"]
            self.fields["salesperson"].empty_label = _("Nobody")
            self.fields["warehouse"].required = True
            self.fields["warehouse"].empty_label = None
            self.fields["version"].required = True
        _bootstrap(self)
        self.fields["discount_amount"].widget.attrs["data-calc"] = "discount_amount"

    def clean_customer(self) -> Customer:
        customer = self.cleaned_data["customer"]
        if customer.status == CustomerStatus.BLOCKED:
            raise ValidationError(_("This customer is blocked; orders cannot be taken."))
        return customer


def category_discount(customer: Customer | None) -> Decimal:
    """The standing discount new items get when their discount is left blank (as the service does)."""
    if customer is not None and customer.category_id and customer.category.is_active:
        return customer.category.discount_percent
    return Decimal("0")


def plain_number(value: Decimal) -> Decimal:
    """3.000 → 3 and 2.500 → 2.5 for an input's value (normalize() alone would turn 10 into 1E+1)."""
    return value.quantize(Decimal("1")) if value == value.to_integral_value() else value.normalize()


def _money(value: Decimal) -> Decimal:
    return value.quantize(CENT, rounding=ROUND_HALF_UP)


@dataclass
class Totals:
    subtotal: Decimal
    discount: Decimal
    tax_rate: Decimal
    tax: Decimal
    shipping: Decimal
    total: Decimal

    @classmethod
    def compute(cls, lines: list[Decimal], discount: Decimal, tax_rate: Decimal, shipping: Decimal) -> Totals:
        """The services' formula, to check a whole edit before the first write."""
        subtotal = _money(sum(lines, Decimal("0")))
        tax = _money((subtotal - discount) * tax_rate)
        return cls(subtotal, discount, tax_rate, tax, shipping, _money(subtotal - discount + tax + shipping))

    @property
    def tax_percent(self) -> Decimal:
        return (self.tax_rate * 100).normalize()


@dataclass
class EditPlan:
    header: dict[str, Any] = field(default_factory=dict)
    adds: list[ItemInput] = field(default_factory=list)
    updates: list[tuple[OrderItem, dict[str, Decimal], Decimal]] = field(default_factory=list)
    removes: list[OrderItem] = field(default_factory=list)

    def __bool__(self) -> bool:
        return bool(self.header or self.adds or self.updates or self.removes)


class OrderEditor:
    """The order form page: header fields and item rows, validated together before any write.

    Creating is one ``order_create`` call. Editing becomes header, item add, update and remove
    calls, each passing the version the previous one left, in an order whose every intermediate
    state satisfies the same rules as the final one (checked here first), so a service refuses
    only when somebody else saved in between.
    """

    prefix = "items"

    def __init__(self, data: Any = None, *, user: User, order: Order | None = None, initial: dict | None = None):
        self.user = user
        self.order = order
        self.form = OrderForm(data, user=user, order=order, initial=initial or self._initial())
        items_initial = [
            {
                "item": item,
                "product": item.product,
                "quantity": plain_number(item.quantity),
                "unit_price": item.unit_price,
                "discount_percent": item.discount_percent,
            }
            for item in (order.items.all() if order else [])
        ]
        formset_class = ItemFormSet
        if order is None and data is None:
            formset_class = forms.formset_factory(
                ItemForm, formset=BaseItemFormSet, extra=1, can_delete=True, max_num=MAX_ITEMS, validate_max=True
            )
        self.items = formset_class(data, initial=items_initial, prefix=self.prefix)
        self.conflict: list[selectors.OrderChange] | None = None
        self.conflict_message = ""
        self.totals: Totals | None = None

    def _initial(self) -> dict[str, Any]:
        order = self.order
        if order is None:
            return {"order_date": timezone.localdate(), "discount_amount": Decimal("0.00")}
        return {
            "salesperson": order.salesperson_id,
            "warehouse": order.warehouse_id,
            "order_date": order.order_date,
            "discount_amount": order.discount_amount,
            "notes": order.notes,
            "version": order.version,
        }

    # --- what the page shows ---

    @property
    def customer(self) -> Customer | None:
        if self.order is not None:
            return self.order.customer
        if self.form.is_bound:
            cleaned = getattr(self.form, "cleaned_data", {})
            return cleaned.get("customer")
        return self.form.initial.get("customer")

    @property
    def tax_rate(self) -> Decimal:
        return self.order.tax_rate if self.order is not None else settings.CRM_TAX_RATE

    @property
    def shipping(self) -> Decimal:
        return selectors.shipping_cost(self.order) if self.order is not None else Decimal("0")

    def initial_totals(self) -> Totals:
        """The figures shown before the script takes over (and without it)."""
        if self.totals is not None:
            return self.totals
        if self.order is not None and not self.form.is_bound:
            order = self.order
            return Totals(
                order.subtotal, order.discount_amount, order.tax_rate, order.tax_amount, self.shipping, order.total
            )
        return Totals.compute([], Decimal("0"), self.tax_rate, self.shipping)

    # --- validation ---

    def _line(self, form: ItemForm, default_discount: Decimal) -> tuple[Decimal, Decimal, Decimal]:
        data = form.cleaned_data
        item = form.item if form.existing else None
        product = data["product"]
        price = data.get("unit_price")
        if price is None:
            price = item.unit_price if item else product.price
        discount = data.get("discount_percent")
        if discount is None:
            discount = item.discount_percent if item else default_discount
        return data["quantity"], _money(price), discount

    def is_valid(self) -> bool:
        header_ok = self.form.is_valid()
        items_ok = self.items.is_valid()
        if not (header_ok and items_ok):
            return False
        default_discount = category_discount(self.customer)
        lines = [line_total(*self._line(form, default_discount)) for form in self.items.live_forms()]
        discount = self.form.cleaned_data["discount_amount"]
        self.totals = Totals.compute(lines, discount, self.tax_rate, self.shipping)
        if discount > self.totals.subtotal:
            self.form.add_error("discount_amount", _("The discount cannot exceed the items' subtotal."))
            return False
        if self.order is not None and self.totals.total < self.order.amount_paid:
            self.form.add_error(
                None,
                _("The new total %(total)s would be below the %(paid)s already paid. Record a refund first.")
                % {"total": self.totals.total, "paid": self.order.amount_paid},
            )
            return False
        return True

    # --- saving ---

    def save(self) -> Order | None:
        """Create or apply the edit; None when a service refused (the reason is on the form)."""
        try:
            return self._create() if self.order is None else self._edit()
        except StaleVersionError as error:
            current = Order.objects.filter(pk=self.order.pk).first() if self.order else None
            self.conflict = selectors.order_changes_since(current, error.expected) if current else []
            self.conflict_message = error.message
            if current is not None:
                # The input stays as typed, now based on the version the user has just been shown
                # the changes up to: saving it again applies it on top of them, deliberately.
                data = self.form.data.copy()
                data[self.form.add_prefix("version")] = str(current.version)
                self.form.data = data
            return None
        except ValidationError as error:
            add_service_error(self.form, error)
            return None

    def _create(self) -> Order:
        data = self.form.cleaned_data
        items = [
            ItemInput(
                product_id=form.cleaned_data["product"].pk,
                quantity=form.cleaned_data["quantity"],
                unit_price=form.cleaned_data.get("unit_price"),
                discount_percent=form.cleaned_data.get("discount_percent"),
            )
            for form in self.items.live_forms()
        ]
        return order_create(
            actor=self.user,
            customer=data["customer"],
            items=items,
            discount_amount=data["discount_amount"],
            notes=data.get("notes") or "",
            salesperson=data.get("salesperson"),
            warehouse=data.get("warehouse"),
            order_date=data["order_date"],
        )

    def plan(self) -> EditPlan:
        order = self.order
        data = self.form.cleaned_data
        plan = EditPlan()
        wanted = {
            "salesperson": data.get("salesperson"),
            "warehouse": data.get("warehouse"),
            "order_date": data["order_date"],
            "discount_amount": data["discount_amount"],
            "notes": (data.get("notes") or "").strip(),
        }
        for name, value in wanted.items():
            if getattr(order, name) != value:
                plan.header[name] = value
        removed: dict[int, OrderItem] = {}
        for form in self.items.forms:
            if form.existing and self.items._should_delete_form(form):
                removed[form.item.product_id] = form.item
        default_discount = category_discount(order.customer)
        for form in self.items.live_forms():
            quantity, price, discount = self._line(form, default_discount)
            values = {"quantity": quantity, "unit_price": price, "discount_percent": discount}
            item = form.item if form.existing else removed.pop(form.cleaned_data["product"].pk, None)
            if item is None:
                plan.adds.append(
                    ItemInput(
                        product_id=form.cleaned_data["product"].pk,
                        quantity=quantity,
                        unit_price=form.cleaned_data.get("unit_price"),
                        discount_percent=form.cleaned_data.get("discount_percent"),
                    )
                )
            elif (item.quantity, item.unit_price, item.discount_percent) != (quantity, price, discount):
                plan.updates.append((item, values, line_total(quantity, price, discount) - item.line_total))
        plan.removes = list(removed.values())
        return plan

    def _edit(self) -> Order | None:
        order = self.order
        plan = self.plan()
        if not plan:
            return order
        return order_apply_edit(
            actor=self.user,
            order=order,
            expected_version=self.form.cleaned_data["version"],
            header=plan.header,
            adds=plan.adds,
            changes=[
                ItemChange(
                    item=item,
                    quantity=v["quantity"],
                    unit_price=v["unit_price"],
                    discount_percent=v["discount_percent"],
                )
                for item, v, _delta in plan.updates
            ],
            removes=plan.removes,
        )


# --- Detail page forms ---------------------------------------------------------------------------


class PaymentForm(forms.Form):
    amount = forms.DecimalField(
        label=_("Amount"), max_digits=14, decimal_places=2, min_value=CENT, widget=_number("0.01", min="0.01")
    )
    method = forms.ChoiceField(label=_("Method"), choices=PaymentMethod.choices, initial=PaymentMethod.CASH)
    reference = forms.CharField(label=_("Reference"), required=False, max_length=100)
    note = forms.CharField(label=_("Note"), required=False, max_length=255)

    def __init__(self, *args: Any, order: Order, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.order = order
        if order.balance > 0:
            self.fields["amount"].widget.attrs["max"] = str(order.balance)
            self.fields["amount"].initial = order.balance
        _bootstrap(self)


class ShippingForm(forms.Form):
    method = forms.ChoiceField(label=_("Method"), choices=ShippingMethod.choices)
    recipient_name = forms.CharField(label=_("Recipient"), max_length=200)
    phone = forms.CharField(label=_("Phone"), max_length=32, widget=forms.TextInput(attrs={"type": "tel"}))
    city = forms.CharField(label=_("City"), max_length=80, required=False)
    address = forms.CharField(label=_("Address"), max_length=255, required=False)
    scheduled_date = forms.DateField(label=_("Delivery date"), required=False, widget=_date_input())
    carrier = forms.CharField(label=_("Carrier"), max_length=100, required=False)
    tracking_number = forms.CharField(label=_("Tracking number"), max_length=100, required=False)
    cost = forms.DecimalField(
        label=_("Shipping cost"),
        max_digits=12,
        decimal_places=2,
        min_value=Decimal("0"),
        initial=Decimal("0.00"),
        widget=_number("0.01", min="0"),
    )
    notes = forms.CharField(label=_("Notes"), max_length=255, required=False)
    version = forms.IntegerField(widget=forms.HiddenInput)

    def __init__(self, *args: Any, order: Order, **kwargs: Any) -> None:
        shipping = order.shipping if _has_shipping(order) else None
        initial = {"version": order.version}
        if shipping is not None:
            initial.update({name: getattr(shipping, name) for name in self.base_fields if name != "version"})
        else:
            initial.update({"recipient_name": order.customer.name, "phone": order.customer.phone})
            initial.update({"city": order.customer.city, "address": order.customer.address})
        super().__init__(*args, initial=initial, **kwargs)
        self.order = order
        _bootstrap(self)

    def save(self, *, actor: User) -> ShippingDetails:
        values = {name: value for name, value in self.cleaned_data.items() if name != "version"}
        values["city"] = values.get("city") or ""
        return order_set_shipping(
            actor=actor, order=self.order, expected_version=self.cleaned_data["version"], **values
        )


def _has_shipping(order: Order) -> bool:
    try:
        order.shipping  # noqa: B018 - loaded by the selector's select_related
    except ShippingDetails.DoesNotExist:
        return False
    return True


class TransitionForm(forms.Form):
    to_status = forms.ChoiceField(choices=OrderStatus.choices)
    note = forms.CharField(label=_("Note"), required=False, max_length=255)
    version = forms.IntegerField(required=False)

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        if data.get("to_status") == OrderStatus.CANCELLED and not (data.get("note") or "").strip():
            self.add_error("note", _("Say why the order is cancelled."))
        return data
