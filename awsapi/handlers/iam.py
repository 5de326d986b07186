"""IAM Query API handlers: thin adapters from botocore input shapes to the service functions, and back."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from awsapi.dispatch import operation
from awsapi.handlers import shapes
from core.context import CallContext
from identities import instance_profiles, roles
from identities import services as identities
from identities.queries import members_of
from identities.services import Tag
from policies import authorization_details
from policies import services as policies

P = dict[str, Any]


def _tags(p: P, key: str = "Tags") -> list[Tag]:
    return [Tag(t["Key"], t.get("Value", "")) for t in p.get(key) or []]


# ---- users --------------------------------------------------------------------------------------------------


@operation("iam", "CreateUser")
def create_user(ctx: CallContext, p: P) -> P:
    user = identities.create_user(
        ctx,
        user_name=p.get("UserName"),
        path=p.get("Path", "/"),
        tags=_tags(p),
        permissions_boundary=p.get("PermissionsBoundary"),
    )
    return {"User": shapes.user(user, full=True)}


@operation("iam", "GetUser")
def get_user(ctx: CallContext, p: P) -> P:
    name = p.get("UserName") or (ctx.principal.name if ctx.principal.type == "IAMUser" else None)
    if name is None:  # root calling GetUser without a name describes the root user
        account = identities.get_root_user(ctx)
        return {
            "User": {
                "UserId": ctx.account_id,
                "Arn": ctx.principal.arn,
                "CreateDate": account.created_at,
                "Path": "/",
                "UserName": "",
            }
        }
    return {"User": shapes.user(identities.get_user(ctx, user_name=name), full=True)}


@operation("iam", "ListUsers")
def list_users(ctx: CallContext, p: P) -> P:
    users = identities.list_users(ctx, path_prefix=p.get("PathPrefix", "/"))
    # Only the columns the output shape has: no login-profile join or group count, no model instances.
    result = shapes.page(users.values(*shapes.USER_COLUMNS), p, "Users")
    result["Users"] = [shapes.user_row(u) for u in result["Users"]]
    return result


@operation("iam", "UpdateUser")
def update_user(ctx: CallContext, p: P) -> None:
    identities.update_user(
        ctx, user_name=p.get("UserName"), new_user_name=p.get("NewUserName"), new_path=p.get("NewPath")
    )


@operation("iam", "DeleteUser")
def delete_user(ctx: CallContext, p: P) -> None:
    identities.delete_user(ctx, user_name=p.get("UserName"))


@operation("iam", "TagUser")
def tag_user(ctx: CallContext, p: P) -> None:
    identities.tag_user(ctx, user_name=p.get("UserName"), tags=_tags(p))


@operation("iam", "UntagUser")
def untag_user(ctx: CallContext, p: P) -> None:
    identities.untag_user(ctx, user_name=p.get("UserName"), tag_keys=p.get("TagKeys") or [])


@operation("iam", "ListUserTags")
def list_user_tags(ctx: CallContext, p: P) -> P:
    return shapes.page(shapes.tags(identities.list_user_tags(ctx, user_name=p.get("UserName"))), p, "Tags")


@operation("iam", "PutUserPermissionsBoundary")
def put_user_permissions_boundary(ctx: CallContext, p: P) -> None:
    identities.put_user_permissions_boundary(
        ctx, user_name=p.get("UserName"), permissions_boundary=p.get("PermissionsBoundary")
    )


@operation("iam", "DeleteUserPermissionsBoundary")
def delete_user_permissions_boundary(ctx: CallContext, p: P) -> None:
    identities.delete_user_permissions_boundary(ctx, user_name=p.get("UserName"))


# ---- login profiles -------------------------------------------------------------------------------------------


@operation("iam", "CreateLoginProfile")
def create_login_profile(ctx: CallContext, p: P) -> P:
    shapes.refuse(p, "MaxSigninSessionDuration")  # OAuth sign-in (aws login) sessions are not modelled
    profile = identities.create_login_profile(
        ctx,
        user_name=p.get("UserName"),
        password=p.get("Password"),
        password_reset_required=p.get("PasswordResetRequired", False),
    )
    return {
        "LoginProfile": {
            "UserName": profile.user.name,
            "CreateDate": profile.created_at,
            "PasswordResetRequired": profile.password_reset_required,
        }
    }


@operation("iam", "GetLoginProfile")
def get_login_profile(ctx: CallContext, p: P) -> P:
    profile = identities.get_login_profile(ctx, user_name=p.get("UserName"))
    return {
        "LoginProfile": {
            "UserName": profile.user.name,
            "CreateDate": profile.created_at,
            "PasswordResetRequired": profile.password_reset_required,
        }
    }


@operation("iam", "UpdateLoginProfile")
def update_login_profile(ctx: CallContext, p: P) -> None:
    shapes.refuse(p, "MaxSigninSessionDuration", "ResetMaxSigninSessionDuration")
    identities.update_login_profile(
        ctx,
        user_name=p.get("UserName"),
        password=p.get("Password"),
        password_reset_required=p.get("PasswordResetRequired"),
    )


@operation("iam", "DeleteLoginProfile")
def delete_login_profile(ctx: CallContext, p: P) -> None:
    identities.delete_login_profile(ctx, user_name=p.get("UserName"))


@operation("iam", "ChangePassword")
def change_password(ctx: CallContext, p: P) -> None:
    identities.change_password(ctx, old_password=p.get("OldPassword"), new_password=p.get("NewPassword"))


# ---- groups -----------------------------------------------------------------------------------------------------


@operation("iam", "CreateGroup")
def create_group(ctx: CallContext, p: P) -> P:
    return {"Group": shapes.group(identities.create_group(ctx, group_name=p.get("GroupName"), path=p.get("Path", "/")))}


@operation("iam", "GetGroup")
def get_group(ctx: CallContext, p: P) -> P:
    group = identities.get_group(ctx, group_name=p.get("GroupName"))
    result = shapes.page(members_of(group), p, "Users")
    result["Users"] = [shapes.user(u) for u in result["Users"]]
    result["Group"] = shapes.group(group)
    return result


@operation("iam", "ListGroups")
def list_groups(ctx: CallContext, p: P) -> P:
    result = shapes.page(identities.list_groups(ctx, path_prefix=p.get("PathPrefix", "/")), p, "Groups")
    result["Groups"] = [shapes.group(g) for g in result["Groups"]]
    return result


@operation("iam", "ListGroupsForUser")
def list_groups_for_user(ctx: CallContext, p: P) -> P:
    result = shapes.page(identities.list_groups_for_user(ctx, user_name=p.get("UserName")), p, "Groups")
    result["Groups"] = [shapes.group(g) for g in result["Groups"]]
    return result


@operation("iam", "DeleteGroup")
def delete_group(ctx: CallContext, p: P) -> None:
    identities.delete_group(ctx, group_name=p.get("GroupName"))


@operation("iam", "AddUserToGroup")
def add_user_to_group(ctx: CallContext, p: P) -> None:
    identities.add_user_to_group(ctx, group_name=p.get("GroupName"), user_name=p.get("UserName"))


@operation("iam", "RemoveUserFromGroup")
def remove_user_from_group(ctx: CallContext, p: P) -> None:
    identities.remove_user_from_group(ctx, group_name=p.get("GroupName"), user_name=p.get("UserName"))


# ---- managed policies ---------------------------------------------------------------------------------------


@operation("iam", "CreatePolicy")
def create_policy(ctx: CallContext, p: P) -> P:
    policy = policies.create_policy(
        ctx,
        policy_name=p.get("PolicyName"),
        policy_document=p.get("PolicyDocument"),
        path=p.get("Path", "/"),
        description=p.get("Description", ""),
        tags=_tags(p),
    )
    # AWS's CreatePolicy answer: no Description; Tags only when some were given.
    return {"Policy": shapes.policy(policy, (0, 0), tags=bool(policy.tags))}


@operation("iam", "GetPolicy")
def get_policy(ctx: CallContext, p: P) -> P:
    policy = policies.get_policy(ctx, policy_arn=p.get("PolicyArn"))
    counts = policies.usage_counts(ctx.account_id, [policy.pk])[policy.pk]
    return {"Policy": shapes.policy(policy, counts, description=True, tags=True)}


@operation("iam", "ListPolicies")
def list_policies(ctx: CallContext, p: P) -> P:
    found = policies.list_policies(
        ctx,
        scope=p.get("Scope", "All"),
        only_attached=p.get("OnlyAttached", False),
        path_prefix=p.get("PathPrefix", "/"),
        policy_usage_filter=p.get("PolicyUsageFilter"),
    )
    result = shapes.page(found, p, "Policies")
    counts = policies.usage_counts(ctx.account_id, [x.pk for x in result["Policies"]])
    result["Policies"] = [shapes.policy(x, counts[x.pk]) for x in result["Policies"]]
    return result


@operation("iam", "DeletePolicy")
def delete_policy(ctx: CallContext, p: P) -> None:
    policies.delete_policy(ctx, policy_arn=p.get("PolicyArn"))


@operation("iam", "CreatePolicyVersion")
def create_policy_version(ctx: CallContext, p: P) -> P:
    version = policies.create_policy_version(
        ctx,
        policy_arn=p.get("PolicyArn"),
        policy_document=p.get("PolicyDocument"),
        set_as_default=p.get("SetAsDefault", False),
    )
    return {"PolicyVersion": shapes.version(version, document=False)}


@operation("iam", "GetPolicyVersion")
def get_policy_version(ctx: CallContext, p: P) -> P:
    version = policies.get_policy_version(ctx, policy_arn=p.get("PolicyArn"), version_id=p.get("VersionId"))
    return {"PolicyVersion": shapes.version(version)}


@operation("iam", "ListPolicyVersions")
def list_policy_versions(ctx: CallContext, p: P) -> P:
    result = shapes.page(policies.list_policy_versions(ctx, policy_arn=p.get("PolicyArn")), p, "Versions")
    result["Versions"] = [shapes.version(v, document=False) for v in result["Versions"]]
    return result


@operation("iam", "SetDefaultPolicyVersion")
def set_default_policy_version(ctx: CallContext, p: P) -> None:
    policies.set_default_policy_version(ctx, policy_arn=p.get("PolicyArn"), version_id=p.get("VersionId"))


@operation("iam", "DeletePolicyVersion")
def delete_policy_version(ctx: CallContext, p: P) -> None:
    policies.delete_policy_version(ctx, policy_arn=p.get("PolicyArn"), version_id=p.get("VersionId"))


def _attached(items: list[Any], p: P) -> P:
    result = shapes.page(items, p, "AttachedPolicies")
    result["AttachedPolicies"] = [{"PolicyName": x.name, "PolicyArn": x.arn} for x in result["AttachedPolicies"]]
    return result


@operation("iam", "AttachUserPolicy")
def attach_user_policy(ctx: CallContext, p: P) -> None:
    policies.attach_user_policy(ctx, user_name=p.get("UserName"), policy_arn=p.get("PolicyArn"))


@operation("iam", "DetachUserPolicy")
def detach_user_policy(ctx: CallContext, p: P) -> None:
    policies.detach_user_policy(ctx, user_name=p.get("UserName"), policy_arn=p.get("PolicyArn"))


@operation("iam", "ListAttachedUserPolicies")
def list_attached_user_policies(ctx: CallContext, p: P) -> P:
    found = policies.list_attached_user_policies(ctx, user_name=p.get("UserName"), path_prefix=p.get("PathPrefix", "/"))
    return _attached(found, p)


@operation("iam", "AttachGroupPolicy")
def attach_group_policy(ctx: CallContext, p: P) -> None:
    policies.attach_group_policy(ctx, group_name=p.get("GroupName"), policy_arn=p.get("PolicyArn"))


@operation("iam", "DetachGroupPolicy")
def detach_group_policy(ctx: CallContext, p: P) -> None:
    policies.detach_group_policy(ctx, group_name=p.get("GroupName"), policy_arn=p.get("PolicyArn"))


@operation("iam", "ListAttachedGroupPolicies")
def list_attached_group_policies(ctx: CallContext, p: P) -> P:
    found = policies.list_attached_group_policies(
        ctx, group_name=p.get("GroupName"), path_prefix=p.get("PathPrefix", "/")
    )
    return _attached(found, p)


@operation("iam", "AttachRolePolicy")
def attach_role_policy(ctx: CallContext, p: P) -> None:
    policies.attach_role_policy(ctx, role_name=p.get("RoleName"), policy_arn=p.get("PolicyArn"))


@operation("iam", "DetachRolePolicy")
def detach_role_policy(ctx: CallContext, p: P) -> None:
    policies.detach_role_policy(ctx, role_name=p.get("RoleName"), policy_arn=p.get("PolicyArn"))


@operation("iam", "ListAttachedRolePolicies")
def list_attached_role_policies(ctx: CallContext, p: P) -> P:
    found = policies.list_attached_role_policies(ctx, role_name=p.get("RoleName"), path_prefix=p.get("PathPrefix", "/"))
    return _attached(found, p)


@operation("iam", "ListEntitiesForPolicy")
def list_entities_for_policy(ctx: CallContext, p: P) -> P:
    found = policies.list_entities_for_policy(
        ctx,
        policy_arn=p.get("PolicyArn"),
        entity_filter=p.get("EntityFilter"),
        path_prefix=p.get("PathPrefix", "/"),
        policy_usage_filter=p.get("PolicyUsageFilter"),
    )
    # One entity using the policy both ways is listed once; MaxItems pages over users, then groups, then roles.
    users = {u.pk: u for u in [*found.users, *found.boundary_users]}
    roles = {r.pk: r for r in [*found.roles, *found.boundary_roles]}
    everything = (
        [("PolicyUsers", {"UserName": u.name, "UserId": u.user_id}) for u in sorted(users.values(), key=_name)]
        + [("PolicyGroups", {"GroupName": g.name, "GroupId": g.group_id}) for g in found.groups]
        + [("PolicyRoles", {"RoleName": r.name, "RoleId": r.role_id}) for r in sorted(roles.values(), key=_name)]
    )
    return _split_page(everything, p, ("PolicyUsers", "PolicyGroups", "PolicyRoles"))


def _name(entity: Any) -> str:
    return entity.name


def _split_page(everything: list[tuple[str, P]], p: P, keys: tuple[str, ...]) -> P:
    """One MaxItems/Marker page over several lists in a row (AWS pages them as one sequence)."""
    page = shapes.page(everything, p, "Items")
    result: P = {key: [] for key in keys}
    for key, item in page.pop("Items"):
        result[key].append(item)
    return {**result, **page}


# ---- inline policies ----------------------------------------------------------------------------------------


def _inline(policy: Any, owner_key: str, owner: str) -> P:
    return {owner_key: owner, "PolicyName": policy.name, "PolicyDocument": quote(policy.document)}


@operation("iam", "PutUserPolicy")
def put_user_policy(ctx: CallContext, p: P) -> None:
    policies.put_user_policy(
        ctx, user_name=p.get("UserName"), policy_name=p.get("PolicyName"), policy_document=p.get("PolicyDocument")
    )


@operation("iam", "GetUserPolicy")
def get_user_policy(ctx: CallContext, p: P) -> P:
    policy = policies.get_user_policy(ctx, user_name=p.get("UserName"), policy_name=p.get("PolicyName"))
    return _inline(policy, "UserName", policy.user.name)


@operation("iam", "DeleteUserPolicy")
def delete_user_policy(ctx: CallContext, p: P) -> None:
    policies.delete_user_policy(ctx, user_name=p.get("UserName"), policy_name=p.get("PolicyName"))


@operation("iam", "ListUserPolicies")
def list_user_policies(ctx: CallContext, p: P) -> P:
    result = shapes.page(policies.list_user_policies(ctx, user_name=p.get("UserName")), p, "PolicyNames")
    result["PolicyNames"] = [x.name for x in result["PolicyNames"]]
    return result


@operation("iam", "PutGroupPolicy")
def put_group_policy(ctx: CallContext, p: P) -> None:
    policies.put_group_policy(
        ctx, group_name=p.get("GroupName"), policy_name=p.get("PolicyName"), policy_document=p.get("PolicyDocument")
    )


@operation("iam", "GetGroupPolicy")
def get_group_policy(ctx: CallContext, p: P) -> P:
    policy = policies.get_group_policy(ctx, group_name=p.get("GroupName"), policy_name=p.get("PolicyName"))
    return _inline(policy, "GroupName", policy.group.name)


@operation("iam", "DeleteGroupPolicy")
def delete_group_policy(ctx: CallContext, p: P) -> None:
    policies.delete_group_policy(ctx, group_name=p.get("GroupName"), policy_name=p.get("PolicyName"))


@operation("iam", "ListGroupPolicies")
def list_group_policies(ctx: CallContext, p: P) -> P:
    result = shapes.page(policies.list_group_policies(ctx, group_name=p.get("GroupName")), p, "PolicyNames")
    result["PolicyNames"] = [x.name for x in result["PolicyNames"]]
    return result


@operation("iam", "PutRolePolicy")
def put_role_policy(ctx: CallContext, p: P) -> None:
    policies.put_role_policy(
        ctx, role_name=p.get("RoleName"), policy_name=p.get("PolicyName"), policy_document=p.get("PolicyDocument")
    )


@operation("iam", "GetRolePolicy")
def get_role_policy(ctx: CallContext, p: P) -> P:
    policy = policies.get_role_policy(ctx, role_name=p.get("RoleName"), policy_name=p.get("PolicyName"))
    return _inline(policy, "RoleName", policy.role.name)


@operation("iam", "DeleteRolePolicy")
def delete_role_policy(ctx: CallContext, p: P) -> None:
    policies.delete_role_policy(ctx, role_name=p.get("RoleName"), policy_name=p.get("PolicyName"))


@operation("iam", "ListRolePolicies")
def list_role_policies(ctx: CallContext, p: P) -> P:
    result = shapes.page(policies.list_role_policies(ctx, role_name=p.get("RoleName")), p, "PolicyNames")
    result["PolicyNames"] = [x.name for x in result["PolicyNames"]]
    return result


# ---- roles and instance profiles ------------------------------------------------------------------------------


@operation("iam", "CreateRole")
def create_role(ctx: CallContext, p: P) -> P:
    shapes.refuse(p, "MaxSigninSessionDuration")
    role = roles.create_role(
        ctx,
        role_name=p.get("RoleName"),
        assume_role_policy_document=p.get("AssumeRolePolicyDocument"),
        path=p.get("Path", "/"),
        description=p.get("Description", ""),
        max_session_duration=p.get("MaxSessionDuration", 3600),
        permissions_boundary=p.get("PermissionsBoundary"),
        tags=_tags(p),
    )
    return {"Role": shapes.role(role, full=True)}


@operation("iam", "GetRole")
def get_role(ctx: CallContext, p: P) -> P:
    return {"Role": shapes.role(roles.get_role(ctx, role_name=p.get("RoleName")), full=True)}


@operation("iam", "ListRoles")
def list_roles(ctx: CallContext, p: P) -> P:
    result = shapes.page(roles.list_roles(ctx, path_prefix=p.get("PathPrefix", "/")), p, "Roles")
    result["Roles"] = [shapes.role(r) for r in result["Roles"]]
    return result


@operation("iam", "UpdateRole")
def update_role(ctx: CallContext, p: P) -> None:
    shapes.refuse(p, "MaxSigninSessionDuration", "ResetMaxSigninSessionDuration")
    roles.update_role(
        ctx,
        role_name=p.get("RoleName"),
        description=p.get("Description"),
        max_session_duration=p.get("MaxSessionDuration"),
    )


@operation("iam", "UpdateRoleDescription")
def update_role_description(ctx: CallContext, p: P) -> P:
    role = roles.update_role_description(ctx, role_name=p.get("RoleName"), description=p.get("Description", ""))
    return {"Role": shapes.role(role, full=True)}


@operation("iam", "UpdateAssumeRolePolicy")
def update_assume_role_policy(ctx: CallContext, p: P) -> None:
    roles.update_assume_role_policy(ctx, role_name=p.get("RoleName"), policy_document=p.get("PolicyDocument"))


@operation("iam", "DeleteRole")
def delete_role(ctx: CallContext, p: P) -> None:
    roles.delete_role(ctx, role_name=p.get("RoleName"))


@operation("iam", "TagRole")
def tag_role(ctx: CallContext, p: P) -> None:
    roles.tag_role(ctx, role_name=p.get("RoleName"), tags=_tags(p))


@operation("iam", "UntagRole")
def untag_role(ctx: CallContext, p: P) -> None:
    roles.untag_role(ctx, role_name=p.get("RoleName"), tag_keys=p.get("TagKeys") or [])


@operation("iam", "ListRoleTags")
def list_role_tags(ctx: CallContext, p: P) -> P:
    return shapes.page(shapes.tags(roles.list_role_tags(ctx, role_name=p.get("RoleName"))), p, "Tags")


@operation("iam", "PutRolePermissionsBoundary")
def put_role_permissions_boundary(ctx: CallContext, p: P) -> None:
    roles.put_role_permissions_boundary(
        ctx, role_name=p.get("RoleName"), permissions_boundary=p.get("PermissionsBoundary")
    )


@operation("iam", "DeleteRolePermissionsBoundary")
def delete_role_permissions_boundary(ctx: CallContext, p: P) -> None:
    roles.delete_role_permissions_boundary(ctx, role_name=p.get("RoleName"))


@operation("iam", "CreateInstanceProfile")
def create_instance_profile(ctx: CallContext, p: P) -> P:
    profile = instance_profiles.create_instance_profile(
        ctx, instance_profile_name=p.get("InstanceProfileName"), path=p.get("Path", "/"), tags=_tags(p)
    )
    return {"InstanceProfile": shapes.instance_profile(profile)}


@operation("iam", "GetInstanceProfile")
def get_instance_profile(ctx: CallContext, p: P) -> P:
    profile = instance_profiles.get_instance_profile(ctx, instance_profile_name=p.get("InstanceProfileName"))
    return {"InstanceProfile": shapes.instance_profile(profile)}


@operation("iam", "AddRoleToInstanceProfile")
def add_role_to_instance_profile(ctx: CallContext, p: P) -> None:
    instance_profiles.add_role_to_instance_profile(
        ctx, instance_profile_name=p.get("InstanceProfileName"), role_name=p.get("RoleName")
    )


@operation("iam", "RemoveRoleFromInstanceProfile")
def remove_role_from_instance_profile(ctx: CallContext, p: P) -> None:
    instance_profiles.remove_role_from_instance_profile(
        ctx, instance_profile_name=p.get("InstanceProfileName"), role_name=p.get("RoleName")
    )


@operation("iam", "DeleteInstanceProfile")
def delete_instance_profile(ctx: CallContext, p: P) -> None:
    instance_profiles.delete_instance_profile(ctx, instance_profile_name=p.get("InstanceProfileName"))


@operation("iam", "ListInstanceProfilesForRole")
def list_instance_profiles_for_role(ctx: CallContext, p: P) -> P:
    result = shapes.page(
        instance_profiles.list_instance_profiles_for_role(ctx, role_name=p.get("RoleName")), p, "InstanceProfiles"
    )
    result["InstanceProfiles"] = [shapes.instance_profile(x) for x in result["InstanceProfiles"]]
    return result


# ---- account ------------------------------------------------------------------------------------------------------


@operation("iam", "GetAccountSummary")
def get_account_summary(ctx: CallContext, p: P) -> P:
    return {"SummaryMap": identities.get_account_summary(ctx)}


@operation("iam", "ListInstanceProfiles")
def list_instance_profiles(ctx: CallContext, p: P) -> P:
    found = instance_profiles.list_instance_profiles(ctx, path_prefix=p.get("PathPrefix", "/"))
    result = shapes.page(found, p, "InstanceProfiles")
    result["InstanceProfiles"] = [shapes.instance_profile(x) for x in result["InstanceProfiles"]]
    return result


# ---- policy tags ------------------------------------------------------------------------------------------------


@operation("iam", "TagPolicy")
def tag_policy(ctx: CallContext, p: P) -> None:
    policies.tag_policy(ctx, policy_arn=p.get("PolicyArn"), tags=_tags(p))


@operation("iam", "UntagPolicy")
def untag_policy(ctx: CallContext, p: P) -> None:
    policies.untag_policy(ctx, policy_arn=p.get("PolicyArn"), tag_keys=p.get("TagKeys") or [])


@operation("iam", "ListPolicyTags")
def list_policy_tags(ctx: CallContext, p: P) -> P:
    return shapes.page(shapes.tags(policies.list_policy_tags(ctx, policy_arn=p.get("PolicyArn"))), p, "Tags")


# ---- GetAccountAuthorizationDetails -----------------------------------------------------------------------------


def _attached_list(entity: Any) -> list[P]:
    return [{"PolicyName": a.policy.name, "PolicyArn": a.policy.arn} for a in entity.policy_attachments.all()]


def _inline_list(details: Any, kind: str, pk: int) -> list[P]:
    return [{"PolicyName": x.name, "PolicyDocument": quote(x.document)} for x in details.inline.get((kind, pk), [])]


@operation("iam", "GetAccountAuthorizationDetails")
def get_account_authorization_details(ctx: CallContext, p: P) -> P:
    details = authorization_details.get_account_authorization_details(ctx, filters=p.get("Filter") or [])
    users = [
        {
            **shapes.user(u, full=True),
            "UserPolicyList": _inline_list(details, "user", u.pk),
            "GroupList": [g.name for g in u.groups.all()],
            "AttachedManagedPolicies": _attached_list(u),
        }
        for u in details.users
    ]
    groups = [
        {
            **shapes.group(g),
            "GroupPolicyList": _inline_list(details, "group", g.pk),
            "AttachedManagedPolicies": _attached_list(g),
        }
        for g in details.groups
    ]
    roles = [
        {
            **shapes.role(r, full=True),
            "RolePolicyList": _inline_list(details, "role", r.pk),
            "InstanceProfileList": [shapes.instance_profile(x) for x in r.instance_profiles.all()],
            "AttachedManagedPolicies": _attached_list(r),
        }
        for r in details.roles
    ]
    policies_ = [
        {
            **shapes.policy(policy, counts, description=True),
            "PolicyVersionList": [
                {
                    "Document": quote(v.document),
                    "VersionId": v.version_id,
                    "IsDefaultVersion": v.is_default,
                    "CreateDate": v.created_at,
                }
                for v in versions
            ],
        }
        for policy, versions, counts in details.policies
    ]
    # One page holds everything: MaxItems pages over the concatenation in AWS's order.
    everything = (
        [("UserDetailList", x) for x in users]
        + [("GroupDetailList", x) for x in groups]
        + [("RoleDetailList", x) for x in roles]
        + [("Policies", x) for x in policies_]
    )
    return _split_page(everything, p, ("UserDetailList", "GroupDetailList", "RoleDetailList", "Policies"))
