"""Managed policies, their tags and versions, attachments and inline policies: one function per AWS action."""

from __future__ import annotations

import functools
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

from django.db.models import Count, Q, QuerySet

from core import arns, clock, ids
from core.calls import iam_call
from core.context import CallContext
from core.db import fetch_prepared
from core.errors import DeleteConflict, EntityAlreadyExists, InvalidInput, LimitExceeded, NoSuchEntity
from core.validation import check_input
from identities.models import Group, IamUser, Role
from identities.providers import check_role_modifiable
from identities.queries import attachment_counts
from identities.roles import find_role, role_arn
from identities.services import Tag, check_tags, find_group, find_user, group_arn, merge_tags, user_arn
from policies.documents import check_document, check_inline_aggregate, check_managed_size
from policies.models import (
    GroupPolicyAttachment,
    InlinePolicy,
    ManagedPolicy,
    PolicyVersion,
    RolePolicyAttachment,
    UserPolicyAttachment,
)

MAX_VERSIONS = 5
POLICIES_PER_ENTITY = 10

Scope = Literal["All", "AWS", "Local"]
UsageFilter = Literal["PermissionsPolicy", "PermissionsBoundary"]
EntityFilter = Literal["User", "Role", "Group", "LocalManagedPolicy", "AWSManagedPolicy"]


def find_policy(account_id: str, policy_arn: str) -> ManagedPolicy:
    policy = ManagedPolicy.objects.visible_to(account_id).filter(arn=policy_arn).first()
    if policy is None:
        raise NoSuchEntity(f"Policy {policy_arn} was not found.")
    return policy


def _find_attachable(account_id: str, policy_arn: str) -> ManagedPolicy:
    policy = ManagedPolicy.objects.visible_to(account_id).filter(arn=policy_arn).first()
    if policy is None:
        raise NoSuchEntity(f"Policy {policy_arn} does not exist or is not attachable.")
    return policy


def check_policy_arn(policy_arn: str) -> None:
    check_input("iam", "GetPolicy", PolicyArn=policy_arn)
    if arns.parse_policy_arn(policy_arn) is None:
        raise InvalidInput(f"ARN {policy_arn} is not valid.")


# ---- managed policies ---------------------------------------------------------------------------------------


def create_policy(
    ctx: CallContext,
    *,
    policy_name: str,
    policy_document: str,
    path: str = "/",
    description: str = "",
    tags: Sequence[Tag] = (),
) -> ManagedPolicy:
    arn = arns.policy(ctx.account_id, path or "/", policy_name)
    params = {
        "policyName": policy_name,
        "policyDocument": policy_document,
        "path": path if path != "/" else None,
        "description": description or None,
        "tags": [t.as_dict() for t in tags] or None,
    }
    with iam_call(ctx, "iam:CreatePolicy", arn, params) as call:
        check_input(
            "iam",
            "CreatePolicy",
            PolicyName=policy_name,
            PolicyDocument=policy_document,
            Path=path,
            Description=description or None,
            Tags=[t.as_dict() for t in tags] or None,
        )
        check_tags(tags)
        check_document(policy_document, managed=True)
        check_managed_size(policy_document)
        call.on_conflict = EntityAlreadyExists(
            f"A policy called {policy_name} already exists. Duplicate names are not allowed."
        )
        if ManagedPolicy.objects.customer_managed(ctx.account_id).named(policy_name).exists():
            raise call.on_conflict
        now = clock.now()
        policy = ManagedPolicy.objects.create(
            account_id=ctx.account_id,
            policy_id=ids.new_id("ANPA"),
            name=policy_name,
            path=path,
            arn=arn,
            description=description,
            default_version_id="v1",
            next_version_number=2,
            tags=[t.as_dict() for t in tags],
            created_at=now,
            updated_at=now,
        )
        PolicyVersion.objects.create(
            policy=policy, version_id="v1", document=policy_document, is_default=True, created_at=now
        )
        call.response = {
            "policy": {
                "policyName": policy_name,
                "policyId": policy.policy_id,
                "arn": arn,
                "path": path,
                "defaultVersionId": "v1",
                "attachmentCount": 0,
                "isAttachable": True,
            }
        }
        return policy


