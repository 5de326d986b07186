"""Lab 1 checks the real outcome: its start has the team's bucket, and "alice reads team-bucket and cannot write it"
is what S3 then does to alice's own calls — a bucket policy that denies her reads, or grants her writes, decides
the checks as it decides the calls."""

from __future__ import annotations

import json

import pytest

from classroom.labs.facts import user_context
from core.errors import AccessDenied
from identities import services as users
from identities.models import IamUser
from policies import services as policies
from s3 import services as s3
from s3.models import Bucket, S3Object
from tests.classroom.labs.conftest import lab_results, live_results, start_lab

SLUG = "first-user"
S3_READ_ONLY = "arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess"


def solve(student) -> None:
    users.create_user(student, user_name="alice")
    users.create_login_profile(student, user_name="alice", password="Initial-Passw0rd!", password_reset_required=True)
    policies.attach_user_policy(student, user_name="alice", policy_arn=S3_READ_ONLY)


def alice(student):
    return user_context(IamUser.objects.in_account(student.account_id).get(name="alice"))


def bucket_policy(account_id: str, effect: str, action: str) -> str:
    bucket = f"team-bucket-{account_id}"
    return json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Effect": effect,
                    "Principal": {"AWS": f"arn:aws:iam::{account_id}:user/alice"},
                    "Action": action,
                    "Resource": f"arn:aws:s3:::{bucket}/*",
                }
            ],
        }
    )


@pytest.fixture
def started(instructor_ctx, klass, student):
    start_lab(instructor_ctx, klass, student.account_id, SLUG)
    return f"team-bucket-{student.account_id}"


def test_the_start_holds_the_team_bucket_and_alice_really_reads_it_and_cannot_write_it(student, started):
    bucket = Bucket.objects.get(name=started)
    assert bucket.account_id == student.account_id
    assert S3Object.objects.filter(bucket=bucket, key="report.csv").exists()

    solve(student)
    results = lab_results(student.account_id, SLUG)
    assert all(ok for ok, _ in results.values()), results
    assert results["reads-s3"][1] == f"alice can list {started} and read its objects."

    # What the checks said is what S3 does to alice's calls.
    assert s3.get_object(alice(student), bucket=started, key="report.csv").body.startswith(b"month,revenue")
    with pytest.raises(AccessDenied):
        s3.put_object(alice(student), bucket=started, key="report.csv", body=b"overwritten")


def test_a_bucket_policy_that_denies_alice_fails_the_reading_checks(student, started):
    solve(student)
    s3.put_bucket_policy(student, bucket=started, policy=bucket_policy(student.account_id, "Deny", "s3:GetObject"))

    results = live_results(student.account_id, SLUG)
    assert results["reads-s3"] == (False, f"alice is not allowed s3:GetObject on arn:aws:s3:::{started}/report.csv.")
    assert results["least-privilege"] == (
        False,
        f"alice cannot read {started} (s3:GetObject): least privilege still means enough to work.",
    )
    with pytest.raises(AccessDenied):
        s3.get_object(alice(student), bucket=started, key="report.csv")


def test_a_bucket_policy_that_lets_alice_write_fails_least_privilege(student, started):
    solve(student)
    s3.put_bucket_policy(student, bucket=started, policy=bucket_policy(student.account_id, "Allow", "s3:PutObject"))

    ok, message = live_results(student.account_id, SLUG)["least-privilege"]
    assert not ok
    assert message == f"alice can do more than read S3: s3:PutObject on arn:aws:s3:::{started}/report.csv is allowed."
    s3.put_object(alice(student), bucket=started, key="report.csv", body=b"she can, indeed")


def test_without_the_bucket_the_checks_judge_the_accounts_own_bucket_with_no_policy(student):
    """A student who did not load the start: alice's read-only policy still reads a bucket of that name."""
    solve(student)
    assert not Bucket.objects.filter(account_id=student.account_id).exists()
    results = lab_results(student.account_id, SLUG)
    assert all(ok for ok, _ in results.values()), results
