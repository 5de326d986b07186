"""IAM policy engine: parse, validate and evaluate AWS IAM policies. Pure Python, no Django.

Statement numbers in decisions (``StatementRef.statement``) and JSON paths (``Statement[1]``) are 0-based.
"""

from __future__ import annotations

from .ast import Condition, PolicyDocument, PrincipalEntry, Statement
from .context import Principal, Request
from .evaluate import ConditionNote, Decision, LabelledPolicy, PolicySet, StatementRef, evaluate
from .findings import Finding, Location
from .parser import PolicyParseError, parse_policy
from .validate import validate_policy

PrincipalInfo = Principal

__all__ = [
    "Condition",
    "ConditionNote",
    "Decision",
    "Finding",
    "LabelledPolicy",
    "Location",
    "PolicyDocument",
    "PolicyParseError",
    "PolicySet",
    "Principal",
    "PrincipalEntry",
    "PrincipalInfo",
    "Request",
    "Statement",
    "StatementRef",
    "evaluate",
    "parse_policy",
    "validate_policy",
]
