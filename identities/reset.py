"""Empty the IAM state of accounts. One implementation, ``delete_iam_state``, serves both resets:

- ``reset_account_iam``: the administrator's ``manage.py reset_account``, one account for the next class; it also
  removes the account alias and keeps the root user's GetSessionToken sessions with its other credentials;
- ``classroom.services.reset_accounts``: the instructor's reset of student accounts; it keeps the alias (it is on
  the handout) and OrganizationAccountAccessRole, and ends every session.

Always kept: the accounts, the root user and its credentials (password, access keys, enabled MFA device), the
organization membership, and the audit history. Leaf tables are deleted first, each with one DELETE … WHERE
account_id IN (…), so nothing is left to cascade and the statement count doesn't grow with the number of accounts.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass

from django.apps import apps
from django.db import connection, transaction
from django.db.models import Q, QuerySet

from audit.models import AccessReport, ServiceLastAccessed
from core import clock, locks
from identities.models import (
    AccessKey,
    Account,
    CredentialReport,
    Group,
    GroupMembership,
    IamUser,
    InstanceProfile,
    LoginProfile,
    MfaDevice,
    OpenIdConnectProvider,
    PasswordHistory,
    PasswordPolicy,
    Role,
    SamlProvider,
    ServerCertificate,
    ServiceLinkedRoleDeletion,
    ServiceSpecificCredential,
    SigningCertificate,
    SshPublicKey,
)
from policies.models import (
    GroupPolicyAttachment,
    InlinePolicy,
    ManagedPolicy,
    PolicyVersion,
    RolePolicyAttachment,
    UserPolicyAttachment,
)
from sts.models import TemporaryCredential

# Account-scoped state of apps that identities must not import (classroom imports identities): found by label.
# State that other apps keep for an account, emptied too (looked up by label: identities is under those apps).
# Label → (model, the lookup naming the account). S3's objects before their buckets, EC2's instance sessions before
# their instances (the deletes are raw: nothing cascades).
_STATE_OF_OTHER_APPS = {
    "lab progress": ("classroom.LabProgress", "account_id__in"),
    "S3 objects": ("s3.S3Object", "bucket__account_id__in"),
    "S3 buckets": ("s3.Bucket", "account_id__in"),
    "EC2 instance sessions": ("ec2.InstanceCredential", "instance__account_id__in"),
    "EC2 instances": ("ec2.Instance", "account_id__in"),
}


@dataclass(frozen=True)
class ResetSummary:
    account_id: str
    deleted: dict[str, int]
    milliseconds: float


@dataclass(frozen=True)
class KeptRole:
    """A role that survives the reset with one managed policy left attached (the classroom's
    OrganizationAccountAccessRole with AdministratorAccess; the classroom restores its trust and tags itself).
    Everything else of it still goes: inline policies, other attachments, sessions, instance profiles, boundary."""

    name: str
    attached_policy_arn: str


def reset_account_iam(account_id: str) -> ResetSummary:
    """Empty one account for the next class, its alias included (the next class chooses its own)."""
    started = time.perf_counter()
    with transaction.atomic():
        deleted = delete_iam_state([account_id], keep_alias=False, keep_root_sessions=True, keep_role=None)
        _mark_seat_reset(account_id)
    return ResetSummary(account_id, deleted, (time.perf_counter() - started) * 1000)


def _mark_seat_reset(account_id: str) -> None:
    """A student account's seat remembers its reset, as after the board's reset: lab checks then ignore the audit
    events from before it."""
    try:
        seat = apps.get_model("classroom.StudentSeat")
    except LookupError:
        return  # not in this build
    seat.objects.filter(account_id=account_id).update(last_reset_at=clock.now())


def delete_iam_state(
    account_ids: Sequence[str], *, keep_alias: bool, keep_root_sessions: bool, keep_role: KeptRole | None
) -> dict[str, int]:
    """Delete the IAM state of ``account_ids`` in one transaction (the caller's, if it has one): users (with their
    passwords, keys, MFA devices, memberships), groups, roles, instance profiles, customer managed policies, inline
    policies, attachments, unassigned virtual MFA devices, sessions, the password policy, the credential report,
    SAML and OIDC providers, service-linked role deletion tasks, access-advisor data, lab progress, SSH public keys,
    service-specific credentials, users' signing certificates, server certificates, the STS token preference, and
    the account's S3 buckets (with their objects) and EC2 instances.

    ``keep_alias``: leave the account alias. ``keep_root_sessions``: leave the root user's GetSessionToken
    sessions (every other session goes). ``keep_role``: leave that role and one of its attachments.

    Raises ``Account.DoesNotExist`` for an unknown account. Returns the deleted row counts by label (only the labels
    that deleted something)."""
    account_ids = list(dict.fromkeys(account_ids))
    deleted: dict[str, int] = {}
    if not account_ids:
        return deleted

    def drop(label: str, queryset: QuerySet) -> None:
        # The order below leaves nothing to cascade, so Django deletes each table in one statement (its fast path).
        _, by_model = queryset.delete()
        count = by_model.get(queryset.model._meta.label, 0)
        if count:
            deleted[label] = count

    in_accounts = Q(account_id__in=account_ids)
    with transaction.atomic(savepoint=False):
        # The accounts' locks first (core.locks, in id order): the calls and audit deliveries in flight finish first,
        # new ones wait for this reset, and two resets of the same account wait for each other.
        locks.lock_accounts(account_ids, exclusive=True)
        token_versions = dict(
            Account.objects.select_for_update()
            .filter(pk__in=account_ids)
            .order_by("pk")
            .values_list("pk", "global_endpoint_token_version")
        )
        locked = set(token_versions)
        unknown = [a for a in account_ids if a not in locked]
        if unknown:
            raise Account.DoesNotExist(f"No account {unknown[0]}.")
        # What the other apps keep of the accounts goes first: it points at IAM's rows (instance sessions at
        # temporary credentials), never the reverse.
        for label, (model_label, account_lookup) in _STATE_OF_OTHER_APPS.items():
            try:
                model = apps.get_model(model_label)
            except LookupError:
                continue  # not in this build
            drop(label, model.objects.filter(**{account_lookup: account_ids}))
        users = IamUser.objects.filter(in_accounts)
        roles = Role.objects.filter(in_accounts)
        deleted_roles, kept_roles = roles, roles.none()
        if keep_role:
            deleted_roles, kept_roles = roles.exclude(name=keep_role.name), roles.filter(name=keep_role.name)

        sessions = TemporaryCredential.objects.filter(in_accounts)
        if keep_root_sessions:
            sessions = sessions.exclude(kind=TemporaryCredential.KIND_SESSION_TOKEN, user__isnull=True)
        drop("temporary credentials", sessions)
        drop("user access keys", AccessKey.objects.filter(in_accounts, user__isnull=False))  # root's keys stay
        # Root's enabled device is a root credential; an unassigned virtual device is an IAM entity like any other.
        drop("MFA devices", MfaDevice.objects.filter(in_accounts).exclude(user__isnull=True, enabled_at__isnull=False))
        # A user's other credentials, in one statement (a reset's time is mostly round trips). Root's signing
        # certificates are root credentials, kept like its access keys.
        with connection.cursor() as cursor:
            cursor.execute(
                f"WITH s AS (DELETE FROM {SshPublicKey._meta.db_table} WHERE account_id = ANY(%(a)s) RETURNING 1), "
                f"c AS (DELETE FROM {ServiceSpecificCredential._meta.db_table} WHERE account_id = ANY(%(a)s) "
                "RETURNING 1), "
                f"x AS (DELETE FROM {SigningCertificate._meta.db_table} WHERE account_id = ANY(%(a)s) "
                "AND user_id IS NOT NULL RETURNING 1) "
                "SELECT (SELECT count(*) FROM s), (SELECT count(*) FROM c), (SELECT count(*) FROM x)",
                {"a": account_ids},
            )
            counts = cursor.fetchone()
        for label, count in zip(
            ("SSH public keys", "service-specific credentials", "user signing certificates"), counts, strict=True
        ):
            if count:
                deleted[label] = count
        drop("login profiles", LoginProfile.objects.filter(user__in=users))
        drop("password history", PasswordHistory.objects.filter(user__in=users))
        drop("inline policies", InlinePolicy.objects.filter(in_accounts))
        drop("user attachments", UserPolicyAttachment.objects.filter(in_accounts))
        drop("group attachments", GroupPolicyAttachment.objects.filter(in_accounts))
        role_attachments = RolePolicyAttachment.objects.filter(in_accounts)
        if keep_role:
            role_attachments = role_attachments.exclude(
                role__in=kept_roles, policy__in=ManagedPolicy.objects.filter(arn=keep_role.attached_policy_arn)
            )
        drop("role attachments", role_attachments)
        drop("group memberships", GroupMembership.objects.filter(in_accounts))
        profiles = InstanceProfile.objects.filter(in_accounts)
        drop(
            "instance profile roles",
            InstanceProfile.roles.through.objects.filter(Q(instanceprofile__in=profiles) | Q(role__in=roles)),
        )
        drop("instance profiles", profiles)
        drop("users", users)  # their permissions boundaries go with them, before the policies
        drop("groups", Group.objects.filter(in_accounts))
        drop("roles", deleted_roles)
        # The kept role's boundary may point at a customer policy: clear it before the policies go.
        if keep_role:
            kept_roles.exclude(permissions_boundary__isnull=True).update(permissions_boundary=None)
        policies = ManagedPolicy.objects.filter(in_accounts)  # customer managed only: AWS managed have no account
        drop("policy versions", PolicyVersion.objects.filter(policy__in=policies))
        drop("customer managed policies", policies)
        drop("password policy", PasswordPolicy.objects.filter(in_accounts))
        drop("credential report", CredentialReport.objects.filter(in_accounts))
        drop("server certificates", ServerCertificate.objects.filter(in_accounts))
        drop("SAML providers", SamlProvider.objects.filter(in_accounts))
        drop("OIDC providers", OpenIdConnectProvider.objects.filter(in_accounts))
        drop("service-linked role deletion tasks", ServiceLinkedRoleDeletion.objects.filter(in_accounts))
        drop("service last accessed", ServiceLastAccessed.objects.filter(in_accounts))
        drop("access advisor reports", AccessReport.objects.filter(in_accounts))
        # SetSecurityTokenServicePreferences back to AWS's default (no statement when nothing changed it).
        changed = [pk for pk, version in token_versions.items() if version != "v1Token"]
        if changed:
            Account.objects.filter(pk__in=changed).update(global_endpoint_token_version="v1Token")
            deleted["STS token preference"] = len(changed)
        if not keep_alias:
            cleared = Account.objects.filter(pk__in=account_ids, alias__isnull=False).update(alias=None)
            if cleared:
                deleted["account alias"] = cleared
    return deleted
