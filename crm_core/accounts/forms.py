"""Forms for the administration pages. They validate and shape input; the services write."""

from __future__ import annotations

import copy
from typing import Any

from django import forms
from django.contrib.auth.password_validation import password_validators_help_text_html, validate_password
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import ValidationError
from django.db.models import Q, QuerySet
from django.utils.translation import gettext_lazy as _

from crm_core.accounts import selectors
from crm_core.accounts.models import Branch, Department, Role, User

MIN_PASSWORD_LENGTH = 8  # MinimumLengthValidator's default; mirrored as the inputs' minlength


class BootstrapMixin:
    """Bootstrap classes, ``is-invalid`` on bad fields and HTML limits taken from the form field.

    Applied when a field is rendered, so widgets swapped in a subclass's ``__init__`` and errors
    found by validation are both taken into account.
    """

    def __getitem__(self, name: str) -> forms.BoundField:
        bound = super().__getitem__(name)
        field = self.fields[name]
        widget = field.widget
        attrs = widget.attrs
        base = getattr(widget, "_crm_base_class", None)
        if base is None:
            base = widget._crm_base_class = attrs.get("class", "")
        if isinstance(widget, forms.CheckboxInput):
            css = "form-check-input"
        elif isinstance(widget, forms.Select):
            css = "form-select"
        else:
            css = "form-control"
        invalid = self.is_bound and name in self.errors
        attrs["class"] = " ".join(part for part in (base, css, "is-invalid" if invalid else "") if part)
        if invalid:
            attrs["aria-invalid"] = "true"
        else:
            attrs.pop("aria-invalid", None)
        if getattr(field, "max_length", None) and not isinstance(widget, forms.Select):
            attrs.setdefault("maxlength", field.max_length)
        return bound


def add_service_errors(form: forms.BaseForm, error: ValidationError, rename: dict[str, str] | None = None) -> None:
    """Show a service's ValidationError on the form: on the field it names, or above the form."""
    rename = rename or {}
    if not hasattr(error, "error_dict"):
        form.add_error(None, error)
        return
    for name, messages in error.message_dict.items():
        target = rename.get(name, name)
        form.add_error(target if target in form.fields else None, messages)


def _branch_choices(actor: User, current: Branch | None = None) -> QuerySet[Branch]:
    qs = Branch.objects.visible_to(actor).filter(Q(is_active=True) | Q(pk=getattr(current, "pk", None)))
    return qs.order_by("name", "pk")


def _department_choices(current: Department | None = None) -> QuerySet[Department]:
    return Department.objects.filter(Q(is_active=True) | Q(pk=getattr(current, "pk", None))).order_by("name", "pk")


class _UserFieldsForm(BootstrapMixin, forms.ModelForm):
    """What an administrator sets on a person, shared by the create and edit forms."""

    def __init__(self, *args: Any, actor: User, **kwargs: Any) -> None:
        self.actor = actor
        super().__init__(*args, **kwargs)
        instance = self.instance
        self.fields["branch"].queryset = _branch_choices(actor, instance.branch if instance.branch_id else None)
        self.fields["department"].queryset = _department_choices(
            instance.department if instance.department_id else None
        )
        self.fields["branch"].empty_label = _("No home branch")
        self.fields["department"].empty_label = _("No department")
        self.fields["role"].choices = Role.choices
        # Only someone who sees every branch may hand that out (the service refuses otherwise).
        if not actor.sees_all_branches:
            del self.fields["all_branches"]
        self.fields["phone"].widget = forms.TextInput(attrs={"type": "tel", "autocomplete": "off", "dir": "ltr"})
        self.fields["email"].widget.attrs.update({"dir": "ltr", "autocomplete": "off"})

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        all_branches = data.get("all_branches", self.instance.all_branches if self.instance.pk else False)
        if not data.get("branch") and not all_branches and "branch" not in self.errors:
            self.add_error("branch", _("A user who does not see all branches needs a home branch."))
        return data

    def _post_clean(self) -> None:
        # The services validate the model; a form copy keeps the caller's instance untouched.
        self.instance = copy.copy(self.instance)
        super()._post_clean()

    def service_values(self) -> dict[str, Any]:
        return {name: self.cleaned_data[name] for name in self.fields if name in self.cleaned_data}


USER_FIELDS = [
    "first_name",
    "last_name",
    "email",
    "phone",
    "role",
    "branch",
    "all_branches",
    "department",
    "language",
]


