"""The single authorization entry point: collect, from the database, every policy that applies to the caller,
build the request context, and ask the engine.

One query per decision gathers every source (see ``gather``); parsed documents are cached per managed-policy
version and per inline-policy revision, so a warm decision costs that query and the engine's microseconds.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from classroom.models import (
    OrgAccount,
    Organization,
    OrganizationalUnit,
    OrgRoot,
    PolicyAttachment,
    ServiceControlPolicy,
)
from core import clock, page_reads
from core.calls import ResourceOwner
from core.context import CallContext, Principal
from core.db import fetch_prepared
from core.errors import AccessDenied
from identities.models import Group, GroupMembership, IamUser, Role
from identities.passwords import implicit_password_permissions
from policies.engine import Decision, LabelledPolicy, PolicySet, Request, evaluate, parse_policy
from policies.engine import Principal as EnginePrincipal
from policies.engine.ast import PolicyDocument
from policies.models import (
    GroupPolicyAttachment,
    InlinePolicy,
    ManagedPolicy,
    PolicyVersion,
    RolePolicyAttachment,
    UserPolicyAttachment,
)
from sts.models import TemporaryCredential

_MAX_CACHED = 8192
_parsed: dict[tuple[str, int, str], PolicyDocument | None] = {}


@dataclass(frozen=True)
class _Revision:
    """One immutable revision of a document: a managed-policy version, or an inline policy at a given update."""

    key: tuple[str, int, str]
    label: str


_Key = tuple[str, int, str]


def _documents(revisions: list[_Revision], model: type, kind: str = "identity") -> dict[_Key, PolicyDocument | None]:
    """Parsed documents of ``revisions`` by key; the texts of revisions not parsed yet are fetched in one query."""
    found = {r.key: _parsed[r.key] for r in revisions if r.key in _parsed}
    missing = {r.key[1]: r.key for r in revisions if r.key not in found}
    if missing:
        if len(_parsed) > _MAX_CACHED:
            _parsed.clear()
        for pk, text in model.objects.filter(pk__in=list(missing)).values_list("pk", "document"):
            try:
                doc = parse_policy(text, kind=kind)
            except ValueError:
                doc = None  # a stored document that no longer parses grants nothing
            _parsed[missing[pk]] = found[missing[pk]] = doc
    return found


def _labelled(revisions: list[_Revision], model: type, kind: str = "identity") -> list[LabelledPolicy]:
    docs = _documents(revisions, model, kind)
    return [LabelledPolicy(r.label, doc) for r in revisions if (doc := docs.get(r.key)) is not None]


def _managed_versions(filter_kwargs: dict[str, Any]) -> list[LabelledPolicy]:
    rows = PolicyVersion.objects.filter(is_default=True, **filter_kwargs).values_list("pk", "policy__arn")
    return _labelled([_Revision(("v", pk, ""), arn) for pk, arn in rows], PolicyVersion)


# ---- Gathering a principal's policies in one round trip ---------------------------------------------------------
# Every source of a decision (attached and inline policies of the user and its groups or of the role, the
# permissions boundary, the session, the user's tags, the organization's SCP revision) is read by one UNION ALL
# query per call: rows name the immutable revisions (managed-policy version ids, inline (id, updated_at)), and the
# documents come from the parse cache. Nothing is cached across calls except parsed documents, so a change
# committed by any process is seen by the next call.
#
# Columns: (ord, kind, pk, updated, label, extra). kind: "v" managed version, "i" inline revision, "b" the owner
# row (pk/label: boundary version and ARN if any, extra: the user's tags or the role's ARN), "s" the session
# (label: session policy text, extra: its policy ARNs as JSON), "o" the organization membership (pk: its
# policy revision, label: the organization, extra: management account, parent OU and root).


def _tables() -> dict[str, str]:
    models = {
        "pv": PolicyVersion,
        "mp": ManagedPolicy,
        "upa": UserPolicyAttachment,
        "gpa": GroupPolicyAttachment,
        "rpa": RolePolicyAttachment,
        "ip": InlinePolicy,
        "usr": IamUser,
        "grp": Group,
        "gm": GroupMembership,
        "role": Role,
        "tc": TemporaryCredential,
        "org": Organization,
        "oa": OrgAccount,
        "root": OrgRoot,
    }
    return {name: model._meta.db_table for name, model in models.items()}


_ORG_SQL = """
SELECT 9, 'o', o.policy_revision, NULL::timestamptz, oa.organization_id,
       json_build_array(o.management_account_id, oa.parent_unit_id, r.id)::text