def get_policy(ctx: CallContext, *, policy_arn: str) -> ManagedPolicy:
    with iam_call(ctx, "iam:GetPolicy", policy_arn, {"policyArn": policy_arn}):
        check_policy_arn(policy_arn)
        return find_policy(ctx.account_id, policy_arn)


def list_policies(
    ctx: CallContext,
    *,
    scope: Scope = "All",
    only_attached: bool = False,
    path_prefix: str = "/",
    policy_usage_filter: UsageFilter | None = None,
) -> QuerySet[ManagedPolicy]:
    """``policy_usage_filter`` says which use counts as "attached" for ``only_attached``: as a permissions policy,
    as a permissions boundary, or (absent) either. Without ``only_attached`` every managed policy can serve both
    uses, so the filter keeps them all, as in AWS."""
    params = {
        "scope": scope,
        "onlyAttached": only_attached,
        "pathPrefix": path_prefix if path_prefix != "/" else None,
        "policyUsageFilter": policy_usage_filter,
    }
    with iam_call(ctx, "iam:ListPolicies", arns.account_wildcard(ctx.account_id, "policy"), params):
        check_input("iam", "ListPolicies", Scope=scope, PathPrefix=path_prefix, PolicyUsageFilter=policy_usage_filter)
        policies = ManagedPolicy.objects.visible_to(ctx.account_id)
        if scope == "AWS":
            policies = policies.filter(account__isnull=True)
        elif scope == "Local":
            policies = policies.filter(account_id=ctx.account_id)
        if path_prefix != "/":
            policies = policies.filter(path__startswith=path_prefix)
        if only_attached:
            used = Q()
            if policy_usage_filter in (None, "PermissionsPolicy"):
                used |= Q(pk__in=attached_policy_ids(ctx.account_id))
            if policy_usage_filter in (None, "PermissionsBoundary"):
                used |= Q(pk__in=boundary_policy_ids(ctx.account_id))
            policies = policies.filter(used)
        return policies.order_by("name")


def attached_policy_ids(account_id: str) -> QuerySet:
    return (
        UserPolicyAttachment.objects.filter(account_id=account_id)
        .values("policy_id")
        .union(GroupPolicyAttachment.objects.filter(account_id=account_id).values("policy_id"))
        .union(RolePolicyAttachment.objects.filter(account_id=account_id).values("policy_id"))
    )


def boundary_policy_ids(account_id: str) -> QuerySet:
    """Policies the account's users or roles use as their permissions boundary."""
    return (
        IamUser.objects.in_account(account_id)
        .filter(permissions_boundary__isnull=False)
        .values("permissions_boundary_id")
        .union(
            Role.objects.in_account(account_id)
            .filter(permissions_boundary__isnull=False)
            .values("permissions_boundary_id")
        )
    )


def attachment_count(account_id: str, policy: ManagedPolicy) -> int:
    return usage_counts(account_id, [policy.pk])[policy.pk][0]


def usage_counts(account_id: str, policy_ids: Sequence[int]) -> dict[int, tuple[int, int]]:
    """{policy pk: (AttachmentCount, PermissionsBoundaryUsageCount)} within the account, in four queries whatever
    the number of policies (a ListPolicies page)."""
    attached = attachment_counts(account_id, list(policy_ids))
    bounded = dict.fromkeys(policy_ids, 0)
    for model in (IamUser, Role):
        rows = (
            model.objects.in_account(account_id)
            .filter(permissions_boundary_id__in=policy_ids)
            .values("permissions_boundary_id")
            .annotate(n=Count("id"))
        )
        for row in rows:
            bounded[row["permissions_boundary_id"]] += row["n"]
    return {pk: (attached[pk], bounded[pk]) for pk in policy_ids}


