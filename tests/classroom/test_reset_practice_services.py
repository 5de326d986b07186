"""A reset empties the practice services too: the account's S3 buckets (their global names free again) with their
objects, and its EC2 instances with the role sessions EC2 held for them; another account's stay."""

from __future__ import annotations

import pytest

from ec2 import services as ec2
from ec2.instance_credentials import role_credentials
from ec2.models import Instance, InstanceCredential
from identities.reset import reset_account_iam
from s3 import services as s3
from s3.models import Bucket, S3Object
from tests.ec2.conftest import AMI, profile_with_role

pytestmark = pytest.mark.django_db


def test_reset_deletes_buckets_objects_and_instances(account, other_account, root_ctx, other_root_ctx):
    s3.create_bucket(root_ctx, bucket="team-bucket")
    s3.put_object(root_ctx, bucket="team-bucket", key="report.csv", body=b"a,b\n", content_type="text/csv")
    s3.create_bucket(other_root_ctx, bucket="their-bucket")
    profile_with_role(root_ctx)
    instance = ec2.run_instances(
        root_ctx, image_id=AMI, min_count=1, max_count=1, iam_instance_profile={"Name": "app"}
    )[0]
    role_credentials(instance)  # EC2 now holds a role session for the instance
    assert InstanceCredential.objects.filter(instance=instance).exists()
    ec2.run_instances(other_root_ctx, image_id=AMI, min_count=1, max_count=1)

    summary = reset_account_iam(account.id)

    assert summary.deleted["S3 buckets"] == 1 and summary.deleted["S3 objects"] == 1
    assert summary.deleted["EC2 instances"] == 1 and summary.deleted["EC2 instance sessions"] == 1
    assert list(Bucket.objects.values_list("name", flat=True)) == ["their-bucket"]
    assert not S3Object.objects.exists()
    assert list(Instance.objects.values_list("account_id", flat=True)) == [other_account.id]
    s3.create_bucket(root_ctx, bucket="team-bucket")  # the name is free again
