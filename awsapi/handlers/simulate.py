"""SimulatePrincipalPolicy, SimulateCustomPolicy and GetContextKeysFor*: the console simulator's engine
(``policies.simulator``) with botocore's shapes, MatchedStatements located in the policy text."""

from __future__ import annotations

import json
from typing import Any

from awsapi.dispatch import operation
from awsapi.handlers import shapes
from core.context import CallContext
from core.errors import InvalidInput
from policies import simulator

P = dict[str, Any]
DECISIONS = {"Allow": "allowed", "ExplicitDeny": "explicitDeny", "ImplicitDeny": "implicitDeny"}


def statement_positions(text: str) -> list[tuple[tuple[int, int], tuple[int, int]]]:
    """(start, end) line/column (1-based) of each statement of a policy's text, in order."""
    decoder = json.JSONDecoder()
    try:
        document = json.loads(text)
    except ValueError:
        return []
    if not isinstance(document, dict) or "Statement" not in document:
        return []
    start = text.find('"Statement"')
    index = text.find(":", start) + 1
    while index < len(text) and text[index].isspace():
        index += 1
    spans: list[tuple[int, int]] = []
    if text[index : index + 1] == "[":
        index += 1
        while index < len(text):
            while index < len(text) and text[index] in " \t\r\n,":
                index += 1
            if text[index : index + 1] in ("]", ""):
                break
            _, end = decoder.raw_decode(text, index)
            spans.append((index, end))
            index = end
    else:
        _, end = decoder.raw_decode(text, index)
        spans.append((index, end))

    def where(offset: int) -> tuple[int, int]:
        line = text.count("\n", 0, offset) + 1
        return line, offset - (text.rfind("\n", 0, offset) + 1) + 1

    return [(where(a), where(b)) for a, b in spans]


def _source_type(source: simulator.SourcePolicy, principal_kind: str) -> str:
    if source.label == "resource":
        return "resource"
    if source.name.startswith(("PolicyInputList.", "PermissionsBoundaryPolicyInputList.", "Custom policy")):
        return "none"
    return principal_kind


def _matched(result: simulator.Result, simulation: simulator.Simulation, principal_kind: str) -> list[P]:
    by_label = {s.label: s for s in simulation.sources()}
    matched = []
    for ref in result.deciding:
        source = by_label.get(ref.get("policy", ""))
        if source is None:
            continue
        entry: P = {"SourcePolicyId": source.name, "SourcePolicyType": _source_type(source, principal_kind)}
        positions = statement_positions(source.text)
        if 0 <= ref.get("statement", -1) < len(positions):
            (line1, col1), (line2, col2) = positions[ref["statement"]]
            entry["StartPosition"] = {"Line": line1, "Column": col1}
            entry["EndPosition"] = {"Line": line2, "Column": col2}
        matched.append(entry)
    return matched


def _context(p: P) -> dict[str, Any]:
    context: dict[str, Any] = {}
    for entry in p.get("ContextEntries") or []:
        values = entry.get("ContextKeyValues") or []
        is_list = (entry.get("ContextKeyType") or "string").endswith("List")
        context[entry.get("ContextKeyName", "")] = (
            values if is_list or len(values) > 1 else (values[0] if values else "")
        )
    return context


def _caller(ctx: CallContext, p: P, simulation: simulator.Simulation) -> None:
    """CallerArn: simulate the calls as that IAM user (its name and tags in the request context), with the
    policies of PolicySourceArn. AWS takes only an IAM user's ARN here."""
    caller_arn = p.get("CallerArn")
    if not caller_arn:
        return
    kind, name = simulator.principal_by_arn(ctx.account_id, caller_arn)
    if kind != "user":
        raise InvalidInput(f"Invalid CallerArn {caller_arn}: it must be the ARN of an IAM user.")
    simulation.principal = simulator.principal_simulation(ctx.account_id, "user", name).principal


def _simulate(ctx: CallContext, p: P, simulation: simulator.Simulation, principal_kind: str) -> P:
    # The EC2 resource scenarios, SCP hierarchies and policy exclusions are not modelled by the classroom simulator.
    shapes.refuse(p, "ResourceHandlingOption", "OrderedOrganizationPolicyInputList", "PolicyExclusionList")
    _caller(ctx, p, simulation)
    extra = [t for t in p.get("PolicyInputList") or [] if t.strip()]
    offset = len(simulation.identity)
    simulation.identity += [
        simulator._source(f"identity[{offset + i}]", f"PolicyInputList.{i + 1}", t) for i, t in enumerate(extra)
    ]
    boundaries = p.get("PermissionsBoundaryPolicyInputList") or []
    if boundaries:
        simulation.boundary = simulator._source(
            "permissions_boundary", "PermissionsBoundaryPolicyInputList.1", boundaries[0]
        )
    if p.get("ResourcePolicy"):
        simulation.resource = simulator._source("resource", "ResourcePolicy", p["ResourcePolicy"])
    # ResourceOwner: the account of resources whose ARN names none (S3) and of the resource policy.
    owner = p.get("ResourceOwner")
    owner_account = simulator._account_of(owner) if owner else None
    if owner and owner_account is None:
        owner_account = owner if owner.isdigit() and len(owner) == 12 else None
        if owner_account is None:
            raise InvalidInput(f"Invalid ResourceOwner {owner}: give an account's root ARN or its ID.")
    results = simulator.run(
        ctx,
        simulation,
        p.get("ActionNames") or [],
        p.get("ResourceArns") or ["*"],
        _context(p),
        resource_owner=owner_account,
    )
    page = shapes.page(results, p, "EvaluationResults")
    rows = []
    for result in page["EvaluationResults"]:
        row: P = {
            "EvalActionName": result.action,
            "EvalResourceName": result.resource,
            "EvalDecision": DECISIONS[result.decision],
            "MatchedStatements": _matched(result, simulation, principal_kind),
            "MissingContextValues": [],
        }
        if simulation.boundary is not None:
            blocked = any(ref.get("layer") == "permissions_boundary" for ref in result.deciding)
            row["PermissionsBoundaryDecisionDetail"] = {"AllowedByPermissionsBoundary": not blocked}
        rows.append(row)
    page["EvaluationResults"] = rows
    return page


@operation("iam", "SimulatePrincipalPolicy")
def simulate_principal_policy(ctx: CallContext, p: P) -> P:
    kind, name = simulator.principal_by_arn(ctx.account_id, p.get("PolicySourceArn") or "")
    return _simulate(ctx, p, simulator.for_principal(ctx, kind, name), kind)


@operation("iam", "SimulateCustomPolicy")
def simulate_custom_policy(ctx: CallContext, p: P) -> P:
    simulation = simulator.custom(ctx, identity=[])
    return _simulate(ctx, p, simulation, "none")


@operation("iam", "GetContextKeysForCustomPolicy")
def get_context_keys_for_custom_policy(ctx: CallContext, p: P) -> P:
    keys = simulator.get_context_keys_for_custom_policy(ctx, policy_input_list=p.get("PolicyInputList") or [])
    return {"ContextKeyNames": keys}


@operation("iam", "GetContextKeysForPrincipalPolicy")
def get_context_keys_for_principal_policy(ctx: CallContext, p: P) -> P:
    keys = simulator.get_context_keys_for_principal_policy(
        ctx, policy_source_arn=p.get("PolicySourceArn"), policy_input_list=p.get("PolicyInputList") or []
    )
    return {"ContextKeyNames": keys}
