from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class OrdersConfig(AppConfig):
    name = "crm_core.orders"
    label = "orders"
    verbose_name = _("Orders")

    def ready(self) -> None:
        # Registers the fragments the live stream sends with order events.
        from crm_core.orders import live  # noqa: F401
