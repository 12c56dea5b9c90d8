from django.contrib.auth.management import create_permissions
from django.db import migrations


def create_role_groups(apps, schema_editor):
    from crm_core.accounts.roles import sync_role_groups

    # Permissions are normally created after all migrations ran; the role groups need them now.
    for app_config in apps.get_app_configs():
        app_config.models_module = True
        create_permissions(app_config, apps=apps, verbosity=0)
        app_config.models_module = None
    sync_role_groups(apps)


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0001_initial"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
        ("customers", "0001_initial"),
        ("orders", "0001_initial"),
        ("inspections", "0002_initial"),
        ("inventory", "0002_initial"),
    ]
    operations = [migrations.RunPython(create_role_groups, migrations.RunPython.noop)]
