"""GetAccountAuthorizationDetails: every user, group and role of the account with their policies, and the managed
policies in use, in one authorized and audited call."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from django.db.models import Q

from core.calls import iam_call
from core.context import CallContext
from core.errors import InvalidInput
from identities.models import Group, IamUser, Role
from policies.models import InlinePolicy, ManagedPolicy, PolicyVersion
from policies.services import usage_counts


@dataclass
class AuthorizationDetails:
    users: list[IamUser]
    groups: list[Group]
    roles: list[Role]
    policies: list[tuple[ManagedPolicy, list[PolicyVersion], int]]  # policy, its versions, attachment count
    inline: dict[tuple[str, int], list[InlinePolicy]]  # ("user"|"group"|"role", pk) → inline policies


FILTERS = ("User", "Role", "Group", "LocalManagedPolicy", "AWSManagedPolicy")


def get_account_authorization_details(ctx: CallContext, *, filters: Sequence[str] = ()) -> AuthorizationDetails:
    """Every user, group, role and attached-or-customer managed policy of the account, with their policies."""
    with iam_call(ctx, "iam:GetAccountAuthorizationDetails", "*", {"filter": list(filters) or None}):
        for value in filters:
            if value not in FILTERS:
                raise InvalidInput(
                    f"1 validation error detected: Value '[{value}]' at 'filter' failed to satisfy "
                    f"constraint: Member must satisfy enum value set: [{', '.join(FILTERS)}]"
                )
        wanted = set(filters or FILTERS)
        acct = ctx.account_id
        users = (
            list(
                IamUser.objects.in_account(acct)
                .select_related("permissions_boundary")
                .prefetch_related("groups", "policy_attachments__policy")
                .order_by("name")
            )
            if "User" in wanted
            else []
        )
        groups = (
            list(Group.objects.in_account(acct).prefetch_related("policy_attachments__policy").order_by("name"))
            if "Group" in wanted
            else []
        )
        roles = (
            list(
                Role.objects.in_account(acct)
                .select_related("permissions_boundary")
                .prefetch_related("instance_profiles__roles", "policy_attachments__policy")
                .order_by("name")
            )
            if "Role" in wanted
            else []
        )
        inline: dict[tuple[str, int], list[InlinePolicy]] = {}
        for row in InlinePolicy.objects.filter(account_id=acct).order_by("name"):
            kind, pk = (
                ("user", row.user_id)
                if row.user_id
                else ("group", row.group_id)
                if row.group_id
                else ("role", row.role_id)
            )
            inline.setdefault((kind, pk), []).append(row)
        attached = (
            Q(user_attachments__user__account_id=acct)
            | Q(group_attachments__group__account_id=acct)
            | Q(role_attachments__role__account_id=acct)
        )
        selected = ManagedPolicy.objects.none()
        if "LocalManagedPolicy" in wanted:
            selected = selected | ManagedPolicy.objects.customer_managed(acct)
        if "AWSManagedPolicy" in wanted:
            selected = selected | ManagedPolicy.objects.filter(account__isnull=True).filter(attached)
        policies = []
        found = list(selected.distinct().order_by("name"))
        counts = usage_counts(acct, [p.pk for p in found])
        for policy in found:
            versions = list(policy.versions.order_by("-created_at"))
            policies.append((policy, versions, counts[policy.pk]))
        return AuthorizationDetails(users, groups, roles, policies, inline)
