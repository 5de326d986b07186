"""``python -m policies.engine evaluate FILE``: JSON Lines in, one JSON line out per question.

The format is specified in ``/work/shared/reference/evaluation-requests.md``. Policy labels in ``deciding``
are ``identity[i]``, ``permissions_boundary``, ``scps[level]``, ``session[i]`` and ``resource``; statement
numbers are 0-based. A policy that does not parse is reported in ``errors`` and grants nothing (it is
replaced by an empty policy, so a broken boundary, SCP or session policy allows nothing either).
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Iterable, Iterator, Mapping
from typing import Any, TextIO

from .ast import PolicyDocument
from .context import Principal, Request
from .evaluate import TRUST_ACTIONS, Decision, LabelledPolicy, PolicySet, evaluate
from .parser import PolicyParseError, parse_policy


class CaseError(ValueError):
    """The line is not a usable question (the run continues with the next line)."""


def _policy(label: str, raw: Any, kind: str, errors: list[str]) -> LabelledPolicy:
    try:
        document = parse_policy(raw, kind=kind)  # type: ignore[arg-type]
    except PolicyParseError as exc:
        where = f" at {exc.location.path}" if exc.location.path else ""
        errors.append(f"{label}: {exc.message}{where}")
        document = PolicyDocument("2012-10-17", None, (), kind=kind)  # type: ignore[arg-type]
    return LabelledPolicy(label, document)


def _policy_list(prefix: str, raw: Any, kind: str, errors: list[str]) -> tuple[LabelledPolicy, ...] | None:
    if raw is None:
        return None
    if not isinstance(raw, list):
        raise CaseError(f"{prefix} must be a list or null")
    return tuple(_policy(f"{prefix}[{i}]", doc, kind, errors) for i, doc in enumerate(raw))


def _strings(raw: Any, name: str) -> dict[str, str]:
    if raw is None:
        return {}
    if not isinstance(raw, Mapping):
        raise CaseError(f"{name} must be an object")
    return {str(k): str(v) for k, v in raw.items()}


def build_principal(raw: Any) -> Principal:
    if not isinstance(raw, Mapping) or not isinstance(raw.get("type"), str):
        raise CaseError("principal must be an object with a type")
    text = {k: raw.get(k) for k in ("arn", "account", "name", "role_arn", "session_name", "provider", "canonical_user")}
    if any(v is not None and not isinstance(v, str) for v in text.values()):
        raise CaseError("principal fields must be strings")
    return Principal(
        type=raw["type"],
        arn=text["arn"] or "",
        account=text["account"] or "",
        name=text["name"],
        role_arn=text["role_arn"],
        session_name=text["session_name"],
        tags=_strings(raw.get("tags"), "principal.tags"),
        session_tags=_strings(raw.get("session_tags"), "principal.session_tags"),
        provider=text["provider"],
        canonical_user=text["canonical_user"],
    )


def build_request(case: Mapping[str, Any], principal: Principal) -> Request:
    raw = case.get("request")
    if not isinstance(raw, Mapping) or not isinstance(raw.get("action"), str):
        raise CaseError("request must be an object with an action")
    context = raw.get("context") or {}
    if not isinstance(context, Mapping):
        raise CaseError("request.context must be an object")
    resource = raw.get("resource", "*")
    account = case.get("resource_account") or principal.account
    if not isinstance(resource, str) or not isinstance(account, str):
        raise CaseError("request.resource and resource_account must be strings")
    return Request(principal, raw["action"], resource, account, context)


def build_policies(case: Mapping[str, Any], request: Request, errors: list[str]) -> PolicySet:
    boundary = case.get("permissions_boundary")
    resource = case.get("resource_policy")
    scps_raw = case.get("scps")
    if scps_raw is not None and not isinstance(scps_raw, list):
        raise CaseError("scps must be a list or null")
    organization = case.get("organization") or {}
    if not isinstance(organization, Mapping):
        raise CaseError("organization must be an object")
    resource_kind = "trust" if request.action_lc in TRUST_ACTIONS else "resource"
    return PolicySet(
        identity=_policy_list("identity", case.get("identity_policies") or [], "identity", errors) or (),
        permissions_boundary=None
        if boundary is None
        else _policy("permissions_boundary", boundary, "boundary", errors),
        scps=None
        if scps_raw is None
        else tuple((_policy(f"scps[{i}]", doc, "scp", errors),) for i, doc in enumerate(scps_raw)),
        management_account=organization.get("management_account_id"),
        session=_policy_list("session", case.get("session_policies"), "session", errors),
        resource=None if resource is None else _policy("resource", resource, resource_kind, errors),
    )


def decision_json(case_id: Any, decision: Decision, errors: list[str]) -> dict[str, Any]:
    if decision.outcome == "ImplicitDeny":
        deciding: list[dict[str, Any]] = [{"layer": decision.missing_layer}]
    else:
        deciding = [{"policy": r.policy, "statement": r.statement, "sid": r.sid} for r in decision.deciding]
    return {"id": case_id, "decision": decision.outcome, "deciding": deciding, "errors": [*errors, *decision.errors]}


def evaluate_case(case: Any) -> dict[str, Any]:
    """One decoded input object → the output object. The test corpus runs through here too."""
    case_id = case.get("id") if isinstance(case, Mapping) else None
    try:
        if not isinstance(case, Mapping) or "request" not in case:
            raise CaseError("the line lacks a request")
        principal = build_principal(case.get("principal"))
        request = build_request(case, principal)
        errors: list[str] = []
        policies = build_policies(case, request, errors)
    except CaseError as exc:
        return {"id": case_id, "error": str(exc)}
    return decision_json(case_id, evaluate(request, policies), errors)


def evaluate_line(line: str) -> dict[str, Any]:
    try:
        case = json.loads(line)
    except ValueError as exc:
        return {"id": None, "error": f"invalid JSON: {exc}"}
    return evaluate_case(case)


def run(lines: Iterable[str]) -> Iterator[str]:
    for line in lines:
        if line.strip():
            yield json.dumps(evaluate_line(line), ensure_ascii=False)


def main(argv: list[str] | None = None, stdin: TextIO | None = None, stdout: TextIO | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m policies.engine")
    commands = parser.add_subparsers(dest="command", required=True)
    evaluate_cmd = commands.add_parser("evaluate", help="evaluate JSON Lines authorization questions")
    evaluate_cmd.add_argument("file", help="JSON Lines file, or - for standard input")
    args = parser.parse_args(argv)
    out = stdout or sys.stdout
    if args.file == "-":
        source: Iterable[str] = stdin or sys.stdin
        for result in run(source):
            out.write(result + "\n")
        return 0
    with open(args.file, encoding="utf-8") as handle:
        for result in run(handle):
            out.write(result + "\n")
    return 0
