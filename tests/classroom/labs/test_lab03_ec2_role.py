"""Lab 3 solved through the services (the Create role wizard with the EC2 use case), and wrong attempts: a trust
policy shared with Lambda or with the account, S3 full access, and a role made through the API without its
instance profile."""

from __future__ import annotations

import json

from ec2 import services as ec2
from identities import instance_profiles, roles, workflows
from identities.role_templates import service_trust
from policies import services as policies
from tests.classroom.labs.conftest import lab_results

SLUG = "ec2-role"
ROLE = "EC2-S3-Reader"
S3_READ_ONLY = "arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess"
IMAGE = "ami-0a3c3a20c09d6f377"


def launch(ctx, profile: str | None = ROLE):
    """RunInstances, with the instance profile named ``profile`` (the console's Launch instance page)."""
    spec = {"Name": profile} if profile else None
    return ec2.run_instances(ctx, image_id=IMAGE, min_count=1, max_count=1, iam_instance_profile=spec)[0]


def trust(principal: dict) -> str:
    return json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [{"Effect": "Allow", "Principal": principal, "Action": "sts:AssumeRole"}],
        }
    )


def test_solving_lab_3_passes_every_check(student):
    before = lab_results(student.account_id, SLUG)
    assert not any(ok for ok, _ in before.values()), before
    assert before["role-exists"] == (False, "There is no role named EC2-S3-Reader yet.")

    document, use_case = service_trust("ec2", "ec2")
    workflows.create_role_from_wizard(
        student,
        role_name=ROLE,
        trust_policy=document,
        policies=[S3_READ_ONLY],
        instance_profile=use_case.instance_profile,
    )
    assert lab_results(student.account_id, SLUG)["instance-reads"] == (
        False,
        "No instance is launched yet: launch one with the instance profile of EC2-S3-Reader.",
    )
    instance = launch(student)

    after = lab_results(student.account_id, SLUG)
    assert all(ok for ok, _ in after.values()), after
    assert after["instance-profile"][1] == (
        "The instance profile EC2-S3-Reader contains EC2-S3-Reader: instances can be launched with it."
    )
    assert after["instance-reads"][1] == (
        f"The role credentials of {instance.instance_id} can read team-bucket-{student.account_id}."
    )


def test_an_inline_read_policy_and_an_api_made_profile_also_pass(student):
    roles.create_role(student, role_name=ROLE, assume_role_policy_document=trust({"Service": "ec2.amazonaws.com"}))
    policies.put_role_policy(
        student,
        role_name=ROLE,
        policy_name="ReadTeamBucket",
        policy_document=json.dumps(
            {
                "Version": "2012-10-17",
                "Statement": [
                    {
                        "Effect": "Allow",
                        "Action": ["s3:ListBucket", "s3:GetObject"],
                        "Resource": [
                            f"arn:aws:s3:::team-bucket-{student.account_id}",
                            f"arn:aws:s3:::team-bucket-{student.account_id}/*",
                        ],
                    }
                ],
            }
        ),
    )
    instance_profiles.create_instance_profile(student, instance_profile_name="app-servers")
    instance_profiles.add_role_to_instance_profile(student, instance_profile_name="app-servers", role_name=ROLE)
    launch(student, "app-servers")

    assert all(ok for ok, _ in lab_results(student.account_id, SLUG).values())


def test_a_trust_policy_shared_with_lambda_is_rejected(student):
    workflows.create_role_from_wizard(
        student,
        role_name=ROLE,
        policies=[S3_READ_ONLY],
        instance_profile=True,
        trust_policy=trust({"Service": ["ec2.amazonaws.com", "lambda.amazonaws.com"]}),
    )

    results = lab_results(student.account_id, SLUG)
    assert results["ec2-can-assume"][0]
    assert results["only-ec2"] == (
        False,
        "The trust policy also lets lambda.amazonaws.com assume EC2-S3-Reader: only EC2 should.",
    )


def test_a_trust_policy_that_also_names_the_account_is_rejected(student):
    both = {"Service": "ec2.amazonaws.com", "AWS": f"arn:aws:iam::{student.account_id}:root"}
    workflows.create_role_from_wizard(
        student, role_name=ROLE, policies=[S3_READ_ONLY], instance_profile=True, trust_policy=trust(both)
    )

    assert lab_results(student.account_id, SLUG)["only-ec2"] == (
        False,
        "The trust policy also lets users and roles of this account assume EC2-S3-Reader: only EC2 should.",
    )


def test_a_trust_policy_for_lambda_only_does_not_let_ec2_in(student):
    workflows.create_role_from_wizard(
        student, role_name=ROLE, policies=[S3_READ_ONLY], trust_policy=trust({"Service": "lambda.amazonaws.com"})
    )

    results = lab_results(student.account_id, SLUG)
    assert results["ec2-can-assume"] == (
        False,
        "The trust policy of EC2-S3-Reader does not let EC2 (ec2.amazonaws.com) assume the role.",
    )


def test_s3_full_access_can_write(student):
    document, _ = service_trust("ec2", "ec2")
    workflows.create_role_from_wizard(
        student,
        role_name=ROLE,
        trust_policy=document,
        instance_profile=True,
        policies=["arn:aws:iam::aws:policy/AmazonS3FullAccess"],
    )

    results = lab_results(student.account_id, SLUG)
    assert results["reads-s3"][0]
    assert results["cannot-write"] == (
        False,
        "A session of EC2-S3-Reader can change S3: s3:PutObject on "
        f"arn:aws:s3:::team-bucket-{student.account_id}/data/output.csv is allowed.",
    )


def test_a_role_without_an_instance_profile_is_rejected(student):
    """CreateRole through the API (or Custom trust policy) makes no instance profile."""
    roles.create_role(student, role_name=ROLE, assume_role_policy_document=trust({"Service": "ec2.amazonaws.com"}))
    policies.attach_role_policy(student, role_name=ROLE, policy_arn=S3_READ_ONLY)
    results = lab_results(student.account_id, SLUG)
    assert results["instance-profile"] == (
        False,
        "No instance profile contains EC2-S3-Reader: an EC2 instance can only use a role through one.",
    )

    instance_profiles.create_instance_profile(student, instance_profile_name=ROLE)
    assert lab_results(student.account_id, SLUG)["instance-profile"] == (
        False,
        "The instance profile EC2-S3-Reader exists but does not contain the role.",
    )


def test_another_students_role_does_not_count(student, other_student):
    document, _ = service_trust("ec2", "ec2")
    workflows.create_role_from_wizard(
        other_student, role_name=ROLE, trust_policy=document, policies=[S3_READ_ONLY], instance_profile=True
    )
    launch(other_student)

    assert all(ok for ok, _ in lab_results(other_student.account_id, SLUG).values())
    assert not any(ok for ok, _ in lab_results(student.account_id, SLUG).values())
