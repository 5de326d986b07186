"""Checks every stored policy document passes: the engine's grammar (MalformedPolicyDocument) and IAM's size
limits, which ignore whitespace (reference §2.3)."""

from __future__ import annotations

import json
from typing import Literal

from core.errors import LimitExceeded, MalformedPolicyDocument
from policies.engine import PolicyParseError, parse_policy

PolicyKind = Literal["identity", "trust", "resource", "scp", "session", "boundary"]

MANAGED_POLICY_SIZE = 6144
INLINE_AGGREGATE_SIZE = {"user": 2048, "group": 5120, "role": 10240}
TRUST_POLICY_SIZE = 2048
# The console's starter document for a new policy (the JSON editor of managed and inline policies).
STARTER_POLICY = """{
    "Version": "2012-10-17",
    "Statement": [
        {
            "Sid": "Statement1",
            "Effect": "Allow",
            "Action": [],
            "Resource": []
        }
    ]
}"""


def policy_size(text: str) -> int:
    return sum(1 for c in text if not c.isspace())


def check_document(text: str, kind: PolicyKind = "identity", *, managed: bool = False) -> None:
    """Raise MalformedPolicyDocument with IAM's message when IAM would refuse ``text`` as it enters: the engine's
    grammar with IAM's entry rules (``policies/engine/grammar.py``; ``managed`` for CreatePolicy and
    CreatePolicyVersion, which require Version 2012-10-17). SCPs keep the structural grammar (Organizations'
    own rules are not IAM's)."""
    try:
        parse_policy(text, kind=kind, strict=kind != "scp", managed=managed)
    except PolicyParseError as exc:
        raise MalformedPolicyDocument(exc.message) from None


def check_managed_size(text: str) -> None:
    if policy_size(text) > MANAGED_POLICY_SIZE:
        raise LimitExceeded(f"Cannot exceed quota for PolicySize: {MANAGED_POLICY_SIZE}")


def check_inline_aggregate(owner_kind: str, owner_name: str, texts: list[str]) -> None:
    limit = INLINE_AGGREGATE_SIZE[owner_kind]
    if sum(policy_size(t) for t in texts) > limit:
        raise LimitExceeded(f"Maximum policy size of {limit} bytes exceeded for {owner_kind} {owner_name}")


def pretty(text: str) -> str:
    """The document indented for display (the stored text is kept as the user wrote it)."""
    try:
        return json.dumps(json.loads(text), indent=4)
    except ValueError:
        return text
