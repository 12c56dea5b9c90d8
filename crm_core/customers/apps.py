from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CustomersConfig(AppConfig):
    name = "crm_core.customers"
    label = "customers"
    verbose_name = _("Customers")

    def ready(self) -> None:
        # Registers the fragments the live stream sends with customer events.
        from crm_core.customers import live  # noqa: F401
