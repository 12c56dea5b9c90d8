from __future__ import annotations

from typing import TYPE_CHECKING, Self

from django.db import connection, models
from django.utils.translation import gettext_lazy as _

if TYPE_CHECKING:
    from crm_core.accounts.models import User


class TimeStampedModel(models.Model):
    created_at = models.DateTimeField(_("created at"), auto_now_add=True, db_index=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        abstract = True


class VersionedModel(models.Model):
    """A record edited by people at the same time: every save by a service bumps ``version``."""

    version = models.PositiveIntegerField(_("version"), default=1)

    class Meta:
        abstract = True


class BranchScopedQuerySet(models.QuerySet):
    """The one scoping rule (DESIGN.md rule 3) for records that belong to a branch.

    ``branch_field`` is the lookup path to the owning branch's id; subclasses narrow the
    rule further for roles that see less than their whole branch.
    """

    branch_field = "branch_id"

    def visible_to(self, user: User | None) -> Self:
        if user is None or not user.is_authenticated or not user.is_active:
            return self.none()
        if user.sees_all_branches:
            return self.all()
        if user.branch_id is None:
            return self.none()
        return self.filter(**{self.branch_field: user.branch_id})

    def in_branch(self, branch_id: int) -> Self:
        return self.filter(**{self.branch_field: branch_id})


class Counter(models.Model):
    """Gap-free counters for human-facing numbers (order, customer and inspection numbers).

    Incremented with one atomic UPSERT, so concurrent transactions never draw the same
    value; the row lock is held to the end of the caller's transaction, and a rolled-back
    transaction returns its number.
    """

    key = models.CharField(max_length=64, primary_key=True)
    value = models.BigIntegerField(default=0)

    class Meta:
        verbose_name = _("counter")
        verbose_name_plural = _("counters")

    def __str__(self) -> str:
        return f"{self.key}={self.value}"


def next_number(key: str) -> int:
    table = connection.ops.quote_name(Counter._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {table} (key, value) VALUES (%s, 1) "  # noqa: S608 - table name is ours
            f"ON CONFLICT (key) DO UPDATE SET value = {table}.value + 1 RETURNING value",
            [key],
        )
        return int(cursor.fetchone()[0])


def set_counter_at_least(key: str, value: int) -> None:
    """Move a counter forward after rows were numbered in bulk (the scale seeder)."""
    table = connection.ops.quote_name(Counter._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {table} (key, value) VALUES (%s, %s) "  # noqa: S608
            f"ON CONFLICT (key) DO UPDATE SET value = CASE WHEN {table}.value < excluded.value "
            f"THEN excluded.value ELSE {table}.value END",
            [key, value],
        )


class IdempotencyKey(models.Model):
    """The first answer to a POST sent with an ``Idempotency-Key`` header (payments, stock movements).

    The row is inserted first, in the same transaction as the write it guards, and the answer is
    stored before that transaction commits: a concurrent request with the same key waits on the
    unique index and then replays the stored answer, and a request that fails leaves no row, so
    the key may be used again.
    """

    user = models.ForeignKey(
        "accounts.User", verbose_name=_("user"), on_delete=models.CASCADE, related_name="idempotency_keys"
    )
    key = models.CharField(_("key"), max_length=255)
    # SHA-256 of the method, the path and the canonical JSON body: the same key with another
    # request is refused (422), never answered with the first request's result.
    fingerprint = models.CharField(_("request fingerprint"), max_length=64)
    response_status = models.PositiveSmallIntegerField(_("response status"))
    response_body = models.JSONField(_("response body"), default=dict, blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True, db_index=True)

    class Meta:
        verbose_name = _("idempotency key")
        verbose_name_plural = _("idempotency keys")
        constraints = [models.UniqueConstraint(fields=["user", "key"], name="idempotency_key_unique_per_user")]

    def __str__(self) -> str:
        return f"{self.user_id}:{self.key}"
