"""The policy simulator: turns a principal of the account (or pasted custom policies) and a list of actions and
resources into evaluation requests in the line format of ``python -m policies.engine evaluate``, and answers them
with the same function the command line uses, so the console and the CLI can never disagree. Also the
GetContextKeysFor* calls, which read the same policies of a principal."""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from core import arns
from core.calls import iam_call
from core.context import CallContext
from core.errors import InvalidInput, MalformedPolicyDocument, NoSuchEntity
from core.validation import check_input
from identities.models import Group, IamUser, Role
from policies.effective import effective_permissions
from policies.engine import LabelledPolicy, PolicySet, parse_policy
from policies.engine.cli import build_principal, evaluate_case
from policies.models import InlinePolicy, PolicyVersion


@dataclass(frozen=True)
class SourcePolicy:
    """A policy shown next to the results, so deciding statements can be highlighted in it."""

    label: str  # the engine label: identity[0], permissions_boundary, scps[0], session[0], resource
    name: str  # what the student recognises: the policy name or ARN
    document: dict[str, Any] | None  # None when the text is not JSON
    text: str


@dataclass
class Simulation:
    principal: dict[str, Any]
    identity: list[SourcePolicy] = field(default_factory=list)
    boundary: SourcePolicy | None = None
    scps: list[SourcePolicy] | None = None
    resource: SourcePolicy | None = None
    session: list[SourcePolicy] | None = None
    organization: dict[str, str] | None = None

    def sources(self) -> list[SourcePolicy]:
        found = [*self.identity, *(self.session or []), *(self.scps or [])]
        found += [p for p in (self.boundary, self.resource) if p is not None]
        return found

    def case(self, case_id: str, action: str, resource: str, context: dict[str, Any], account: str) -> dict[str, Any]:
        """One request in the CLI's line format (reference/evaluation-requests.md)."""
        return {
            "id": case_id,
            "principal": self.principal,
            "identity_policies": [p.document if p.document is not None else p.text for p in self.identity],
            "permissions_boundary": None if self.boundary is None else (self.boundary.document or self.boundary.text),
            "scps": None if self.scps is None else [p.document or p.text for p in self.scps],
            "organization": self.organization,
            "session_policies": None if self.session is None else [p.document or p.text for p in self.session],
            "resource_policy": None if self.resource is None else (self.resource.document or self.resource.text),
            "resource_account": _account_of(resource) or account,
            "request": {"action": action, "resource": resource, "context": context},
        }


@dataclass(frozen=True)
class Result:
    action: str
    resource: str
    decision: str  # Allow | ExplicitDeny | ImplicitDeny
    deciding: list[dict[str, Any]]
    errors: list[str]
    case: dict[str, Any]

    @property
    def label(self) -> str:
        return {"Allow": "Allowed", "ExplicitDeny": "Denied (explicit)", "ImplicitDeny": "Denied (implicit)"}[
            self.decision
        ]


def _account_of(arn: str) -> str | None:
    parts = arn.split(":", 5)
    return parts[4] if len(parts) == 6 and parts[4].isdigit() else None


def _source(label: str, name: str, text: str) -> SourcePolicy:
    try:
        document = json.loads(text)
    except (ValueError, RecursionError):  # not JSON, or nested too deeply to decode: the engine explains it
        document = None
    return SourcePolicy(label, name, document if isinstance(document, dict) else None, text)


def _managed(filter_kwargs: dict[str, Any]) -> list[tuple[str, str]]:
    return list(
        PolicyVersion.objects.filter(is_default=True, **filter_kwargs)
        .values_list("policy__name", "document")
        .order_by("policy__name")
    )


def _inline(filter_kwargs: dict[str, Any]) -> list[tuple[str, str]]:
    return list(InlinePolicy.objects.filter(**filter_kwargs).values_list("name", "document").order_by("name"))


