"""Maintenance commands an operator relies on: dbbackup/dbrestore and clearsessions."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from django.conf import settings
from django.contrib.sessions.backends.db import SessionStore
from django.contrib.sessions.models import Session
from django.core.management import call_command
from django.db import connection
from django.utils import timezone
from django.utils.module_loading import import_string

from crm_core.accounts.models import Branch
from crm_core.customers.models import CustomerCategory

ON_POSTGRES = settings.DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql"


def _row_counts() -> dict[str, int]:
    """Row count of every table in the database, not only the models we touched."""
    counts = {}
    with connection.cursor() as cursor:
        for table in sorted(connection.introspection.table_names(cursor)):
            cursor.execute(f"SELECT COUNT(*) FROM {connection.ops.quote_name(table)}")
            counts[table] = cursor.fetchone()[0]
    return counts


def test_backup_storage_comes_from_storages_setting():
    """dbbackup 5.x reads STORAGES["dbbackup"]; a typo there would silently write elsewhere."""
    from dbbackup.storage import get_storage

    configured = settings.STORAGES["dbbackup"]
    storage = get_storage()
    assert type(storage.storage) is import_string(configured["BACKEND"])
    assert Path(storage.storage.location) == Path(configured["OPTIONS"]["location"])


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif(not ON_POSTGRES, reason="pg_dump/pg_restore round trip needs PostgreSQL")
def test_dbrestore_brings_back_every_row_of_the_backup(tmp_path):
    assert connection.vendor == "postgresql"
    for code, name in [("CAI", "القاهرة"), ("ALX", "الإسكندرية"), ("GIZ", "الجيزة")]:
        Branch.objects.create(code=code, name=name)
    for name in ["جملة", "VIP"]:
        CustomerCategory.objects.create(name=name)
    before = _row_counts()
    assert before[Branch._meta.db_table] == 3
    assert before[CustomerCategory._meta.db_table] == 2

    backup = tmp_path / "crm.psql.bin"
    call_command("dbbackup", "--noinput", "--quiet", "--output-path", str(backup))
    assert backup.stat().st_size > 0

    # Changes made after the backup: some rows gone, others new, in more than one table.
    Branch.objects.filter(code="ALX").delete()
    CustomerCategory.objects.all().delete()
    Branch.objects.create(code="ASW", name="أسوان")
    Session.objects.create(session_key="k" * 32, session_data="", expire_date=timezone.now())
    assert _row_counts() != before

    call_command("dbrestore", "--noinput", "--quiet", "--input-path", str(backup))
    connection.close()  # pg_restore dropped and recreated the tables under this connection

    assert _row_counts() == before
    assert sorted(Branch.objects.values_list("code", flat=True)) == ["ALX", "CAI", "GIZ"]
    assert sorted(CustomerCategory.objects.values_list("name", flat=True)) == sorted(["جملة", "VIP"])


@pytest.mark.django_db
def test_clearsessions_removes_expired_sessions_and_keeps_live_ones():
    now = timezone.now()
    live = SessionStore()
    live["branch"] = 1
    live.set_expiry(now + timedelta(hours=1))
    live.create()
    expired = SessionStore()
    expired["branch"] = 2
    expired.set_expiry(now - timedelta(minutes=1))
    expired.create()
    assert Session.objects.count() == 2

    call_command("clearsessions")

    assert list(Session.objects.values_list("session_key", flat=True)) == [live.session_key]
