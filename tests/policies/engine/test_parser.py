"""Grammar: one error type, AWS MalformedPolicyDocument messages, and located errors."""

from __future__ import annotations

import json

import pytest

from policies.engine import Finding, Location, PolicyParseError, parse_policy, validate_policy
from policies.engine.ast import Condition, PrincipalEntry

V = '"Version": "2012-10-17"'


def err(text: object, kind: str = "identity") -> PolicyParseError:
    with pytest.raises(PolicyParseError) as info:
        parse_policy(text, kind=kind)  # type: ignore[arg-type]
    assert isinstance(info.value, ValueError)
    return info.value


def doc(*statements: dict, version: str | None = "2012-10-17") -> dict:
    out: dict = {} if version is None else {"Version": version}
    out["Statement"] = list(statements)
    return out


ALLOW = {"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"}


def test_parses_typed_immutable_ast() -> None:
    policy = parse_policy(
        doc(
            {
                "Sid": "A1",
                "Effect": "Allow",
                "Action": ["s3:Get*", "s3:List*"],
                "Resource": "arn:aws:s3:::b/*",
                "Condition": {"ForAnyValue:StringLikeIfExists": {"aws:TagKeys": ["a*", 3, True]}},
            }
        )
    )
    (s,) = policy.statements
    assert policy.version == "2012-10-17" and s.sid == "A1" and s.index == 0
    assert s.actions == ("s3:Get*", "s3:List*") and s.resources == ("arn:aws:s3:::b/*",)
    assert s.conditions == (
        Condition(
            "ForAnyValue:StringLikeIfExists", "StringLike", "ForAnyValue", True, "aws:TagKeys", ("a*", "3", "true")
        ),
    )
    with pytest.raises(AttributeError):
        s.sid = "B"  # type: ignore[misc]


def test_resource_policy_principals() -> None:
    policy = parse_policy(
        doc(
            {
                "Effect": "Allow",
                "Principal": {
                    "AWS": ["111122223333", "arn:aws:iam::111122223333:user/a"],
                    "Service": "ec2.amazonaws.com",
                },
                "Action": "s3:*",
                "Resource": "*",
            }
        ),
        kind="resource",
    )
    assert policy.statements[0].principals == (
        PrincipalEntry("AWS", "111122223333"),
        PrincipalEntry("AWS", "arn:aws:iam::111122223333:user/a"),
        PrincipalEntry("Service", "ec2.amazonaws.com"),
    )


@pytest.mark.parametrize(
    ("policy", "kind", "message", "path"),
    [
        ("{not json", "identity", "Syntax errors in policy.", ""),
        ([], "identity", "Syntax errors in policy.", ""),
        ({"Version": "2012-10-17"}, "identity", "Syntax errors in policy.", ""),
        (
            doc(dict(ALLOW, Principal="*")),
            "identity",
            "Policy document should not specify a principal.",
            "Statement[0].Principal",
        ),
        (
            doc(dict(ALLOW, NotPrincipal={"AWS": "*"})),
            "boundary",
            "Policy document should not specify a principal.",
            "Statement[0].NotPrincipal",
        ),
        (
            doc(dict(ALLOW, Principal="*")),
            "scp",
            "Policy document should not specify a principal.",
            "Statement[0].Principal",
        ),
        (
            doc({"Effect": "Allow", "Principal": {"AWS": "111122223333"}, "Action": "sts:AssumeRole", "Resource": "*"}),
            "trust",
            "Has prohibited field Resource.",
            "Statement[0].Resource",
        ),
        (
            doc({"Effect": "Allow", "Resource": "*"}),
            "identity",
            "Policy statement must contain actions.",
            "Statement[0]",
        ),
        (
            doc({"Effect": "Allow", "Action": [], "Resource": "*"}),
            "identity",
            "Policy statement must contain actions.",
            "Statement[0].Action",
        ),
        (
            doc({"Effect": "Allow", "Action": "s3:*"}),
            "identity",
            "Policy statement must contain resources.",
            "Statement[0]",
        ),
        (
            doc({"Effect": "Allow", "Action": "GetObject", "Resource": "*"}),
            "identity",
            "Actions/Conditions must be prefaced by a vendor, e.g., iam, sdb, ec2, etc.",
            "Statement[0].Action",
        ),
        (doc(ALLOW, version="2012-10-18"), "identity", "Syntax errors in policy.", "Version"),
        ({"Version": 2012, "Statement": [ALLOW]}, "identity", "Syntax errors in policy.", "Version"),
        (
            doc(dict(ALLOW, Sid="A"), dict(ALLOW, Sid="A")),
            "identity",
            "Statement IDs (SID) in a single policy must be unique.",
            "Statement[1].Sid",
        ),
        (
            doc({"Effect": "Allow", "Principal": {"AWS": "111122223333"}, "Action": "s3:GetObject"}),
            "trust",
            "Trust Policy statement actions can only be sts:AssumeRole, sts:AssumeRoleWithSAML, and "
            "sts:AssumeRoleWithWebIdentity",
            "Statement[0].Action",
        ),
        (
            doc({"Effect": "Allow", "Action": "sts:AssumeRole"}),
            "trust",
            "Missing required field Principal.",
            "Statement[0]",
        ),
        (
            doc(dict(ALLOW, Principal={"AWS": "arn:aws:iam::*:root"})),
            "resource",
            'Invalid principal in policy: "AWS":"arn:aws:iam::*:root"',
            "Statement[0].Principal.AWS",
        ),
        (doc(dict(ALLOW, Foo=1)), "identity", "Syntax errors in policy.", "Statement[0].Foo"),
        ({"Version": "2012-10-17", "Statement": [ALLOW], "Extra": 1}, "identity", "Syntax errors in policy.", "Extra"),
        (doc(dict(ALLOW, NotAction="s3:*")), "identity", "Syntax errors in policy.", "Statement[0].NotAction"),
        (doc(dict(ALLOW, Effect="allow")), "identity", "The policy failed legacy parsing", "Statement[0].Effect"),
        (doc(dict(ALLOW, Effect="invalid")), "identity", "Syntax errors in policy.", "Statement[0].Effect"),
        (doc({"Action": "s3:*", "Resource": "*"}), "identity", "Syntax errors in policy.", "Statement[0]"),
        (
            doc(dict(ALLOW, Condition={"StringEqualz": {"aws:username": "a"}})),
            "identity",
            "Syntax errors in policy.",
            "Statement[0].Condition.StringEqualz",
        ),
        (
            doc(dict(ALLOW, Condition={"NullIfExists": {"aws:username": "true"}})),
            "identity",
            "Syntax errors in policy.",
            "Statement[0].Condition.NullIfExists",
        ),
        (
            doc(dict(ALLOW, Sid="has space")),
            "identity",
            "Statement IDs (SID) must be alpha-numeric. "
            "Check that your input satisfies the regular expression [0-9A-Za-z]*",
            "Statement[0].Sid",
        ),
    ],
)
def test_malformed_policy_messages(policy: object, kind: str, message: str, path: str) -> None:
    error = err(policy, kind)
    assert error.message == message
    assert error.location.path == path


