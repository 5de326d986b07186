from __future__ import annotations

import json

import pytest

from policies.engine.catalog_checks import catalog_findings, json_positions, path_text
from policies.engine.findings import Finding, Location


def check(*statements, kind="identity", version=True):
    policy = {"Statement": list(statements)}
    if version:
        policy = {"Version": "2012-10-17", **policy}
    text = json.dumps(policy, indent=2)
    return catalog_findings(policy, kind, text), text


def codes(findings):
    return [f.issue_code for f in findings]


def only(findings, code):
    found = [f for f in findings if f.issue_code == code]
    assert len(found) == 1, codes(findings)
    return found[0]


def position_of(text, needle, occurrence=1):
    """1-based (line, column) of the n-th occurrence of needle in text."""
    idx = -1
    for _ in range(occurrence):
        idx = text.index(needle, idx + 1)
    line = text.count("\n", 0, idx) + 1
    return line, idx - (text.rfind("\n", 0, idx) + 1) + 1


def test_clean_policy_has_no_findings():
    findings, _ = check(
        {"Effect": "Allow", "Action": ["s3:GetObject", "s3:PutObject"], "Resource": "arn:aws:s3:::bucket/*"},
        {
            "Effect": "Allow",
            "Action": "s3:ListBucket",
            "Resource": "arn:aws:s3:::bucket",
            "Condition": {"StringLike": {"s3:prefix": ["home/*"]}},
        },
    )
    assert findings == []


def test_missing_version():
    findings, _ = check({"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"}, version=False)
    f = only(findings, "MISSING_VERSION")
    assert f.finding_type == "WARNING"
    assert f.location == Location("", 1, 1)
    assert f.message.startswith("Missing version: We recommend that you specify the Version element")


def test_invalid_action_suggests_the_closest_action():
    findings, text = check({"Effect": "Allow", "Action": ["s3:GetObject", "s3:GetObjct"], "Resource": "*"})
    f = only(findings, "INVALID_ACTION")
    assert f.finding_type == "ERROR"
    assert f.message == "Invalid action: The action s3:GetObjct does not exist. Did you mean s3:GetObject?"
    assert f.location == Location("Statement[0].Action[1]", *position_of(text, '"s3:GetObjct"'))


def test_invalid_wildcard_action_has_no_suggestion():
    findings, _ = check({"Effect": "Allow", "Action": "s3:Frobnicate*", "Resource": "*"})
    assert only(findings, "INVALID_ACTION").message == "Invalid action: The action s3:Frobnicate* does not exist."


def test_invalid_service_in_action():
    findings, text = check({"Effect": "Allow", "Action": "iamm:GetUser", "Resource": "*"})
    f = only(findings, "INVALID_SERVICE_IN_ACTION")
    assert f.finding_type == "ERROR"
    assert "The service iamm specified in the action does not exist. Did you mean iam?" in f.message
    assert f.location == Location("Statement[0].Action", *position_of(text, '"Action"'))


@pytest.mark.parametrize(
    ("resource", "code"),
    [
        ("bucket/*", "INVALID_ARN_PREFIX"),
        ("arn:aws:s3", "MISSING_ARN_FIELD"),
        ("arn:aws:S3:::bucket", "INVALID_ARN_SERVICE_CASE"),
        ("arn:amazon:s3:::bucket", "INVALID_PARTITION"),
        ("arn:aws:iam::123456789012:usr/bob", "INVALID_ARN_RESOURCE"),
    ],
)
def test_arn_format_errors(resource, code):
    findings, text = check({"Effect": "Allow", "Action": "iam:GetUser", "Resource": ["*", resource]})
    f = only(findings, code)
    assert f.finding_type == "ERROR"
    assert f.location == Location("Statement[0].Resource[1]", *position_of(text, json.dumps(resource)))


