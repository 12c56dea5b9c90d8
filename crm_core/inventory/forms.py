"""Forms of the inventory pages. Foreign keys are limited to what the user may see, so an id
of another branch's warehouse is a form error, never passed on to a service."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.utils.text import capfirst
from django.utils.translation import gettext_lazy as _

from crm_core.accounts.models import Branch, User
from crm_core.inventory import selectors
from crm_core.inventory.models import Category, MovementKind, Product, Unit, Warehouse

QTY_STEP = Decimal("0.001")
MONEY_STEP = Decimal("0.01")


def apply_service_error(form: forms.Form, error: ValidationError) -> None:
    """Show a service's refusal on the form: on the field it names, else above the form."""
    if hasattr(error, "error_dict"):
        for name, messages in error.message_dict.items():
            form.add_error(name if name in form.fields else None, messages)
    else:
        form.add_error(None, error.messages)
    if isinstance(form, BootstrapMixin):
        form.style()


def _field_label(model: type, name: str) -> str:
    return capfirst(model._meta.get_field(name).verbose_name)


def _quantity(label: Any, *, min_value: Decimal = QTY_STEP) -> forms.DecimalField:
    return forms.DecimalField(
        label=label,
        min_value=min_value,
        max_digits=14,
        decimal_places=3,
        widget=forms.NumberInput(attrs={"step": str(QTY_STEP), "inputmode": "decimal"}),
    )


def _money(label: Any, *, required: bool = True, help_text: Any = "") -> forms.DecimalField:
    return forms.DecimalField(
        label=label,
        required=required,
        min_value=Decimal("0"),
        max_digits=12,
        decimal_places=2,
        help_text=help_text,
        widget=forms.NumberInput(attrs={"step": str(MONEY_STEP), "inputmode": "decimal"}),
    )


class SearchInput(forms.TextInput):
    """A search box that filters the list as the user types (static/js/inventory.js)."""

    input_type = "search"

    def __init__(self, attrs: dict[str, Any] | None = None) -> None:
        super().__init__({"autocomplete": "off", "data-filter-search": "", **(attrs or {})})


class BootstrapMixin:
    """Bootstrap classes on every widget, and ``is-invalid`` on the fields with errors."""

    def style(self) -> None:
        # ``_errors``, not ``errors``: styling must not run the validation itself.
        errors = self._errors or {}
        for name, field in self.fields.items():
            widget = field.widget
            if isinstance(widget, forms.HiddenInput):
                continue
            if isinstance(widget, forms.CheckboxInput):
                css = "form-check-input"
            elif isinstance(widget, forms.Select):
                css = "form-select"
            else:
                css = "form-control"
            if name in errors:
                css += " is-invalid"
            widget.attrs["class"] = css

    def full_clean(self) -> None:
        super().full_clean()
        self.style()


# --- List filters -------------------------------------------------------------------------------