def test_sid_with_space_allowed_in_resource_policy() -> None:
    parse_policy(doc(dict(ALLOW, Sid="has space", Principal="*")), kind="resource")


def test_version_is_optional() -> None:
    assert parse_policy(doc(ALLOW, version=None)).version is None


def test_trust_policy_accepts_tag_session_and_wildcards() -> None:
    parse_policy(
        doc({"Effect": "Allow", "Principal": {"AWS": "111122223333"}, "Action": ["sts:AssumeRole", "sts:TagSession"]}),
        kind="trust",
    )
    parse_policy(
        doc({"Effect": "Allow", "Principal": {"AWS": "111122223333"}, "Action": "sts:AssumeRole*"}), kind="trust"
    )


def test_location_line_and_column_of_element() -> None:
    text = (
        '{\n  "Version": "2012-10-17",\n  "Statement": [\n'
        '    {"Effect": "Allow", "Action": "s3:*", "Resource": "*"},\n'
        '    {"Effect": "Allow", "Action": "s3:*", "Resource": "*",\n     "Principal": "*"}\n  ]\n}'
    )
    error = err(text)
    assert error.location == Location("Statement[1].Principal", 6, 6)


def test_location_of_json_syntax_error() -> None:
    text = '{\n  "Version": "2012-10-17",\n  "Statement": [\n    {"Effect": "Allow",, "Action": "s3:*"}\n  ]\n}'
    error = err(text)
    assert error.message == "Syntax errors in policy."
    assert (error.location.line, error.location.column) == (4, 24)


def test_location_of_bad_version_and_duplicate_key() -> None:
    assert err('{"Version": "1.0", "Statement": []}').location == Location("Version", 1, 2)
    dup = err('{"Statement": [],\n "Statement": []}')
    assert dup.message == "Syntax errors in policy." and (dup.location.line, dup.location.column) == (2, 2)


def test_location_without_text_has_no_position() -> None:
    assert err(doc(dict(ALLOW, Principal="*"))).location == Location("Statement[0].Principal")


def test_bytes_and_bom_accepted() -> None:
    text = json.dumps(doc(ALLOW))
    assert parse_policy(text.encode()).statements
    assert parse_policy("\ufeff" + text).statements


def test_deep_nesting_is_a_syntax_error() -> None:
    assert err("[" * 10000 + "]" * 10000).message == "Syntax errors in policy."


def test_validate_policy_reports_every_grammar_error_as_finding() -> None:
    text = json.dumps(doc({"Effect": "Allow", "Action": "GetObject"}, dict(ALLOW, Principal="*")), indent=2)
    findings = [f for f in validate_policy(text, "identity") if f.finding_type == "ERROR"]
    codes = {f.issue_code for f in findings}
    assert {"INVALID_ACTION_FORMAT", "MISSING_RESOURCE", "UNSUPPORTED_PRINCIPAL"} <= codes
    assert all(isinstance(f, Finding) and f.location.line is not None for f in findings)


def test_validate_policy_clean_policy_has_no_grammar_errors() -> None:
    findings = validate_policy(json.dumps(doc(ALLOW)), "identity")
    assert not [
        f for f in findings if f.finding_type == "ERROR" and f.issue_code in {"JSON_SYNTAX_ERROR", "SYNTAX_ERROR"}
    ]


def test_validate_policy_invalid_json_only_syntax_error() -> None:
    findings = validate_policy("{", "identity")
    assert [f.issue_code for f in findings] == ["JSON_SYNTAX_ERROR"]
