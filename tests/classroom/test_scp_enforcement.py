"""Service control policies are enforced by the engine on every call of a member account (root included); the
management account is exempt."""

from __future__ import annotations

import json

import pytest

from classroom import services
from classroom.errors import ConstraintViolationException, DuplicatePolicyAttachmentException
from classroom.models import FULL_AWS_ACCESS_ID
from core.context import CallContext
from core.errors import AccessDenied, MalformedPolicyDocument
from identities import services as identity_services
from identities.models import IamUser
from policies import services as policy_services
from policies.authz import scp_levels
from tests.console.test_user_signin import make_user

DENY_CREATE_USER = json.dumps(
    {"Version": "2012-10-17", "Statement": [{"Effect": "Deny", "Action": "iam:CreateUser", "Resource": "*"}]}
)
DENY_NOTHING_USEFUL = json.dumps(
    {"Version": "2012-10-17", "Statement": [{"Effect": "Deny", "Action": "ec2:TerminateInstances", "Resource": "*"}]}
)


def _user_ctx(account_id: str, name: str) -> CallContext:
    from console.services import user_principal

    return CallContext(user_principal(IamUser.objects.in_account(account_id).get(name=name)), origin="console")


def test_scp_deny_binds_member_root_and_iam_users(klass, instructor_ctx, students):
    classroom, issued = klass
    student = students[1]
    make_user(student, "alice", "IAMFullAccess")  # allowed before the SCP
    scp = services.create_policy(instructor_ctx, classroom.pk, name="NoUsers", content=DENY_CREATE_USER)
    services.attach_policy(instructor_ctx, classroom.pk, policy_id=scp.policy_id, target_id=student.account_id)

    with pytest.raises(AccessDenied) as root_denied:
        identity_services.create_user(student, user_name="bob")
    assert root_denied.value.message.endswith("with an explicit deny in a service control policy")
    assert f"User: arn:aws:iam::{student.account_id}:root is not authorized to perform: iam:CreateUser" in (
        root_denied.value.message
    )

    with pytest.raises(AccessDenied) as user_denied:
        identity_services.create_user(_user_ctx(student.account_id, "alice"), user_name="bob")
    assert user_denied.value.message.endswith("with an explicit deny in a service control policy")

    # Other actions still work, and other students are untouched.
    identity_services.create_group(student, group_name="devs")
    identity_services.create_user(students[2], user_name="bob")


def test_scp_on_the_root_or_an_ou_binds_the_accounts_below(klass, instructor_ctx, students):
    classroom, _ = klass
    root_id = classroom.organization.root.id
    unit = services.create_organizational_unit(instructor_ctx, classroom.pk, parent_id=root_id, name="Team A")
    services.move_account(
        instructor_ctx, classroom.pk, account_id=students[1].account_id, destination_parent_id=unit.id
    )
    scp = services.create_policy(instructor_ctx, classroom.pk, name="NoUsers", content=DENY_CREATE_USER)
    services.attach_policy(instructor_ctx, classroom.pk, policy_id=scp.policy_id, target_id=unit.id)
    with pytest.raises(AccessDenied):
        identity_services.create_user(students[1], user_name="x")
    identity_services.create_user(students[2], user_name="x")  # not in the OU

    levels, management = scp_levels(students[1].account_id)
    assert management == classroom.organization.management_account_id
    assert len(levels) == 3  # root, Team A, the account

    services.attach_policy(instructor_ctx, classroom.pk, policy_id=scp.policy_id, target_id=root_id)
    with pytest.raises(AccessDenied):
        identity_services.create_user(students[3], user_name="y")


def test_without_an_allowing_scp_nothing_is_allowed(klass, instructor_ctx, students):
    classroom, _ = klass
    student = students[1]
    with pytest.raises(ConstraintViolationException):  # the last SCP of a target can't be detached
        services.detach_policy(instructor_ctx, classroom.pk, policy_id=FULL_AWS_ACCESS_ID, target_id=student.account_id)
    other = services.create_policy(instructor_ctx, classroom.pk, name="DenyEc2", content=DENY_NOTHING_USEFUL)
    services.attach_policy(instructor_ctx, classroom.pk, policy_id=other.policy_id, target_id=student.account_id)
    services.detach_policy(instructor_ctx, classroom.pk, policy_id=FULL_AWS_ACCESS_ID, target_id=student.account_id)

    with pytest.raises(AccessDenied) as denied:
        identity_services.create_user(student, user_name="bob")
    assert denied.value.message.endswith("because no service control policy allows the iam:CreateUser action")
    with pytest.raises(AccessDenied):
        identity_services.list_users(student)
    identity_services.create_user(students[2], user_name="bob")  # the neighbour keeps FullAWSAccess


def test_management_account_is_exempt(klass, instructor_ctx, instructor):
    classroom, _ = klass
    scp = services.create_policy(instructor_ctx, classroom.pk, name="NoUsers", content=DENY_CREATE_USER)
    services.attach_policy(
        instructor_ctx, classroom.pk, policy_id=scp.policy_id, target_id=classroom.organization.root.id
    )
    identity_services.create_user(instructor_ctx, user_name="assistant")
    policy_services.attach_user_policy(
        instructor_ctx, user_name="assistant", policy_arn="arn:aws:iam::aws:policy/AdministratorAccess"
    )
    identity_services.create_user(_user_ctx(instructor.id, "assistant"), user_name="assistant2")


def test_scp_editor_rules(klass, instructor_ctx):
    classroom, _ = klass
    with pytest.raises(MalformedPolicyDocument):
        services.create_policy(instructor_ctx, classroom.pk, name="Bad", content='{"Statement": [}')
    scp = services.create_policy(instructor_ctx, classroom.pk, name="NoUsers", content=DENY_CREATE_USER)
    root_id = classroom.organization.root.id
    services.attach_policy(instructor_ctx, classroom.pk, policy_id=scp.policy_id, target_id=root_id)
    with pytest.raises(DuplicatePolicyAttachmentException):
        services.attach_policy(instructor_ctx, classroom.pk, policy_id=scp.policy_id, target_id=root_id)
    with pytest.raises(AccessDenied):
        services.update_policy(instructor_ctx, classroom.pk, policy_id=FULL_AWS_ACCESS_ID, content=DENY_CREATE_USER)


def test_a_policy_change_takes_effect_on_the_next_call(klass, instructor_ctx, students):
    classroom, _ = klass
    scp = services.create_policy(instructor_ctx, classroom.pk, name="Soon", content=DENY_NOTHING_USEFUL)
    services.attach_policy(instructor_ctx, classroom.pk, policy_id=scp.policy_id, target_id=students[1].account_id)
    identity_services.create_user(students[1], user_name="one")
    services.update_policy(instructor_ctx, classroom.pk, policy_id=scp.policy_id, content=DENY_CREATE_USER)
    with pytest.raises(AccessDenied):
        identity_services.create_user(students[1], user_name="two")


def test_accounts_outside_organizations_have_no_scps(account):
    assert scp_levels(account.id) == (None, None)
