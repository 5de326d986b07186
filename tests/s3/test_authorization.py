"""S3 requests decided by the engine with every policy type a course meets: permissions boundaries, role
sessions with session policies, SCPs, and the global and S3 condition keys of the request."""

from __future__ import annotations

import json
from dataclasses import replace

import pytest

from classroom import services as classroom_services
from core.context import CallContext
from core.errors import AccessDenied
from identities.roles import create_role
from identities.services import put_user_permissions_boundary
from policies.services import create_policy, put_role_policy
from s3 import services
from sts.models import TemporaryCredential
from sts.services import assume_role, principal_for
from tests.classroom.conftest import instructor, instructor_ctx, klass, students  # noqa: F401 - fixtures
from tests.s3.conftest import allow, deny, make_user, policy

pytestmark = pytest.mark.django_db


@pytest.fixture
def bucket(root_ctx):
    services.create_bucket(root_ctx, bucket="team-bucket")
    services.put_object(root_ctx, bucket="team-bucket", key="report.csv", body=b"1,2")
    return "team-bucket"


def test_a_boundary_limits_the_identity_policy(root_ctx, bucket):
    alice, _ = make_user(root_ctx, "alice", policy(allow("s3:*", "*")))
    services.put_object(alice, bucket=bucket, key="before", body=b"")
    boundary = create_policy(root_ctx, policy_name="ReadOnlyS3", policy_document=policy(allow("s3:Get*", "*")))
    put_user_permissions_boundary(root_ctx, user_name="alice", permissions_boundary=boundary.arn)
    assert services.get_object(alice, bucket=bucket, key="report.csv").body == b"1,2"
    with pytest.raises(AccessDenied) as denied:
        services.put_object(alice, bucket=bucket, key="after", body=b"")
    assert denied.value.message.endswith("because no permissions boundary allows the s3:PutObject action")


def test_a_role_session_is_limited_by_its_session_policy(root_ctx, bucket):
    trust = policy(
        {
            "Effect": "Allow",
            "Principal": {"AWS": f"arn:aws:iam::{root_ctx.account_id}:root"},
            "Action": "sts:AssumeRole",
        }
    )
    role = create_role(root_ctx, role_name="Reader", assume_role_policy_document=trust)
    put_role_policy(root_ctx, role_name="Reader", policy_name="s3", policy_document=policy(allow("s3:*", "*")))
    ops, _ = make_user(root_ctx, "ops", policy(allow("sts:AssumeRole", role.arn)))
    issued = assume_role(
        ops,
        role_arn=role.arn,
        role_session_name="job",
        policy=policy(allow("s3:GetObject", "arn:aws:s3:::team-bucket/*")),
    )
    credential = TemporaryCredential.objects.get(access_key_id=issued.access_key_id)
    session = CallContext(principal_for(credential), origin="api")
    assert services.get_object(session, bucket=bucket, key="report.csv").body == b"1,2"
    with pytest.raises(AccessDenied) as denied:
        services.delete_object(session, bucket=bucket, key="report.csv")
    assert denied.value.message.startswith(
        f"User: arn:aws:sts::{root_ctx.account_id}:assumed-role/Reader/job is not authorized to perform: "
        "s3:DeleteObject"
    )
    assert denied.value.message.endswith("because no session policy allows the s3:DeleteObject action")


def test_an_scp_binds_a_member_account_root_included(klass, instructor_ctx, students):  # noqa: F811
    classroom, _ = klass
    student = students[1]
    services.create_bucket(student, bucket="student-bucket")
    scp = classroom_services.create_policy(
        instructor_ctx, classroom.pk, name="NoS3Deletes", content=policy(deny("s3:DeleteObject"))
    )
    classroom_services.attach_policy(
        instructor_ctx, classroom.pk, policy_id=scp.policy_id, target_id=student.account_id
    )
    services.put_object(student, bucket="student-bucket", key="k", body=b"")
    with pytest.raises(AccessDenied) as denied:
        services.delete_object(student, bucket="student-bucket", key="k")
    assert denied.value.message.endswith("with an explicit deny in a service control policy")


