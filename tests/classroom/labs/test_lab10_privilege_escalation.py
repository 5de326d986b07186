"""Lab 10: the instructor starts it (the reset builds the intern's account), the starting state fails every
escalation check, and the fix through the services (a new default version of the policy) passes them all."""

from __future__ import annotations

import json

import pytest

from console.services import user_principal
from core.context import CallContext
from core.errors import AccessDenied
from identities import services as users
from identities.models import IamUser
from policies import services as policies
from tests.classroom.labs.conftest import lab_results, start_lab

SLUG = "privilege-escalation"

FIXED = {
    "Version": "2012-10-17",
    "Statement": [
        {
            "Sid": "ReadTheAccount",
            "Effect": "Allow",
            "Action": ["iam:Get*", "iam:List*", "s3:ListAllMyBuckets", "s3:GetObject"],
            "Resource": "*",
        }
    ],
}


def policy_arn(account_id: str) -> str:
    return f"arn:aws:iam::{account_id}:policy/InternPolicy"


def test_the_starting_state_fails_and_the_fix_passes(student, instructor_ctx, klass):
    start_lab(instructor_ctx, klass, student.account_id, SLUG)
    assert IamUser.objects.in_account(student.account_id).named("intern").exists()
    arn = policy_arn(student.account_id)

    before = lab_results(student.account_id, SLUG)
    assert before["no-pass-role-star"] == (False, "The policy InternPolicy still allows iam:PassRole on any role.")
    assert before["no-policy-rewrites"] == (
        False,
        f"intern can still rewrite managed policies: iam:CreatePolicyVersion on {arn} is allowed.",
    )
    assert before["no-self-grants"] == (
        False,
        "intern can still give itself permissions: iam:AttachUserPolicy on its own user is allowed.",
    )
    assert before["keeps-read-access"][0]

    # The escalation is real: the intern could make itself an administrator.
    intern = CallContext(
        user_principal(IamUser.objects.in_account(student.account_id).get(name="intern")), origin="api"
    )
    policies.create_policy_version(student, policy_arn=arn, policy_document=json.dumps(FIXED), set_as_default=True)

    after = lab_results(student.account_id, SLUG)
    assert all(ok for ok, _ in after.values()), after
    with pytest.raises(AccessDenied):
        policies.attach_user_policy(
            intern, user_name="intern", policy_arn="arn:aws:iam::aws:policy/AdministratorAccess"
        )
    assert users.get_user(intern, user_name="intern").name == "intern"


def test_fixing_the_policy_after_the_intern_escalated_is_not_enough(student, instructor_ctx, klass):
    """The path is real: the intern makes itself an administrator first, then the policy is fixed."""
    start_lab(instructor_ctx, klass, student.account_id, SLUG)
    arn = policy_arn(student.account_id)
    intern = CallContext(
        user_principal(IamUser.objects.in_account(student.account_id).get(name="intern")), origin="api"
    )
    policies.attach_user_policy(intern, user_name="intern", policy_arn="arn:aws:iam::aws:policy/AdministratorAccess")
    policies.create_policy_version(student, policy_arn=arn, policy_document=json.dumps(FIXED), set_as_default=True)

    results = lab_results(student.account_id, SLUG)
    assert results["no-pass-role-star"][0]
    assert results["no-policy-rewrites"] == (
        False,
        f"intern can still rewrite managed policies: iam:CreatePolicyVersion on {arn} is allowed.",
    )
    assert results["no-self-grants"] == (
        False,
        "intern can still give itself permissions: iam:AttachUserPolicy on its own user is allowed.",
    )


def test_closing_only_two_paths_leaves_the_third(student, instructor_ctx, klass):
    start_lab(instructor_ctx, klass, student.account_id, SLUG)
    arn = policy_arn(student.account_id)
    half_fixed = {
        "Version": "2012-10-17",
        "Statement": [
            *FIXED["Statement"],
            {
                "Sid": "ManageOwnPolicies",
                "Effect": "Allow",
                "Action": "iam:AttachUserPolicy",
                "Resource": f"arn:aws:iam::{student.account_id}:user/intern",
            },
        ],
    }
    policies.create_policy_version(student, policy_arn=arn, policy_document=json.dumps(half_fixed), set_as_default=True)

    results = lab_results(student.account_id, SLUG)
    assert results["no-pass-role-star"][0] and results["no-policy-rewrites"][0]
    assert results["no-self-grants"] == (
        False,
        "intern can still give itself permissions: iam:AttachUserPolicy on its own user is allowed.",
    )


def test_detaching_the_whole_policy_takes_the_job_away(student, instructor_ctx, klass):
    start_lab(instructor_ctx, klass, student.account_id, SLUG)
    policies.detach_user_policy(student, user_name="intern", policy_arn=policy_arn(student.account_id))

    results = lab_results(student.account_id, SLUG)
    assert results["no-policy-rewrites"][0] and results["no-self-grants"][0]
    assert results["keeps-read-access"] == (
        False,
        "intern lost access the job needs: iam:GetUser is no longer allowed.",
    )
    # The policy still exists with PassRole on *: detached today, attached to someone tomorrow.
    assert results["no-pass-role-star"] == (False, "The policy InternPolicy still allows iam:PassRole on any role.")


def test_a_pass_role_on_star_in_an_inline_policy_is_found(student, instructor_ctx, klass):
    start_lab(instructor_ctx, klass, student.account_id, SLUG)
    policies.create_policy_version(
        student, policy_arn=policy_arn(student.account_id), policy_document=json.dumps(FIXED), set_as_default=True
    )
    policies.put_user_policy(
        student,
        user_name="intern",
        policy_name="Deployments",
        policy_document=json.dumps(
            {
                "Version": "2012-10-17",
                "Statement": [
                    {
                        "Effect": "Allow",
                        "Action": "iam:PassRole",
                        "Resource": f"arn:aws:iam::{student.account_id}:role/*",
                    }
                ],
            }
        ),
    )

    assert lab_results(student.account_id, SLUG)["no-pass-role-star"] == (
        False,
        "The inline policy Deployments of user intern still allows iam:PassRole on any role.",
    )
