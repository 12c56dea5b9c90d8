from typing import Any

from django.apps import AppConfig
from django.db.models.signals import post_migrate
from django.utils.translation import gettext_lazy as _


def sync_roles_after_migrate(sender: AppConfig, using: str = "default", **kwargs: Any) -> None:
    """Keep the role groups in line with crm_core.accounts.roles after every migrate (and
    after a test flush), so a permission added by a new migration reaches its roles."""
    from django.apps import apps
    from django.contrib.auth.management import create_permissions

    from crm_core.accounts.roles import sync_role_groups

    for app_config in apps.get_app_configs():
        create_permissions(app_config, verbosity=0, using=using)
    sync_role_groups(apps)


class AccountsConfig(AppConfig):
    name = "crm_core.accounts"
    label = "accounts"
    verbose_name = _("Accounts")

    def ready(self) -> None:
        from crm_core.accounts import signals  # noqa: F401

        post_migrate.connect(sync_roles_after_migrate, sender=self, dispatch_uid="crm_sync_roles")