FROM {oa} oa JOIN {org} o ON o.id = oa.organization_id LEFT JOIN {root} r ON r.organization_id = o.id
WHERE oa.account_id = %(account)s"""

# GetScopedCredentials' scope-down policies of a session (no row when it has none).
_SCOPE_ROW = """
SELECT 6, 'd', c.id, NULL, NULL, c.scope_down_policies::text FROM {tc} c
WHERE c.id = %(session)s AND c.scope_down_policies <> '[]'::jsonb
UNION ALL"""

_USER_SQL = (
    """
SELECT 0, 'v', v.id, NULL::timestamptz, p.arn, NULL::text
FROM {upa} a JOIN {mp} p ON p.id = a.policy_id JOIN {pv} v ON v.policy_id = p.id AND v.is_default
WHERE a.user_id = %(owner)s
UNION ALL
SELECT 1, 'i', i.id, i.updated_at, 'inline user/' || u.name || '/' || i.name, NULL
FROM {ip} i JOIN {usr} u ON u.id = i.user_id WHERE i.user_id = %(owner)s
UNION ALL
SELECT 2, 'v', v.id, NULL, p.arn, NULL
FROM {gm} m JOIN {gpa} a ON a.group_id = m.group_id JOIN {mp} p ON p.id = a.policy_id
     JOIN {pv} v ON v.policy_id = p.id AND v.is_default
WHERE m.user_id = %(owner)s
UNION ALL
SELECT 3, 'i', i.id, i.updated_at, 'inline group/' || g.name || '/' || i.name, NULL
FROM {gm} m JOIN {ip} i ON i.group_id = m.group_id JOIN {grp} g ON g.id = m.group_id WHERE m.user_id = %(owner)s
UNION ALL
SELECT 4, 'b', v.id, NULL, p.arn, u.tags::text
FROM {usr} u LEFT JOIN {mp} p ON p.id = u.permissions_boundary_id
     LEFT JOIN {pv} v ON v.policy_id = p.id AND v.is_default
WHERE u.id = %(owner)s
UNION ALL"""
    + _ORG_SQL
    + """
ORDER BY 1"""
)

_ROLE_SQL = (
    """
SELECT 0, 'v', v.id, NULL::timestamptz, p.arn, NULL::text
FROM {rpa} a JOIN {mp} p ON p.id = a.policy_id JOIN {pv} v ON v.policy_id = p.id AND v.is_default
WHERE a.role_id = %(owner)s
UNION ALL
SELECT 1, 'i', i.id, i.updated_at, 'inline role/' || r.name || '/' || i.name, NULL
FROM {ip} i JOIN {role} r ON r.id = i.role_id WHERE i.role_id = %(owner)s
UNION ALL
SELECT 4, 'b', v.id, NULL, p.arn, r.arn
FROM {role} r LEFT JOIN {mp} p ON p.id = r.permissions_boundary_id
     LEFT JOIN {pv} v ON v.policy_id = p.id AND v.is_default
WHERE r.id = %(owner)s
UNION ALL
SELECT 5, 's', c.id, NULL, c.session_policy, c.session_policy_arns::text FROM {tc} c WHERE c.id = %(session)s
UNION ALL"""
    + _SCOPE_ROW
    + _ORG_SQL
    + """
ORDER BY 1"""
)


_SESSION_ROW = (
    """
SELECT 5, 's', c.id, NULL, c.session_policy, c.session_policy_arns::text FROM {tc} c WHERE c.id = %(session)s
UNION ALL"""
    + _SCOPE_ROW
)

# GetFederationToken's session: the user's policies (root's: none, it has every permission) and the session's.
_FEDERATED_SQL = _USER_SQL.replace("UNION ALL" + _ORG_SQL, "UNION ALL" + _SESSION_ROW + _ORG_SQL, 1)
_ROOT_SESSION_SQL = (
    """
SELECT 5, 's', c.id, NULL::timestamptz, c.session_policy, c.session_policy_arns::text FROM {tc} c
WHERE c.id = %(session)s
UNION ALL"""
    + _SCOPE_ROW
    + _ORG_SQL
    + """
