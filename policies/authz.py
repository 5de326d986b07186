"""The single authorization entry point: collect, from the database, every policy that applies to the caller,
build the request context, and ask the engine.

Parsed documents are cached per managed-policy version and per inline-policy revision, so a warm decision costs
a few small queries and the engine's microseconds.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from core import clock
from core.context import CallContext, Principal
from core.errors import AccessDenied
from policies.engine import Decision, LabelledPolicy, PolicySet, Request, evaluate, parse_policy
from policies.engine import Principal as EnginePrincipal
from policies.engine.ast import PolicyDocument


_MAX_CACHED = 8192
_parsed: dict[tuple[str, int, str], PolicyDocument | None] = {}


@dataclass(frozen=True)
class _Revision:
    """One immutable revision of a document: a managed-policy version, or an inline policy at a given update."""

    key: tuple[str, int, str]
    label: str


def _labelled(revisions: list[_Revision], model: type, kind: str = "identity") -> list[LabelledPolicy]:
    """Parsed documents for ``revisions``; the texts of revisions not parsed yet are fetched in one query."""
    missing = {r.key[1]: r.key for r in revisions if r.key not in _parsed}
    if missing:
        if len(_parsed) > _MAX_CACHED:
            _parsed.clear()
        for pk, text in model.objects.filter(pk__in=list(missing)).values_list("pk", "document"):
            try:
                _parsed[missing[pk]] = parse_policy(text, kind=kind)
            except ValueError:
                _parsed[missing[pk]] = None  # a stored document that no longer parses grants nothing
    return [LabelledPolicy(r.label, doc) for r in revisions if (doc := _parsed.get(r.key)) is not None]


def _managed_versions(filter_kwargs: dict[str, Any]) -> list[LabelledPolicy]:
    from policies.models import PolicyVersion

    rows = PolicyVersion.objects.filter(is_default=True, **filter_kwargs).values_list("pk", "policy__arn")
    return _labelled([_Revision(("v", pk, ""), arn) for pk, arn in rows], PolicyVersion)


def _inline(filter_kwargs: dict[str, Any]) -> list[LabelledPolicy]:
    from policies.models import InlinePolicy

    rows = InlinePolicy.objects.filter(**filter_kwargs).values_list("pk", "updated_at", "name", "user__name",
                                                                     "group__name", "role__name")
    revisions = []
    for pk, updated, name, user, group, role in rows:
        owner = f"user/{user}" if user else f"group/{group}" if group else f"role/{role}"
        revisions.append(_Revision(("i", pk, updated.isoformat()), f"inline {owner}/{name}"))
    return _labelled(revisions, InlinePolicy)


def policies_for_user(user_pk: int) -> PolicySet:
    from identities.models import IamUser

    identity = [
        *_managed_versions({"policy__user_attachments__user_id": user_pk}),
        *_inline({"user_id": user_pk}),
        *_managed_versions({"policy__group_attachments__group__memberships__user_id": user_pk}),
        *_inline({"group__memberships__user_id": user_pk}),
    ]
    boundary_id = IamUser.objects.filter(pk=user_pk).values_list("permissions_boundary_id", flat=True).first()
    boundary = _managed_versions({"policy_id": boundary_id}) if boundary_id else []
    return PolicySet(identity=tuple(identity), permissions_boundary=boundary[0] if boundary else None)


def policies_for_role_session(role_pk: int, session_pk: int | None) -> PolicySet:
    from identities.models import Role

    identity = [
        *_managed_versions({"policy__role_attachments__role_id": role_pk}),
        *_inline({"role_id": role_pk}),
    ]
    boundary_id = Role.objects.filter(pk=role_pk).values_list("permissions_boundary_id", flat=True).first()
    boundary = _managed_versions({"policy_id": boundary_id}) if boundary_id else []
    return PolicySet(identity=tuple(identity), permissions_boundary=boundary[0] if boundary else None,
                     session=_session_policies(session_pk))


def _session_policies(session_pk: int | None) -> tuple[LabelledPolicy, ...] | None:
    """AssumeRole's Policy/PolicyArns: present only when the session was created with them."""
    if session_pk is None:
        return None
    from sts.models import TemporaryCredential

    row = TemporaryCredential.objects.filter(pk=session_pk).values_list("session_policy", "session_policy_arns").first()
    if row is None or (not row[0] and not row[1]):
        return None
    text, policy_arns = row
    session: list[LabelledPolicy] = []
    if text:
        key = ("s", session_pk, "")
        if key not in _parsed:
            try:
                _parsed[key] = parse_policy(text, kind="session")
            except ValueError:
                _parsed[key] = None
        if _parsed[key] is not None:
            session.append(LabelledPolicy("session policy", _parsed[key]))
    if policy_arns:
        session.extend(_managed_versions({"policy__arn__in": policy_arns}))
    return tuple(session)


