"""Lab 4 solved through the services with either read-only job-function policy (directly or through a group),
and wrong attempts: PowerUserAccess, an access key, no console password, an S3-only policy."""

from __future__ import annotations

import pytest

from identities import credentials, workflows
from identities import services as users
from policies import services as policies
from tests.classroom.labs.conftest import lab_results

SLUG = "read-only-auditor"
READ_ONLY = "arn:aws:iam::aws:policy/ReadOnlyAccess"
SECURITY_AUDIT = "arn:aws:iam::aws:policy/SecurityAudit"


def auditor_with_console(ctx) -> None:
    users.create_user(ctx, user_name="auditor")
    users.create_login_profile(ctx, user_name="auditor", password="Audit-Passw0rd!", password_reset_required=True)


@pytest.mark.parametrize("policy_arn", [READ_ONLY, SECURITY_AUDIT])
def test_solving_lab_4_passes_every_check(student, policy_arn):
    before = lab_results(student.account_id, SLUG)
    assert not any(ok for ok, _ in before.values()), before
    assert before["auditor-exists"] == (False, "There is no IAM user named auditor yet.")

    auditor_with_console(student)
    policies.attach_user_policy(student, user_name="auditor", policy_arn=policy_arn)

    after = lab_results(student.account_id, SLUG)
    assert all(ok for ok, _ in after.values()), after


def test_an_auditors_group_passes_too(student):
    auditor_with_console(student)
    workflows.create_group_from_console(student, group_name="Auditors", users=["auditor"], policies=[SECURITY_AUDIT])

    assert all(ok for ok, _ in lab_results(student.account_id, SLUG).values())


def test_power_user_access_can_change_things(student):
    auditor_with_console(student)
    policies.attach_user_policy(student, user_name="auditor", policy_arn="arn:aws:iam::aws:policy/PowerUserAccess")

    results = lab_results(student.account_id, SLUG)
    assert results["sees-everything"] == (False, "auditor cannot look at everything yet: iam:ListUsers is not allowed.")
    assert results["changes-nothing"] == (
        False,
        f"auditor can change things: s3:PutObject on arn:aws:s3:::team-bucket-{student.account_id}/report.csv is "
        "allowed.",
    )


def test_an_s3_only_policy_does_not_see_everything(student):
    auditor_with_console(student)
    policies.attach_user_policy(
        student, user_name="auditor", policy_arn="arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess"
    )

    results = lab_results(student.account_id, SLUG)
    assert results["sees-everything"] == (False, "auditor cannot look at everything yet: iam:ListUsers is not allowed.")


def test_an_access_key_or_no_password_is_rejected(student):
    users.create_user(student, user_name="auditor")
    policies.attach_user_policy(student, user_name="auditor", policy_arn=READ_ONLY)
    credentials.create_access_key(student, user_name="auditor")

    results = lab_results(student.account_id, SLUG)
    assert results["changes-nothing"][0] and results["sees-everything"][0]
    assert results["no-access-keys"] == (
        False,
        "auditor has 1 access key: an auditor who works in the console needs no long-term keys that could leak.",
    )
    assert results["console-access"] == (False, "auditor cannot sign in to the console: there is no console password.")


def test_another_students_auditor_does_not_count(student, other_student):
    auditor_with_console(other_student)
    policies.attach_user_policy(other_student, user_name="auditor", policy_arn=READ_ONLY)

    assert all(ok for ok, _ in lab_results(other_student.account_id, SLUG).values())
    assert not any(ok for ok, _ in lab_results(student.account_id, SLUG).values())
