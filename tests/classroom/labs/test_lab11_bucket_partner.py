"""Lab 11 (a bucket policy for the partner's account) between seats 1 and 2 of a class: the bucket policy alone is not
enough, the partner's identity policy alone is not enough, both together pass — and the partner's reader then
really reads the bucket through S3. Grants to everyone, to another classmate or for writing are caught."""

from __future__ import annotations

import json

import pytest

from classroom import services as classroom
from classroom.labs.facts import user_context
from core.errors import AccessDenied
from identities import services as users
from identities.models import IamUser
from policies import services as policies
from s3 import services as s3
from tests.classroom.conftest import root_ctx_of
from tests.classroom.labs.conftest import lab_results, live_results, start_lab

SLUG = "bucket-partner"


@pytest.fixture
def bucket(instructor_ctx, klass, student):
    start_lab(instructor_ctx, klass, student.account_id, SLUG)
    return f"team-bucket-{student.account_id}"


def grant(student, bucket: str, principal: str, actions=("s3:ListBucket", "s3:GetObject")) -> None:
    statements = []
    for action in actions:
        resource = f"arn:aws:s3:::{bucket}" if action == "s3:ListBucket" else f"arn:aws:s3:::{bucket}/*"
        statements.append({"Effect": "Allow", "Principal": {"AWS": principal}, "Action": action, "Resource": resource})
    s3.put_bucket_policy(student, bucket=bucket, policy=json.dumps({"Version": "2012-10-17", "Statement": statements}))


def make_reader(partner, bucket: str):
    users.create_user(partner, user_name="reader")
    document = {
        "Version": "2012-10-17",
        "Statement": [
            {"Effect": "Allow", "Action": "s3:ListBucket", "Resource": f"arn:aws:s3:::{bucket}"},
            {"Effect": "Allow", "Action": "s3:GetObject", "Resource": f"arn:aws:s3:::{bucket}/*"},
        ],
    }
    policies.put_user_policy(
        partner, user_name="reader", policy_name="ReadPartner", policy_document=json.dumps(document)
    )
    return user_context(IamUser.objects.in_account(partner.account_id).get(name="reader"))


def test_both_sides_together_pass_and_the_partner_really_reads(student, other_student, bucket):
    partner = other_student.account_id
    before = lab_results(student.account_id, SLUG)
    assert not any(ok for ok, _ in before.values()), before
    assert before["grants-partner"][1] == f"{bucket} has no bucket policy yet. Your partner's account is {partner}."

    grant(student, bucket, f"arn:aws:iam::{partner}:root")
    half = lab_results(student.account_id, SLUG)
    assert half["grants-partner"][0] and half["read-only-grant"][0] and half["no-stranger"][0]
    assert half["partner-can-read"] == (
        False,
        f"Your partner's account has no IAM user or role yet that could read {bucket}.",
    )

    reader = make_reader(other_student, bucket)
    ready = lab_results(student.account_id, SLUG)
    assert all(ok for key, (ok, _) in ready.items() if key != "partner-read"), ready
    assert ready["partner-read"] == (False, f"Your partner has not read an object of {bucket} yet.")

    assert s3.get_object(reader, bucket=bucket, key="report.csv").body.startswith(b"month,revenue")
    with pytest.raises(AccessDenied):
        s3.put_object(reader, bucket=bucket, key="report.csv", body=b"no")
    after = lab_results(student.account_id, SLUG)
    assert all(ok for ok, _ in after.values()), after
    assert after["partner-read"][1] == f"Your partner has read an object of {bucket}."


def test_the_partners_own_policy_alone_is_not_enough(student, other_student, bucket):
    reader = make_reader(other_student, bucket)
    results = lab_results(student.account_id, SLUG)
    assert not results["partner-can-read"][0]
    assert "your bucket policy must admit their account" in results["partner-can-read"][1]
    with pytest.raises(AccessDenied):
        s3.get_object(reader, bucket=bucket, key="report.csv")
    ok, message = lab_results(student.account_id, SLUG)["partner-read"]
    assert not ok and message.startswith(f"Your partner tried to read an object of {bucket} and was denied")


def test_a_public_grant_admits_strangers(student, other_student, bucket):
    grant(student, bucket, "*")
    results = live_results(student.account_id, SLUG)
    assert results["grants-partner"][0]
    assert results["no-stranger"] == (
        False,
        f"The bucket policy of {bucket} also admits the account 999999999999, which is not your partner's.",
    )


def test_a_grant_to_another_classmate_is_caught(student, students, bucket):
    third = students[3].account_id
    grant(student, bucket, [f"arn:aws:iam::{students[2].account_id}:root", f"arn:aws:iam::{third}:root"])
    assert live_results(student.account_id, SLUG)["no-stranger"] == (
        False,
        f"The bucket policy of {bucket} also admits the account {third}, which is not your partner's.",
    )


def test_a_grant_that_lets_the_partner_write_is_caught(student, other_student, bucket):
    grant(
        student,
        bucket,
        f"arn:aws:iam::{other_student.account_id}:root",
        ("s3:ListBucket", "s3:GetObject", "s3:PutObject"),
    )
    assert live_results(student.account_id, SLUG)["read-only-grant"] == (
        False,
        f"The bucket policy also lets your partner's account s3:PutObject on arn:aws:s3:::{bucket}/report.csv.",
    )


def test_a_class_of_one_has_no_partner(instructor_ctx):
    _, issued = classroom.create_class(instructor_ctx, title="Private lesson", students=1, alias_prefix="solo")
    alone = root_ctx_of(issued[0].seat.account_id)
    results = lab_results(alone.account_id, SLUG)
    assert results["grants-partner"] == (
        False,
        "This lab needs a partner — the next student by seat number in your class — and your class has no "
        "other student: ask your instructor.",
    )
    assert results["partner-can-read"][1] == results["grants-partner"][1]
