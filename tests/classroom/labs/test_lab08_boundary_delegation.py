"""Lab 8 solved through the services, with the help desk then creating users for real, and wrong attempts."""

from __future__ import annotations

import json

import pytest

from console.services import user_principal
from core.context import CallContext
from core.errors import AccessDenied
from identities import services as users
from identities.models import IamUser
from policies import services as policies
from tests.classroom.labs.conftest import lab_results

SLUG = "boundary-delegation"

DEVELOPER_BOUNDARY = json.dumps(
    {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Action": ["s3:*", "ec2:*", "cloudwatch:*"], "Resource": "*"}],
    }
)


def helpdesk_policy(account_id: str, boundary_arn: str) -> str:
    return json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Sid": "CreateUsersInsideTheBoundary",
                    "Effect": "Allow",
                    "Action": ["iam:CreateUser", "iam:PutUserPermissionsBoundary"],
                    "Resource": f"arn:aws:iam::{account_id}:user/*",
                    "Condition": {"StringEquals": {"iam:PermissionsBoundary": boundary_arn}},
                },
                {
                    "Sid": "LookAround",
                    "Effect": "Allow",
                    "Action": ["iam:GetUser", "iam:ListUsers", "iam:ListPolicies"],
                    "Resource": "*",
                },
                {
                    "Sid": "LeaveTheBoundaryAlone",
                    "Effect": "Deny",
                    "Action": [
                        "iam:CreatePolicyVersion",
                        "iam:SetDefaultPolicyVersion",
                        "iam:DeletePolicyVersion",
                        "iam:DeletePolicy",
                    ],
                    "Resource": boundary_arn,
                },
                {
                    "Sid": "NeverRemoveBoundaries",
                    "Effect": "Deny",
                    "Action": "iam:DeleteUserPermissionsBoundary",
                    "Resource": "*",
                },
            ],
        }
    )


def create_boundary(student) -> str:
    return policies.create_policy(student, policy_name="DeveloperBoundary", policy_document=DEVELOPER_BOUNDARY).arn


def test_solving_lab_8_passes_every_check(student):
    before = lab_results(student.account_id, SLUG)
    assert not any(ok for ok, _ in before.values())
    assert before["boundary-policy"][1] == "There is no customer managed policy named DeveloperBoundary yet."

    boundary = create_boundary(student)
    helpdesk = users.create_user(student, user_name="helpdesk")
    policies.put_user_policy(
        student,
        user_name="helpdesk",
        policy_name="DelegatedUserCreation",
        policy_document=helpdesk_policy(student.account_id, boundary),
    )

    after = lab_results(student.account_id, SLUG)
    assert all(ok for ok, _ in after.values()), after

    # The help desk at work: a user inside the boundary is created; one without it, or a widened boundary, is not.
    desk = CallContext(user_principal(helpdesk), origin="api")
    created = users.create_user(desk, user_name="new-developer", permissions_boundary=boundary)
    assert created.permissions_boundary.arn == boundary
    with pytest.raises(AccessDenied):
        users.create_user(desk, user_name="free-developer")
    with pytest.raises(AccessDenied):
        users.delete_user_permissions_boundary(desk, user_name="new-developer")
    with pytest.raises(AccessDenied):
        policies.create_policy_version(
            desk,
            policy_arn=boundary,
            policy_document=json.dumps(
                {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}
            ),
            set_as_default=True,
        )
    assert not IamUser.objects.in_account(student.account_id).named("free-developer").exists()


def test_iam_full_access_lets_the_help_desk_skip_the_boundary(student):
    create_boundary(student)
    users.create_user(student, user_name="helpdesk")
    policies.attach_user_policy(student, user_name="helpdesk", policy_arn="arn:aws:iam::aws:policy/IAMFullAccess")

    results = lab_results(student.account_id, SLUG)
    assert results["creates-with-boundary"][0]
    assert results["only-with-boundary"] == (False, "helpdesk can create a user without a permissions boundary.")
    assert results["boundary-protected"] == (
        False,
        "helpdesk can iam:CreatePolicyVersion on DeveloperBoundary: the boundary could be widened from the inside.",
    )
    assert results["boundaries-stay"] == (
        False,
        "helpdesk can remove a user's permissions boundary (iam:DeleteUserPermissionsBoundary).",
    )


def test_a_condition_on_any_boundary_is_not_enough(student):
    """Requiring *a* boundary (StringLike on any ARN) lets the help desk pick AdministratorAccess as one."""
    boundary = create_boundary(student)
    users.create_user(student, user_name="helpdesk")
    document = json.loads(helpdesk_policy(student.account_id, boundary))
    document["Statement"][0]["Condition"] = {"StringLike": {"iam:PermissionsBoundary": "arn:aws:iam::*"}}
    policies.put_user_policy(
        student, user_name="helpdesk", policy_name="DelegatedUserCreation", policy_document=json.dumps(document)
    )

    results = lab_results(student.account_id, SLUG)
    assert results["only-with-boundary"] == (
        False,
        "helpdesk can iam:CreateUser with AdministratorAccess as the boundary.",
    )


def test_a_boundary_that_allows_iam_is_rejected(student):
    policies.create_policy(
        student,
        policy_name="DeveloperBoundary",
        policy_document=json.dumps(
            {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}
        ),
    )
    ok, message = lab_results(student.account_id, SLUG)["boundary-policy"]
    assert not ok
    assert message == "DeveloperBoundary allows iam:CreateUser: a developer inside it could still manage IAM."
