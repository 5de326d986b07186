"""Managed and inline policies through the operation layer: documents, sizes, versions, attachments, quotas."""

from __future__ import annotations

import json

import pytest

from audit.models import AuditEvent
from core.errors import (
    AccessDenied,
    DeleteConflict,
    EntityAlreadyExists,
    LimitExceeded,
    MalformedPolicyDocument,
    NoSuchEntity,
)
from identities import services as identity_services
from policies import services
from policies.models import ManagedPolicy, PolicyVersion, UserPolicyAttachment

S3_READ = json.dumps(
    {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"}]}
)
S3_WRITE = json.dumps(
    {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:PutObject", "Resource": "*"}]}
)


def test_create_policy_and_versions(root_ctx):
    policy = services.create_policy(root_ctx, policy_name="TeamRead", policy_document=S3_READ, description="read")
    assert policy.arn == "arn:aws:iam::111122223333:policy/TeamRead"
    assert policy.policy_id.startswith("ANPA")
    v2 = services.create_policy_version(root_ctx, policy_arn=policy.arn, policy_document=S3_WRITE, set_as_default=True)
    assert v2.version_id == "v2"
    policy.refresh_from_db()
    assert policy.default_version_id == "v2"
    assert PolicyVersion.objects.get(policy=policy, is_default=True).version_id == "v2"
    with pytest.raises(DeleteConflict, match="Cannot delete the default version of a policy."):
        services.delete_policy_version(root_ctx, policy_arn=policy.arn, version_id="v2")
    services.set_default_policy_version(root_ctx, policy_arn=policy.arn, version_id="v1")
    services.delete_policy_version(root_ctx, policy_arn=policy.arn, version_id="v2")
    assert [v.version_id for v in services.list_policy_versions(root_ctx, policy_arn=policy.arn)] == ["v1"]


def test_five_versions_at_most(root_ctx):
    policy = services.create_policy(root_ctx, policy_name="Many", policy_document=S3_READ)
    for _ in range(4):
        services.create_policy_version(root_ctx, policy_arn=policy.arn, policy_document=S3_WRITE)
    with pytest.raises(LimitExceeded, match="A managed policy can have up to 5 versions"):
        services.create_policy_version(root_ctx, policy_arn=policy.arn, policy_document=S3_WRITE)
    assert policy.versions.count() == 5
    # Version numbers are never reused after a delete.
    services.delete_policy_version(root_ctx, policy_arn=policy.arn, version_id="v3")
    assert services.create_policy_version(root_ctx, policy_arn=policy.arn, policy_document=S3_WRITE).version_id == "v6"


@pytest.mark.parametrize(
    "document",
    [
        "{not json",
        "[]",
        json.dumps({"Version": "2012-10-17"}),
        json.dumps({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:GetObject"}]}),
        json.dumps(
            {
                "Version": "2012-10-17",
                "Statement": [{"Effect": "Allow", "Principal": "*", "Action": "s3:*", "Resource": "*"}],
            }
        ),
    ],
)
def test_malformed_documents_are_refused_and_nothing_is_saved(root_ctx, document):
    with pytest.raises(MalformedPolicyDocument):
        services.create_policy(root_ctx, policy_name="Bad", policy_document=document)
    assert not ManagedPolicy.objects.filter(account_id=root_ctx.account_id).exists()
    assert AuditEvent.objects.get().error_code == "MalformedPolicyDocument"


def test_managed_policy_size_limit_ignores_whitespace(root_ctx):
    actions = [f"s3:GetObject{i:04d}" for i in range(400)]
    big = json.dumps({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": actions, "Resource": "*"}]})
    with pytest.raises(LimitExceeded, match="Cannot exceed quota for PolicySize: 6144"):
        services.create_policy(root_ctx, policy_name="Big", policy_document=big)
    padded = json.dumps(json.loads(S3_READ), indent=2000)  # lots of whitespace, still small
    services.create_policy(root_ctx, policy_name="Padded", policy_document=padded)


def test_duplicate_policy_name_case_insensitive(root_ctx):
    services.create_policy(root_ctx, policy_name="Dup", policy_document=S3_READ)
    with pytest.raises(
        EntityAlreadyExists, match="A policy called dup already exists. Duplicate names are not allowed."
    ):
        services.create_policy(root_ctx, policy_name="dup", policy_document=S3_READ)


def test_attach_quota_and_unknown_policy(root_ctx, managed_policies):
    identity_services.create_user(root_ctx, user_name="alice")
    aws = [p.arn for p in services.list_policies(root_ctx, scope="AWS")[:11]]
    for arn in aws[:10]:
        services.attach_user_policy(root_ctx, user_name="alice", policy_arn=arn)
    with pytest.raises(LimitExceeded, match="Cannot exceed quota for PoliciesPerUser: 10"):
        services.attach_user_policy(root_ctx, user_name="alice", policy_arn=aws[10])
    with pytest.raises(NoSuchEntity, match="does not exist or is not attachable"):
        services.attach_user_policy(root_ctx, user_name="alice", policy_arn="arn:aws:iam::aws:policy/NoSuchThing")
    assert UserPolicyAttachment.objects.count() == 10


def test_group_policy_quota(root_ctx, managed_policies):
    identity_services.create_group(root_ctx, group_name="Developers")
    aws = [p.arn for p in services.list_policies(root_ctx, scope="AWS")[:11]]
    for arn in aws[:10]:
        services.attach_group_policy(root_ctx, group_name="Developers", policy_arn=arn)
    with pytest.raises(LimitExceeded, match="PoliciesPerGroup: 10"):
        services.attach_group_policy(root_ctx, group_name="Developers", policy_arn=aws[10])


def test_delete_policy_conflicts(root_ctx):
    policy = services.create_policy(root_ctx, policy_name="InUse", policy_document=S3_READ)
    identity_services.create_user(root_ctx, user_name="bob")
    services.attach_user_policy(root_ctx, user_name="bob", policy_arn=policy.arn)
    with pytest.raises(DeleteConflict, match="Cannot delete a policy attached to entities."):
        services.delete_policy(root_ctx, policy_arn=policy.arn)
    services.detach_user_policy(root_ctx, user_name="bob", policy_arn=policy.arn)
    services.create_policy_version(root_ctx, policy_arn=policy.arn, policy_document=S3_WRITE)
    with pytest.raises(DeleteConflict, match="must delete the policy's versions"):
        services.delete_policy(root_ctx, policy_arn=policy.arn)
    services.delete_policy_version(root_ctx, policy_arn=policy.arn, version_id="v2")
    services.delete_policy(root_ctx, policy_arn=policy.arn)
    assert not ManagedPolicy.objects.filter(pk=policy.pk).exists()


def test_aws_managed_policies_cannot_be_changed(root_ctx, managed_policies):
    arn = "arn:aws:iam::aws:policy/AdministratorAccess"
    with pytest.raises((AccessDenied, NoSuchEntity)):
        services.delete_policy(root_ctx, policy_arn=arn)
    with pytest.raises((AccessDenied, NoSuchEntity)):
        services.create_policy_version(root_ctx, policy_arn=arn, policy_document=S3_READ)
    assert ManagedPolicy.objects.filter(arn=arn).exists()


def test_inline_policy_aggregate_size(root_ctx):
    identity_services.create_user(root_ctx, user_name="inline")
    actions = [f"s3:Get{i:03d}" for i in range(90)]
    doc = json.dumps({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": actions, "Resource": "*"}]})
    services.put_user_policy(root_ctx, user_name="inline", policy_name="one", policy_document=doc)
    with pytest.raises(LimitExceeded, match="Maximum policy size of 2048 bytes exceeded for user inline"):
        services.put_user_policy(root_ctx, user_name="inline", policy_name="two", policy_document=doc)
    # Replacing the same policy counts only once.
    services.put_user_policy(root_ctx, user_name="inline", policy_name="one", policy_document=doc)
    assert [p.name for p in services.list_user_policies(root_ctx, user_name="inline")] == ["one"]


def test_policies_of_another_account_are_invisible(root_ctx, other_root_ctx):
    policy = services.create_policy(root_ctx, policy_name="Private", policy_document=S3_READ)
    # Real AWS answers a cross-account GetPolicy with AccessDenied: no resource-based policy grants it.
    with pytest.raises(AccessDenied, match="because no resource-based policy allows the iam:GetPolicy action"):
        services.get_policy(other_root_ctx, policy_arn=policy.arn)
    identity_services.create_user(other_root_ctx, user_name="mallory")
    with pytest.raises((NoSuchEntity, AccessDenied)):
        services.attach_user_policy(other_root_ctx, user_name="mallory", policy_arn=policy.arn)
    assert not services.list_policies(other_root_ctx, scope="Local").exists()