def principal_simulation(account_id: str, kind: str, name: str) -> Simulation:
    """The policies that apply to a user, a group (as one of its members) or a role (as a session of it), with no
    authorization: the simulator wraps it in ``iam:SimulatePrincipalPolicy``, lab checks call it as the system."""
    acct = account_id
    if kind == "user":
        user = IamUser.objects.in_account(acct).named(name).first()
        if user is None:
            raise NoSuchEntity(f"The user with name {name} cannot be found.")
        named = [
            *_managed({"policy__user_attachments__user": user}),
            *_inline({"user": user}),
            *_managed({"policy__group_attachments__group__memberships__user": user}),
            *_inline({"group__memberships__user": user}),
        ]
        boundary = _managed({"policy_id": user.permissions_boundary_id}) if user.permissions_boundary_id else []
        principal = {
            "type": "IAMUser",
            "arn": user.arn,
            "account": acct,
            "name": user.name,
            "tags": {t["Key"]: t["Value"] for t in user.tags},
        }
    elif kind == "group":
        group = Group.objects.in_account(acct).named(name).first()
        if group is None:
            raise NoSuchEntity(f"The group with name {name} cannot be found.")
        named = [*_managed({"policy__group_attachments__group": group}), *_inline({"group": group})]
        boundary = []
        principal = {
            "type": "IAMUser",
            "arn": arns.user(acct, "/", "group-member"),
            "account": acct,
            "name": "group-member",
        }
    elif kind == "role":
        role = Role.objects.in_account(acct).named(name).first()
        if role is None:
            raise NoSuchEntity(f"The role with name {name} cannot be found.")
        named = [*_managed({"policy__role_attachments__role": role}), *_inline({"role": role})]
        boundary = _managed({"policy_id": role.permissions_boundary_id}) if role.permissions_boundary_id else []
        principal = {
            "type": "AssumedRole",
            "arn": arns.assumed_role(acct, role.name, "simulator"),
            "account": acct,
            "role_arn": role.arn,
            "session_name": "simulator",
        }
    else:
        raise InvalidInput("Choose a user, a group or a role to simulate.")
    simulation = Simulation(principal)
    simulation.identity = [_source(f"identity[{i}]", n, t) for i, (n, t) in enumerate(named)]
    if boundary:
        simulation.boundary = _source("permissions_boundary", boundary[0][0], boundary[0][1])
    return simulation


def _entity_arn(account_id: str, kind: str, name: str) -> str:
    model = {"user": IamUser, "group": Group, "role": Role}.get(kind)
    if model is None:
        raise InvalidInput("Choose a user, a group or a role to simulate.")
    entity = model.objects.in_account(account_id).named(name).first()
    if entity is None:
        raise NoSuchEntity(f"The {kind} with name {name} cannot be found.")
    return entity.arn


def for_principal(ctx: CallContext, kind: str, name: str) -> Simulation:
    """``principal_simulation`` for a caller allowed ``iam:SimulatePrincipalPolicy`` on the entity."""
    arn = _entity_arn(ctx.account_id, kind, name)
    with iam_call(ctx, "iam:SimulatePrincipalPolicy", arn, {"policySourceArn": arn}):
        return principal_simulation(ctx.account_id, kind, name)


def custom(
    ctx: CallContext,
    *,
    identity: Sequence[str],
    boundary: str = "",
    scps: Sequence[str] = (),
    resource: str = "",
    session: Sequence[str] = (),
) -> Simulation:
    """SimulateCustomPolicy: pasted policies, evaluated for a hypothetical user of this account."""
    with iam_call(ctx, "iam:SimulateCustomPolicy", "*", {"policyInputList": len(identity)}):
        acct = ctx.account_id
        simulation = Simulation(
            {
                "type": "IAMUser",
                "arn": arns.user(acct, "/", "simulated-user"),
                "account": acct,
                "name": "simulated-user",
            }
        )
        simulation.identity = [
            _source(f"identity[{i}]", f"Custom policy {i + 1}", t)
            for i, t in enumerate(t for t in identity if t.strip())
        ]
        if boundary.strip():
            simulation.boundary = _source("permissions_boundary", "Permissions boundary", boundary)
        kept = [t for t in scps if t.strip()]
        if kept:
            simulation.scps = [_source(f"scps[{i}]", f"SCP level {i + 1}", t) for i, t in enumerate(kept)]
            simulation.organization = {"management_account_id": "000000000000"}
        if resource.strip():
            simulation.resource = _source("resource", "Resource-based policy", resource)
        kept_session = [t for t in session if t.strip()]
        if kept_session:
            simulation.session = [
                _source(f"session[{i}]", f"Session policy {i + 1}", t) for i, t in enumerate(kept_session)
            ]
        return simulation


