from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("identities", "0007_providers_uuid_slr_deletions"),
    ]

    operations = [
        migrations.AddField(
            model_name="role",
            name="last_used_region",
            field=models.CharField(blank=True, default="", max_length=32),
        ),
    ]
