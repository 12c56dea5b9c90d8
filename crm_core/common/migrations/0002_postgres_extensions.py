from django.db import migrations


def create_extensions(apps, schema_editor):
    # pg_trgm serves the Arabic-aware substring search; btree_gist lets an exclusion
    # constraint combine "same inspector" with "overlapping time".
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
        schema_editor.execute("CREATE EXTENSION IF NOT EXISTS btree_gist")


class Migration(migrations.Migration):
    dependencies = [("common", "0001_initial")]
    operations = [migrations.RunPython(create_extensions, migrations.RunPython.noop)]
