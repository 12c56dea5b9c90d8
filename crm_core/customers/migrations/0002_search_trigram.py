from django.db import migrations


def forwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(
            "CREATE INDEX IF NOT EXISTS customer_search_trgm_idx "
            "ON customers_customer USING gin (search_text gin_trgm_ops)"
        )


def backwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute("DROP INDEX IF EXISTS customer_search_trgm_idx")


class Migration(migrations.Migration):
    dependencies = [("customers", "0001_initial"), ("common", "0002_postgres_extensions")]
    operations = [migrations.RunPython(forwards, backwards)]