def test_resource_and_action_not_applicable():
    findings, text = check(
        {
            "Effect": "Allow",
            "Action": ["s3:ListAllMyBuckets", "iam:GetUser"],
            "Resource": ["arn:aws:iam::123456789012:user/bob", "arn:aws:s3:::bucket/key"],
        }
    )
    res = only(findings, "RESOURCE_ARN_NOT_APPLICABLE")
    assert res.finding_type == "WARNING"
    assert res.location.path == "Statement[0].Resource[1]"
    assert "arn:aws:s3:::bucket/key" in res.message
    act = only(findings, "ACTION_WITHOUT_APPLICABLE_RESOURCE")
    assert act.location == Location("Statement[0].Action[0]", *position_of(text, '"s3:ListAllMyBuckets"'))
    assert 'supports only "*"' in act.message


def test_wildcard_actions_skip_the_applicability_check():
    findings, _ = check({"Effect": "Allow", "Action": "s3:*", "Resource": "arn:aws:s3:::bucket"})
    assert findings == []


def test_condition_key_checks():
    findings, text = check(
        {
            "Effect": "Allow",
            "Action": "s3:GetObject",
            "Resource": "*",
            "Condition": {
                "StringEquals": {
                    "iam:PassedToService": "ec2.amazonaws.com",
                    "aws:Bogus": "x",
                    "iam:Bogus": "x",
                    "nosuchsvc:Key": "x",
                    "accounts.google.com:aud": "x",
                    "aws:SourceVpc": "vpc-1",
                }
            },
        }
    )
    assert sorted(codes(findings)) == sorted(
        [
            "CONDITION_KEY_NOT_APPLICABLE",
            "INVALID_GLOBAL_CONDITION_KEY",
            "INVALID_SERVICE_CONDITION_KEY",
            "INVALID_SERVICE",
        ]
    )
    f = only(findings, "CONDITION_KEY_NOT_APPLICABLE")
    assert f.finding_type == "WARNING"
    assert f.location == Location(
        "Statement[0].Condition.StringEquals.iam:PassedToService", *position_of(text, '"iam:PassedToService"')
    )
    assert only(findings, "INVALID_GLOBAL_CONDITION_KEY").finding_type == "ERROR"


def test_tag_keys_apply_only_where_the_catalog_lists_them():
    ok, _ = check(
        {
            "Effect": "Allow",
            "Action": "iam:CreateUser",
            "Resource": "*",
            "Condition": {"StringEquals": {"aws:RequestTag/team": "a"}},
        }
    )
    assert ok == []
    bad, _ = check(
        {
            "Effect": "Allow",
            "Action": "iam:ListUsers",
            "Resource": "*",
            "Condition": {"StringEquals": {"aws:RequestTag/team": "a"}},
        }
    )
    assert codes(bad) == ["CONDITION_KEY_NOT_APPLICABLE"]


@pytest.mark.parametrize(
    ("statement", "code", "path"),
    [
        ({"Action": "iam:PassRole", "Resource": "*"}, "PASS_ROLE_WITH_STAR_IN_RESOURCE", "Statement[0].Resource"),
        (
            {"Action": "iam:PassRole", "Resource": "arn:aws:iam::*:role/*"},
            "PASS_ROLE_WITH_STAR_IN_RESOURCE",
            "Statement[0].Resource",
        ),
        (
            {"Action": ["s3:GetObject", "iam:*"], "Resource": "*"},
            "PASS_ROLE_WITH_STAR_IN_ACTION_AND_RESOURCE",
            "Statement[0].Action[1]",
        ),
        ({"Action": "*", "Resource": "*"}, "PASS_ROLE_WITH_STAR_IN_ACTION_AND_RESOURCE", "Statement[0].Action"),
        (
            {"NotAction": "s3:*", "Resource": "*"},
            "PASS_ROLE_WITH_STAR_IN_RESOURCE_AND_NOT_ACTION",
            "Statement[0].NotAction",
        ),
        (
            {"Action": "iam:PassRole", "NotResource": "arn:aws:iam::*:role/admin"},
            "PASS_ROLE_WITH_NOT_RESOURCE",
            "Statement[0].Action",
        ),
        (
            {"Action": "iam:Pass*", "NotResource": "arn:aws:iam::*:role/admin"},
            "PASS_ROLE_WITH_STAR_IN_ACTION_AND_NOT_RESOURCE",
            "Statement[0].Action",
        ),
        (
            {"NotAction": "s3:*", "NotResource": "arn:aws:iam::*:role/admin"},
            "PASS_ROLE_WITH_NOT_ACTION_AND_NOT_RESOURCE",
            "Statement[0].NotAction",
        ),
    ],
)
def test_pass_role_security_warnings(statement, code, path):
    findings, text = check({"Effect": "Allow", **statement})
    f = only(findings, code)
    assert f.finding_type == "SECURITY_WARNING"
    assert f.location.path == path and f.location.line is not None
    assert f.message.startswith("Pass role with ")


