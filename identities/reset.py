"""Reset an account's IAM state to empty for the next class, keeping the account, its root user and the root
user's credentials (password, access keys, MFA device, GetSessionToken sessions). The audit history stays.

Leaf tables are deleted first, each with one DELETE, so the whole reset is a dozen statements in one transaction.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from django.db import transaction


@dataclass(frozen=True)
class ResetSummary:
    account_id: str
    deleted: dict[str, int]
    milliseconds: float


def reset_account_iam(account_id: str) -> ResetSummary:
    from identities.models import (AccessKey, Account, CredentialReport, Group, GroupMembership, IamUser,
                                   InstanceProfile, LoginProfile, MfaDevice, OpenIdConnectProvider, PasswordHistory,
                                   PasswordPolicy, Role, SamlProvider)
    from policies.models import (GroupPolicyAttachment, InlinePolicy, ManagedPolicy, PolicyVersion,
                                 RolePolicyAttachment, UserPolicyAttachment)
    from sts.models import TemporaryCredential

    started = time.perf_counter()
    deleted: dict[str, int] = {}

    def drop(label: str, queryset) -> None:
        count = queryset._raw_delete(queryset.db)  # one DELETE; the order below leaves nothing to cascade
        if count:
            deleted[label] = count

    with transaction.atomic():
        account = Account.objects.select_for_update().get(pk=account_id)
        users = IamUser.objects.filter(account_id=account_id)
        roles = Role.objects.filter(account_id=account_id)
        drop("temporary credentials", TemporaryCredential.objects.filter(account_id=account_id).exclude(
            kind=TemporaryCredential.KIND_SESSION_TOKEN, user__isnull=True))
        drop("user access keys", AccessKey.objects.filter(account_id=account_id, user__isnull=False))
        drop("MFA devices", MfaDevice.objects.filter(account_id=account_id).exclude(
            user__isnull=True, enabled_at__isnull=False))  # root's enabled device stays
        drop("login profiles", LoginProfile.objects.filter(user__in=users))
        drop("password history", PasswordHistory.objects.filter(user__in=users))
        drop("inline policies", InlinePolicy.objects.filter(account_id=account_id))
        drop("user attachments", UserPolicyAttachment.objects.filter(account_id=account_id))
        drop("group attachments", GroupPolicyAttachment.objects.filter(account_id=account_id))
        drop("role attachments", RolePolicyAttachment.objects.filter(account_id=account_id))
        drop("group memberships", GroupMembership.objects.filter(account_id=account_id))
        drop("instance profile roles", InstanceProfile.roles.through.objects.filter(role__in=roles))
        drop("instance profiles", InstanceProfile.objects.filter(account_id=account_id))
        # Boundaries point at customer policies: clear them before the policies go.
        users.exclude(permissions_boundary__isnull=True).update(permissions_boundary=None)
        roles.exclude(permissions_boundary__isnull=True).update(permissions_boundary=None)
        drop("users", users)
        drop("groups", Group.objects.filter(account_id=account_id))
        drop("roles", roles)
        policies = ManagedPolicy.objects.filter(account_id=account_id)
        drop("policy versions", PolicyVersion.objects.filter(policy__in=policies))
        drop("customer managed policies", policies)
        drop("password policy", PasswordPolicy.objects.filter(account_id=account_id))
        drop("credential report", CredentialReport.objects.filter(account_id=account_id))
        drop("SAML providers", SamlProvider.objects.filter(account_id=account_id))
        drop("OIDC providers", OpenIdConnectProvider.objects.filter(account_id=account_id))
        if account.alias:
            account.alias = None
            account.save(update_fields=["alias"])
            deleted["account alias"] = 1
    return ResetSummary(account_id, deleted, (time.perf_counter() - started) * 1000)
