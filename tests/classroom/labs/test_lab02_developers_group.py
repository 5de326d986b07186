"""Lab 2 solved through the services (as the console's Create user group page does), and wrong attempts: a group
with AdministratorAccess, permissions left on Alice directly, Carol in the group, and the solution built in
another student's account."""

from __future__ import annotations

import json

from identities import services as users
from identities import workflows
from policies import services as policies
from tests.classroom.labs.conftest import lab_results, start_lab

SLUG = "developers-group"
EC2_FULL = "arn:aws:iam::aws:policy/AmazonEC2FullAccess"
S3_READ_ONLY = "arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess"
ADMIN = "arn:aws:iam::aws:policy/AdministratorAccess"
DEV_BUCKETS = json.dumps(
    {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "DevBuckets",
                "Effect": "Allow",
                "Action": "s3:*",
                "Resource": ["arn:aws:s3:::dev-*", "arn:aws:s3:::dev-*/*"],
            }
        ],
    }
)


def dev_buckets_policy(ctx) -> str:
    return policies.create_policy(ctx, policy_name="DevBucketsAccess", policy_document=DEV_BUCKETS).arn


def solve(ctx) -> None:
    """Create user group with both members and both policies, then remove Alice's direct attachment."""
    s3_policy = dev_buckets_policy(ctx)
    workflows.create_group_from_console(
        ctx, group_name="Developers", users=["alice", "bob"], policies=[EC2_FULL, s3_policy]
    )
    policies.detach_user_policy(ctx, user_name="alice", policy_arn=S3_READ_ONLY)


def test_solving_lab_2_passes_every_check(student, instructor_ctx, klass):
    start_lab(instructor_ctx, klass, student.account_id, SLUG)
    before = lab_results(student.account_id, SLUG)
    assert not any(ok for ok, _ in before.values()), before
    assert before["group-exists"] == (False, "There is no user group named Developers yet.")

    solve(student)

    after = lab_results(student.account_id, SLUG)
    assert all(ok for ok, _ in after.values()), after


def test_the_starting_state_is_lab_1s_end_with_bob_and_carol(student, instructor_ctx, klass):
    start_lab(instructor_ctx, klass, student.account_id, SLUG)
    assert sorted(u.name for u in users.list_users(student)) == ["alice", "bob", "carol"]
    assert [p.arn for p in policies.list_attached_user_policies(student, user_name="alice")] == [S3_READ_ONLY]


def test_a_permission_left_on_alice_is_rejected(student, instructor_ctx, klass):
    start_lab(instructor_ctx, klass, student.account_id, SLUG)
    workflows.create_group_from_console(
        student, group_name="Developers", users=["alice", "bob"], policies=[EC2_FULL, dev_buckets_policy(student)]
    )

    results = lab_results(student.account_id, SLUG)
    assert results["developers-can-work"][0] and results["group-grants-work"][0]
    assert results["not-attached-directly"] == (
        False,
        "alice still has AmazonS3ReadOnlyAccess attached directly: a developer's permissions should come from "
        "Developers only (IAMUserChangePassword may stay).",
    )


def test_administrator_access_on_the_group_is_too_much(student, instructor_ctx, klass):
    start_lab(instructor_ctx, klass, student.account_id, SLUG)
    workflows.create_group_from_console(student, group_name="Developers", users=["alice", "bob"], policies=[ADMIN])
    policies.detach_user_policy(student, user_name="alice", policy_arn=S3_READ_ONLY)

    results = lab_results(student.account_id, SLUG)
    assert results["developers-can-work"][0] and results["not-attached-directly"][0]
    assert results["least-privilege"] == (
        False,
        "Members of Developers can do more than developers need: s3:GetObject on "
        "arn:aws:s3:::finance-reports/2024-q3.xlsx is allowed.",
    )


def test_s3_on_every_bucket_is_too_much(student, instructor_ctx, klass):
    start_lab(instructor_ctx, klass, student.account_id, SLUG)
    workflows.create_group_from_console(
        student,
        group_name="Developers",
        users=["alice", "bob"],
        policies=[EC2_FULL, "arn:aws:iam::aws:policy/AmazonS3FullAccess"],
    )
    policies.detach_user_policy(student, user_name="alice", policy_arn=S3_READ_ONLY)

    ok, message = lab_results(student.account_id, SLUG)["least-privilege"]
    assert not ok and "finance-reports" in message


def test_carol_in_the_group_or_with_her_own_policy_is_rejected(student, instructor_ctx, klass):
    start_lab(instructor_ctx, klass, student.account_id, SLUG)
    solve(student)
    users.add_user_to_group(student, group_name="Developers", user_name="carol")
    assert lab_results(student.account_id, SLUG)["nobody-else"] == (
        False,
        "carol is a member of Developers but is not a developer.",
    )

    users.remove_user_from_group(student, group_name="Developers", user_name="carol")
    policies.attach_user_policy(student, user_name="carol", policy_arn=EC2_FULL)
    assert lab_results(student.account_id, SLUG)["nobody-else"] == (
        False,
        "carol is not a developer but is allowed ec2:RunInstances on "
        f"arn:aws:ec2:us-east-1:{student.account_id}:instance/i-0123456789abcdef0.",
    )


def test_only_alice_in_the_group_is_not_enough(student, instructor_ctx, klass):
    start_lab(instructor_ctx, klass, student.account_id, SLUG)
    workflows.create_group_from_console(
        student, group_name="Developers", users=["alice"], policies=[EC2_FULL, dev_buckets_policy(student)]
    )
    results = lab_results(student.account_id, SLUG)
    assert results["members"] == (False, "bob is not a member of Developers yet.")
    assert results["developers-can-work"] == (
        False,
        "bob is not allowed ec2:RunInstances on "
        f"arn:aws:ec2:us-east-1:{student.account_id}:instance/"
        "i-0123456789abcdef0.",
    )


def test_another_students_group_does_not_count(student, other_student, instructor_ctx, klass):
    for ctx in (student, other_student):
        start_lab(instructor_ctx, klass, ctx.account_id, SLUG)
    solve(other_student)

    assert all(ok for ok, _ in lab_results(other_student.account_id, SLUG).values())
    mine = lab_results(student.account_id, SLUG)
    assert not any(ok for ok, _ in mine.values()), mine


def test_alice_keeps_iam_user_change_password_from_lab_1(student, instructor_ctx, klass):
    """Lab 1's "must create a new password" attaches IAMUserChangePassword; removing it would lock alice out of
    her first sign-in, so lab 2 passes with it still attached to her."""
    start_lab(instructor_ctx, klass, student.account_id, SLUG)
    users.create_login_profile(student, user_name="alice", password="Initial-Passw0rd!", password_reset_required=True)
    policies.attach_user_policy(
        student, user_name="alice", policy_arn=users.CHANGE_PASSWORD_POLICY_ARN
    )  # as the wizard
    names = [p.name for p in policies.list_attached_user_policies(student, user_name="alice")]
    assert "IAMUserChangePassword" in names
    solve(student)
    results = lab_results(student.account_id, SLUG)
    assert all(ok for ok, _ in results.values()), results