class UserCreateForm(_UserFieldsForm):
    password1 = forms.CharField(
        label=_("Initial password"),
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password", "minlength": MIN_PASSWORD_LENGTH}),
        help_text=password_validators_help_text_html(),
    )
    password2 = forms.CharField(
        label=_("Initial password again"),
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password", "minlength": MIN_PASSWORD_LENGTH}),
    )

    class Meta:
        model = User
        fields = ["username", *USER_FIELDS]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["username"].widget.attrs.update({"autocapitalize": "none", "autocomplete": "off", "dir": "ltr"})
        self.fields["username"].help_text = _("Letters, digits and @ . + - _ only; used to sign in.")
        if not self.is_bound:
            self.initial.setdefault("branch", getattr(self.actor, "branch_id", None))

    def clean_username(self) -> str:
        username = self.cleaned_data["username"].strip()
        # The service refuses "Ahmed" when "ahmed" exists; say so here with the other errors.
        if User.objects.filter(username__iexact=username).exists():
            raise ValidationError(_("This username is taken."), code="unique")
        return username

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        first, second = data.get("password1"), data.get("password2")
        if first and second and first != second:
            self.add_error("password2", _("The two passwords do not match."))
        return data

    def _post_clean(self) -> None:
        super()._post_clean()
        # Validated against the person being created, so "their own name" counts as too similar.
        password = self.cleaned_data.get("password1")
        if password and "password1" not in self.errors:
            try:
                validate_password(password, self.instance)
            except ValidationError as error:
                self.add_error("password1", error)

    def service_values(self) -> dict[str, Any]:
        values = super().service_values()
        values.pop("password2", None)
        values["password"] = values.pop("password1")
        return values


class UserEditForm(_UserFieldsForm):
    class Meta:
        model = User
        fields = USER_FIELDS

    def clean_role(self) -> str:
        role = self.cleaned_data["role"]
        # The service lets an administrator demote themselves; the page does not, so nobody
        # locks themselves out of the administration pages by accident.
        if self.instance.pk == self.actor.pk and self.instance.role == Role.ADMIN and role != Role.ADMIN:
            raise ValidationError(_("You cannot remove your own administrator role."), code="own_role")
        return role


class UserPasswordForm(BootstrapMixin, forms.Form):
    """An administrator sets a new password for someone who forgot theirs."""

    password1 = forms.CharField(
        label=_("New password"),
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password", "minlength": MIN_PASSWORD_LENGTH}),
        help_text=password_validators_help_text_html(),
    )
    password2 = forms.CharField(
        label=_("New password again"),
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password", "minlength": MIN_PASSWORD_LENGTH}),
    )

    def __init__(self, *args: Any, user: User, **kwargs: Any) -> None:
        self.user = user
        super().__init__(*args, **kwargs)

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        first, second = data.get("password1"), data.get("password2")
        if first and second:
            if first != second:
                self.add_error("password2", _("The two passwords do not match."))
            else:
                try:
                    validate_password(first, self.user)
                except ValidationError as error:
                    self.add_error("password1", error)
        return data


class BranchCreateForm(BootstrapMixin, forms.ModelForm):
    class Meta:
        model = Branch
        fields = ["code", "name", "address", "phone"]
        widgets = {"phone": forms.TextInput(attrs={"type": "tel", "dir": "ltr"})}

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["code"].widget.attrs.update({"dir": "ltr", "autocapitalize": "characters"})
        self.fields["code"].help_text = _("A short code such as CAI; it cannot be changed later.")

    def clean_code(self) -> str:
        code = self.cleaned_data["code"].strip().upper()
        if Branch.objects.filter(code=code).exists():
            raise ValidationError(_("A branch with this code already exists."), code="unique")
        return code

    def validate_unique(self) -> None:
        # clean_code already checked the normalised code; the model check would compare the raw one.
        pass


class BranchEditForm(BootstrapMixin, forms.ModelForm):
    class Meta:
        model = Branch
        fields = ["name", "address", "phone"]
        widgets = {"phone": forms.TextInput(attrs={"type": "tel", "dir": "ltr"})}

    def _post_clean(self) -> None:
        self.instance = copy.copy(self.instance)
        super()._post_clean()


class DepartmentCreateForm(BootstrapMixin, forms.ModelForm):
    class Meta:
        model = Department
        fields = ["code", "name"]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["code"].widget.attrs.update({"dir": "ltr", "autocapitalize": "characters"})
        self.fields["code"].help_text = _("A short code such as SALES; it cannot be changed later.")

    def clean_code(self) -> str:
        code = self.cleaned_data["code"].strip().upper()
        if Department.objects.filter(code=code).exists():
            raise ValidationError(_("A department with this code already exists."), code="unique")
        return code

    def validate_unique(self) -> None:
        pass