def test_pass_role_is_fine_with_specific_roles_a_condition_or_deny():
    for statement in (
        {"Effect": "Allow", "Action": "iam:PassRole", "Resource": "arn:aws:iam::123456789012:role/app"},
        {
            "Effect": "Allow",
            "Action": "iam:PassRole",
            "Resource": "*",
            "Condition": {"StringEquals": {"iam:PassedToService": "ec2.amazonaws.com"}},
        },
        {"Effect": "Deny", "Action": "iam:PassRole", "Resource": "*"},
        {"Effect": "Allow", "NotAction": "iam:*", "Resource": "*"},
    ):
        findings, _ = check(statement)
        assert not [c for c in codes(findings) if c.startswith("PASS_ROLE")], statement


def test_create_slr_general_warning():
    findings, _ = check({"Effect": "Allow", "Action": "iam:CreateServiceLinkedRole", "Resource": "*"})
    f = only(findings, "CREATE_SLR_WITH_STAR_IN_RESOURCE")
    assert f.finding_type == "WARNING"


def test_allow_with_not_action():
    findings, text = check({"Effect": "Allow", "NotAction": ["iam:*", "organizations:*"], "Resource": "*"})
    f = only(findings, "ALLOW_WITH_NOT_ACTION")
    assert f.finding_type == "SECURITY_WARNING"
    assert f.location == Location("Statement[0].NotAction", *position_of(text, '"NotAction"'))
    deny, _ = check({"Effect": "Deny", "NotAction": "iam:*", "Resource": "*"})
    assert "ALLOW_WITH_NOT_ACTION" not in codes(deny)


def test_empty_elements():
    findings, text = check(
        {"Effect": "Allow", "Action": [], "Resource": []},
        {"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*", "Condition": {}},
        {
            "Effect": "Allow",
            "Action": "s3:GetObject",
            "Resource": "*",
            "Condition": {
                "StringEquals": {"aws:SourceVpc": []},
                "ForAllValues:StringEquals": {"aws:TagKeys": []},
                "ForAnyValue:StringEquals": {"aws:TagKeys": []},
                "StringEqualsIfExists": {"aws:SourceVpce": []},
                "Bool": {},
            },
        },
    )
    action_at = position_of(text, '"Action"')
    assert only(findings, "EMPTY_ARRAY_ACTION").location == Location("Statement[0].Action", *action_at)
    assert only(findings, "EMPTY_ARRAY_RESOURCE").location.path == "Statement[0].Resource"
    assert [f.location.path for f in findings if f.issue_code == "EMPTY_OBJECT_CONDITION"] == [
        "Statement[1].Condition",
        "Statement[2].Condition.Bool",
    ]
    assert only(findings, "EMPTY_ARRAY_CONDITION").location.path == "Statement[2].Condition.StringEquals.aws:SourceVpc"
    for code in (
        "EMPTY_ARRAY_CONDITION_FORALLVALUES",
        "EMPTY_ARRAY_CONDITION_FORANYVALUE",
        "EMPTY_ARRAY_CONDITION_IFEXISTS",
    ):
        assert only(findings, code).finding_type == "SUGGESTION"


