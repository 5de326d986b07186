"""Instance profiles: one function per AWS action."""

from __future__ import annotations

from collections.abc import Sequence

from core import arns, clock, ids
from core.calls import iam_call
from core.context import CallContext
from core.errors import DeleteConflict, EntityAlreadyExists, LimitExceeded, NoSuchEntity
from core.validation import check_input
from identities.models import InstanceProfile
from identities.roles import find_role, role_arn
from identities.services import Tag, check_tags


def find_instance_profile(account_id: str, name: str) -> InstanceProfile:
    profile = InstanceProfile.objects.in_account(account_id).named(name).first()
    if profile is None:
        raise NoSuchEntity(f"Instance Profile {name} cannot be found.")
    return profile


def get_instance_profile(ctx: CallContext, *, instance_profile_name: str) -> InstanceProfile:
    with iam_call(
        ctx,
        "iam:GetInstanceProfile",
        instance_profile_arn(ctx, instance_profile_name),
        {"instanceProfileName": instance_profile_name},
    ):
        check_input("iam", "GetInstanceProfile", InstanceProfileName=instance_profile_name)
        return find_instance_profile(ctx.account_id, instance_profile_name)


def instance_profile_arn(ctx: CallContext, name: str) -> str:
    """The ARN a call about instance profile ``name`` is authorized against (with its real path when it exists)."""
    profile = InstanceProfile.objects.in_account(ctx.account_id).named(name).only("arn").first()
    return profile.arn if profile else arns.instance_profile(ctx.account_id, "/", name)


def create_instance_profile(
    ctx: CallContext, *, instance_profile_name: str, path: str = "/", tags: Sequence[Tag] = ()
) -> InstanceProfile:
    arn = arns.instance_profile(ctx.account_id, path or "/", instance_profile_name)
    params = {"instanceProfileName": instance_profile_name, "tags": [t.as_dict() for t in tags] or None}
    with iam_call(ctx, "iam:CreateInstanceProfile", arn, params) as call:
        check_input(
            "iam",
            "CreateInstanceProfile",
            InstanceProfileName=instance_profile_name,
            Path=path,
            Tags=[t.as_dict() for t in tags] or None,
        )
        check_tags(tags)
        call.on_conflict = EntityAlreadyExists(f"Instance Profile {instance_profile_name} already exists.")
        if InstanceProfile.objects.in_account(ctx.account_id).named(instance_profile_name).exists():
            raise call.on_conflict
        return InstanceProfile.objects.create(
            account_id=ctx.account_id,
            instance_profile_id=ids.new_id("AIPA"),
            name=instance_profile_name,
            path=path,
            arn=arn,
            created_at=clock.now(),
            tags=[t.as_dict() for t in tags],
        )


def add_role_to_instance_profile(ctx: CallContext, *, instance_profile_name: str, role_name: str) -> None:
    profile_arn = instance_profile_arn(ctx, instance_profile_name)
    with iam_call(
        ctx,
        "iam:AddRoleToInstanceProfile",
        profile_arn,
        {"instanceProfileName": instance_profile_name, "roleName": role_name},
    ):
        profile = find_instance_profile(ctx.account_id, instance_profile_name)
        role = find_role(ctx.account_id, role_name)
        if profile.roles.exists():
            raise LimitExceeded("Cannot exceed quota for InstanceSessionsPerInstanceProfile: 1")
        profile.roles.add(role)


def remove_role_from_instance_profile(ctx: CallContext, *, instance_profile_name: str, role_name: str) -> None:
    profile_arn = instance_profile_arn(ctx, instance_profile_name)
    with iam_call(
        ctx,
        "iam:RemoveRoleFromInstanceProfile",
        profile_arn,
        {"instanceProfileName": instance_profile_name, "roleName": role_name},
    ):
        profile = find_instance_profile(ctx.account_id, instance_profile_name)
        role = find_role(ctx.account_id, role_name)
        if not profile.roles.filter(pk=role.pk).exists():
            raise NoSuchEntity(f"The role with name {role.name} cannot be found in instance profile {profile.name}.")
        profile.roles.remove(role)


def delete_instance_profile(ctx: CallContext, *, instance_profile_name: str) -> None:
    profile_arn = instance_profile_arn(ctx, instance_profile_name)
    with iam_call(ctx, "iam:DeleteInstanceProfile", profile_arn, {"instanceProfileName": instance_profile_name}):
        profile = find_instance_profile(ctx.account_id, instance_profile_name)
        if profile.roles.exists():
            raise DeleteConflict("Cannot delete entity, must remove roles from instance profile first.")
        profile.delete()


def list_instance_profiles_for_role(ctx: CallContext, *, role_name: str) -> list[InstanceProfile]:
    with iam_call(ctx, "iam:ListInstanceProfilesForRole", role_arn(ctx, role_name), {"roleName": role_name}):
        return list(find_role(ctx.account_id, role_name).instance_profiles.order_by("name"))


def list_instance_profiles(ctx: CallContext, *, path_prefix: str = "/") -> list[InstanceProfile]:
    with iam_call(
        ctx,
        "iam:ListInstanceProfiles",
        arns.account_wildcard(ctx.account_id, "instance-profile"),
        {"pathPrefix": path_prefix if path_prefix != "/" else None},
    ):
        check_input("iam", "ListInstanceProfiles", PathPrefix=path_prefix)
        return list(
            InstanceProfile.objects.in_account(ctx.account_id)
            .filter(path__startswith=path_prefix)
            .prefetch_related("roles")
            .order_by("name")
        )