def delete_policy(ctx: CallContext, *, policy_arn: str) -> None:
    with iam_call(ctx, "iam:DeletePolicy", policy_arn, {"policyArn": policy_arn}):
        check_policy_arn(policy_arn)
        policy = _own_policy(ctx, policy_arn)
        if attachment_count(ctx.account_id, policy) or _used_as_boundary(policy):
            raise DeleteConflict("Cannot delete a policy attached to entities.")
        if policy.versions.filter(is_default=False).exists():
            raise DeleteConflict(
                "This policy has more than one version. Before you delete a policy, you must delete the policy's "
                "versions. The default version is deleted with the policy."
            )
        policy.delete()


def _used_as_boundary(policy: ManagedPolicy) -> bool:
    return (
        IamUser.objects.filter(permissions_boundary=policy).exists()
        or Role.objects.filter(permissions_boundary=policy).exists()
    )


def _own_policy(ctx: CallContext, policy_arn: str) -> ManagedPolicy:
    """A customer managed policy of the caller's account, locked for update (versions change under it)."""
    policy = ManagedPolicy.objects.select_for_update().filter(account_id=ctx.account_id, arn=policy_arn).first()
    if policy is None:
        raise NoSuchEntity(f"Policy {policy_arn} was not found.")
    return policy


# ---- policy tags --------------------------------------------------------------------------------------------


def _customer_policy(ctx: CallContext, policy_arn: str) -> ManagedPolicy:
    check_policy_arn(policy_arn)
    policy = find_policy(ctx.account_id, policy_arn)
    if policy.account_id is None:
        raise InvalidInput(f"ARN {policy_arn} is not valid.")  # AWS managed policies carry no customer tags
    return policy


def tag_policy(ctx: CallContext, *, policy_arn: str, tags: Sequence[Tag]) -> None:
    with iam_call(ctx, "iam:TagPolicy", policy_arn, {"policyArn": policy_arn, "tags": [t.as_dict() for t in tags]}):
        check_input("iam", "TagPolicy", PolicyArn=policy_arn, Tags=[t.as_dict() for t in tags])
        policy = _customer_policy(ctx, policy_arn)
        policy.tags = merge_tags(policy.tags, tags, "policy")
        policy.save(update_fields=["tags"])


def untag_policy(ctx: CallContext, *, policy_arn: str, tag_keys: Sequence[str]) -> None:
    with iam_call(ctx, "iam:UntagPolicy", policy_arn, {"policyArn": policy_arn, "tagKeys": list(tag_keys)}):
        check_input("iam", "UntagPolicy", PolicyArn=policy_arn, TagKeys=list(tag_keys))
        policy = _customer_policy(ctx, policy_arn)
        drop = {k.lower() for k in tag_keys}
        policy.tags = [t for t in policy.tags if t["Key"].lower() not in drop]
        policy.save(update_fields=["tags"])


def list_policy_tags(ctx: CallContext, *, policy_arn: str) -> list[dict[str, str]]:
    with iam_call(ctx, "iam:ListPolicyTags", policy_arn, {"policyArn": policy_arn}):
        check_policy_arn(policy_arn)
        return list(find_policy(ctx.account_id, policy_arn).tags)


# ---- versions -----------------------------------------------------------------------------------------------


def create_policy_version(
    ctx: CallContext, *, policy_arn: str, policy_document: str, set_as_default: bool = False
) -> PolicyVersion:
    params = {"policyArn": policy_arn, "policyDocument": policy_document, "setAsDefault": set_as_default}
    with iam_call(ctx, "iam:CreatePolicyVersion", policy_arn, params) as call:
        check_input("iam", "CreatePolicyVersion", PolicyArn=policy_arn, PolicyDocument=policy_document)
        policy = _own_policy(ctx, policy_arn)
        check_document(policy_document, managed=True)
        check_managed_size(policy_document)
        if policy.versions.count() >= MAX_VERSIONS:
            raise LimitExceeded(
                "A managed policy can have up to 5 versions. Before you create a new version, you must delete an "
                "existing version."
            )
        now = clock.now()
        version_id = f"v{policy.next_version_number}"
        if set_as_default:
            policy.versions.filter(is_default=True).update(is_default=False)
            policy.default_version_id = version_id
        version = PolicyVersion.objects.create(
            policy=policy, version_id=version_id, document=policy_document, is_default=set_as_default, created_at=now
        )
        policy.next_version_number += 1
        policy.updated_at = now
        policy.save(update_fields=["next_version_number", "default_version_id", "updated_at"])
        call.response = {"policyVersion": {"versionId": version_id, "isDefaultVersion": set_as_default}}
        return version


