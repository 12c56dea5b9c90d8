from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class InspectionsConfig(AppConfig):
    name = "crm_core.inspections"
    label = "inspections"
    verbose_name = _("Inspections")

    def ready(self) -> None:
        # The pages' live fragments (realtime/renderers.py).
        from crm_core.inspections import live  # noqa: F401
