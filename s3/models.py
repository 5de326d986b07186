"""Buckets and objects of the S3 practice service. Bucket names are global per deployment, as in AWS (see
docs/architecture.md); every object row belongs to its bucket, and the bucket to its owning account. An object's
body is a file (``s3.bodies``) that its row names."""

from __future__ import annotations

from typing import Any

from django.db import connections, models

from identities.models import Account
from s3 import bodies


class BucketQuerySet(models.QuerySet["Bucket"]):
    def in_account(self, account_id: str) -> BucketQuerySet:
        return self.filter(account_id=account_id)


class Bucket(models.Model):
    # Global, as AWS's bucket namespace: a name is taken for every account of the deployment.
    name = models.CharField(max_length=63, unique=True)
    account = models.ForeignKey(Account, on_delete=models.CASCADE, related_name="+")
    region = models.CharField(max_length=32, default="us-east-1")
    created_at = models.DateTimeField()
    policy = models.TextField(blank=True, default="")  # the bucket policy as written, "" for none
    policy_updated_at = models.DateTimeField(null=True, blank=True)
    tags = models.JSONField(default=list)  # [{"Key": …, "Value": …}]
    public_access_block = models.JSONField(null=True, blank=True)  # PublicAccessBlockConfiguration, None = none

    objects = BucketQuerySet.as_manager()

    class Meta:
        indexes = [models.Index(fields=["account", "name"], name="s3_bucket_account")]

    def __str__(self) -> str:
        return self.name


class S3ObjectQuerySet(models.QuerySet["S3Object"]):
    def delete(self) -> tuple[int, dict[str, int]]:
        """The rows in one ``DELETE … RETURNING`` (nothing cascades from an object), and their body files once the
        deletion commits. Rows deleted by a cascade (an account's deletion) leave their files: the services and
        resets delete objects through here, before their buckets."""
        table = self.model._meta.db_table
        ids, params = self.order_by().values("pk").query.sql_with_params()
        with connections[self.db].cursor() as cursor:
            cursor.execute(f"DELETE FROM {table} WHERE id IN ({ids}) RETURNING body_file", params)
            names = [name for (name,) in cursor.fetchall()]
        bodies.remove_on_commit(names)
        return len(names), {self.model._meta.label: len(names)}


class S3Object(models.Model):
    bucket = models.ForeignKey(Bucket, on_delete=models.CASCADE, related_name="+")
    # Byte order (collation "C"): keys list in UTF-8 binary order, as S3 lists them.
    key = models.CharField(max_length=1024, db_collation="C")
    body_file = models.CharField(max_length=64)  # the body's file, relative to settings.OBJECT_DIR (s3.bodies)
    size = models.BigIntegerField()
    etag = models.CharField(max_length=64)
    content_type = models.CharField(max_length=256, default="binary/octet-stream")
    last_modified = models.DateTimeField()
    metadata = models.JSONField(default=dict)  # x-amz-meta-*
    tags = models.JSONField(default=list)

    objects = S3ObjectQuerySet.as_manager()
    body: bytes  # set by GetObject (services.get_object), read from the file

    class Meta:
        constraints = [models.UniqueConstraint("bucket", "key", name="s3_object_key_unique")]

    def __str__(self) -> str:
        return f"{self.bucket_id}/{self.key}"

    def delete(self, *args: Any, **kwargs: Any) -> tuple[int, dict[str, int]]:
        return S3Object.objects.filter(pk=self.pk).delete()
