from django.db import migrations


def forwards(apps, schema_editor):
    # The service refuses double booking with a clear message; this constraint is the
    # database's guarantee that no race or bulk write can create one anyway.
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(
            "ALTER TABLE inspections_inspection ADD CONSTRAINT inspection_no_double_booking "
            "EXCLUDE USING gist (inspector_id WITH =, tstzrange(scheduled_start, scheduled_end, '[)') WITH &&) "
            "WHERE (inspector_id IS NOT NULL AND status IN ('scheduled', 'in_progress'))"
        )


def backwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(
            "ALTER TABLE inspections_inspection DROP CONSTRAINT IF EXISTS inspection_no_double_booking"
        )


class Migration(migrations.Migration):
    dependencies = [("inspections", "0002_initial"), ("common", "0002_postgres_extensions")]
    operations = [migrations.RunPython(forwards, backwards)]