def get_policy_version(ctx: CallContext, *, policy_arn: str, version_id: str) -> PolicyVersion:
    with iam_call(ctx, "iam:GetPolicyVersion", policy_arn, {"policyArn": policy_arn, "versionId": version_id}):
        check_input("iam", "GetPolicyVersion", PolicyArn=policy_arn, VersionId=version_id)
        policy = find_policy(ctx.account_id, policy_arn)
        version = policy.versions.filter(version_id=version_id).first()
        if version is None:
            raise NoSuchEntity(f"Policy {policy_arn} version {version_id} does not exist or is not attachable.")
        return version


def list_policy_versions(ctx: CallContext, *, policy_arn: str) -> list[PolicyVersion]:
    with iam_call(ctx, "iam:ListPolicyVersions", policy_arn, {"policyArn": policy_arn}):
        check_policy_arn(policy_arn)
        policy = find_policy(ctx.account_id, policy_arn)
        return sorted(policy.versions.all(), key=lambda v: int(v.version_id[1:]), reverse=True)


def set_default_policy_version(ctx: CallContext, *, policy_arn: str, version_id: str) -> None:
    with iam_call(ctx, "iam:SetDefaultPolicyVersion", policy_arn, {"policyArn": policy_arn, "versionId": version_id}):
        check_input("iam", "SetDefaultPolicyVersion", PolicyArn=policy_arn, VersionId=version_id)
        policy = _own_policy(ctx, policy_arn)
        version = policy.versions.filter(version_id=version_id).first()
        if version is None:
            raise NoSuchEntity(f"Policy {policy_arn} version {version_id} does not exist or is not attachable.")
        policy.versions.filter(is_default=True).update(is_default=False)
        version.is_default = True
        version.save(update_fields=["is_default"])
        policy.default_version_id = version_id
        policy.updated_at = clock.now()
        policy.save(update_fields=["default_version_id", "updated_at"])


def delete_policy_version(ctx: CallContext, *, policy_arn: str, version_id: str) -> None:
    with iam_call(ctx, "iam:DeletePolicyVersion", policy_arn, {"policyArn": policy_arn, "versionId": version_id}):
        check_input("iam", "DeletePolicyVersion", PolicyArn=policy_arn, VersionId=version_id)
        policy = _own_policy(ctx, policy_arn)
        version = policy.versions.filter(version_id=version_id).first()
        if version is None:
            raise NoSuchEntity(f"Policy {policy_arn} version {version_id} does not exist or is not attachable.")
        if version.is_default:
            raise DeleteConflict("Cannot delete the default version of a policy.")
        version.delete()


# ---- attachments --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Owner:
    kind: Literal["user", "group", "role"]
    model: type
    attachment: type
    quota_name: str


_OWNERS = {
    "user": _Owner("user", IamUser, UserPolicyAttachment, "PoliciesPerUser"),
    "group": _Owner("group", Group, GroupPolicyAttachment, "PoliciesPerGroup"),
    "role": _Owner("role", Role, RolePolicyAttachment, "PoliciesPerRole"),
}


def _attach(ctx: CallContext, owner: _Owner, entity: IamUser | Group | Role, policy_arn: str) -> None:
    policy = _find_attachable(ctx.account_id, policy_arn)
    owner.model.objects.select_for_update().filter(pk=entity.pk).first()  # serialize quota checks per entity
    links = owner.attachment.objects.filter(**{owner.kind: entity})
    if links.filter(policy=policy).exists():
        return  # attaching twice is a no-op in AWS
    if links.count() >= POLICIES_PER_ENTITY:
        raise LimitExceeded(f"Cannot exceed quota for {owner.quota_name}: {POLICIES_PER_ENTITY}")
    owner.attachment.objects.create(
        account_id=ctx.account_id, policy=policy, created_at=clock.now(), **{owner.kind: entity}
    )


