from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("classroom", "0004_organization_iam_features"),
    ]

    operations = [
        migrations.AddField(
            model_name="labprogress",
            name="checked_at",
            field=models.DateTimeField(blank=True, null=True),
        ),
    ]
