"""Lab 3 checks the real outcome: an instance launched with the role's instance profile gets role credentials that
S3 lets read the team bucket (the decision the check asks for is the one the instance's calls get), and an
instance without a profile, or whose role EC2 may not assume, or which a bucket policy shuts out, does not pass."""

from __future__ import annotations

import json

import pytest

from core.errors import AccessDenied
from ec2 import instance_credentials
from identities import instance_profiles, roles, workflows
from identities.role_templates import service_trust
from policies import services as policies
from s3 import services as s3
from s3.models import S3Object
from tests.classroom.labs.conftest import lab_results, live_results, start_lab
from tests.classroom.labs.test_lab03_ec2_role import ROLE, S3_READ_ONLY, SLUG, launch, trust


@pytest.fixture
def started(instructor_ctx, klass, student):
    start_lab(instructor_ctx, klass, student.account_id, SLUG)
    return f"team-bucket-{student.account_id}"


def make_role(student) -> None:
    document, _ = service_trust("ec2", "ec2")
    workflows.create_role_from_wizard(
        student, role_name=ROLE, trust_policy=document, policies=[S3_READ_ONLY], instance_profile=True
    )


def test_the_instances_role_credentials_really_read_the_bucket_and_cannot_write_it(student, started):
    assert S3Object.objects.filter(bucket__name=started, key="data/input.csv").exists()
    make_role(student)
    instance = launch(student)

    results = lab_results(student.account_id, SLUG)
    assert all(ok for ok, _ in results.values()), results

    # The credentials EC2 hands the instance do what the check said.
    on_instance = instance_credentials.instance_context(instance, user_agent="lab test")
    assert on_instance.principal.arn.endswith(f"assumed-role/{ROLE}/{instance.instance_id}")
    assert s3.get_object(on_instance, bucket=started, key="data/input.csv").body == b"id,value\n1,42\n"
    with pytest.raises(AccessDenied):
        s3.put_object(on_instance, bucket=started, key="data/output.csv", body=b"no")


def test_an_instance_without_a_profile_does_not_read(student, started):
    make_role(student)
    launch(student, profile=None)
    assert lab_results(student.account_id, SLUG)["instance-reads"] == (
        False,
        "No instance has an instance profile with a role: attach the one of EC2-S3-Reader.",
    )


def test_an_instance_whose_role_ec2_may_not_assume_does_not_read(student, started):
    roles.create_role(
        student, role_name="LambdaReader", assume_role_policy_document=trust({"Service": "lambda.amazonaws.com"})
    )
    policies.attach_role_policy(student, role_name="LambdaReader", policy_arn=S3_READ_ONLY)
    instance_profiles.create_instance_profile(student, instance_profile_name="lambda-profile")
    instance_profiles.add_role_to_instance_profile(
        student, instance_profile_name="lambda-profile", role_name="LambdaReader"
    )
    launch(student, "lambda-profile")
    ok, message = lab_results(student.account_id, SLUG)["instance-reads"]
    assert not ok
    assert message.startswith(f"No instance's role credentials may read {started}")


def test_a_bucket_policy_that_denies_the_role_fails_the_instance_check(student, started):
    make_role(student)
    launch(student)
    role_arn = f"arn:aws:iam::{student.account_id}:role/{ROLE}"
    deny = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Deny",
                "Principal": {"AWS": role_arn},
                "Action": "s3:GetObject",
                "Resource": f"arn:aws:s3:::{started}/*",
            }
        ],
    }
    s3.put_bucket_policy(student, bucket=started, policy=json.dumps(deny))
    results = live_results(student.account_id, SLUG)
    assert not results["instance-reads"][0]
    assert not results["reads-s3"][0]
