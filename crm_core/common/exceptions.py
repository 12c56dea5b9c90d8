from __future__ import annotations

from django.utils.translation import gettext_lazy as _


class StaleVersionError(Exception):
    """A save based on an old version of a record: somebody else saved it in between."""

    def __init__(self, *, model_label: str, pk: int, expected: int, current: int, changed_by: str | None = None):
        self.model_label = model_label
        self.pk = pk
        self.expected = expected
        self.current = current
        self.changed_by = changed_by
        super().__init__(str(self.message))

    @property
    def message(self) -> str:
        if self.changed_by:
            return str(
                _("%(who)s changed this record while you were editing it; nothing of yours was saved.")
                % {"who": self.changed_by}
            )
        return str(_("Someone changed this record while you were editing it; nothing of yours was saved."))
