"""Services the Query API needs that no console page has called yet: policy tags, instance profile listing,
GetAccountAuthorizationDetails and the GetContextKeysFor* calls. Same rules as every public service: authorize,
validate and audit through ``iam_call``; callers (console or API) get the same effect."""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from core import arns
from core.calls import iam_call
from core.context import CallContext
from core.errors import InvalidInput, NoSuchEntity
from core.validation import check_input
from identities.models import Group, IamUser, InstanceProfile, Role
from identities.services import Tag, merge_tags
from policies.models import InlinePolicy, ManagedPolicy, PolicyVersion
from policies.services import _check_policy_arn, find_policy

# ---- policy tags ----------------------------------------------------------------------------------------------


def _own_policy(ctx: CallContext, policy_arn: str) -> ManagedPolicy:
    _check_policy_arn(policy_arn)
    policy = find_policy(ctx.account_id, policy_arn)
    if policy.account_id is None:
        raise InvalidInput(f"ARN {policy_arn} is not valid.")  # AWS managed policies carry no customer tags
    return policy


def tag_policy(ctx: CallContext, *, policy_arn: str, tags: Sequence[Tag]) -> None:
    with iam_call(ctx, "iam:TagPolicy", policy_arn, {"policyArn": policy_arn, "tags": [t.as_dict() for t in tags]}):
        check_input("iam", "TagPolicy", PolicyArn=policy_arn, Tags=[t.as_dict() for t in tags])
        policy = _own_policy(ctx, policy_arn)
        policy.tags = merge_tags(policy.tags, tags, "policy")
        policy.save(update_fields=["tags"])


def untag_policy(ctx: CallContext, *, policy_arn: str, tag_keys: Sequence[str]) -> None:
    with iam_call(ctx, "iam:UntagPolicy", policy_arn, {"policyArn": policy_arn, "tagKeys": list(tag_keys)}):
        check_input("iam", "UntagPolicy", PolicyArn=policy_arn, TagKeys=list(tag_keys))
        policy = _own_policy(ctx, policy_arn)
        drop = {k.lower() for k in tag_keys}
        policy.tags = [t for t in policy.tags if t["Key"].lower() not in drop]
        policy.save(update_fields=["tags"])


def list_policy_tags(ctx: CallContext, *, policy_arn: str) -> list[dict[str, str]]:
    with iam_call(ctx, "iam:ListPolicyTags", policy_arn, {"policyArn": policy_arn}):
        _check_policy_arn(policy_arn)
        return list(find_policy(ctx.account_id, policy_arn).tags)


# ---- instance profiles ----------------------------------------------------------------------------------------


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


# ---- GetAccountAuthorizationDetails ---------------------------------------------------------------------------


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
    from django.db.models import Q

    from policies.services import usage_counts

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


# ---- GetContextKeysFor* ---------------------------------------------------------------------------------------

_VARIABLE = re.compile(r"\$\{([^}*?$]+)\}")


def context_keys(documents: Sequence[str]) -> list[str]:
    """The condition keys (and policy variables) the documents use, sorted case-insensitively, each once.

    A document that is not JSON, nests too deeply to decode, or has a Condition that is not an object of objects
    is refused with MalformedPolicyDocument, never a 500 (issue 12 §5)."""
    from core.errors import MalformedPolicyDocument

    found: dict[str, str] = {}
    for text in documents:
        try:
            document = json.loads(text)
            statements = document.get("Statement", []) if isinstance(document, dict) else []
            for statement in statements if isinstance(statements, list) else [statements]:
                if not isinstance(statement, dict):
                    continue
                condition = statement.get("Condition") or {}
                if not isinstance(condition, dict) or not all(isinstance(b, dict) for b in condition.values()):
                    raise ValueError("Condition must be an object of objects")
                for block in condition.values():
                    for key in block:
                        found.setdefault(key.lower(), key)
                for element in ("Resource", "NotResource", "Condition"):
                    for variable in _VARIABLE.findall(json.dumps(statement.get(element) or "")):
                        found.setdefault(variable.lower(), variable)
        except (ValueError, RecursionError):
            raise MalformedPolicyDocument("Syntax errors in policy.") from None
    return [found[k] for k in sorted(found)]


def get_context_keys_for_custom_policy(ctx: CallContext, *, policy_input_list: Sequence[str]) -> list[str]:
    with iam_call(ctx, "iam:GetContextKeysForCustomPolicy", "*", {}):
        check_input("iam", "GetContextKeysForCustomPolicy", PolicyInputList=list(policy_input_list))
        return context_keys(policy_input_list)


def principal_by_arn(account_id: str, arn: str) -> tuple[str, str]:
    """``arn:aws:iam::ACCT:user/path/name`` → ("user", "name"), for users, groups and roles of this account."""
    parts = arn.split(":", 5)
    if len(parts) == 6 and parts[4] == account_id:
        kind, _, rest = parts[5].partition("/")
        if kind in ("user", "group", "role") and rest:
            return kind, rest.rsplit("/", 1)[-1]
    raise InvalidInput(f"Invalid ARN: {arn}")


def get_context_keys_for_principal_policy(
    ctx: CallContext, *, policy_source_arn: str, policy_input_list: Sequence[str] = ()
) -> list[str]:
    from policies import simulator

    with iam_call(
        ctx, "iam:GetContextKeysForPrincipalPolicy", policy_source_arn, {"policySourceArn": policy_source_arn}
    ):
        check_input(
            "iam",
            "GetContextKeysForPrincipalPolicy",
            PolicySourceArn=policy_source_arn,
            PolicyInputList=list(policy_input_list) or None,
        )
        kind, name = principal_by_arn(ctx.account_id, policy_source_arn)
        documents = [s.text for s in _principal_sources(kind, ctx.account_id, name, simulator)]
        return context_keys([*documents, *policy_input_list])


def _principal_sources(kind: str, account_id: str, name: str, simulator: Any) -> list[Any]:
    model = {"user": IamUser, "group": Group, "role": Role}[kind]
    entity = model.objects.in_account(account_id).named(name).first()
    if entity is None:
        raise NoSuchEntity(f"The {kind} with name {name} cannot be found.")
    if kind == "user":
        rows = [
            *simulator._managed({"policy__user_attachments__user": entity}),
            *simulator._inline({"user": entity}),
            *simulator._managed({"policy__group_attachments__group__memberships__user": entity}),
            *simulator._inline({"group__memberships__user": entity}),
        ]
    elif kind == "group":
        rows = [
            *simulator._managed({"policy__group_attachments__group": entity}),
            *simulator._inline({"group": entity}),
        ]
    else:
        rows = [*simulator._managed({"policy__role_attachments__role": entity}), *simulator._inline({"role": entity})]
    return [simulator._source(f"identity[{i}]", n, t) for i, (n, t) in enumerate(rows)]
