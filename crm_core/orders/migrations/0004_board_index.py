from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("orders", "0003_drop_redundant_fk_indexes"),
    ]

    operations = [
        migrations.AddIndex(
            model_name="order",
            index=models.Index(fields=["status", "-status_changed_at", "-id"], name="order_board_idx"),
        ),
    ]
