"""Roles: one function per AWS action, and the role lookups the other services share (``find_role``,
``find_role_by_arn``). Instance profiles are in ``identities.instance_profiles``, the console's role workflows in
``identities.workflows``."""

from __future__ import annotations

from collections.abc import Sequence

from django.db.models import Count, QuerySet

from core import arns, clock, ids
from core.calls import iam_call
from core.context import CallContext
from core.errors import DeleteConflict, EntityAlreadyExists, LimitExceeded, MalformedPolicyDocument, NoSuchEntity
from core.validation import check_input
from identities.models import Account, IamUser, Role
from identities.providers import check_role_modifiable
from identities.services import Tag, attachable_policy, check_tags, merge_tags
from policies.documents import TRUST_POLICY_SIZE, check_document, policy_size
from policies.engine import parse_policy

REVOKE_POLICY_NAME = "AWSRevokeOlderSessions"
MAX_SESSION_MIN, MAX_SESSION_MAX = 3600, 43200


def role_arn(ctx: CallContext, role_name: str) -> str:
    role = Role.objects.in_account(ctx.account_id).named(role_name).only("arn").first()
    return role.arn if role else arns.role(ctx.account_id, "/", role_name)


def find_role(account_id: str, role_name: str) -> Role:
    role = Role.objects.in_account(account_id).named(role_name).first()
    if role is None:
        raise NoSuchEntity(f"The role with name {role_name} cannot be found.")
    return role


def find_role_by_arn(arn: str) -> Role | None:
    return Role.objects.with_arn(arn).first()


def check_trust_policy(account_id: str, document: str) -> None:
    """Grammar of a trust policy, its size quota, and that named users and roles exist (AWS checks them)."""
    check_document(document, kind="trust")
    if policy_size(document) > TRUST_POLICY_SIZE:
        raise LimitExceeded(f"Cannot exceed quota for ACLSizePerRole: {TRUST_POLICY_SIZE}")
    for principal in _aws_principals(document):
        parts = principal.split(":", 5)
        if len(parts) != 6 or parts[2] != "iam" or "/" not in parts[5]:
            continue
        account, (kind, _, rest) = parts[4], parts[5].partition("/")
        name = rest.rsplit("/", 1)[-1]
        if kind not in ("user", "role") or not Account.objects.filter(pk=account).exists():
            continue  # accounts outside this classroom can't be checked
        model = IamUser if kind == "user" else Role
        if not model.objects.in_account(account).filter(name=name).exists():
            raise MalformedPolicyDocument(f'Invalid principal in policy: "AWS":"{principal}"')


def _aws_principals(document: str) -> list[str]:
    found: list[str] = []
    for statement in parse_policy(document, kind="trust").statements:
        found.extend(entry.value for entry in statement.principals or () if entry.kind == "AWS")
    return found


def create_role(
    ctx: CallContext,
    *,
    role_name: str,
    assume_role_policy_document: str,
    path: str = "/",
    description: str = "",
    max_session_duration: int = 3600,
    permissions_boundary: str | None = None,
    tags: Sequence[Tag] = (),
) -> Role:
    arn = arns.role(ctx.account_id, path or "/", role_name)
    params = {
        "roleName": role_name,
        "path": path if path != "/" else None,
        "description": description or None,
        "assumeRolePolicyDocument": assume_role_policy_document,
        "maxSessionDuration": max_session_duration,
        "permissionsBoundary": permissions_boundary,
        "tags": [t.as_dict() for t in tags] or None,
    }
    # AWS puts the boundary being set into the request, so a delegation policy can require it.
    boundary_context = {"iam:PermissionsBoundary": permissions_boundary} if permissions_boundary else None
    with iam_call(ctx, "iam:CreateRole", arn, params, condition_context=boundary_context) as call:
        check_input(
            "iam",
            "CreateRole",
            RoleName=role_name,
            Path=path,
            Description=description or None,
            AssumeRolePolicyDocument=assume_role_policy_document,
            MaxSessionDuration=max_session_duration,
            PermissionsBoundary=permissions_boundary,
            Tags=[t.as_dict() for t in tags] or None,
        )
        check_tags(tags)
        check_trust_policy(ctx.account_id, assume_role_policy_document)
        call.on_conflict = EntityAlreadyExists(f"Role with name {role_name} already exists.")
        if Role.objects.in_account(ctx.account_id).named(role_name).exists():
            raise call.on_conflict
        boundary = attachable_policy(ctx.account_id, permissions_boundary) if permissions_boundary else None
        role = Role.objects.create(
            account_id=ctx.account_id,
            role_id=ids.new_id("AROA"),
            name=role_name,
            path=path,
            arn=arn,
            description=description,
            assume_role_policy=assume_role_policy_document,
            max_session_duration=max_session_duration,
            created_at=clock.now(),
            tags=[t.as_dict() for t in tags],
            permissions_boundary=boundary,
        )
        call.response = {"role": {"path": path, "roleName": role_name, "roleId": role.role_id, "arn": arn}}
        return role


def get_role(ctx: CallContext, *, role_name: str) -> Role:
    with iam_call(ctx, "iam:GetRole", role_arn(ctx, role_name), {"roleName": role_name}):
        check_input("iam", "GetRole", RoleName=role_name)
        return find_role(ctx.account_id, role_name)


def list_role_tags(ctx: CallContext, *, role_name: str) -> list[dict[str, str]]:
    """ListRoleTags: decided under its own action (a principal may read a role's tags and not the role)."""
    with iam_call(ctx, "iam:ListRoleTags", role_arn(ctx, role_name), {"roleName": role_name}):
        check_input("iam", "ListRoleTags", RoleName=role_name)
        return list(find_role(ctx.account_id, role_name).tags)


