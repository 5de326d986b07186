"""Every S3 operation the front serves is decided by the engine under S3's own action for it, and recorded under
its own event name: a user with no policy is refused each one, with the action named in the message."""

from __future__ import annotations

import pytest

from audit.models import AuditEvent
from core.errors import AccessDenied
from s3 import services
from s3.handlers import HANDLERS
from tests.s3.conftest import make_user

pytestmark = pytest.mark.django_db

TAGS = {"TagSet": [{"Key": "a", "Value": "b"}]}
# operation → (its input beyond Bucket and Key, the IAM action S3 decides it as, the CloudTrail event name)
CASES = {
    "CreateBucket": ({"Bucket": "brand-new-bucket"}, "s3:CreateBucket", "CreateBucket"),
    "DeleteBucket": ({}, "s3:DeleteBucket", "DeleteBucket"),
    "HeadBucket": ({}, "s3:ListBucket", "HeadBucket"),
    "ListBuckets": ({}, "s3:ListAllMyBuckets", "ListBuckets"),
    "GetBucketLocation": ({}, "s3:GetBucketLocation", "GetBucketLocation"),
    "PutObject": ({"Body": b"x"}, "s3:PutObject", "PutObject"),
    "GetObject": ({}, "s3:GetObject", "GetObject"),
    "HeadObject": ({}, "s3:GetObject", "HeadObject"),
    "DeleteObject": ({}, "s3:DeleteObject", "DeleteObject"),
    "DeleteObjects": ({"Delete": {"Objects": [{"Key": "k"}]}}, "s3:DeleteObject", "DeleteObject"),
    "CopyObject": ({"CopySource": "walk-bucket/k"}, "s3:PutObject", "CopyObject"),
    "ListObjects": ({}, "s3:ListBucket", "ListObjects"),
    "ListObjectsV2": ({}, "s3:ListBucket", "ListObjects"),
    "GetBucketPolicy": ({}, "s3:GetBucketPolicy", "GetBucketPolicy"),
    "PutBucketPolicy": ({"Policy": "{}"}, "s3:PutBucketPolicy", "PutBucketPolicy"),
    "DeleteBucketPolicy": ({}, "s3:DeleteBucketPolicy", "DeleteBucketPolicy"),
    "GetObjectTagging": ({}, "s3:GetObjectTagging", "GetObjectTagging"),
    "PutObjectTagging": ({"Tagging": TAGS}, "s3:PutObjectTagging", "PutObjectTagging"),
    "DeleteObjectTagging": ({}, "s3:DeleteObjectTagging", "DeleteObjectTagging"),
    "GetBucketTagging": ({}, "s3:GetBucketTagging", "GetBucketTagging"),
    "PutBucketTagging": ({"Tagging": TAGS}, "s3:PutBucketTagging", "PutBucketTagging"),
    "DeleteBucketTagging": ({}, "s3:PutBucketTagging", "DeleteBucketTagging"),
    "GetPublicAccessBlock": ({}, "s3:GetBucketPublicAccessBlock", "GetPublicAccessBlock"),
    "PutPublicAccessBlock": (
        {"PublicAccessBlockConfiguration": {"BlockPublicPolicy": True}},
        "s3:PutBucketPublicAccessBlock",
        "PutPublicAccessBlock",
    ),
    "DeletePublicAccessBlock": ({}, "s3:PutBucketPublicAccessBlock", "DeletePublicAccessBlock"),
}


def test_the_cases_cover_every_operation():
    assert set(CASES) == set(HANDLERS)


@pytest.mark.parametrize("operation", sorted(CASES))
def test_refused_without_a_policy(root_ctx, operation):
    services.create_bucket(root_ctx, bucket="walk-bucket")
    services.put_object(root_ctx, bucket="walk-bucket", key="k", body=b"v")
    nobody, _ = make_user(root_ctx, "nobody")
    extra, action, event_name = CASES[operation]
    params = {"Bucket": "walk-bucket", "Key": "k", **extra}
    before = AuditEvent.objects.count()
    if operation == "DeleteObjects":  # S3 answers per key: the request succeeds and reports the denial
        result = HANDLERS[operation](nobody, params)
        assert result["Errors"][0]["Code"] == "AccessDenied" and action in result["Errors"][0]["Message"]
    else:
        with pytest.raises(AccessDenied) as denied:
            HANDLERS[operation](nobody, params)
        assert f"is not authorized to perform: {action}" in denied.value.message
    event = AuditEvent.objects.order_by("-id").first()
    assert AuditEvent.objects.count() > before
    assert (event.event_name, event.error_code, event.username) == (event_name, "AccessDenied", "nobody")
    assert services.get_object(root_ctx, bucket="walk-bucket", key="k").body == b"v"