ORDER BY 1"""
)

# The root user's own permissions, for a federated user it started: its session policies then alone limit it.
_ROOT_ALLOWS_ALL = '{"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}'


@functools.cache
def _sql(template: str) -> str:
    return template.format(**_tables())


@dataclass(frozen=True)
class Gathered:
    """Everything a decision reads about its caller: the policies, the IAM user's tags, the role's ARN."""

    policies: PolicySet
    tags: dict[str, str]
    role_arn: str | None = None
    scope_down: tuple[LabelledPolicy, ...] = ()  # GetScopedCredentials: each must allow too


def policies_of_key_owner_sql(owner: str, account: str) -> str:
    """The gathering query of the user (or root, when ``owner`` is NULL) that two scalar subqueries name, for the
    Query API to read with the access key itself (``awsapi.auth``): the same rows ``policy_rows`` reads, one round trip
    fewer. ``ORDER BY 1`` ends it, so it can follow rows of negative order in a UNION ALL."""
    return _sql(_USER_SQL).replace("%(owner)s", owner).replace("%(account)s", account)


# Rows gathered together with the caller's credentials: the first decision of the request uses them instead of
# reading them again. Used once, so that a request that changes the caller's policies and then decides again
# reads them afresh.
_prefetched: ContextVar[tuple[Principal, list[tuple[Any, ...]]] | None] = ContextVar("authz_prefetched", default=None)


@contextmanager
def prefetched(principal: Principal, rows: list[tuple[Any, ...]] | None) -> Iterator[None]:
    token = _prefetched.set((principal, rows) if rows is not None else None)
    try:
        yield
    finally:
        _prefetched.reset(token)


def _shared_rows(p: Principal) -> list[tuple[Any, ...]]:
    """The caller's gathering, read once per console page (``core.page_reads``; ``iam_call`` ends the sharing
    before any call that is not a read is decided)."""
    key = ("gathering", p.type, p.account_id, p.user_pk, p.role_pk, p.session_pk)
    return page_reads.shared(key, lambda: policy_rows(p))


def policy_rows(p: Principal) -> list[tuple[Any, ...]]:
    """The gathering query's rows for ``p`` (see the columns above): the one place they are read."""
    if p.type == "IAMUser" and p.user_pk is not None and p.session_pk is None:
        sql, params = _sql(_USER_SQL), {"owner": p.user_pk, "account": p.account_id}
    elif p.type == "IAMUser" and p.user_pk is not None:
        # GetSessionToken credentials: the user's policies, and the session's scope-down policies if any.
        sql = _sql(_FEDERATED_SQL)
        params = {"owner": p.user_pk, "session": p.session_pk, "account": p.account_id}
    elif p.type == "AssumedRole" and p.role_pk is not None:
        sql, params = _sql(_ROLE_SQL), {"owner": p.role_pk, "session": p.session_pk, "account": p.account_id}
    elif p.type == "FederatedUser" and p.user_pk is not None:
        sql = _sql(_FEDERATED_SQL)
        params = {"owner": p.user_pk, "session": p.session_pk, "account": p.account_id}
    elif p.session_pk is not None:
        # Root's sessions: GetFederationToken's and AssumeRoot's carry session policies (GetSessionToken's none).
        sql, params = _sql(_ROOT_SESSION_SQL), {"session": p.session_pk, "account": p.account_id}
    else:
        sql, params = _sql(_ORG_SQL), {"account": p.account_id}  # root: only SCPs apply
    return fetch_prepared(sql, params)


def gather(p: Principal) -> Gathered:
    """The caller's policies, tags and SCP levels, in one query (none when its access key's query read them, or
    an earlier read of the same console page did)."""
    if p.type == "AWSService":
        return Gathered(PolicySet(), {})  # a service principal has no identity policies, and SCPs do not bind it
    ready = _prefetched.get()
    if ready is not None and ready[0] is p:
        _prefetched.set(None)
        rows = ready[1]
    else:
        rows = _shared_rows(p)
    return gathered_from(p, rows)