def trust_policy(role_arn: str) -> LabelledPolicy | None:
    """The role's trust policy, the resource-based policy of every ``sts:AssumeRole*`` request."""
    from sts.services import find_role_by_arn

    role = find_role_by_arn(role_arn)
    if role is None:
        return None
    key = ("t", role.pk, role.assume_role_policy)
    if key not in _parsed:
        try:
            _parsed[key] = parse_policy(role.assume_role_policy, kind="trust")
        except ValueError:
            _parsed[key] = None
    doc = _parsed[key]
    return LabelledPolicy(f"trust policy of {role.arn}", doc) if doc is not None else None


def request_context(ctx: CallContext, extra: Mapping[str, Any]) -> dict[str, Any]:
    """Global condition keys of a console or API request (issue 3 §5)."""
    p = ctx.principal
    now: datetime = clock.now()
    context: dict[str, Any] = {
        "aws:CurrentTime": now.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "aws:EpochTime": str(int(now.timestamp())),
        "aws:SourceIp": ctx.source_ip,
        "aws:SecureTransport": "true" if ctx.secure_transport else "false",
        "aws:PrincipalArn": p.arn,
        "aws:PrincipalAccount": p.account_id,
        "aws:PrincipalType": {"Root": "Account", "IAMUser": "User"}.get(p.type, p.type),
        "aws:userid": p.principal_id,
    }
    if p.type == "IAMUser":
        context["aws:username"] = p.name
    if ctx.origin == "console" or p.type == "AssumedRole":
        context["aws:MultiFactorAuthPresent"] = "true" if p.mfa_authenticated else "false"
        if p.mfa_authenticated_at is not None:
            context["aws:MultiFactorAuthAge"] = str(int((now - p.mfa_authenticated_at).total_seconds()))
    if p.token_issued_at is not None:
        context["aws:TokenIssueTime"] = p.token_issued_at.strftime("%Y-%m-%dT%H:%M:%SZ")
    for key, value in p_tags(p).items():
        context[f"aws:PrincipalTag/{key}"] = value
    context.update(extra)
    return context


def p_tags(p: Principal) -> dict[str, str]:
    if p.type != "IAMUser" or p.user_pk is None:
        return {}
    from identities.models import IamUser

    tags = IamUser.objects.filter(pk=p.user_pk).values_list("tags", flat=True).first() or []
    return {t["Key"]: t["Value"] for t in tags}


def engine_principal(p: Principal) -> EnginePrincipal:
    if p.type == "AssumedRole":
        role_arn = _role_arn_of_session(p)
        return EnginePrincipal(type=p.type, arn=p.arn, account=p.account_id, role_arn=role_arn, session_name=p.name)
    return EnginePrincipal(type=p.type, arn=p.arn, account=p.account_id, name=p.name if p.type == "IAMUser" else None)


def _role_arn_of_session(p: Principal) -> str | None:
    from identities.models import Role

    return Role.objects.filter(pk=p.role_pk).values_list("arn", flat=True).first()


def _resource_account(resource: str) -> str | None:
    parts = resource.split(":", 5)
    return parts[4] if len(parts) == 6 and parts[4] else None


_PASSWORD_ACTIONS = ("iam:changepassword", "iam:getaccountpasswordpolicy")


def _implicit_password_policy(p: Principal) -> LabelledPolicy | None:
    """AllowUsersToChangePassword: the user's own iam:ChangePassword and iam:GetAccountPasswordPolicy, with no
    IAM policy attached (reference §1.10). Explicit denies still win; it is labelled as the account setting."""
    import json

    from identities.passwords import implicit_password_permissions

    if not implicit_password_permissions(p.account_id):
        return None
    document = json.dumps({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": "iam:ChangePassword", "Resource": p.arn},
        {"Effect": "Allow", "Action": "iam:GetAccountPasswordPolicy", "Resource": "*"},
    ]})
    return LabelledPolicy("account password policy (AllowUsersToChangePassword)", parse_policy(document))


