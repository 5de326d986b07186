"""Buckets and objects of the S3 practice service. Bucket names are global per deployment, as in AWS (see
docs/architecture.md); every object row belongs to its bucket, and the bucket to its owning account."""

from __future__ import annotations

from django.db import models

from identities.models import Account


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


class S3Object(models.Model):
    bucket = models.ForeignKey(Bucket, on_delete=models.CASCADE, related_name="+")
    # Byte order (collation "C"): keys list in UTF-8 binary order, as S3 lists them.
    key = models.CharField(max_length=1024, db_collation="C")
    body = models.BinaryField()
    size = models.BigIntegerField()
    etag = models.CharField(max_length=64)
    content_type = models.CharField(max_length=256, default="binary/octet-stream")
    last_modified = models.DateTimeField()
    metadata = models.JSONField(default=dict)  # x-amz-meta-*
    tags = models.JSONField(default=list)

    class Meta:
        constraints = [models.UniqueConstraint("bucket", "key", name="s3_object_key_unique")]

    def __str__(self) -> str:
        return f"{self.bucket_id}/{self.key}"
