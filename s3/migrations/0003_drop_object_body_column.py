from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("s3", "0002_object_body_files")]

    operations = [
        # A default first, so that unapplying re-adds the column to existing rows (0002 then reads the files back).
        migrations.AlterField(model_name="s3object", name="body", field=models.BinaryField(default=b"")),
        migrations.RemoveField(model_name="s3object", name="body"),
        migrations.AlterField(model_name="s3object", name="body_file", field=models.CharField(max_length=64)),
    ]
