"""Read models for console pages: everything a page shows, gathered in a fixed number of queries."""

from __future__ import annotations

from dataclasses import dataclass

from django.db import models
from django.db.models import Case, Count, F, IntegerField, Prefetch, Value, When

from identities.models import Group, GroupMembership, IamUser
from policies.models import (
    GroupPolicyAttachment,
    InlinePolicy,
    ManagedPolicy,
    PolicyVersion,
    RolePolicyAttachment,
    UserPolicyAttachment,
)


@dataclass(frozen=True)
class PermissionRow:
    name: str
    policy_type: str  # "AWS managed", "Customer managed", "Customer inline", ...
    attached_via: str  # "Directly" or "Group Developers"
    arn: str | None  # managed policies only
    removable: bool  # only what is attached directly can be removed on the user's page


def user_permissions(user: IamUser) -> list[PermissionRow]:
    """Every policy that applies to ``user``: managed and inline, directly or through groups (5 queries)."""
    rows: list[PermissionRow] = []
    for link in UserPolicyAttachment.objects.filter(user=user).select_related("policy"):
        rows.append(PermissionRow(link.policy.name, link.policy.policy_type, "Directly", link.policy.arn, True))
    for inline in InlinePolicy.objects.filter(user=user):
        rows.append(PermissionRow(inline.name, "Customer inline", "Directly", None, True))
    groups = Group.objects.filter(memberships__user=user).prefetch_related(
        Prefetch("policy_attachments", queryset=GroupPolicyAttachment.objects.select_related("policy")),
        Prefetch("inline_policies", queryset=InlinePolicy.objects.order_by("name")),
    )
    for group in groups:
        for link in group.policy_attachments.all():
            rows.append(
                PermissionRow(link.policy.name, link.policy.policy_type, f"Group {group.name}", link.policy.arn, False)
            )
        for inline in group.inline_policies.all():
            rows.append(PermissionRow(inline.name, "Customer inline", f"Group {group.name}", None, False))
    return sorted(rows, key=lambda r: (r.name.lower(), r.attached_via))


def user_groups(user: IamUser) -> list[Group]:
    return list(
        Group.objects.filter(memberships__user=user)
        .prefetch_related(
            Prefetch("policy_attachments", queryset=GroupPolicyAttachment.objects.select_related("policy"))
        )
        .order_by("name")
    )


def groups_with_counts(account_id: str) -> list[Group]:
    return list(
        Group.objects.in_account(account_id)
        .annotate(
            user_count=Count("memberships", distinct=True), attached_count=Count("policy_attachments", distinct=True)
        )
        .order_by("name")
    )


def _filtered_policies(account_id: str, query: str, policy_type: str) -> models.QuerySet[ManagedPolicy]:
    matches = ManagedPolicy.objects.visible_to(account_id)
    if policy_type == "aws":
        matches = matches.filter(account__isnull=True, job_function=False)
    elif policy_type == "job":
        matches = matches.filter(account__isnull=True, job_function=True)
    elif policy_type == "customer":
        matches = matches.filter(account_id=account_id)
    query = query.strip()[:128]
    return matches.filter(name__icontains=query) if query else matches


def matching_policy_count(account_id: str, query: str, policy_type: str) -> int:
    """The count in the picker's title, "Permissions policies (1,234)": every policy the filter matches."""
    return _filtered_policies(account_id, query, policy_type).count()


def attachment_counts(account_id: str, policy_ids: list[int]) -> dict[int, int]:
    """{policy pk: how many of this account's users, groups and roles it is attached to} (AWS's AttachmentCount and
    the console's "Attached entities"; AWS managed policies are shared, so only this account's attachments count).
    Three grouped queries, whatever the number of policies."""
    counts = dict.fromkeys(policy_ids, 0)
    for model in (UserPolicyAttachment, GroupPolicyAttachment, RolePolicyAttachment):
        rows = model.objects.filter(account_id=account_id, policy_id__in=policy_ids).values("policy_id")
        for row in rows.annotate(n=Count("id")):
            counts[row["policy_id"]] += row["n"]
    return counts


def with_attached_entities(account_id: str, policies: list[ManagedPolicy]) -> list[ManagedPolicy]:
    """Sets ``attached_entities`` on each policy (the "Attached entities" column): ``attachment_counts``."""
    counts = attachment_counts(account_id, [p.pk for p in policies])
    for policy in policies:
        policy.attached_entities = counts[policy.pk]  # type: ignore[attr-defined]
    return policies


def attachable_policies(
    account_id: str,
    query: str,
    policy_type: str,
    selected: list[str],
    limit: int = 25,
    *,
    base: models.QuerySet[ManagedPolicy] | None = None,
) -> list[ManagedPolicy]:
    """The policy picker of the wizards: selected policies first, then up to ``limit`` matches (2 queries).

    ``base``: the policies to pick from, as the ListPolicies service answered (default: every policy the account
    sees). Matches are ranked: exact name, then names starting with the query, then the rest; customer managed
    policies come first within each rank, as the console lists them.
    """
    base = ManagedPolicy.objects.visible_to(account_id) if base is None else base.order_by()
    selected = [arn for arn in selected if arn][:100]
    chosen = list(base.filter(arn__in=selected).order_by("name")) if selected else []
    matches = _filtered_policies(account_id, query, policy_type).exclude(arn__in=selected)
    query = query.strip()[:128]
    ordering: list = [F("account_id").asc(nulls_last=True), "name"]
    if query:
        rank = Case(
            When(name__iexact=query, then=Value(0)),
            When(name__istartswith=query, then=Value(1)),
            default=Value(2),
            output_field=IntegerField(),
        )
        ordering.insert(0, rank)
    return chosen + list(matches.order_by(*ordering)[:limit])


def members_of(group: Group) -> list[IamUser]:
    return [m.user for m in GroupMembership.objects.filter(group=group).select_related("user").order_by("user__name")]


def user_policy_documents(user: IamUser) -> list[str]:
    """Texts of every policy that applies to the user: managed (default versions) and inline, direct and via groups."""
    managed = PolicyVersion.objects.filter(is_default=True).filter(
        models.Q(policy__user_attachments__user=user)
        | models.Q(policy__group_attachments__group__memberships__user=user)
    )
    inline = InlinePolicy.objects.filter(models.Q(user=user) | models.Q(group__memberships__user=user))
    return [*managed.values_list("document", flat=True), *inline.values_list("document", flat=True)]


def group_policy_documents(group: Group) -> list[str]:
    managed = PolicyVersion.objects.filter(is_default=True, policy__group_attachments__group=group)
    return [
        *managed.values_list("document", flat=True),
        *InlinePolicy.objects.filter(group=group).values_list("document", flat=True),
    ]
