"""IAM's entry rules for policy documents, one case per rule, each with IAM's own MalformedPolicyDocument message.

Pages: Version — https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_version.html;
Statement/Sid — .../reference_policies_elements_statement.html, .../reference_policies_elements_sid.html;
Effect — .../reference_policies_elements_effect.html; Action — .../reference_policies_elements_action.html;
Resource — .../reference_policies_elements_resource.html and .../reference-arns.html; Condition operators —
.../reference_policies_elements_condition_operators.html; the grammar — .../reference_policies_grammar.html.
The messages are IAM's answers to CreatePolicy (docs/policy-grammar.md lists every rule).
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from policies.engine import PolicyParseError, parse_policy, validate_policy
from policies.engine.grammar import M_IAM_RESOURCE_TYPE, valid_date

V = "2012-10-17"
OK = {"Effect": "Allow", "Action": "s3:ListBucket", "Resource": "arn:aws:s3:::example_bucket"}


def policy(*statements: dict[str, Any], version: str | None = V, **top: Any) -> dict[str, Any]:
    out: dict[str, Any] = {} if version is None else {"Version": version}
    out["Statement"] = statements[0] if len(statements) == 1 else list(statements)
    out.update(top)
    return out


def refusal(document: Any, kind: str = "identity", managed: bool = True) -> str:
    text = document if isinstance(document, str) else json.dumps(document)
    with pytest.raises(PolicyParseError) as info:
        parse_policy(text, kind=kind, strict=True, managed=managed)  # type: ignore[arg-type]
    return info.value.message


REFUSED = [
    # Syntax: not JSON, unknown elements, wrong types, an unknown Version, an empty Statement list.
    ("not-json", "This is not a json document", "Syntax errors in policy."),
    ("unknown-version", policy(OK, version="2013-10-17"), "Syntax errors in policy."),
    ("no-statement", {"Version": V}, "Syntax errors in policy."),
    ("empty-statement-list", {"Version": V, "Statement": []}, "Syntax errors in policy."),
    ("statement-not-object", {"Version": V, "Statement": ["afd"]}, "Syntax errors in policy."),
    ("extra-top-element", policy(OK, **{"Extra field": "value"}), "Syntax errors in policy."),
    ("extra-statement-element", policy(dict(OK, **{"Extra field": "value"})), "Syntax errors in policy."),
    ("id-not-string", policy(OK, Id=["x"]), "Syntax errors in policy."),
    ("effect-unknown", policy(dict(OK, Effect="invalid")), "Syntax errors in policy."),
    ("effect-missing", policy({"Action": "s3:ListBucket", "Resource": "*"}), "Syntax errors in policy."),
    ("action-and-notaction", policy(dict(OK, NotAction="s3:ListBucket", Action="iam:dsf")), "Syntax errors in policy."),
    ("resource-and-notresource", policy(dict(OK, NotResource="*")), "Syntax errors in policy."),
    ("resource-object", policy(dict(OK, Resource={"a": "arn:aws:s3:::b"})), "Syntax errors in policy."),
    ("action-nested-list", policy(dict(OK, Action=[[]])), "Syntax errors in policy."),
    ("condition-list", policy(dict(OK, Condition=[])), "Syntax errors in policy."),
    ("condition-string", policy(dict(OK, Condition="a")), "Syntax errors in policy."),
    ("condition-block-string", policy(dict(OK, Condition={"DateGreaterThan": "b"})), "Syntax errors in policy."),
    ("condition-value-object", policy(dict(OK, Condition={"DateGreaterThan": {"a": {}}})), "Syntax errors in policy."),
    ("unknown-operator-with-keys", policy(dict(OK, Condition={"x": {"a": "1"}})), "Syntax errors in policy."),
    (
        "double-colon-operator",
        policy(dict(OK, Condition={"ForAnyValue::StringEqualsIfExists": {"a": "asf"}})),
        "Syntax errors in policy.",
    ),
    ("sid-not-string", policy(dict(OK, Sid={})), "Syntax errors in policy."),
    (
        "lone-surrogate",
        '{"Version": "2012-10-17", "Statement": ' + json.dumps(dict(OK, Sid="\ud800")) + "}",
        "Syntax errors in policy.",
    ),
    # Version: a managed policy must say 2012-10-17.
    ("managed-no-version", policy(OK, version=None), "Policy document must be version 2012-10-17 or greater."),
    ("managed-2008", policy(OK, version="2008-10-17"), "Policy document must be version 2012-10-17 or greater."),
    (
        "version-before-legacy",
        policy(dict(OK, Effect="denY"), version=None),
        "Policy document must be version 2012-10-17 or greater.",
    ),
    # Legacy parsing: Effect is case-sensitive, Date values must parse, short ARNs with "::".
    ("effect-case", policy(dict(OK, Effect="denY")), "The policy failed legacy parsing"),
    (
        "date-not-a-date",
        policy(dict(OK, Condition={"DateGreaterThan": {"a": "sdfdsf"}})),
        "The policy failed legacy parsing",
    ),
    (
        "date-month-13",
        policy(dict(OK, Condition={"DateLessThanEquals": {"a": "234-13"}})),
        "The policy failed legacy parsing",
    ),
    (
        "date-one-digit-zone",
        policy(dict(OK, Condition={"DateLessThanEquals": {"a": "2016-12-13t2:00:00.593194+1"}})),
        "The policy failed legacy parsing",
    ),
    (
        "date-epoch-overflow",
        policy(dict(OK, Condition={"DateLessThan": {"a": "9223372036854775808"}})),
        "The policy failed legacy parsing",
    ),
    ("arn-five-parts", policy(dict(OK, Resource="arn:aws:s3::example_bucket")), "The policy failed legacy parsing"),
    ("arn-empty-service", policy(dict(OK, Resource="arn:aws::::example_bucket")), "The policy failed legacy parsing"),
    (
        "legacy-before-resource-format",
        policy(dict(OK, Resource="arn:error:s3:::b", Condition={"DateGreaterThan": {"a": "sdfdsf"}})),
        "The policy failed legacy parsing",
    ),
    # Sids unique (empty Sids are not compared).
    (
        "duplicate-sid",
        policy(dict(OK, Sid="sdf"), {"Sid": "sdf", "Effect": "Allow"}),
        "Statement IDs (SID) in a single policy must be unique.",
    ),
    # Actions and resources present.
    ("no-action", policy({"Effect": "Allow", "Resource": "*"}), "Policy statement must contain actions."),
    ("empty-action-list", policy(dict(OK, Action=[])), "Policy statement must contain actions."),
    ("no-resource", policy({"Effect": "Allow", "Action": "s3:ListBucket"}), "Policy statement must contain resources."),
    ("empty-resource-list", policy(dict(OK, Resource=[])), "Policy statement must contain resources."),
    # Resource formats.
    (
        "resource-not-arn",
        policy(dict(OK, Resource="invalid resource")),
        'Resource invalid resource must be in ARN format or "*".',
    ),
    ("resource-empty", policy(dict(OK, Resource="")), 'Resource  must be in ARN format or "*".'),
    ("resource-in-list", policy(dict(OK, Resource=["adf"])), 'Resource adf must be in ARN format or "*".'),
    (
        "partition-short",
        policy(dict(OK, Resource="a:bsdfdsafsad")),
        'Partition "bsdfdsafsad" is not valid for resource "arn:bsdfdsafsad:*:*:*:*".',
    ),
    (
        "partition-no-arn-prefix",
        policy(dict(OK, Resource="aws:s3:::example_bucket")),
        'Partition "s3" is not valid for resource "arn:s3:::example_bucket:*".',
    ),
    (
        "partition-long",
        policy(dict(OK, Resource="a:b:c:d:e:f:g:h")),
        'Partition "b" is not valid for resource "arn:b:c:d:e:f:g:h".',
    ),
    (
        "vendor-missing",
        policy(dict(OK, Resource="arn:aws")),
        "Resource vendor must be fully qualified and cannot contain regexes.",
    ),
    (
        "iam-region",
        policy(dict(OK, Resource="arn:aws:iam:us-east-1::example_bucket")),
        "IAM resource arn:aws:iam:us-east-1::example_bucket cannot contain region information.",
    ),
    ("iam-resource-type", policy(dict(OK, Resource="arn:aws:iam:::example_bucket")), M_IAM_RESOURCE_TYPE),
    (
        "s3-region",
        policy(dict(OK, Resource="arn:aws:s3:us-east-1::example_bucket")),
        "Resource arn:aws:s3:us-east-1::example_bucket can not contain region information.",
    ),
    # Action formats (checked last).
    (
        "action-no-vendor",
        policy(dict(OK, Action="invalid")),
        "Actions/Conditions must be prefaced by a vendor, e.g., iam, sdb, ec2, etc.",
    ),
    (
        "notaction-empty",
        policy(dict(OK, NotAction="", Action=None)),
        "Actions/Conditions must be prefaced by a vendor, e.g., iam, sdb, ec2, etc.",
    ),
    ("action-two-colons", policy(dict(OK, Action="s3:List:Bucket")), "Actions/Condition can contain only one colon."),
    ("vendor-space", policy(dict(OK, Action="a a:ListBucket")), "Vendor a a is not valid"),
    (
        "resource-format-before-action",
        policy(dict(OK, Action="s:3:ListBucket", Resource="sdfsadf")),
        'Resource sdfsadf must be in ARN format or "*".',
    ),
]


@pytest.mark.parametrize(("document", "message"), [c[1:] for c in REFUSED], ids=[c[0] for c in REFUSED])
def test_refused_with_iams_message(document: Any, message: str) -> None:
    if isinstance(document, dict) and isinstance(document.get("Statement"), dict):
        document["Statement"] = {k: v for k, v in document["Statement"].items() if v is not None}
    assert refusal(document) == message


ACCEPTED = [
    ("action-with-spaces", policy(dict(OK, Action="iam: asdf safdsf af "))),
    ("star-action", policy(dict(OK, Action="*"))),
    ("resource-list-with-star", policy(dict(OK, Resource=["arn:aws:s3:::example_bucket", "*"]))),
    ("iam-user-resource", policy(dict(OK, Resource="arn:aws:iam:::user/example_bucket"))),
    ("unknown-service-arn", policy(dict(OK, Resource="arn:aws:invalid-service:us-east-1::example_bucket"))),
    ("three-part-arn", policy(dict(OK, Resource="arn:aws:fdsasf"))),
    ("ec2-region", policy(dict(OK, Resource="arn:aws:ec2:us-east-1::example_bucket"))),
    (
        "s3-access-point",
        policy(dict(OK, Resource="arn:aws:s3:us-west-2:123456789012:accesspoint/my-access-point/object/*")),
    ),
    ("vendor-dash-dot", policy(dict(OK, Action=["s3-s:ListBucket", "s3.s:ListBucket"]))),
    ("empty-condition", policy(dict(OK, Condition={}))),
    ("unknown-operator-empty-block", policy(dict(OK, Condition={"x": {}, "y": {}}))),
    ("date-empty-list", policy(dict(OK, Condition={"DateGreaterThan": {"a": []}}))),
    ("key-without-vendor", policy(dict(OK, Condition={"ForAnyValue:StringEqualsIfExists": {"a": "asf"}}))),
    ("date-partial", policy(dict(OK, Condition={"DateGreaterThan": {"a": "01T"}}))),
    ("date-two-digit-zone", policy(dict(OK, Condition={"DateLessThanEquals": {"a": "2016-12-13t2:00:00.593194+23"}}))),
    ("date-negative-year", policy(dict(OK, Condition={"DateLessThan": {"a": "-292275054"}}))),
    ("date-iso", policy(dict(OK, Condition={"DateLessThanEquals": {"a": "2016-12-13T21:20:37.593194+00:00"}}))),
    ("empty-sids-repeat", policy(dict(OK, Sid=""), dict(OK, Sid=""))),
    (
        "tag-key-with-colons",
        policy(dict(OK, Condition={"StringEquals": {"aws:ResourceTag/aws:cloudformation:stack-name": "x"}})),
    ),
    ("variables", policy(dict(OK, Resource="arn:aws:iam::*:user/${aws:username}"))),
]


@pytest.mark.parametrize("document", [c[1] for c in ACCEPTED], ids=[c[0] for c in ACCEPTED])
def test_accepted_as_iam_does(document: dict[str, Any]) -> None:
    parse_policy(json.dumps(document), strict=True, managed=True)


def test_inline_trust_and_session_policies_may_omit_version() -> None:
    # Version page: without a Version the language defaults to 2008-10-17 (variables are then literal text);
    # only managed policies must say 2012-10-17.
    for kind in ("identity", "session"):
        assert parse_policy(json.dumps(policy(OK, version=None)), kind=kind, strict=True).version is None  # type: ignore[arg-type]
        parse_policy(json.dumps(policy(OK, version="2008-10-17")), kind=kind, strict=True)  # type: ignore[arg-type]
    trust = {"Effect": "Allow", "Principal": {"Service": "ec2.amazonaws.com"}, "Action": "sts:AssumeRole"}
    parse_policy(json.dumps(policy(trust, version="2008-10-17")), kind="trust", strict=True)


def test_trust_policy_rules() -> None:
    trust = {"Effect": "Allow", "Principal": {"Service": "ec2.amazonaws.com"}, "Action": "sts:AssumeRole"}
    assert refusal(policy(dict(trust, Resource="*")), kind="trust", managed=False) == "Has prohibited field Resource."
    assert refusal(policy({"Effect": "Allow", "Action": "sts:AssumeRole"}), "trust", False) == (
        "Missing required field Principal."
    )
    assert refusal(policy(dict(trust, Action="sts:Assume:Role")), "trust", False) == (
        "Actions/Condition can contain only one colon."
    )


def test_stored_documents_evaluate_without_entry_rules() -> None:
    # A document saved before a rule existed keeps working: evaluation parses without the entry rules.
    parse_policy(json.dumps(policy(dict(OK, Action="s3:List:Bucket", Resource="arn:aws:s3:us-east-1::b"))))


def test_validator_lists_iams_refusal_first() -> None:
    findings = validate_policy(json.dumps(policy(dict(OK, Action="a a:List", Effect="denY"))), managed=True)
    errors = [f.message for f in findings if f.finding_type == "ERROR"]
    assert errors[:2] == ["The policy failed legacy parsing", "Vendor a a is not valid"]


@pytest.mark.parametrize(
    ("text", "ok"),
    [("2017-07-01T00:00:00Z", True), ("1500000000", True), ("2019-02-30x", False), ("2016-12-13t25:00", False)],
)
def test_date_values(text: str, ok: bool) -> None:
    assert valid_date(text) is ok