def test_redundant_action_resource_and_statement():
    stmt = {
        "Effect": "Allow",
        "Action": ["iam:Get*", "iam:List*", "iam:GetUser", "iam:*CredentialReport"],
        "Resource": ["arn:aws:s3:::b/*", "arn:aws:s3:::b/k", "arn:aws:s3:::b/*"],
    }
    findings, text = check(stmt, {**stmt, "Sid": "Again"})
    first = [f for f in findings if f.location.path.startswith("Statement[0]")]
    action = only(first, "REDUNDANT_ACTION")
    assert action.location == Location("Statement[0].Action[2]", *position_of(text, '"iam:GetUser"'))
    assert action.finding_type == "SUGGESTION"
    assert sorted(f.location.path for f in first if f.issue_code == "REDUNDANT_RESOURCE") == [
        "Statement[0].Resource[1]",
        "Statement[0].Resource[2]",
    ]
    redundant = only(findings, "REDUNDANT_STATEMENT")
    assert redundant.location.path == "Statement[1]"


def test_single_statement_object_paths():
    policy = {"Version": "2012-10-17", "Statement": {"Effect": "Allow", "Action": "s3:GetObjct", "Resource": "*"}}
    (f,) = catalog_findings(policy, "identity", json.dumps(policy))
    assert f.location.path == "Statement.Action"
    assert f.location.line == 1 and f.location.column == json.dumps(policy).index('"Action"') + 1


def test_kinds():
    trust = {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Principal": {"Service": "ec2.amazonaws.com"}, "Action": "sts:AssumeRole"}],
    }
    assert catalog_findings(trust, "trust") == []
    scp = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}
    assert catalog_findings(scp, "SERVICE_CONTROL_POLICY") == []
    assert codes(catalog_findings(scp, "IDENTITY_POLICY")) == [
        "PASS_ROLE_WITH_STAR_IN_ACTION_AND_RESOURCE",
        "CREATE_SLR_WITH_STAR_IN_ACTION_AND_RESOURCE",
    ]


def test_without_text_locations_have_no_position():
    findings = catalog_findings({"Statement": []})
    assert findings == [Finding("WARNING", "MISSING_VERSION", findings[0].message, Location(""))]


def test_text_that_does_not_match_the_document_falls_back_to_the_nearest_element():
    policy = {"Statement": [{"Effect": "Allow", "Action": "s3:GetObjct", "Resource": "*"}]}
    (missing, invalid) = catalog_findings(policy, "identity", '{"Statement": [ {"Effect": "Allow"}]}')
    assert invalid.location == Location("Statement[0].Action", 1, 17)
    assert missing.location == Location("", 1, 1)
    assert catalog_findings(policy, "identity", "not json at all")[1].location == Location("Statement[0].Action", 1, 1)
    assert catalog_findings(policy, "identity", "")[1].location == Location("Statement[0].Action")


def test_json_positions():
    text = '{\n  "a": [1, {"b\\"c": true}],\n  "a2": "x",\n  "é": {"k": null}, "a2": 3\n}'
    pos = json_positions(text)
    assert pos[()] == (1, 1)
    assert pos[("a",)] == (2, 3)
    assert pos[("a", 0)] == (2, 9)
    assert pos[("a", 1)] == (2, 12)
    assert pos[("a", 1, 'b"c')] == (2, 13)
    assert pos[("a2",)] == (4, 21)  # duplicate key: the last one, as json.loads keeps
    assert pos[("é", "k")] == (4, 9)
    assert json_positions('{"a": [1, 2') == {(): (1, 1), ("a",): (1, 2), ("a", 0): (1, 8), ("a", 1): (1, 11)}
    assert json_positions("") == {}
    deep = "[" * 5000 + "]" * 5000
    assert json_positions(deep)[(0,) * 4999] == (1, 5000)


def test_path_text():
    assert path_text(()) == ""
    assert path_text(("Statement", 0, "Condition", "StringEquals", "aws:SourceIp")) == (
        "Statement[0].Condition.StringEquals.aws:SourceIp"
    )