def test_secure_transport_and_source_ip_conditions(root_ctx, bucket):
    https_only = policy(
        deny(
            "s3:*",
            ["arn:aws:s3:::team-bucket", "arn:aws:s3:::team-bucket/*"],
            Principal="*",
            Condition={"Bool": {"aws:SecureTransport": "false"}},
        )
    )
    services.put_bucket_policy(root_ctx, bucket=bucket, policy=https_only)
    office, _ = make_user(
        root_ctx,
        "office",
        policy(allow("s3:GetObject", "*", Condition={"IpAddress": {"aws:SourceIp": "203.0.113.0/24"}})),
    )
    with pytest.raises(AccessDenied) as denied:
        services.get_object(replace(office, secure_transport=True), bucket=bucket, key="report.csv")
    assert "no identity-based policy allows" in denied.value.message  # 127.0.0.1 is not in the office range
    inside = replace(office, source_ip="203.0.113.7")
    with pytest.raises(AccessDenied) as denied:
        services.get_object(inside, bucket=bucket, key="report.csv")  # plain HTTP
    assert denied.value.message.endswith("with an explicit deny in a resource-based policy")
    assert services.get_object(replace(inside, secure_transport=True), bucket=bucket, key="report.csv").body


def test_delimiter_condition(root_ctx, bucket):
    browser, _ = make_user(
        root_ctx,
        "browser",
        policy(allow("s3:ListBucket", "arn:aws:s3:::team-bucket", Condition={"StringEquals": {"s3:delimiter": "/"}})),
    )
    assert services.list_objects_v2(browser, bucket=bucket, delimiter="/").key_count == 1
    with pytest.raises(AccessDenied):
        services.list_objects_v2(browser, bucket=bucket)


def test_denied_calls_explain_themselves_in_the_trail(root_ctx, bucket):
    from audit.models import AuditEvent

    nobody, _ = make_user(root_ctx, "nobody")
    with pytest.raises(AccessDenied):
        services.get_bucket_policy(nobody, bucket=bucket)
    event = AuditEvent.objects.get(event_name="GetBucketPolicy", error_code="AccessDenied")
    assert event.record["eventCategory"] == "Management"
    assert event.explanation["action"] == "s3:GetBucketPolicy"
    assert json.loads(json.dumps(event.record))["requestParameters"]["bucketName"] == bucket


def test_the_owners_root_is_never_locked_out_of_its_bucket_policy_but_an_scp_binds_it(
    klass,  # noqa: F811
    instructor_ctx,  # noqa: F811
    students,  # noqa: F811
):
    # Amazon S3 API Reference, PutBucketPolicy/DeleteBucketPolicy: "the root principal in a bucket owner's AWS
    # account can perform the GetBucketPolicy, PutBucketPolicy, and DeleteBucketPolicy API actions, even if their
    # bucket policy explicitly denies the root principal's access. Bucket owner root principals can only be blocked
    # from performing these API actions by VPC endpoint policies and AWS Organizations policies."
    classroom, _ = klass
    root = students[1]
    services.create_bucket(root, bucket="locked-out")
    everything = ["arn:aws:s3:::locked-out", "arn:aws:s3:::locked-out/*"]
    lockout = policy(deny("s3:*", everything, Principal="*"))
    services.put_bucket_policy(root, bucket="locked-out", policy=lockout)
    with pytest.raises(AccessDenied, match="explicit deny in a resource-based policy"):
        services.list_objects_v2(root, bucket="locked-out")
    assert services.get_bucket_policy(root, bucket="locked-out") == lockout
    services.put_bucket_policy(root, bucket="locked-out", policy=lockout)  # Put too, not only Get and Delete

    # Anyone else of the owner's account, an administrator included, is locked out.
    admin, _ = make_user(root, "admin", policy(allow("*")))
    with pytest.raises(AccessDenied, match="explicit deny in a resource-based policy"):
        services.delete_bucket_policy(admin, bucket="locked-out")

    # An SCP still binds the owner's root.
    scp = classroom_services.create_policy(
        instructor_ctx, classroom.pk, name="NoPolicyEdits", content=policy(deny("s3:PutBucketPolicy"))
    )
    classroom_services.attach_policy(instructor_ctx, classroom.pk, policy_id=scp.policy_id, target_id=root.account_id)
    with pytest.raises(AccessDenied, match="explicit deny in a service control policy"):
        services.put_bucket_policy(root, bucket="locked-out", policy=lockout)
    services.delete_bucket_policy(root, bucket="locked-out")
    services.put_object(root, bucket="locked-out", key="k", body=b"")
