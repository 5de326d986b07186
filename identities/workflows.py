"""The console's workflows: several public services in one ``batch`` (all of them happen, or none does), each
still authorized and audited on its own: Create user, Delete user or group with what hangs off it, Create group,
Create role, Delete role, Revoke active sessions."""

from __future__ import annotations

import json
from collections.abc import Sequence

from core import clock
from core.calls import batch
from core.context import CallContext
from identities import credentials, user_credentials
from identities.instance_profiles import (
    add_role_to_instance_profile,
    create_instance_profile,
    delete_instance_profile,
    remove_role_from_instance_profile,
)
from identities.models import Group, IamUser, LoginProfile, Role
from identities.roles import REVOKE_POLICY_NAME, create_role, delete_role, find_role
from identities.services import (
    CHANGE_PASSWORD_POLICY_ARN,
    Tag,
    add_user_to_group,
    create_group,
    create_login_profile,
    create_user,
    delete_group,
    delete_login_profile,
    delete_user,
    find_group,
    find_user,
    remove_user_from_group,
)
from policies import services as policy_services


def create_user_from_wizard(
    ctx: CallContext,
    *,
    user_name: str,
    password: str | None,
    require_reset: bool,
    groups: Sequence[str] = (),
    policies: Sequence[str] = (),
    copy_from: str | None = None,
    boundary: str | None = None,
    tags: Sequence[Tag] = (),
) -> IamUser:
    """The Create user wizard: the same AWS calls the console makes, in one transaction."""
    with batch():
        if copy_from:
            source = find_user(ctx.account_id, copy_from)
            groups = [g.name for g in Group.objects.filter(memberships__user=source)]
            policies = list(source.policy_attachments.values_list("policy__arn", flat=True))
            boundary = source.permissions_boundary.arn if source.permissions_boundary_id else None
            inline = list(source.inline_policies.values_list("name", "document"))
        else:
            inline = []
        user = create_user(ctx, user_name=user_name, tags=tags, permissions_boundary=boundary or None)
        if password is not None:
            create_login_profile(ctx, user_name=user_name, password=password, password_reset_required=require_reset)
            if require_reset and CHANGE_PASSWORD_POLICY_ARN not in policies:
                # The console grants IAMUserChangePassword so the user can set the new password at sign-in.
                policy_services.attach_user_policy(ctx, user_name=user_name, policy_arn=CHANGE_PASSWORD_POLICY_ARN)
        for group_name in groups:
            add_user_to_group(ctx, group_name=group_name, user_name=user_name)
        for policy_arn in policies:
            policy_services.attach_user_policy(ctx, user_name=user_name, policy_arn=policy_arn)
        for name, document in inline:
            policy_services.put_user_policy(ctx, user_name=user_name, policy_name=name, policy_document=document)
        return user


def delete_user_with_dependents(ctx: CallContext, *, user_name: str) -> None:
    """The console's Delete: removes the password, memberships and policies first, then the user."""
    with batch():
        user = find_user(ctx.account_id, user_name)
        if LoginProfile.objects.filter(user=user).exists():
            delete_login_profile(ctx, user_name=user.name)
        for key_id in user.access_keys.values_list("access_key_id", flat=True):
            credentials.delete_access_key(ctx, user_name=user.name, access_key_id=key_id)
        for serial in user.mfa_devices.filter(enabled_at__isnull=False).values_list("serial_number", flat=True):
            credentials.deactivate_mfa_device(ctx, user_name=user.name, serial_number=serial)
            credentials.delete_virtual_mfa_device(ctx, serial_number=serial)
        for key_id in user.ssh_public_keys.values_list("key_id", flat=True):
            user_credentials.delete_ssh_public_key(ctx, user_name=user.name, ssh_public_key_id=key_id)
        for cert_id in user.signing_certificates.values_list("certificate_id", flat=True):
            user_credentials.delete_signing_certificate(ctx, user_name=user.name, certificate_id=cert_id)
        for credential_id in user.service_specific_credentials.values_list("credential_id", flat=True):
            user_credentials.delete_service_specific_credential(
                ctx, user_name=user.name, service_specific_credential_id=credential_id
            )
        for group_name in Group.objects.filter(memberships__user=user).values_list("name", flat=True):
            remove_user_from_group(ctx, group_name=group_name, user_name=user.name)
        for policy_arn in user.policy_attachments.values_list("policy__arn", flat=True):
            policy_services.detach_user_policy(ctx, user_name=user.name, policy_arn=policy_arn)
        for policy_name in user.inline_policies.values_list("name", flat=True):
            policy_services.delete_user_policy(ctx, user_name=user.name, policy_name=policy_name)
        delete_user(ctx, user_name=user.name)


