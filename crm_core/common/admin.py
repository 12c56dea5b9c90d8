"""Admin building blocks shared by every app, and the admin for :class:`Counter`.

The admin is a back office for reference data and a read-only window on the domain:
domain records change only through services (DESIGN.md rule 1), so most model admins here
are view-only, and every branch-owned one is scoped by the one rule (rule 3).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.contrib import admin
from django.contrib.admin.options import InlineModelAdmin
from django.contrib.admin.utils import get_fields_from_path
from django.core.exceptions import ImproperlyConfigured, PermissionDenied, ValidationError
from django.db import models
from django.utils.translation import gettext_lazy as _

from crm_core.common.models import Counter
from crm_core.common.pagination import CappedCountPaginator
from crm_core.common.text import normalize_search

if TYPE_CHECKING:
    from django.http import HttpRequest


def _has_visible_to(model: type[models.Model]) -> bool:
    return hasattr(model._default_manager, "visible_to")


class BranchScopedAdminMixin:
    """Start every admin query from ``Model.objects.visible_to(request.user)``.

    Use it before ``admin.ModelAdmin`` / ``admin.TabularInline`` in the bases. A row outside
    the user's scope is simply not in the queryset, so its change URL redirects to the admin
    index ("does not exist") instead of confirming it exists.

    * ``scope_via`` -- for a model whose manager has no ``visible_to``: the foreign-key path
      to a model whose manager has it (``"order"`` for OrderStatusChange).
    * ``superuser_sees_all`` -- for personal rows (notifications), whose ``visible_to``
      returns only the user's own: superusers see everyone's in the admin.

    Foreign-key choices in the admin's forms are narrowed by the same rule, so a branch user
    can neither see nor pick another branch's rows in a select box.
    """

    scope_via: str | None = None
    superuser_sees_all: bool = False

    def scoped_queryset(self, request: HttpRequest) -> models.QuerySet:
        user = request.user
        manager = self.model._default_manager
        if self.superuser_sees_all and user.is_active and user.is_superuser:
            return manager.all()
        if self.scope_via is None:
            return manager.visible_to(user)
        if user.is_active and getattr(user, "sees_all_branches", False):
            # visible_to() is everything for them; skip a pointless IN (SELECT ...).
            return manager.all()
        related_model = get_fields_from_path(self.model, self.scope_via)[-1].related_model
        visible = related_model._default_manager.visible_to(user)
        return manager.filter(**{f"{self.scope_via}__in": visible.values("pk")})

    def get_queryset(self, request: HttpRequest) -> models.QuerySet:
        qs = self.scoped_queryset(request)
        ordering = self.get_ordering(request)
        if ordering:
            qs = qs.order_by(*ordering)
        if isinstance(self, InlineModelAdmin) and not self.has_view_or_change_permission(request):
            # What InlineModelAdmin.get_queryset does, as this override replaces it.
            qs = qs.none()
        return qs

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        related_model = db_field.remote_field.model
        if "queryset" not in kwargs and _has_visible_to(related_model):
            kwargs["queryset"] = related_model._default_manager.visible_to(request.user)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)


class ScopedRelatedFieldListFilter(admin.RelatedFieldListFilter):
    """A foreign-key filter offering only the rows the user may see.

    The stock filter lists every row of the related table (another branch's name included);
    this one starts from ``visible_to`` like everything else. A branch user who sees one
    branch gets no branch filter at all (a single choice is not shown).
    """

    def field_choices(self, field, request, model_admin):
        related_model = field.remote_field.model
        if not _has_visible_to(related_model):
            return super().field_choices(field, request, model_admin)
        qs = related_model._default_manager.visible_to(request.user)
        ordering = self.field_admin_ordering(field, request, model_admin)
        if ordering:
            qs = qs.order_by(*ordering)
        attname = field.remote_field.get_related_field().attname
        return [(getattr(obj, attname), str(obj)) for obj in qs]


class ViewOnlyAdminMixin:
    """Nothing can be added, changed or deleted here; the change view shows the row read-only.

    Viewing still needs the model's ``view`` (or ``change``) permission, as usual. Works for
    model admins and inlines alike.
    """

    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


class ViewOnlyTabularInline(ViewOnlyAdminMixin, admin.TabularInline):
    extra = 0
    can_delete = False
    show_change_link = False


class ViewOnlyStackedInline(ViewOnlyAdminMixin, admin.StackedInline):
    extra = 0
    can_delete = False
    show_change_link = False


class NormalizedSearchMixin:
    """Search as people type Arabic: the term is normalised like the stored ``search_text``
    ("احمد" finds "أحمد", "٠١٠" finds "010"). Use with a ``search_text`` search field."""

    def get_search_results(self, request, queryset, search_term):
        return super().get_search_results(request, queryset, normalize_search(search_term))


class BigTableAdminMixin:
    """List pages of tables that grow without bound: no full ``COUNT(*)`` of the unfiltered
    table next to a filtered one, no facet counts, a modest page size."""

    show_full_result_count = False
    show_facets = admin.ShowFacets.NEVER
    list_per_page = 50
    paginator = CappedCountPaginator


class ServiceAdminMixin:
    """Reference data edited in the admin is saved by the app's services (DESIGN.md rule 1),
    so an admin edit writes the audit trail and publishes its events like any other.

    The service runs while the form is validated (inside the admin's transaction), so a
    refusal shows as a form error in the user's language instead of an error page. Use it
    only on admins without inlines: an invalid inline would not undo the service's write.
    """

    def save_through_service(
        self, request: HttpRequest, obj: models.Model | None, data: dict[str, Any]
    ) -> models.Model:
        raise ImproperlyConfigured(f"{type(self).__name__} must define save_through_service()")

    def get_form(self, request, obj=None, change=False, **kwargs):
        form_class = super().get_form(request, obj, change=change, **kwargs)
        model_admin = self

        class ServiceForm(form_class):
            service_result: models.Model | None = None

            def _post_clean(self) -> None:
                super()._post_clean()
                if self.errors:
                    return
                if change:
                    data = {name: self.cleaned_data[name] for name in self.changed_data if name in self.cleaned_data}
                else:
                    data = dict(self.cleaned_data)
                try:
                    self.service_result = model_admin.save_through_service(request, obj if change else None, data)
                except ValidationError as exc:
                    self._update_errors(exc)
                except PermissionDenied as exc:
                    self.add_error(None, str(exc))

        return ServiceForm

    def save_model(self, request, obj, form, change) -> None:
        saved = form.service_result
        obj.pk = saved.pk
        obj._state.adding = False
        obj._state.db = saved._state.db

    def save_related(self, request, form, formsets, change) -> None:
        # Relations are the service's business (a user's groups follow their role).
        return


@admin.register(Counter)
class CounterAdmin(ViewOnlyAdminMixin, admin.ModelAdmin):
    """Counters are drawn by ``next_number`` only; the admin just shows where they stand."""

    list_display = ("counter_key", "counter_value")
    fields = ("counter_key", "counter_value")
    readonly_fields = ("counter_key", "counter_value")
    search_fields = ("key",)
    ordering = ("key",)

    # The model's fields carry no verbose names; these give the columns translatable labels.
    @admin.display(description=_("key"), ordering="key")
    def counter_key(self, obj: Counter) -> str:
        return obj.key

    @admin.display(description=_("value"), ordering="value")
    def counter_value(self, obj: Counter) -> int:
        return obj.value