def run(
    ctx: CallContext,
    simulation: Simulation,
    actions: Sequence[str],
    resources: Sequence[str],
    context: dict[str, Any],
    *,
    resource_owner: str | None = None,
) -> list[Result]:
    """``resource_owner``: the account owning resources whose ARN names none (the API's ResourceOwner)."""
    results = []
    for action in actions:
        for resource in resources or ["*"]:
            case = simulation.case(f"{action} {resource}", action, resource, context, resource_owner or ctx.account_id)
            out = evaluate_case(case)
            if "error" in out:
                raise InvalidInput(out["error"])
            results.append(Result(action, resource, out["decision"], out["deciding"], out["errors"], case))
    return results


def parse_context(text: str) -> dict[str, Any]:
    """``key=value`` lines; a value with commas is a multivalued key (``aws:TagKeys=a,b``)."""
    context: dict[str, Any] = {}
    for line in text.splitlines():
        if not line.strip():
            continue
        key, sep, value = line.partition("=")
        if not sep or not key.strip():
            raise InvalidInput(f"Context entries are key=value lines; got {line.strip()[:80]!r}.")
        value = value.strip()
        context[key.strip()] = [v.strip() for v in value.split(",")] if "," in value else value
    return context


def effective_for(ctx: CallContext, kind: str, name: str) -> list:
    """The principal's effective permissions per service (user, group or role pages' Effective permissions)."""
    simulation = for_principal(ctx, kind, name)

    def parsed(source: SourcePolicy, kind_: str) -> LabelledPolicy | None:
        try:
            return LabelledPolicy(source.name, parse_policy(source.text, kind=kind_))
        except ValueError:
            return None

    identity = tuple(p for s in simulation.identity if (p := parsed(s, "identity")) is not None)
    boundary = parsed(simulation.boundary, "boundary") if simulation.boundary else None
    principal = build_principal(simulation.principal)
    context = {"aws:PrincipalArn": principal.arn, "aws:PrincipalAccount": ctx.account_id}
    if principal.type == "IAMUser" and principal.name:
        context["aws:username"] = principal.name
    return effective_permissions(principal, PolicySet(identity=identity, permissions_boundary=boundary), context)


# ---- GetContextKeysFor* ---------------------------------------------------------------------------------------

_VARIABLE = re.compile(r"\$\{([^}*?$]+)\}")


def context_keys(documents: Sequence[str]) -> list[str]:
    """The condition keys (and policy variables) the documents use, sorted case-insensitively, each once.

    A document that is not JSON, nests too deeply to decode, or has a Condition that is not an object of objects
    is refused with MalformedPolicyDocument, never a 500 (issue 12 §5)."""
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
        documents = [s.text for s in _principal_sources(kind, ctx.account_id, name)]
        return context_keys([*documents, *policy_input_list])


def _principal_sources(kind: str, account_id: str, name: str) -> list[Any]:
    model = {"user": IamUser, "group": Group, "role": Role}[kind]
    entity = model.objects.in_account(account_id).named(name).first()
    if entity is None:
        raise NoSuchEntity(f"The {kind} with name {name} cannot be found.")
    if kind == "user":
        rows = [
            *_managed({"policy__user_attachments__user": entity}),
            *_inline({"user": entity}),
            *_managed({"policy__group_attachments__group__memberships__user": entity}),
            *_inline({"group__memberships__user": entity}),
        ]
    elif kind == "group":
        rows = [
            *_managed({"policy__group_attachments__group": entity}),
            *_inline({"group": entity}),
        ]
    else:
        rows = [*_managed({"policy__role_attachments__role": entity}), *_inline({"role": entity})]
    return [_source(f"identity[{i}]", n, t) for i, (n, t) in enumerate(rows)]