def list_roles(ctx: CallContext, *, path_prefix: str = "/") -> QuerySet[Role]:
    with iam_call(
        ctx,
        "iam:ListRoles",
        arns.account_wildcard(ctx.account_id, "role"),
        {"pathPrefix": path_prefix if path_prefix != "/" else None},
    ):
        check_input("iam", "ListRoles", PathPrefix=path_prefix)
        return (
            Role.objects.in_account(ctx.account_id)
            .filter(path__startswith=path_prefix)
            .annotate(attached_count=Count("policy_attachments", distinct=True))
            .order_by("name")
        )


def update_role(
    ctx: CallContext, *, role_name: str, description: str | None = None, max_session_duration: int | None = None
) -> Role:
    with iam_call(
        ctx,
        "iam:UpdateRole",
        role_arn(ctx, role_name),
        {"roleName": role_name, "description": description, "maxSessionDuration": max_session_duration},
    ):
        check_input(
            "iam", "UpdateRole", RoleName=role_name, Description=description, MaxSessionDuration=max_session_duration
        )
        role = find_role(ctx.account_id, role_name)
        if description is not None:
            role.description = description
        if max_session_duration is not None:
            role.max_session_duration = max_session_duration
        role.save(update_fields=["description", "max_session_duration"])
        return role


def update_role_description(ctx: CallContext, *, role_name: str, description: str) -> Role:
    """UpdateRoleDescription: the older action, authorized and recorded under its own name (not UpdateRole)."""
    with iam_call(
        ctx,
        "iam:UpdateRoleDescription",
        role_arn(ctx, role_name),
        {"roleName": role_name, "description": description},
    ):
        check_input("iam", "UpdateRoleDescription", RoleName=role_name, Description=description)
        role = find_role(ctx.account_id, role_name)
        role.description = description
        role.save(update_fields=["description"])
        return role


def update_assume_role_policy(ctx: CallContext, *, role_name: str, policy_document: str) -> None:
    with iam_call(
        ctx,
        "iam:UpdateAssumeRolePolicy",
        role_arn(ctx, role_name),
        {"roleName": role_name, "policyDocument": policy_document},
    ):
        check_input("iam", "UpdateAssumeRolePolicy", RoleName=role_name, PolicyDocument=policy_document)
        role = find_role(ctx.account_id, role_name)
        check_role_modifiable(role)
        check_trust_policy(ctx.account_id, policy_document)
        role.assume_role_policy = policy_document
        role.save(update_fields=["assume_role_policy"])


def delete_role(ctx: CallContext, *, role_name: str) -> None:
    with iam_call(ctx, "iam:DeleteRole", role_arn(ctx, role_name), {"roleName": role_name}):
        role = find_role(ctx.account_id, role_name)
        check_role_modifiable(role)
        if role.instance_profiles.exists():
            raise DeleteConflict("Cannot delete entity, must remove roles from instance profile first.")
        if role.inline_policies.exists():
            raise DeleteConflict("Cannot delete entity, must delete policies first.")
        if role.policy_attachments.exists():
            raise DeleteConflict("Cannot delete entity, must detach all policies first.")
        role.delete()


def put_role_permissions_boundary(ctx: CallContext, *, role_name: str, permissions_boundary: str) -> None:
    with iam_call(
        ctx,
        "iam:PutRolePermissionsBoundary",
        role_arn(ctx, role_name),
        {"roleName": role_name, "permissionsBoundary": permissions_boundary},
        condition_context={"iam:PermissionsBoundary": permissions_boundary},
    ):
        check_input("iam", "PutRolePermissionsBoundary", RoleName=role_name, PermissionsBoundary=permissions_boundary)
        role = find_role(ctx.account_id, role_name)
        check_role_modifiable(role)
        role.permissions_boundary = attachable_policy(ctx.account_id, permissions_boundary)
        role.save(update_fields=["permissions_boundary"])


def delete_role_permissions_boundary(ctx: CallContext, *, role_name: str) -> None:
    with iam_call(ctx, "iam:DeleteRolePermissionsBoundary", role_arn(ctx, role_name), {"roleName": role_name}):
        role = find_role(ctx.account_id, role_name)
        check_role_modifiable(role)
        role.permissions_boundary = None
        role.save(update_fields=["permissions_boundary"])


def tag_role(ctx: CallContext, *, role_name: str, tags: Sequence[Tag]) -> None:
    with iam_call(
        ctx, "iam:TagRole", role_arn(ctx, role_name), {"roleName": role_name, "tags": [t.as_dict() for t in tags]}
    ):
        check_input("iam", "TagRole", RoleName=role_name, Tags=[t.as_dict() for t in tags])
        role = find_role(ctx.account_id, role_name)
        role.tags = merge_tags(role.tags, tags, "role")
        role.save(update_fields=["tags"])


def untag_role(ctx: CallContext, *, role_name: str, tag_keys: Sequence[str]) -> None:
    with iam_call(ctx, "iam:UntagRole", role_arn(ctx, role_name), {"roleName": role_name, "tagKeys": list(tag_keys)}):
        check_input("iam", "UntagRole", RoleName=role_name, TagKeys=list(tag_keys))
        role = find_role(ctx.account_id, role_name)
        drop = {k.lower() for k in tag_keys}
        role.tags = [t for t in role.tags if t["Key"].lower() not in drop]
        role.save(update_fields=["tags"])