def delete_group_with_dependents(ctx: CallContext, *, group_name: str) -> None:
    """The console's Delete for a group: members and policies are removed automatically."""
    with batch():
        group = find_group(ctx.account_id, group_name)
        for user_name in group.memberships.values_list("user__name", flat=True):
            remove_user_from_group(ctx, group_name=group.name, user_name=user_name)
        for policy_arn in group.policy_attachments.values_list("policy__arn", flat=True):
            policy_services.detach_group_policy(ctx, group_name=group.name, policy_arn=policy_arn)
        for policy_name in group.inline_policies.values_list("name", flat=True):
            policy_services.delete_group_policy(ctx, group_name=group.name, policy_name=policy_name)
        delete_group(ctx, group_name=group.name)


def create_group_from_console(
    ctx: CallContext, *, group_name: str, users: Sequence[str] = (), policies: Sequence[str] = ()
) -> Group:

    with batch():
        group = create_group(ctx, group_name=group_name)
        for user_name in users:
            add_user_to_group(ctx, group_name=group_name, user_name=user_name)
        for policy_arn in policies:
            policy_services.attach_group_policy(ctx, group_name=group_name, policy_arn=policy_arn)
        return group


def create_role_from_wizard(
    ctx: CallContext,
    *,
    role_name: str,
    trust_policy: str,
    description: str = "",
    policies: Sequence[str] = (),
    boundary: str | None = None,
    tags: Sequence[Tag] = (),
    instance_profile: bool = False,
) -> Role:
    """The Create role wizard: CreateRole, AttachRolePolicy…, and for EC2 an instance profile of the same name."""
    with batch():
        role = create_role(
            ctx,
            role_name=role_name,
            assume_role_policy_document=trust_policy,
            description=description,
            permissions_boundary=boundary or None,
            tags=tags,
        )
        for policy_arn in policies:
            policy_services.attach_role_policy(ctx, role_name=role_name, policy_arn=policy_arn)
        if instance_profile:
            create_instance_profile(ctx, instance_profile_name=role_name)
            add_role_to_instance_profile(ctx, instance_profile_name=role_name, role_name=role_name)
        return role


def delete_role_with_dependents(ctx: CallContext, *, role_name: str) -> None:
    with batch():
        role = find_role(ctx.account_id, role_name)
        for profile in role.instance_profiles.all():
            remove_role_from_instance_profile(ctx, instance_profile_name=profile.name, role_name=role.name)
            if profile.name.lower() == role.name.lower():
                delete_instance_profile(ctx, instance_profile_name=profile.name)
        for policy_arn in role.policy_attachments.values_list("policy__arn", flat=True):
            policy_services.detach_role_policy(ctx, role_name=role.name, policy_arn=policy_arn)
        for policy_name in role.inline_policies.values_list("name", flat=True):
            policy_services.delete_role_policy(ctx, role_name=role.name, policy_name=policy_name)
        delete_role(ctx, role_name=role.name)


def revoke_role_sessions(ctx: CallContext, *, role_name: str) -> None:
    """Revoke active sessions: the AWSRevokeOlderSessions inline deny on aws:TokenIssueTime, as AWS writes it."""
    now = clock.now().strftime("%Y-%m-%dT%H:%M:%SZ")
    document = json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Effect": "Deny",
                    "Action": ["*"],
                    "Resource": ["*"],
                    "Condition": {"DateLessThan": {"aws:TokenIssueTime": now}},
                }
            ],
        }
    )
    policy_services.put_role_policy(ctx, role_name=role_name, policy_name=REVOKE_POLICY_NAME, policy_document=document)
