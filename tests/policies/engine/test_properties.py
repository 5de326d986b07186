"""Property tests: the parser only ever raises PolicyParseError; evaluation is deterministic and does not
depend on the order of statements or policies."""

from __future__ import annotations

import contextlib
import json
import random
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from policies.engine import (
    LabelledPolicy,
    PolicyParseError,
    PolicySet,
    Principal,
    Request,
    evaluate,
    parse_policy,
    validate_policy,
)
from policies.engine.parser import KINDS

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=True) | st.text(max_size=20),
    lambda children: (
        st.lists(children, max_size=4)
        | st.dictionaries(
            st.sampled_from(
                [
                    "Version",
                    "Statement",
                    "Effect",
                    "Action",
                    "NotAction",
                    "Resource",
                    "NotResource",
                    "Principal",
                    "NotPrincipal",
                    "Condition",
                    "Sid",
                    "Id",
                    "AWS",
                    "StringEquals",
                    "aws:username",
                    "x",
                ]
            )
            | st.text(max_size=8),
            children,
            max_size=5,
        )
    ),
    max_leaves=30,
)


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(value=json_values, kind=st.sampled_from(KINDS))
def test_parser_only_raises_policy_parse_error_on_json_values(value: Any, kind: str) -> None:
    with contextlib.suppress(PolicyParseError):
        parse_policy(value, kind=kind)  # type: ignore[arg-type]
    text = json.dumps(value)
    with contextlib.suppress(PolicyParseError):
        parse_policy(text, kind=kind)  # type: ignore[arg-type]


@settings(max_examples=400)
@given(text=st.text(max_size=200), kind=st.sampled_from(KINDS))
def test_parser_only_raises_policy_parse_error_on_text(text: str, kind: str) -> None:
    try:
        parse_policy(text, kind=kind)  # type: ignore[arg-type]
    except PolicyParseError as exc:
        assert exc.location.line is not None


ACTIONS = ["s3:GetObject", "s3:PutObject", "s3:*", "s3:Get*", "iam:CreateUser", "iam:*", "*", "ec2:Describe*"]
RESOURCES = ["*", "arn:aws:s3:::b/*", "arn:aws:s3:::b/k", "arn:aws:s3:::other/*", "arn:aws:iam::111122223333:user/*"]
CONDITIONS = [
    None,
    {"StringEquals": {"aws:username": "alice"}},
    {"StringNotEquals": {"aws:username": "alice"}},
    {"BoolIfExists": {"aws:MultiFactorAuthPresent": "true"}},
    {"ForAllValues:StringEquals": {"aws:TagKeys": ["a"]}},
    {"IpAddress": {"aws:SourceIp": "10.0.0.0/8"}},
]


@st.composite
def statements(draw: Any) -> dict[str, Any]:
    s: dict[str, Any] = {"Effect": draw(st.sampled_from(["Allow", "Allow", "Deny"]))}
    key = draw(st.sampled_from(["Action", "NotAction"]))
    s[key] = draw(st.lists(st.sampled_from(ACTIONS), min_size=1, max_size=3))
    rkey = draw(st.sampled_from(["Resource", "Resource", "NotResource"]))
    s[rkey] = draw(st.lists(st.sampled_from(RESOURCES), min_size=1, max_size=2))
    cond = draw(st.sampled_from(CONDITIONS))
    if cond:
        s["Condition"] = cond
    return s


policies_strategy = st.lists(st.lists(statements(), min_size=1, max_size=4), min_size=0, max_size=4)


def policy_set(raw: list[list[dict[str, Any]]], boundary: list[dict[str, Any]] | None) -> PolicySet:
    identity = tuple(
        LabelledPolicy(f"identity[{i}]", parse_policy({"Version": "2012-10-17", "Statement": stmts}))
        for i, stmts in enumerate(raw)
    )
    pb = (
        None
        if boundary is None
        else LabelledPolicy("pb", parse_policy({"Version": "2012-10-17", "Statement": boundary}))
    )
    return PolicySet(identity=identity, permissions_boundary=pb)


ALICE = Principal("IAMUser", "arn:aws:iam::111122223333:user/alice", "111122223333", "alice")


@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow])
@given(
    raw=policies_strategy,
    boundary=st.none() | st.lists(statements(), min_size=1, max_size=3),
    action=st.sampled_from(["s3:GetObject", "s3:PutObject", "iam:CreateUser", "ec2:DescribeInstances"]),
    resource=st.sampled_from(["arn:aws:s3:::b/k", "arn:aws:iam::111122223333:user/bob", "*"]),
    context=st.fixed_dictionaries(
        {},
        optional={
            "aws:username": st.sampled_from(["alice", "bob"]),
            "aws:MultiFactorAuthPresent": st.sampled_from(["true", "false"]),
            "aws:TagKeys": st.lists(st.sampled_from(["a", "b"]), max_size=2),
            "aws:SourceIp": st.sampled_from(["10.1.2.3", "192.0.2.1"]),
        },
    ),
    seed=st.integers(0, 2**32 - 1),
)
def test_evaluation_is_deterministic_and_order_independent(
    raw: list[list[dict[str, Any]]],
    boundary: list[dict[str, Any]] | None,
    action: str,
    resource: str,
    context: dict[str, Any],
    seed: int,
) -> None:
    request = Request(ALICE, action, resource, None, context)
    first = evaluate(request, policy_set(raw, boundary))
    again = evaluate(request, policy_set(raw, boundary))
    assert first == again
    rng = random.Random(seed)
    shuffled = [rng.sample(stmts, len(stmts)) for stmts in raw]
    rng.shuffle(shuffled)
    shuffled_boundary = None if boundary is None else rng.sample(boundary, len(boundary))
    other = evaluate(request, policy_set(shuffled, shuffled_boundary))
    assert (other.outcome, other.missing_layer) == (first.outcome, first.missing_layer)
    # The same set of denying statements decides an explicit deny, whatever the order.
    if first.outcome == "ExplicitDeny":
        assert len(other.deciding) == len(first.deciding)


statement_values = st.fixed_dictionaries(
    {"Effect": st.sampled_from(["Allow", "Deny", "allow", "x"])},
    optional={
        "Action": st.text(max_size=12) | st.lists(st.text(max_size=12), max_size=3),
        "Resource": st.sampled_from(["*", "arn:aws:s3:::b", "arn:aws:iam:::user/a", "a:b", "arn:aws"])
        | st.text(max_size=24),
        "Condition": st.dictionaries(
            st.sampled_from(["DateLessThan", "StringEquals", "x", "ForAnyValue:DateEquals"]),
            st.dictionaries(st.text(max_size=6), st.text(max_size=30) | st.lists(st.text(max_size=30), max_size=2)),
            max_size=2,
        )
        | json_values,
        "Sid": st.text(max_size=6),
    },
)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    version=st.sampled_from([None, "2012-10-17", "2008-10-17", "2013-10-17"]),
    statements=st.lists(statement_values, max_size=3) | json_values,
    kind=st.sampled_from(KINDS),
    managed=st.booleans(),
)
def test_entry_rules_only_raise_policy_parse_error(version: Any, statements: Any, kind: str, managed: bool) -> None:
    """IAM's entry rules (grammar.py) never raise anything but PolicyParseError, and the validator never raises."""
    document: dict[str, Any] = {"Statement": statements}
    if version is not None:
        document["Version"] = version
    text = json.dumps(document)
    with contextlib.suppress(PolicyParseError):
        parse_policy(text, kind=kind, strict=True, managed=managed)  # type: ignore[arg-type]
    validate_policy(text, kind, managed=managed)