def gathered_from(p: Principal, rows: list[tuple[Any, ...]]) -> Gathered:
    """The policies the gathering rows name: documents from the parse cache, SCP levels per organization revision."""
    identity: list[_Revision] = []
    boundary: list[_Revision] = []
    tags: dict[str, str] = {}
    role_arn: str | None = None
    session: tuple[LabelledPolicy, ...] | None = None
    scope_down: tuple[LabelledPolicy, ...] = ()
    scps: tuple[tuple[tuple[LabelledPolicy, ...], ...] | None, str | None] = (None, None)
    for _, kind, pk, updated, label, extra in rows:
        if kind == "v":
            identity.append(_Revision(("v", pk, ""), label))
        elif kind == "i":
            identity.append(_Revision(("i", pk, updated.isoformat()), label))
        elif kind == "b":
            if pk is not None:
                boundary.append(_Revision(("v", pk, ""), label))
            if p.type == "IAMUser":
                tags = {t["Key"]: t["Value"] for t in json.loads(extra or "[]")}
            elif p.type == "AssumedRole":
                role_arn = extra
        elif kind == "s":
            session = _session_policies(pk, label, json.loads(extra or "[]"))
        elif kind == "d":
            scope_down = _scope_down_policies(pk, json.loads(extra or "[]"))
        elif kind == "o":
            management, unit_id, root_id = json.loads(extra)
            scps = _scp_levels_for(p.account_id, label, pk, management, unit_id, root_id)

    docs = _documents([r for r in identity if r.key[0] == "v"] + boundary, PolicyVersion)
    docs.update(_documents([r for r in identity if r.key[0] == "i"], InlinePolicy))
    identity_docs = tuple(LabelledPolicy(r.label, doc) for r in identity if (doc := docs.get(r.key)) is not None)
    if p.type == "FederatedUser" and p.user_pk is None:
        identity_docs = (_allows_all(),)
    boundary_doc = next((LabelledPolicy(r.label, doc) for r in boundary if (doc := docs.get(r.key)) is not None), None)
    levels, management = scps
    policy_set = PolicySet(
        identity=identity_docs,
        permissions_boundary=boundary_doc,
        session=session,
        scps=levels,
        management_account=management if levels is not None else None,
    )
    return Gathered(policy_set, tags, role_arn, scope_down)


def _scope_down_policies(session_pk: int, documents: list[str]) -> tuple[LabelledPolicy, ...]:
    found: list[LabelledPolicy] = []
    for index, text in enumerate(documents):
        key = ("d", session_pk, str(index))
        if key not in _parsed:
            try:
                _parsed[key] = parse_policy(text, kind="session")
            except ValueError:
                _parsed[key] = None
        document = _parsed[key]
        # A document that no longer parses allows nothing (an empty policy), as a broken session policy does.
        found.append(LabelledPolicy(f"scope-down policy {index + 1}", document or parse_policy(_EMPTY_POLICY)))
    return tuple(found)


_EMPTY_POLICY = '{"Version": "2012-10-17", "Statement": []}'


def _scoped(request: Request, decision: Decision, scope_down: tuple[LabelledPolicy, ...]) -> Decision:
    """GetScopedCredentials: the session's permissions are its own intersected with each scope-down policy. Each
    is read on its own as the only policy of the request; an explicit deny in one wins over any allow."""
    if decision.outcome == "ExplicitDeny":
        return decision
    # Each scope-down policy as the session layer over an identity that allows everything: its answer alone.
    alone = [evaluate(request, PolicySet(identity=(_allows_all(),), session=(s,))) for s in scope_down]
    denied = next((a for a in alone if a.outcome == "ExplicitDeny"), None)
    if denied is not None:
        return denied
    if decision.outcome == "Allow" and any(a.outcome != "Allow" for a in alone):
        return Decision.make("ImplicitDeny", (), "session", request.action)
    return decision


@functools.cache
def _allows_all() -> LabelledPolicy:
    return LabelledPolicy("root user", parse_policy(_ROOT_ALLOWS_ALL))


def _session_policies(session_pk: int, text: str, policy_arns: list[str]) -> tuple[LabelledPolicy, ...] | None:
    """AssumeRole's Policy/PolicyArns: present only when the session was created with them."""
    if not text and not policy_arns:
        return None
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
    role = Role.objects.with_arn(role_arn).first()
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