def decide(ctx: CallContext, action: str, resource: str, condition_context: Mapping[str, Any]) -> Decision:
    p = ctx.principal
    owner = _resource_account(resource)
    # AWS managed policies (account "aws") are readable and attachable by every account.
    resource_account = None if owner in (None, "aws", p.account_id) else owner
    request = Request(engine_principal(p), action, resource, resource_account, request_context(ctx, condition_context))
    if p.is_root:
        policies = PolicySet()
    elif p.type == "IAMUser" and p.user_pk is not None:
        policies = policies_for_user(p.user_pk)
        if action.lower() in _PASSWORD_ACTIONS:
            implicit = _implicit_password_policy(p)
            if implicit is not None:
                policies = replace(policies, identity=(*policies.identity, implicit))
    elif p.type == "AssumedRole" and p.role_pk is not None:
        policies = policies_for_role_session(p.role_pk, p.session_pk)
    else:
        policies = PolicySet()
    if action.lower().startswith("sts:assumerole"):
        policies = replace(policies, resource=trust_policy(resource))
    # Classroom (issue 7): the SCPs of the caller's organization, root users included; the engine exempts the
    # management account.
    levels, management = scp_levels(p.account_id)
    if levels is not None:
        policies = replace(policies, scps=levels, management_account=management)
    return evaluate(request, policies)


# ---- Service control policies (classroom, issue 7) ---------------------------------------------------------------
_scp_levels: dict[tuple[str, str, int], tuple[tuple[tuple[LabelledPolicy, ...], ...], str]] = {}


def scp_levels(account_id: str) -> tuple[tuple[tuple[LabelledPolicy, ...], ...] | None, str | None]:
    """The SCPs of each organization level above ``account_id`` (root, OUs from the top, the account itself) and
    the organization's management account; (None, None) outside any organization.

    One query per call when warm: the levels are cached per account and organization revision, which every change
    to SCPs, attachments, OUs or membership bumps in its own transaction."""
    from classroom.models import OrganizationalUnit, OrgAccount, PolicyAttachment, ServiceControlPolicy

    row = (OrgAccount.objects.filter(account_id=account_id)
           .values_list("organization_id", "organization__policy_revision", "organization__management_account_id",
                        "parent_unit_id", "organization__root__id").first())
    if row is None:
        return None, None
    org_id, revision, management, unit_id, root_id = row
    key = (account_id, org_id, revision)
    cached = _scp_levels.get(key)
    if cached is None:
        parents = dict(OrganizationalUnit.objects.filter(organization_id=org_id).values_list("id", "parent_id"))
        chain: list[str] = []
        while unit_id is not None and unit_id not in chain:
            chain.append(unit_id)
            unit_id = parents.get(unit_id)
        targets = [root_id, *reversed(chain), account_id]
        by_target: dict[str, list[_Revision]] = {t: [] for t in targets}
        rows = PolicyAttachment.objects.filter(organization_id=org_id, target_id__in=targets).values_list(
            "target_id", "policy_id", "policy__updated_at", "policy__name", "policy__policy_id")
        for target, pk, updated, name, policy_id in rows:
            by_target[target].append(_Revision(("scp", pk, updated.isoformat()), f"SCP {name} ({policy_id})"))
        levels = tuple(tuple(_labelled(by_target[t], ServiceControlPolicy, kind="scp")) for t in targets)
        if len(_scp_levels) > _MAX_CACHED:
            _scp_levels.clear()
        cached = _scp_levels[key] = (levels, management)
    return cached


def authorize(ctx: CallContext, action: str, resource: str, condition_context: Mapping[str, Any]) -> Decision:
    """Allow, or raise AccessDenied with AWS's wording and the engine's decision attached."""
    decision = decide(ctx, action, resource, condition_context)
    if not decision.allowed:
        shown = None if resource in ("*", "") else resource
        raise AccessDenied(decision.access_denied_message(ctx.principal.arn, shown), explanation=decision)
    return decision


def explain(decision: Decision) -> dict[str, Any]:
    """A JSON-able account of a decision, stored with denied calls and shown in the "Why?" panel."""
    return {
        "outcome": decision.outcome,
        "action": decision.action,
        "reason": decision.reason(),
        "missing_layer": decision.missing_layer,
        "deciding": [
            {"policy": ref.policy, "layer": ref.layer, "statement": ref.statement, "sid": ref.sid}
            for ref in decision.deciding
        ],
        "conditions": [str(note) for note in decision.condition_notes],
        "errors": list(decision.errors),
    }