class StockFilterForm(BootstrapMixin, forms.Form):
    q = forms.CharField(
        label=_("Search"),
        required=False,
        max_length=100,
        widget=SearchInput(attrs={"placeholder": _("Product name or SKU")}),
    )
    warehouse = forms.ModelChoiceField(
        label=_("Warehouse"), queryset=Warehouse.objects.none(), required=False, empty_label=_("All warehouses")
    )
    category = forms.ModelChoiceField(label=_("Category"), queryset=Category.objects.all(), required=False)
    low = forms.BooleanField(label=_("Below reorder level only"), required=False)
    sort = forms.ChoiceField(
        label=_("Sort by"),
        required=False,
        choices=[
            ("product", _("Product name (A–Z)")),
            ("-product", _("Product name (Z–A)")),
            ("sku", _("SKU (A–Z)")),
            ("-sku", _("SKU (Z–A)")),
        ],
    )

    def __init__(self, *args: Any, user: User, tree: selectors.CategoryTree, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.tree = tree
        self.fields["warehouse"].queryset = selectors.visible_warehouses(user)
        self.fields["category"].choices = [("", _("All categories")), *selectors.category_choices(tree)]
        self.style()

    def filters(self) -> dict[str, Any]:
        """The valid filters; a value that did not validate (another branch's warehouse) is dropped."""
        data: dict[str, Any] = {}
        if self.is_bound:
            self.is_valid()
            data = {name: value for name, value in self.cleaned_data.items() if name not in self.errors}
        category = data.get("category")
        return {
            "warehouse": data.get("warehouse"),
            "category_ids": self.tree.descendant_ids(category.pk) if category else None,
            "low_only": bool(data.get("low")),
            "search": data.get("q") or "",
            "sort": data.get("sort") or "product",
        }

    @property
    def is_filtered(self) -> bool:
        """Whether the list shows fewer levels than the user may see (the sort is no filter)."""
        filters = self.filters()
        return any(filters[name] for name in ("warehouse", "category_ids", "low_only", "search"))


class ProductFilterForm(BootstrapMixin, forms.Form):
    q = forms.CharField(
        label=_("Search"),
        required=False,
        max_length=100,
        widget=SearchInput(attrs={"placeholder": _("Product name or SKU")}),
    )
    category = forms.ModelChoiceField(label=_("Category"), queryset=Category.objects.all(), required=False)
    status = forms.ChoiceField(
        label=_("Status"),
        required=False,
        choices=[("active", _("Active")), ("inactive", _("Inactive")), ("all", _("All"))],
    )
    sort = forms.ChoiceField(
        label=_("Sort by"),
        required=False,
        choices=[
            ("name", _("Name (A–Z)")),
            ("-name", _("Name (Z–A)")),
            ("sku", _("SKU (A–Z)")),
            ("-sku", _("SKU (Z–A)")),
            ("newest", _("Newest first")),
        ],
    )

    def __init__(self, *args: Any, tree: selectors.CategoryTree, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.tree = tree
        self.fields["category"].choices = [("", _("All categories")), *selectors.category_choices(tree)]
        self.style()

    def filters(self) -> dict[str, Any]:
        data: dict[str, Any] = {}
        if self.is_bound:
            self.is_valid()
            data = {name: value for name, value in self.cleaned_data.items() if name not in self.errors}
        category = data.get("category")
        return {
            "category_ids": self.tree.descendant_ids(category.pk) if category else None,
            "search": data.get("q") or "",
            "status": data.get("status") or "active",
            "sort": data.get("sort") or "name",
        }

    def selected_category_id(self) -> int | None:
        if self.is_bound and self.is_valid() and self.cleaned_data.get("category"):
            return self.cleaned_data["category"].pk
        return None


class MovementFilterForm(BootstrapMixin, forms.Form):
    product = forms.ModelChoiceField(
        label=_("Product"), queryset=Product.objects.all(), required=False, widget=forms.HiddenInput
    )
    warehouse = forms.ModelChoiceField(
        label=_("Warehouse"), queryset=Warehouse.objects.none(), required=False, empty_label=_("All warehouses")
    )
    kind = forms.ChoiceField(label=_("Kind"), required=False, choices=[("", _("All kinds")), *MovementKind.choices])
    date_from = forms.DateField(label=_("From"), required=False, widget=forms.DateInput(attrs={"type": "date"}))
    date_to = forms.DateField(label=_("To"), required=False, widget=forms.DateInput(attrs={"type": "date"}))
    reference = forms.CharField(label=_("Reference"), required=False, max_length=100, widget=SearchInput)

    def __init__(self, *args: Any, user: User, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["warehouse"].queryset = selectors.visible_warehouses(user)
        self.style()

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        start, end = data.get("date_from"), data.get("date_to")
        if start and end and end < start:
            self.add_error("date_to", _("The end date is before the start date."))
        return data

    def filters(self) -> dict[str, Any]:
        data: dict[str, Any] = {}
        if self.is_bound:
            self.is_valid()
            data = {name: value for name, value in self.cleaned_data.items() if name not in self.errors}
        return {
            "warehouse": data.get("warehouse"),
            "product": data.get("product"),
            "kind": data.get("kind") or "",
            "date_from": data.get("date_from"),
            "date_to": data.get("date_to"),
            "reference": data.get("reference") or "",
        }


# --- Catalogue ----------------------------------------------------------------------------------


class ProductForm(BootstrapMixin, forms.Form):
    sku = forms.CharField(
        label=_field_label(Product, "sku"),
        max_length=40,
        help_text=_("Letters, digits and dashes; it cannot be changed later."),
    )
    name = forms.CharField(label=_field_label(Product, "name"), max_length=200)
    category = forms.ModelChoiceField(
        label=_field_label(Product, "category"), queryset=Category.objects.all(), required=False
    )
    unit = forms.ChoiceField(label=_field_label(Product, "unit"), choices=Unit.choices, initial=Unit.PIECE)
    price = _money(_field_label(Product, "price"))
    cost = _money(_field_label(Product, "cost"), required=False)
    reorder_level = _quantity(_field_label(Product, "reorder_level"), min_value=Decimal("0"))
    description = forms.CharField(
        label=_field_label(Product, "description"),
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3}),
    )
    is_active = forms.BooleanField(label=_("Active (can be sold and moved)"), required=False)
    version = forms.IntegerField(widget=forms.HiddenInput, min_value=1)

    def __init__(self, *args: Any, tree: selectors.CategoryTree, product: Product | None = None, **kwargs: Any):
        if product is not None and "initial" not in kwargs:
            kwargs["initial"] = {
                "name": product.name,
                "category": product.category_id,
                "unit": product.unit,
                "price": product.price,
                "cost": product.cost,
                "reorder_level": product.reorder_level,
                "description": product.description,
                "is_active": product.is_active,
                "version": product.version,
            }
        super().__init__(*args, **kwargs)
        self.product = product
        self.fields["reorder_level"].required = False
        self.fields["reorder_level"].help_text = _("A warning is raised when the stock falls below this quantity.")
        keep = product.category_id if product else None
        self.fields["category"].choices = [
            ("", _("No category")),
            *selectors.category_choices(tree, active_only=True, keep=keep),
        ]
        if product is None:
            del self.fields["is_active"]
            del self.fields["version"]
        else:
            del self.fields["sku"]
            self.fields["is_active"].widget.attrs["data-confirm-uncheck"] = _(
                "Deactivate this product? It can no longer be ordered or moved in stock."
            )
        self.style()

    def values(self) -> dict[str, Any]:
        """The cleaned values as the services take them."""
        data = dict(self.cleaned_data)
        data.pop("version", None)
        data["cost"] = data.get("cost") if data.get("cost") is not None else Decimal("0")
        if data.get("reorder_level") is None:
            data["reorder_level"] = Decimal("0")
        return data


class CategoryForm(BootstrapMixin, forms.Form):
    name = forms.CharField(label=_field_label(Category, "name"), max_length=120)
    parent = forms.ModelChoiceField(
        label=_("Inside"),
        queryset=Category.objects.all(),
        required=False,
        help_text=_("Leave empty for a top-level category."),
    )
    is_active = forms.BooleanField(label=_("Active"), required=False)

    def __init__(self, *args: Any, tree: selectors.CategoryTree, category: Category | None = None, **kwargs: Any):
        if category is not None and "initial" not in kwargs:
            kwargs["initial"] = {"name": category.name, "parent": category.parent_id, "is_active": category.is_active}
        super().__init__(*args, **kwargs)
        self.fields["parent"].choices = [("", _("Top level")), *selectors.category_choices(tree)]
        if category is None:
            del self.fields["is_active"]
        else:
            self.fields["is_active"].widget.attrs["data-confirm-uncheck"] = _(
                "Deactivate this category? It is no longer offered for new products."
            )
        self.style()


class WarehouseForm(BootstrapMixin, forms.Form):
    code = forms.CharField(
        label=_field_label(Warehouse, "code"), max_length=20, help_text=_("A short unique code, e.g. CAI-W2.")
    )
    name = forms.CharField(label=_field_label(Warehouse, "name"), max_length=120)
    branch = forms.ModelChoiceField(label=_field_label(Warehouse, "branch"), queryset=Branch.objects.none())
    address = forms.CharField(label=_field_label(Warehouse, "address"), max_length=255, required=False)
    is_default = forms.BooleanField(label=_("The branch's default warehouse (orders ship from it)"), required=False)
    is_active = forms.BooleanField(label=_("Active"), required=False)

    def __init__(self, *args: Any, user: User, warehouse: Warehouse | None = None, **kwargs: Any):
        if warehouse is not None and "initial" not in kwargs:
            kwargs["initial"] = {
                "name": warehouse.name,
                "address": warehouse.address,
                "is_default": warehouse.is_default,
                "is_active": warehouse.is_active,
            }
        super().__init__(*args, **kwargs)
        if warehouse is None:
            branches = selectors.visible_branches(user)
            self.fields["branch"].queryset = branches
            self.fields["branch"].initial = user.branch_id
            del self.fields["is_active"]
        else:
            del self.fields["code"]
            del self.fields["branch"]
            self.fields["is_active"].widget.attrs["data-confirm-uncheck"] = _(
                "Close this warehouse? No stock can be moved in or out of it any more."
            )
        self.style()


# --- Stock operations ---------------------------------------------------------------------------


class StockFormBase(BootstrapMixin, forms.Form):
    """A product picked with the search box (a hidden id) and warehouses the user may see."""

    warehouse_fields: tuple[str, ...] = ("warehouse",)

    product = forms.ModelChoiceField(
        label=_("Product"),
        queryset=Product.objects.none(),
        widget=forms.HiddenInput,
        error_messages={
            "required": _("Choose a product: type its name or SKU and pick it from the list."),
            "invalid_choice": _("Choose an active product from the list."),
        },
    )

    def __init__(self, *args: Any, user: User, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["product"].queryset = selectors.operable_products()
        warehouses = selectors.visible_warehouses(user, active_only=True)
        for name in self.warehouse_fields:
            self.fields[name].queryset = warehouses
            self.fields[name].empty_label = _("Choose a warehouse")
            self.fields[name].error_messages["invalid_choice"] = _("Choose one of your warehouses.")
        first = self.warehouse_fields[0]
        if not self.is_bound and not self.initial.get(first) and user.branch_id:
            # Most movements are in the user's own branch's main warehouse: start there.
            self.initial[first] = selectors.default_warehouse_id(user)
        self.style()

    def selected_product(self) -> Product | None:
        """The product the form holds (posted or prefilled), for the picker's label."""
        value = self["product"].value()
        if isinstance(value, Product):
            return value
        try:
            return self.fields["product"].queryset.filter(pk=int(value)).first() if value else None
        except (TypeError, ValueError):
            return None


def _warehouse_field(label: Any) -> forms.ModelChoiceField:
    return forms.ModelChoiceField(label=label, queryset=Warehouse.objects.none())


def _reference() -> forms.CharField:
    return forms.CharField(
        label=_("Reference"),
        max_length=100,
        required=False,
        help_text=_("Supplier invoice, delivery note or request number."),
    )


def _note(label: Any = None) -> forms.CharField:
    return forms.CharField(label=label or _("Note"), max_length=255, required=False)


class ReceiveForm(StockFormBase):
    warehouse = _warehouse_field(_("Into warehouse"))
    quantity = _quantity(_("Quantity received"))
    unit_cost = _money(_("Unit cost"), required=False, help_text=_("Optional: what one unit cost."))
    reference = _reference()
    note = _note()


class IssueForm(StockFormBase):
    warehouse = _warehouse_field(_("From warehouse"))
    quantity = _quantity(_("Quantity issued"))
    reference = _reference()
    note = _note()


class AdjustForm(StockFormBase):
    warehouse = _warehouse_field(_("Warehouse"))
    counted_quantity = _quantity(_("Counted quantity"), min_value=Decimal("0"))
    reason = forms.CharField(
        label=_("Reason"),
        max_length=255,
        help_text=_("Required: why the count differs (stock count, damage, loss…)."),
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["counted_quantity"].help_text = _("What the count found; the difference is recorded.")


class TransferForm(StockFormBase):
    warehouse_fields = ("from_warehouse", "to_warehouse")

    from_warehouse = _warehouse_field(_("From warehouse"))
    to_warehouse = _warehouse_field(_("To warehouse"))
    quantity = _quantity(_("Quantity to transfer"))
    note = _note()

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        source, target = data.get("from_warehouse"), data.get("to_warehouse")
        if source is not None and target is not None and source.pk == target.pk:
            self.add_error("to_warehouse", _("Choose a different destination warehouse."))
        return data