def request_context(
    ctx: CallContext, extra: Mapping[str, Any], tags: Mapping[str, str] | None = None
) -> dict[str, Any]:
    """Global condition keys of a console or API request (issue 3 §5). ``tags``: the user's, when already read."""
    p = ctx.principal
    now: datetime = clock.now()
    context: dict[str, Any] = {
        "aws:CurrentTime": now.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "aws:EpochTime": str(int(now.timestamp())),
    }
    if p.type == "AWSService":  # a service principal (EC2 assuming an instance's role) has no principal keys
        context.update({"aws:PrincipalServiceName": p.arn, "aws:PrincipalIsAWSService": "true"})
        context.update(extra)
        return context
    context |= {
        "aws:SourceIp": ctx.source_ip,
        "aws:SecureTransport": "true" if ctx.secure_transport else "false",
        "aws:PrincipalArn": p.arn,
        "aws:PrincipalAccount": p.account_id,
        "aws:PrincipalType": {"Root": "Account", "IAMUser": "User"}.get(p.type, p.type),
        "aws:userid": p.principal_id,
    }
    if p.type == "IAMUser":
        context["aws:username"] = p.name
    # Present for temporary credentials (a console session, a role session, GetSessionToken's credentials: "true"
    # when they were issued with MFA), absent for long-term access keys (IAM User Guide, aws:MultiFactorAuthPresent).
    if ctx.origin == "console" or p.type == "AssumedRole" or p.session_pk is not None:
        context["aws:MultiFactorAuthPresent"] = "true" if p.mfa_authenticated else "false"
        if p.mfa_authenticated_at is not None:
            context["aws:MultiFactorAuthAge"] = str(int((now - p.mfa_authenticated_at).total_seconds()))
    if p.token_issued_at is not None:
        context["aws:TokenIssueTime"] = p.token_issued_at.strftime("%Y-%m-%dT%H:%M:%SZ")
    for key, value in (p_tags(p) if tags is None else tags).items():
        context[f"aws:PrincipalTag/{key}"] = value
    context.update(extra)
    return context


def p_tags(p: Principal) -> dict[str, str]:
    if p.type != "IAMUser" or p.user_pk is None:
        return {}
    tags = IamUser.objects.filter(pk=p.user_pk).values_list("tags", flat=True).first() or []
    return {t["Key"]: t["Value"] for t in tags}


def engine_principal(p: Principal, role_arn: str | None = None) -> EnginePrincipal:
    if p.type == "AssumedRole":
        return EnginePrincipal(type=p.type, arn=p.arn, account=p.account_id, role_arn=role_arn, session_name=p.name)
    if p.type == "AWSService":
        return EnginePrincipal(type=p.type, arn=p.arn)
    return EnginePrincipal(type=p.type, arn=p.arn, account=p.account_id, name=p.name if p.type == "IAMUser" else None)


def _resource_account(resource: str) -> str | None:
    parts = resource.split(":", 5)
    return parts[4] if len(parts) == 6 and parts[4] else None


_PASSWORD_ACTIONS = ("iam:changepassword", "iam:getaccountpasswordpolicy")


def _implicit_password_policy(p: Principal) -> LabelledPolicy | None:
    """AllowUsersToChangePassword: the user's own iam:ChangePassword and iam:GetAccountPasswordPolicy, with no
    IAM policy attached (reference §1.10). Explicit denies still win; it is labelled as the account setting."""
    if not implicit_password_permissions(p.account_id):
        return None
    document = json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [
                {"Effect": "Allow", "Action": "iam:ChangePassword", "Resource": p.arn},
                {"Effect": "Allow", "Action": "iam:GetAccountPasswordPolicy", "Resource": "*"},
            ],
        }
    )
    return LabelledPolicy("account password policy (AllowUsersToChangePassword)", parse_policy(document))


def resource_policy(owner: ResourceOwner) -> LabelledPolicy | None:
    """The resource-based policy of a resource whose ARN names no account (an S3 bucket policy), parsed once per
    revision; None when it has none (or, stored before a rule changed, no longer parses: it grants nothing)."""
    if not owner.policy:
        return None
    key = ("r", hash(owner.revision), owner.policy)
    if key not in _parsed:
        if len(_parsed) > _MAX_CACHED:
            _parsed.clear()
        try:
            _parsed[key] = parse_policy(owner.policy, kind="resource")
        except ValueError:
            _parsed[key] = None
    doc = _parsed[key]
    return LabelledPolicy(owner.label or "resource-based policy", doc) if doc is not None else None


