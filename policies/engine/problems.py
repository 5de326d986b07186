"""The parser's vocabulary, shared with the grammar checks: IAM's MalformedPolicyDocument messages, the checking
stages, ``PolicyProblem``, the condition operators and how condition values are read."""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from typing import Any

M_SYNTAX = "Syntax errors in policy."
M_NO_PRINCIPAL_ALLOWED = "Policy document should not specify a principal."
M_NO_ACTIONS = "Policy statement must contain actions."
M_NO_RESOURCES = "Policy statement must contain resources."
M_VENDOR = "Actions/Conditions must be prefaced by a vendor, e.g., iam, sdb, ec2, etc."
M_LEGACY = "The policy failed legacy parsing"
M_SID_UNIQUE = "Statement IDs (SID) in a single policy must be unique."
M_SID_ALNUM = (
    "Statement IDs (SID) must be alpha-numeric. Check that your input satisfies the regular expression [0-9A-Za-z]*"
)
M_TRUST_ACTIONS = (
    "Trust Policy statement actions can only be sts:AssumeRole, sts:AssumeRoleWithSAML, "
    "and sts:AssumeRoleWithWebIdentity"
)
M_MISSING_PRINCIPAL = "Missing required field Principal."
M_MISSING_EFFECT = "Missing required field Effect."
M_VERSION = "Policy document must be version 2012-10-17 or greater."

# IAM checks a document in stages and reports the first stage that fails (the order of the AWS answers collected
# in docs/policy-grammar.md): syntax, then Version, then "legacy parsing", then Sid uniqueness, actions present,
# resources present, resource formats, and last the action prefixes. Within a stage, document order.
STAGE_SYNTAX, STAGE_VERSION, STAGE_LEGACY, STAGE_SID, STAGE_ACTIONS, STAGE_RESOURCES = 0, 1, 2, 3, 4, 5
STAGE_RESOURCE_FORMAT, STAGE_ACTION_FORMAT = 6, 7
STAGE_BY_MESSAGE = {
    M_VERSION: STAGE_VERSION,
    M_LEGACY: STAGE_LEGACY,
    M_SID_UNIQUE: STAGE_SID,
    M_SID_ALNUM: STAGE_SID,
    M_NO_ACTIONS: STAGE_ACTIONS,
    M_NO_RESOURCES: STAGE_RESOURCES,
    M_VENDOR: STAGE_ACTION_FORMAT,
    M_TRUST_ACTIONS: STAGE_ACTION_FORMAT + 1,  # a malformed action is reported before a forbidden one
}

BASE_OPERATORS: dict[str, str] = {
    name.lower(): name
    for name in [
        "StringEquals",
        "StringNotEquals",
        "StringEqualsIgnoreCase",
        "StringNotEqualsIgnoreCase",
        "StringLike",
        "StringNotLike",
        "NumericEquals",
        "NumericNotEquals",
        "NumericLessThan",
        "NumericLessThanEquals",
        "NumericGreaterThan",
        "NumericGreaterThanEquals",
        "DateEquals",
        "DateNotEquals",
        "DateLessThan",
        "DateLessThanEquals",
        "DateGreaterThan",
        "DateGreaterThanEquals",
        "Bool",
        "BinaryEquals",
        "IpAddress",
        "NotIpAddress",
        "ArnEquals",
        "ArnLike",
        "ArnNotEquals",
        "ArnNotLike",
        "Null",
    ]
}

_QUALIFIERS = {"forallvalues": "ForAllValues", "foranyvalue": "ForAnyValue"}


@dataclass(frozen=True, slots=True)
class PolicyProblem:
    message: str
    issue_code: str
    path: str
    stage: int = STAGE_SYNTAX  # which of IAM's checking stages refuses it (the lowest is reported)


def parse_operator(operator: str) -> tuple[str, str | None, bool] | None:
    """``ForAnyValue:StringLikeIfExists`` → ("StringLike", "ForAnyValue", True); None if unknown."""
    qualifier = None
    name = operator
    if ":" in operator:
        prefix, name = operator.split(":", 1)
        qualifier = _QUALIFIERS.get(prefix.lower())
        if qualifier is None:
            return None
    if_exists = name.lower().endswith("ifexists")
    if if_exists:
        name = name[: -len("IfExists")]
    base = BASE_OPERATORS.get(name.lower())
    if base is None or (base == "Null" and if_exists):  # NullIfExists would be meaningless; AWS rejects it
        return None
    return base, qualifier, if_exists


def condition_value(value: Any) -> str | None:
    """AWS reads condition values as strings; JSON numbers and booleans are accepted and stringified."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return value
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float) and math.isfinite(value):
        return json.dumps(value)
    return None