def _detach(ctx: CallContext, owner: _Owner, entity: IamUser | Group | Role, policy_arn: str) -> None:
    deleted, _ = owner.attachment.objects.filter(policy__arn=policy_arn, **{owner.kind: entity}).delete()
    if not deleted:
        raise NoSuchEntity(f"Policy {policy_arn} was not found.")


def attach_user_policy(ctx: CallContext, *, user_name: str, policy_arn: str) -> None:
    with iam_call(
        ctx,
        "iam:AttachUserPolicy",
        user_arn(ctx, user_name),
        {"userName": user_name, "policyArn": policy_arn},
        condition_context={"iam:PolicyARN": policy_arn},
    ):
        check_policy_arn(policy_arn)
        check_input("iam", "AttachUserPolicy", UserName=user_name, PolicyArn=policy_arn)
        _attach(ctx, _OWNERS["user"], find_user(ctx.account_id, user_name), policy_arn)


def detach_user_policy(ctx: CallContext, *, user_name: str, policy_arn: str) -> None:
    with iam_call(
        ctx,
        "iam:DetachUserPolicy",
        user_arn(ctx, user_name),
        {"userName": user_name, "policyArn": policy_arn},
        condition_context={"iam:PolicyARN": policy_arn},
    ):
        check_policy_arn(policy_arn)
        _detach(ctx, _OWNERS["user"], find_user(ctx.account_id, user_name), policy_arn)


def attach_group_policy(ctx: CallContext, *, group_name: str, policy_arn: str) -> None:
    with iam_call(
        ctx,
        "iam:AttachGroupPolicy",
        group_arn(ctx, group_name),
        {"groupName": group_name, "policyArn": policy_arn},
        condition_context={"iam:PolicyARN": policy_arn},
    ):
        check_policy_arn(policy_arn)
        check_input("iam", "AttachGroupPolicy", GroupName=group_name, PolicyArn=policy_arn)
        _attach(ctx, _OWNERS["group"], find_group(ctx.account_id, group_name), policy_arn)


def detach_group_policy(ctx: CallContext, *, group_name: str, policy_arn: str) -> None:
    with iam_call(
        ctx,
        "iam:DetachGroupPolicy",
        group_arn(ctx, group_name),
        {"groupName": group_name, "policyArn": policy_arn},
        condition_context={"iam:PolicyARN": policy_arn},
    ):
        check_policy_arn(policy_arn)
        _detach(ctx, _OWNERS["group"], find_group(ctx.account_id, group_name), policy_arn)


def _path_params(path_prefix: str) -> str | None:
    return path_prefix if path_prefix != "/" else None  # CloudTrail records a PathPrefix only when one was sent


def list_attached_user_policies(ctx: CallContext, *, user_name: str, path_prefix: str = "/") -> list[ManagedPolicy]:
    params = {"userName": user_name, "pathPrefix": _path_params(path_prefix)}
    with iam_call(ctx, "iam:ListAttachedUserPolicies", user_arn(ctx, user_name), params):
        check_input("iam", "ListAttachedUserPolicies", UserName=user_name, PathPrefix=path_prefix)
        user = find_user(ctx.account_id, user_name)
        found = ManagedPolicy.objects.filter(user_attachments__user=user, path__startswith=path_prefix)
        return list(found.order_by("name"))


def list_attached_group_policies(ctx: CallContext, *, group_name: str, path_prefix: str = "/") -> list[ManagedPolicy]:
    params = {"groupName": group_name, "pathPrefix": _path_params(path_prefix)}
    with iam_call(ctx, "iam:ListAttachedGroupPolicies", group_arn(ctx, group_name), params):
        check_input("iam", "ListAttachedGroupPolicies", GroupName=group_name, PathPrefix=path_prefix)
        group = find_group(ctx.account_id, group_name)
        found = ManagedPolicy.objects.filter(group_attachments__group=group, path__startswith=path_prefix)
        return list(found.order_by("name"))