class DepartmentEditForm(BootstrapMixin, forms.ModelForm):
    class Meta:
        model = Department
        fields = ["name"]

    def _post_clean(self) -> None:
        self.instance = copy.copy(self.instance)
        super()._post_clean()


ACTIVE_CHOICES = [("", _("Active and inactive")), ("1", _("Active")), ("0", _("Inactive"))]


class UserFilterForm(BootstrapMixin, forms.Form):
    q = forms.CharField(label=_("Search"), required=False, max_length=100)
    role = forms.ChoiceField(label=_("Role"), required=False, choices=[("", _("All roles")), *Role.choices])
    branch = forms.ModelChoiceField(label=_("Branch"), required=False, queryset=Branch.objects.none())
    department = forms.ModelChoiceField(label=_("Department"), required=False, queryset=Department.objects.none())
    active = forms.ChoiceField(label=_("Status"), required=False, choices=ACTIVE_CHOICES)
    sort = forms.ChoiceField(
        label=_("Sort by"),
        required=False,
        choices=[("name", _("Name")), ("username", _("Username")), ("-last_login", _("Last sign-in"))],
    )

    def __init__(self, *args: Any, actor: User, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["branch"].queryset = Branch.objects.visible_to(actor).order_by("name", "pk")
        self.fields["branch"].empty_label = _("All branches")
        self.fields["department"].queryset = Department.objects.order_by("name", "pk")
        self.fields["department"].empty_label = _("All departments")
        self.fields["q"].widget.attrs.update(
            {"type": "search", "placeholder": _("Name, username or email"), "autocomplete": "off"}
        )

    def filters(self) -> dict[str, Any]:
        """The selector's keyword arguments; a filter that does not parse is left out, the others apply."""
        data: dict[str, Any] = {}
        if self.is_bound:
            self.is_valid()  # fills cleaned_data with every field that parsed
            data = self.cleaned_data
        active = data.get("active", "")
        return {
            "q": data.get("q", ""),
            "role": data.get("role", ""),
            "branch": data.get("branch"),
            "department": data.get("department"),
            "active": None if active == "" else active == "1",
            "sort": data.get("sort") or "name",
        }


class _TargetTypeField(forms.ModelChoiceField):
    def label_from_instance(self, obj: ContentType) -> str:
        model = obj.model_class()
        return str(model._meta.verbose_name).capitalize() if model else obj.model


class ActivityFilterForm(BootstrapMixin, forms.Form):
    user = forms.ModelChoiceField(label=_("User"), required=False, queryset=User.objects.none())
    action = forms.CharField(
        label=_("Action"),
        required=False,
        max_length=64,
        help_text=_("Pick an action, or type the start of one (for example “order.”)."),
    )
    target_type = _TargetTypeField(label=_("Record type"), required=False, queryset=ContentType.objects.none())
    target_id = forms.CharField(label=_("Record id"), required=False, max_length=64)
    branch = forms.ModelChoiceField(label=_("Branch"), required=False, queryset=Branch.objects.none())
    date_from = forms.DateField(label=_("From"), required=False, widget=forms.DateInput(attrs={"type": "date"}))
    date_to = forms.DateField(label=_("To"), required=False, widget=forms.DateInput(attrs={"type": "date"}))

    def __init__(self, *args: Any, actor: User, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["user"].queryset = User.objects.visible_to(actor).order_by("first_name", "last_name", "username")
        self.fields["user"].empty_label = _("Everyone")
        self.fields["target_type"].queryset = selectors.activity_target_types()
        self.fields["target_type"].empty_label = _("All record types")
        self.fields["branch"].queryset = Branch.objects.visible_to(actor).order_by("name", "pk")
        self.fields["branch"].empty_label = _("All branches")
        self.fields["action"].widget.attrs.update({"list": "known-actions", "autocomplete": "off", "dir": "ltr"})
        self.fields["target_id"].widget.attrs.update({"inputmode": "numeric", "dir": "ltr"})

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        start, end = data.get("date_from"), data.get("date_to")
        if start and end and start > end:
            self.add_error("date_to", _("The end date is before the start date."))
        return data

    def filters(self) -> selectors.ActivityFilters | None:
        """None when a filter does not parse: the page shows the error instead of every row."""
        if not self.is_valid():
            return None
        data = self.cleaned_data
        return selectors.ActivityFilters(
            user=data.get("user"),
            action=data.get("action", ""),
            target_type=data.get("target_type"),
            target_id=data.get("target_id", ""),
            branch=data.get("branch"),
            date_from=data.get("date_from"),
            date_to=data.get("date_to"),
        )
