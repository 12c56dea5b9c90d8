from django.db import migrations


def forwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(
            "CREATE INDEX IF NOT EXISTS product_search_trgm_idx "
            "ON inventory_product USING gin (search_text gin_trgm_ops)"
        )


def backwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute("DROP INDEX IF EXISTS product_search_trgm_idx")


class Migration(migrations.Migration):
    dependencies = [("inventory", "0002_initial"), ("common", "0002_postgres_extensions")]
    operations = [migrations.RunPython(forwards, backwards)]