@dataclass(frozen=True)
class PolicyEntities:
    users: list[IamUser]  # attached as a permissions policy
    groups: list[Group]
    roles: list[Role]
    boundary_users: list[IamUser]  # using it as their permissions boundary
    boundary_roles: list[Role]


def list_entities_for_policy(
    ctx: CallContext,
    *,
    policy_arn: str,
    entity_filter: EntityFilter | None = None,
    path_prefix: str = "/",
    policy_usage_filter: UsageFilter | None = None,
) -> PolicyEntities:
    """The users, groups and roles using the policy: attached as a permissions policy, set as a permissions
    boundary (users and roles only), or either (no ``policy_usage_filter``). ``entity_filter`` keeps one kind
    (``LocalManagedPolicy``/``AWSManagedPolicy``: all kinds, when the policy is of that kind, else none)."""
    params = {
        "policyArn": policy_arn,
        "entityFilter": entity_filter,
        "pathPrefix": _path_params(path_prefix),
        "policyUsageFilter": policy_usage_filter,
    }
    with iam_call(ctx, "iam:ListEntitiesForPolicy", policy_arn, params):
        check_input(
            "iam",
            "ListEntitiesForPolicy",
            PolicyArn=policy_arn,
            EntityFilter=entity_filter,
            PathPrefix=path_prefix,
            PolicyUsageFilter=policy_usage_filter,
        )
        check_policy_arn(policy_arn)
        policy = find_policy(ctx.account_id, policy_arn)
        acct = ctx.account_id
        kinds = {"User", "Group", "Role"}
        aws_managed = policy.account_id is None
        if entity_filter in kinds:
            kinds = {entity_filter}
        elif entity_filter in ("LocalManagedPolicy", "AWSManagedPolicy"):
            # A policy-kind filter keeps every entity of a policy of that kind, none of the other kind.
            kinds = kinds if (entity_filter == "AWSManagedPolicy") == aws_managed else set()
        attached = policy_usage_filter in (None, "PermissionsPolicy")
        bounded = policy_usage_filter in (None, "PermissionsBoundary")

        def using(model: type[IamUser | Group | Role], kind: str, usage: Q, wanted: bool) -> list:
            if kind not in kinds or not wanted:
                return []
            return list(model.objects.in_account(acct).filter(usage, path__startswith=path_prefix).order_by("name"))

        return PolicyEntities(
            users=using(IamUser, "User", Q(policy_attachments__policy=policy), attached),
            groups=using(Group, "Group", Q(policy_attachments__policy=policy), attached),
            roles=using(Role, "Role", Q(policy_attachments__policy=policy), attached),
            boundary_users=using(IamUser, "User", Q(permissions_boundary=policy), bounded),
            boundary_roles=using(Role, "Role", Q(permissions_boundary=policy), bounded),
        )


# ---- inline policies ----------------------------------------------------------------------------------------


def _put_inline(ctx: CallContext, kind: str, entity: IamUser | Group | Role, policy_name: str, document: str) -> None:
    check_document(document)
    others = list(
        InlinePolicy.objects.filter(**{kind: entity}).exclude(name=policy_name).values_list("document", flat=True)
    )
    check_inline_aggregate(kind, entity.name, [*others, document])
    now = clock.now()
    InlinePolicy.objects.update_or_create(
        account_id=ctx.account_id,
        name=policy_name,
        **{kind: entity},
        defaults={"document": document, "updated_at": now},
        create_defaults={"document": document, "created_at": now, "updated_at": now},
    )


def _get_inline(kind: str, entity: IamUser | Group | Role, policy_name: str) -> InlinePolicy:
    policy = InlinePolicy.objects.filter(name=policy_name, **{kind: entity}).first()
    if policy is None:
        raise NoSuchEntity(f"The {kind} policy with name {policy_name} cannot be found.")
    return policy


