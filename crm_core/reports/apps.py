from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ReportsConfig(AppConfig):
    name = "crm_core.reports"
    label = "reports"
    verbose_name = _("Reports")

    def ready(self) -> None:
        from realtime.publish import change_committed

        # On the commit, not on the push: figures must not stay stale because live push failed.
        change_committed.connect(_invalidate, dispatch_uid="crm_dashboard_invalidate")


def _invalidate(sender, branch_id, **kwargs) -> None:
    from crm_core.reports.selectors import invalidate_dashboard

    invalidate_dashboard(branch_id)
