"""Lab 1 solved through the services (as the console's Create user wizard does), and wrong attempts."""

from __future__ import annotations

from identities import services as users
from policies import services as policies
from tests.classroom.labs.conftest import lab_results

S3_READ_ONLY = "arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess"


def test_solving_lab_1_passes_every_check(student):
    before = lab_results(student.account_id, "first-user")
    assert not any(ok for ok, _ in before.values())
    assert before["user-exists"][1] == "There is no IAM user named alice yet."

    users.create_user(student, user_name="alice")
    users.create_login_profile(student, user_name="alice", password="Initial-Passw0rd!", password_reset_required=True)
    policies.attach_user_policy(student, user_name="alice", policy_arn=S3_READ_ONLY)

    after = lab_results(student.account_id, "first-user")
    assert all(ok for ok, _ in after.values()), after


def test_administrator_access_is_rejected_as_too_much(student):
    users.create_user(student, user_name="alice")
    users.create_login_profile(student, user_name="alice", password="Initial-Passw0rd!")
    policies.attach_user_policy(student, user_name="alice", policy_arn="arn:aws:iam::aws:policy/AdministratorAccess")

    results = lab_results(student.account_id, "first-user")
    assert results["reads-s3"][0]
    ok, message = results["least-privilege"]
    assert not ok
    bucket = f"team-bucket-{student.account_id}"
    assert message == f"alice can do more than read S3: s3:PutObject on arn:aws:s3:::{bucket}/report.csv is allowed."


def test_a_user_without_a_password_has_no_console_access(student):
    users.create_user(student, user_name="alice")
    ok, message = lab_results(student.account_id, "first-user")["console-access"]
    assert not ok and "no console password" in message
