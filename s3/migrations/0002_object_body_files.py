"""Object bodies move from the ``body`` bytea column to files under ``OBJECT_DIR`` (``s3.bodies``): each existing
object's body is written to a file its row then names. ``0003`` drops the column."""

from django.db import migrations, models


def bodies_to_files(apps, schema_editor):  # noqa: ANN001, ANN201 - a RunPython function
    from s3 import bodies

    S3Object = apps.get_model("s3", "S3Object")
    rows = S3Object.objects.using(schema_editor.connection.alias).filter(body_file="").only("pk", "body")
    for pk, body in rows.values_list("pk", "body").iterator(100):
        name = bodies.write(bytes(body))
        S3Object.objects.using(schema_editor.connection.alias).filter(pk=pk).update(body_file=name)


def files_to_bodies(apps, schema_editor):  # noqa: ANN001, ANN201 - a RunPython function
    from s3 import bodies

    S3Object = apps.get_model("s3", "S3Object")
    rows = S3Object.objects.using(schema_editor.connection.alias).exclude(body_file="")
    for pk, name in rows.values_list("pk", "body_file").iterator(100):
        S3Object.objects.using(schema_editor.connection.alias).filter(pk=pk).update(
            body=bodies.read(name), body_file=""
        )


class Migration(migrations.Migration):
    dependencies = [("s3", "0001_buckets_and_objects")]

    operations = [
        migrations.AddField(model_name="s3object", name="body_file", field=models.CharField(default="", max_length=64)),
        migrations.RunPython(bodies_to_files, files_to_bodies, elidable=True),
    ]
