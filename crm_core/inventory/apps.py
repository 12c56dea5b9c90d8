from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class InventoryConfig(AppConfig):
    name = "crm_core.inventory"
    label = "inventory"
    verbose_name = _("Inventory")

    def ready(self) -> None:
        # Registers the stock fragments of the live stream.
        from crm_core.inventory import live  # noqa: F401