def put_user_policy(ctx: CallContext, *, user_name: str, policy_name: str, policy_document: str) -> None:
    params = {"userName": user_name, "policyName": policy_name, "policyDocument": policy_document}
    with iam_call(ctx, "iam:PutUserPolicy", user_arn(ctx, user_name), params):
        check_input("iam", "PutUserPolicy", UserName=user_name, PolicyName=policy_name, PolicyDocument=policy_document)
        _put_inline(ctx, "user", find_user(ctx.account_id, user_name), policy_name, policy_document)


def get_user_policy(ctx: CallContext, *, user_name: str, policy_name: str) -> InlinePolicy:
    with iam_call(
        ctx, "iam:GetUserPolicy", user_arn(ctx, user_name), {"userName": user_name, "policyName": policy_name}
    ):
        return _get_inline("user", find_user(ctx.account_id, user_name), policy_name)


def delete_user_policy(ctx: CallContext, *, user_name: str, policy_name: str) -> None:
    with iam_call(
        ctx, "iam:DeleteUserPolicy", user_arn(ctx, user_name), {"userName": user_name, "policyName": policy_name}
    ):
        _get_inline("user", find_user(ctx.account_id, user_name), policy_name).delete()


def list_user_policies(ctx: CallContext, *, user_name: str) -> list[InlinePolicy]:
    with iam_call(ctx, "iam:ListUserPolicies", user_arn(ctx, user_name), {"userName": user_name}):
        return list(find_user(ctx.account_id, user_name).inline_policies.order_by("name"))


def put_group_policy(ctx: CallContext, *, group_name: str, policy_name: str, policy_document: str) -> None:
    params = {"groupName": group_name, "policyName": policy_name, "policyDocument": policy_document}
    with iam_call(ctx, "iam:PutGroupPolicy", group_arn(ctx, group_name), params):
        check_input(
            "iam", "PutGroupPolicy", GroupName=group_name, PolicyName=policy_name, PolicyDocument=policy_document
        )
        _put_inline(ctx, "group", find_group(ctx.account_id, group_name), policy_name, policy_document)


def get_group_policy(ctx: CallContext, *, group_name: str, policy_name: str) -> InlinePolicy:
    with iam_call(
        ctx, "iam:GetGroupPolicy", group_arn(ctx, group_name), {"groupName": group_name, "policyName": policy_name}
    ):
        return _get_inline("group", find_group(ctx.account_id, group_name), policy_name)


def delete_group_policy(ctx: CallContext, *, group_name: str, policy_name: str) -> None:
    with iam_call(
        ctx, "iam:DeleteGroupPolicy", group_arn(ctx, group_name), {"groupName": group_name, "policyName": policy_name}
    ):
        _get_inline("group", find_group(ctx.account_id, group_name), policy_name).delete()


def list_group_policies(ctx: CallContext, *, group_name: str) -> list[InlinePolicy]:
    with iam_call(ctx, "iam:ListGroupPolicies", group_arn(ctx, group_name), {"groupName": group_name}):
        return list(find_group(ctx.account_id, group_name).inline_policies.order_by("name"))


def used_as(account_id: str, policy_ids: Sequence[int]) -> dict[int, str]:
    """The policies list's "Used as" column for a page of policies, in one query whatever the page size (the page's
    policies attached to a user, group or role, and those used as a user's or role's permissions boundary). The ids
    go as one array parameter: Django's ``__in`` sends one placeholder per id, five lists of a page's ids, and
    converting that query was most of the policies list's CPU time (docs/benchmarks.md, issue 16)."""
    attached: set[int] = set()
    boundaries: set[int] = set()
    for pid, is_boundary in fetch_prepared(_used_as_sql(), {"account": account_id, "ids": list(policy_ids)}):
        (boundaries if is_boundary else attached).add(pid)
    result = {}
    for pid in policy_ids:
        labels = [
            label
            for label, hit in (("Permissions policy", pid in attached), ("Permissions boundary", pid in boundaries))
            if hit
        ]
        result[pid] = ", ".join(labels) if labels else "Not used"
    return result


