"""Roles and AssumeRole through the operation layer: trust policy and identity policy both decide, durations,
chaining, session policies, expiry at the moment of use, revocation with aws:TokenIssueTime."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest

from audit.models import AuditEvent
from console.services import user_principal
from core import clock
from core.context import CallContext
from core.errors import AccessDenied, DeleteConflict, LimitExceeded, MalformedPolicyDocument, ValidationError
from identities import instance_profiles, roles, services, workflows
from identities.models import InstanceProfile, Role
from policies import services as policy_services
from sts import services as sts
from sts.models import TemporaryCredential

EC2_TRUST = json.dumps(
    {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Principal": {"Service": "ec2.amazonaws.com"}, "Action": "sts:AssumeRole"}],
    }
)


def account_trust(account_id: str, *, mfa: bool = False) -> str:
    statement = {"Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{account_id}:root"}, "Action": "sts:AssumeRole"}
    if mfa:
        statement["Condition"] = {"Bool": {"aws:MultiFactorAuthPresent": "true"}}
    return json.dumps({"Version": "2012-10-17", "Statement": [statement]})


ASSUME_ANY = json.dumps(
    {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "sts:AssumeRole", "Resource": "*"}]}
)


def user_ctx(root_ctx, name: str, *inline_docs: str) -> CallContext:
    user = services.create_user(root_ctx, user_name=name)
    for i, doc in enumerate(inline_docs):
        policy_services.put_user_policy(root_ctx, user_name=name, policy_name=f"p{i}", policy_document=doc)
    return CallContext(user_principal(user), origin="api")


def session_ctx(issued: sts.IssuedCredentials) -> CallContext:
    return CallContext(sts.principal_for(issued.credential), origin="api", access_key_id=issued.access_key_id)


def test_create_role_with_instance_profile_like_the_console(root_ctx, managed_policies):
    role = workflows.create_role_from_wizard(
        root_ctx,
        role_name="S3Reader",
        trust_policy=EC2_TRUST,
        policies=["arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess"],
        instance_profile=True,
    )
    assert role.role_id.startswith("AROA") and role.arn == "arn:aws:iam::111122223333:role/S3Reader"
    profile = InstanceProfile.objects.get(name="S3Reader")
    assert list(profile.roles.all()) == [role] and profile.instance_profile_id.startswith("AIPA")
    with pytest.raises(DeleteConflict, match="must remove roles from instance profile first"):
        roles.delete_role(root_ctx, role_name="S3Reader")
    workflows.delete_role_with_dependents(root_ctx, role_name="S3Reader")
    assert not Role.objects.exists() and not InstanceProfile.objects.exists()


def test_trust_policy_validation(root_ctx):
    with pytest.raises(MalformedPolicyDocument, match="Has prohibited field Resource"):
        roles.create_role(
            root_ctx,
            role_name="r",
            assume_role_policy_document=json.dumps(
                {
                    "Version": "2012-10-17",
                    "Statement": [
                        {
                            "Effect": "Allow",
                            "Principal": {"Service": "ec2.amazonaws.com"},
                            "Action": "sts:AssumeRole",
                            "Resource": "*",
                        }
                    ],
                }
            ),
        )
    with pytest.raises(MalformedPolicyDocument, match="Invalid principal in policy"):
        roles.create_role(
            root_ctx,
            role_name="r",
            assume_role_policy_document=json.dumps(
                {
                    "Version": "2012-10-17",
                    "Statement": [
                        {
                            "Effect": "Allow",
                            "Principal": {"AWS": "arn:aws:iam::111122223333:user/ghost"},
                            "Action": "sts:AssumeRole",
                        }
                    ],
                }
            ),
        )
    assert not Role.objects.exists()


def test_same_account_user_with_permission_assumes_role(root_ctx):
    roles.create_role(root_ctx, role_name="Admin", assume_role_policy_document=account_trust(root_ctx.account_id))
    alice = user_ctx(root_ctx, "alice", ASSUME_ANY)
    issued = sts.assume_role(alice, role_arn="arn:aws:iam::111122223333:role/Admin", role_session_name="alice")
    assert issued.access_key_id.startswith("ASIA") and len(issued.secret_access_key) == 40
    assert issued.credential.arn == "arn:aws:sts::111122223333:assumed-role/Admin/alice"
    assert issued.credential.principal_id.endswith(":alice")
    assert issued.secret_access_key not in issued.credential.secret_encrypted
    event = AuditEvent.objects.get(event_name="AssumeRole")
    assert event.record["eventSource"] == "sts.amazonaws.com"
    assert issued.session_token not in json.dumps(event.record) and issued.secret_access_key not in json.dumps(
        event.record
    )


def test_account_trust_without_identity_permission_is_denied(root_ctx):
    roles.create_role(root_ctx, role_name="Admin", assume_role_policy_document=account_trust(root_ctx.account_id))
    dave = user_ctx(root_ctx, "dave")
    with pytest.raises(AccessDenied, match="is not authorized to perform: sts:AssumeRole"):
        sts.assume_role(dave, role_arn="arn:aws:iam::111122223333:role/Admin", role_session_name="dave")
    assert not TemporaryCredential.objects.exists()


def test_mfa_condition_in_trust_policy(root_ctx):
    roles.create_role(
        root_ctx, role_name="Admin", assume_role_policy_document=account_trust(root_ctx.account_id, mfa=True)
    )
    alice = user_ctx(root_ctx, "alice", ASSUME_ANY)
    with pytest.raises(AccessDenied, match="because no role trust policy allows the sts:AssumeRole action"):
        sts.assume_role(alice, role_arn="arn:aws:iam::111122223333:role/Admin", role_session_name="alice")


def test_duration_bounds_and_chaining(root_ctx):
    roles.create_role(
        root_ctx,
        role_name="Admin",
        assume_role_policy_document=account_trust(root_ctx.account_id),
        max_session_duration=7200,
    )
    alice = user_ctx(root_ctx, "alice", ASSUME_ANY)
    arn = "arn:aws:iam::111122223333:role/Admin"
    with pytest.raises(ValidationError, match="exceeds the MaxSessionDuration set for this role"):
        sts.assume_role(alice, role_arn=arn, role_session_name="s1", duration_seconds=7201)
    with pytest.raises(ValidationError, match="greater than or equal to 900"):
        sts.assume_role(alice, role_arn=arn, role_session_name="s1", duration_seconds=899)
    first = sts.assume_role(alice, role_arn=arn, role_session_name="s1", duration_seconds=7200)
    policy_services.put_role_policy(root_ctx, role_name="Admin", policy_name="chain", policy_document=ASSUME_ANY)
    with pytest.raises(ValidationError, match="1 hour session limit for roles assumed by role chaining"):
        sts.assume_role(session_ctx(first), role_arn=arn, role_session_name="s2", duration_seconds=3601)
    chained = sts.assume_role(session_ctx(first), role_arn=arn, role_session_name="s2")
    assert chained.credential.chained


def test_session_acts_with_role_permissions_and_expires(root_ctx, managed_policies):
    roles.create_role(root_ctx, role_name="Reader", assume_role_policy_document=account_trust(root_ctx.account_id))
    policy_services.attach_role_policy(
        root_ctx, role_name="Reader", policy_arn="arn:aws:iam::aws:policy/IAMReadOnlyAccess"
    )
    alice = user_ctx(root_ctx, "alice", ASSUME_ANY)
    start = clock.now()
    with clock.frozen(start):
        issued = sts.assume_role(
            alice, role_arn="arn:aws:iam::111122223333:role/Reader", role_session_name="alice", duration_seconds=900
        )
        reader = session_ctx(issued)
        assert services.list_users(reader).count() == 1
        with pytest.raises(
            AccessDenied, match="assumed-role/Reader/alice is not authorized to perform: iam:CreateUser"
        ):
            services.create_user(reader, user_name="nope")
    with clock.frozen(start + timedelta(seconds=901)):
        with pytest.raises(sts.ExpiredToken, match="The security token included in the request is expired"):
            sts.principal_for(issued.credential)
        assert sts.expire_sessions() == 1
        assert sts.expire_sessions() == 0
    assert AuditEvent.objects.filter(event_name="SessionExpired").count() == 1


def test_session_policy_narrows_the_role(root_ctx, managed_policies):
    roles.create_role(root_ctx, role_name="Admin", assume_role_policy_document=account_trust(root_ctx.account_id))
    policy_services.attach_role_policy(root_ctx, role_name="Admin", policy_arn="arn:aws:iam::aws:policy/IAMFullAccess")
    alice = user_ctx(root_ctx, "alice", ASSUME_ANY)
    narrow = json.dumps(
        {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "iam:List*", "Resource": "*"}]}
    )
    issued = sts.assume_role(
        alice, role_arn="arn:aws:iam::111122223333:role/Admin", role_session_name="alice", policy=narrow
    )
    ctx = session_ctx(issued)
    services.list_users(ctx)
    with pytest.raises(AccessDenied, match="because no session policy allows the iam:CreateUser action"):
        services.create_user(ctx, user_name="x")


def test_revoke_sessions_refuses_older_sessions_only(root_ctx, managed_policies):
    roles.create_role(root_ctx, role_name="Reader", assume_role_policy_document=account_trust(root_ctx.account_id))
    policy_services.attach_role_policy(
        root_ctx, role_name="Reader", policy_arn="arn:aws:iam::aws:policy/IAMReadOnlyAccess"
    )
    alice = user_ctx(root_ctx, "alice", ASSUME_ANY)
    arn = "arn:aws:iam::111122223333:role/Reader"
    start = clock.now().replace(microsecond=0)
    with clock.frozen(start):
        old = sts.assume_role(alice, role_arn=arn, role_session_name="old")
    with clock.frozen(start + timedelta(seconds=10)):
        workflows.revoke_role_sessions(root_ctx, role_name="Reader")
    with clock.frozen(start + timedelta(seconds=20)):
        new = sts.assume_role(alice, role_arn=arn, role_session_name="new")
        with pytest.raises(AccessDenied, match="with an explicit deny in an identity-based policy"):
            services.list_users(session_ctx(old))
        assert services.list_users(session_ctx(new)).count() == 1


def test_cross_account_needs_both_sides(root_ctx, other_root_ctx):
    roles.create_role(
        root_ctx, role_name="Partner", assume_role_policy_document=account_trust(other_root_ctx.account_id)
    )
    arn = "arn:aws:iam::111122223333:role/Partner"
    bob = user_ctx(other_root_ctx, "bob")
    with pytest.raises(AccessDenied):
        sts.assume_role(bob, role_arn=arn, role_session_name="bob")
    carol = user_ctx(other_root_ctx, "carol", ASSUME_ANY)
    issued = sts.assume_role(carol, role_arn=arn, role_session_name="carol")
    assert issued.credential.account_id == root_ctx.account_id
    outsider = user_ctx(root_ctx, "eve", ASSUME_ANY)
    roles.create_role(
        other_root_ctx, role_name="Private", assume_role_policy_document=account_trust(other_root_ctx.account_id)
    )
    with pytest.raises(AccessDenied):
        sts.assume_role(outsider, role_arn="arn:aws:iam::444455556666:role/Private", role_session_name="eve")


def test_instance_profile_holds_one_role(root_ctx):
    roles.create_role(root_ctx, role_name="a", assume_role_policy_document=EC2_TRUST)
    roles.create_role(root_ctx, role_name="b", assume_role_policy_document=EC2_TRUST)
    instance_profiles.create_instance_profile(root_ctx, instance_profile_name="web")
    instance_profiles.add_role_to_instance_profile(root_ctx, instance_profile_name="web", role_name="a")
    with pytest.raises(LimitExceeded, match="InstanceSessionsPerInstanceProfile: 1"):
        instance_profiles.add_role_to_instance_profile(root_ctx, instance_profile_name="web", role_name="b")