def decide(
    ctx: CallContext,
    action: str,
    resource: str,
    condition_context: Mapping[str, Any],
    owner: ResourceOwner | None = None,
) -> Decision:
    """``owner``: for a resource whose ARN names no account (S3), the account owning it and its resource policy."""
    p = ctx.principal
    named = owner.account_id if owner is not None else _resource_account(resource)
    # AWS managed policies (account "aws") are readable and attachable by every account.
    resource_account = None if named in (None, "aws", p.account_id) else named
    if action.lower() == "sts:assumeroot":
        # The member account's root user is the resource, but no resource policy is involved: the management
        # account's identity policies alone grant AssumeRoot ("Centralize root access for member accounts").
        resource_account = None
    # Identity, boundary and session policies, the user's tags and (classroom, issue 7) the SCPs of the caller's
    # organization, root users included (the engine exempts the management account): one query.
    gathered = gather(p)
    policies = gathered.policies
    request = Request(
        engine_principal(p, gathered.role_arn),
        action,
        resource,
        resource_account,
        request_context(ctx, condition_context, gathered.tags),
    )
    if p.type == "IAMUser" and p.user_pk is not None and action.lower() in _PASSWORD_ACTIONS:
        implicit = _implicit_password_policy(p)
        if implicit is not None:
            policies = replace(policies, identity=(*policies.identity, implicit))
    if p.type == "FederatedUser" and action.lower().startswith(("iam:", "sts:")):
        # A federated user can call no IAM operation and no STS operation but GetCallerIdentity, which is never
        # authorized (GetFederationToken's "Permissions" section): an empty session layer allows nothing.
        policies = replace(policies, session=())
    if action.lower().startswith("sts:assumerole"):
        policies = replace(policies, resource=trust_policy(resource))
    elif owner is not None:
        policies = replace(policies, resource=resource_policy(owner))
    decision = evaluate(request, policies)
    if gathered.scope_down:
        return _scoped(request, decision, gathered.scope_down)
    return decision


# ---- Service control policies (classroom, issue 7) ---------------------------------------------------------------
_scp_levels: dict[tuple[str, str, int], tuple[tuple[tuple[LabelledPolicy, ...], ...], str]] = {}


def scp_levels(account_id: str) -> tuple[tuple[tuple[LabelledPolicy, ...], ...] | None, str | None]:
    """The SCPs of each organization level above ``account_id`` (root, OUs from the top, the account itself) and
    the organization's management account; (None, None) outside any organization.

    One query per call when warm: the levels are cached per account and organization revision, which every change
    to SCPs, attachments, OUs or membership bumps in its own transaction."""
    row = (
        OrgAccount.objects.filter(account_id=account_id)
        .values_list(
            "organization_id",
            "organization__policy_revision",
            "organization__management_account_id",
            "parent_unit_id",
            "organization__root__id",
        )
        .first()
    )
    if row is None:
        return None, None
    org_id, revision, management, unit_id, root_id = row
    return _scp_levels_for(account_id, org_id, revision, management, unit_id, root_id)


def _scp_levels_for(
    account_id: str, org_id: str, revision: int, management: str, unit_id: str | None, root_id: str
) -> tuple[tuple[tuple[LabelledPolicy, ...], ...], str]:
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
            "target_id", "policy_id", "policy__updated_at", "policy__name", "policy__policy_id"
        )
        for target, pk, updated, name, policy_id in rows:
            by_target[target].append(_Revision(("scp", pk, updated.isoformat()), f"SCP {name} ({policy_id})"))
        levels = tuple(tuple(_labelled(by_target[t], ServiceControlPolicy, kind="scp")) for t in targets)
        if len(_scp_levels) > _MAX_CACHED:
            _scp_levels.clear()
        cached = _scp_levels[key] = (levels, management)
    return cached


def authorize(
    ctx: CallContext,
    action: str,
    resource: str,
    condition_context: Mapping[str, Any],
    owner: ResourceOwner | None = None,
) -> Decision:
    """Allow, or raise AccessDenied with AWS's wording and the engine's decision attached."""
    decision = decide(ctx, action, resource, condition_context, owner)
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