@functools.cache
def _used_as_sql() -> str:
    attachments = [m._meta.db_table for m in (UserPolicyAttachment, GroupPolicyAttachment, RolePolicyAttachment)]
    bounded = [m._meta.db_table for m in (IamUser, Role)]
    selects = [
        f"SELECT policy_id, false FROM {table} WHERE account_id = %(account)s AND policy_id = ANY(%(ids)s)"
        for table in attachments
    ] + [
        f"SELECT permissions_boundary_id, true FROM {table} WHERE account_id = %(account)s "
        "AND permissions_boundary_id = ANY(%(ids)s)"
        for table in bounded
    ]
    return " UNION ".join(selects)


# ---- role policies ----------------------------------------------------------------------------------------


def _modifiable_role(account_id: str, role_name: str) -> Role:
    """A role this account may change: service-linked roles are changed only by their service."""
    role = find_role(account_id, role_name)
    check_role_modifiable(role)
    return role


def attach_role_policy(ctx: CallContext, *, role_name: str, policy_arn: str) -> None:
    with iam_call(
        ctx,
        "iam:AttachRolePolicy",
        role_arn(ctx, role_name),
        {"roleName": role_name, "policyArn": policy_arn},
        condition_context={"iam:PolicyARN": policy_arn},
    ):
        check_policy_arn(policy_arn)
        check_input("iam", "AttachRolePolicy", RoleName=role_name, PolicyArn=policy_arn)
        _attach(ctx, _OWNERS["role"], _modifiable_role(ctx.account_id, role_name), policy_arn)


def detach_role_policy(ctx: CallContext, *, role_name: str, policy_arn: str) -> None:
    with iam_call(
        ctx,
        "iam:DetachRolePolicy",
        role_arn(ctx, role_name),
        {"roleName": role_name, "policyArn": policy_arn},
        condition_context={"iam:PolicyARN": policy_arn},
    ):
        check_policy_arn(policy_arn)
        _detach(ctx, _OWNERS["role"], _modifiable_role(ctx.account_id, role_name), policy_arn)


def list_attached_role_policies(ctx: CallContext, *, role_name: str, path_prefix: str = "/") -> list[ManagedPolicy]:
    params = {"roleName": role_name, "pathPrefix": _path_params(path_prefix)}
    with iam_call(ctx, "iam:ListAttachedRolePolicies", role_arn(ctx, role_name), params):
        check_input("iam", "ListAttachedRolePolicies", RoleName=role_name, PathPrefix=path_prefix)
        role = find_role(ctx.account_id, role_name)
        found = ManagedPolicy.objects.filter(role_attachments__role=role, path__startswith=path_prefix)
        return list(found.order_by("name"))


def put_role_policy(ctx: CallContext, *, role_name: str, policy_name: str, policy_document: str) -> None:
    params = {"roleName": role_name, "policyName": policy_name, "policyDocument": policy_document}
    with iam_call(ctx, "iam:PutRolePolicy", role_arn(ctx, role_name), params):
        check_input("iam", "PutRolePolicy", RoleName=role_name, PolicyName=policy_name, PolicyDocument=policy_document)
        _put_inline(ctx, "role", _modifiable_role(ctx.account_id, role_name), policy_name, policy_document)


def get_role_policy(ctx: CallContext, *, role_name: str, policy_name: str) -> InlinePolicy:
    with iam_call(
        ctx, "iam:GetRolePolicy", role_arn(ctx, role_name), {"roleName": role_name, "policyName": policy_name}
    ):
        return _get_inline("role", find_role(ctx.account_id, role_name), policy_name)


def delete_role_policy(ctx: CallContext, *, role_name: str, policy_name: str) -> None:
    with iam_call(
        ctx, "iam:DeleteRolePolicy", role_arn(ctx, role_name), {"roleName": role_name, "policyName": policy_name}
    ):
        _get_inline("role", _modifiable_role(ctx.account_id, role_name), policy_name).delete()


def list_role_policies(ctx: CallContext, *, role_name: str) -> list[InlinePolicy]:
    with iam_call(ctx, "iam:ListRolePolicies", role_arn(ctx, role_name), {"roleName": role_name}):
        return list(find_role(ctx.account_id, role_name).inline_policies.order_by("name"))
