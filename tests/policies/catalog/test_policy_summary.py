from __future__ import annotations

import pytest

from policies import summary
from policies.catalog import actions as catalog
from policies.catalog import managed


def doc(*statements):
    return {"Version": "2012-10-17", "Statement": list(statements)}


def rows_by_prefix(rows):
    return {r.prefix: r for r in rows}


def test_s3_read_only():
    s = summary.policy_summary(managed.get("AmazonS3ReadOnlyAccess").document_dict)
    rows = rows_by_prefix(s.allow)
    assert set(rows) == {"s3", "s3-object-lambda"}
    s3 = rows["s3"]
    assert s3.name == "Amazon S3"
    assert s3.access_level == "Full: List Limited: Read"
    assert s3.resource == "All resources"
    assert s3.condition == "None"
    assert s3.warnings == ()
    assert s.explicit_deny == () and s.uncategorized == ()
    assert s.allow_heading == f"Allow (2 of {len(catalog.services())} services)"


def test_administrator_access_is_full_access_everywhere():
    s = summary.policy_summary(managed.get("AdministratorAccess").document_dict)
    assert len(s.allow) == s.total_services == len(catalog.services())
    assert {r.access_level for r in s.allow} == {"Full access"}
    assert {r.resource for r in s.allow} == {"All resources"}


def test_iam_read_only():
    s = summary.policy_summary(managed.get("IAMReadOnlyAccess").document_dict)
    (iam,) = s.allow
    assert iam.prefix == "iam"
    assert iam.access_level == "Full: List Limited: Read"
    levels = {lc.level: lc for lc in iam.levels}
    assert levels["List"].granted == levels["List"].total
    assert 0 < levels["Read"].granted < levels["Read"].total
    assert levels["Write"].granted == 0


def test_mixed_deny_and_not_action():
    policy = doc(
        {"Effect": "Allow", "NotAction": "iam:*", "Resource": "*"},
        {
            "Effect": "Deny",
            "Action": "s3:DeleteBucket",
            "Resource": "arn:aws:s3:::prod-bucket",
            "Condition": {"Bool": {"aws:MultiFactorAuthPresent": "false"}},
        },
    )
    s = summary.policy_summary(policy)
    (deny,) = s.explicit_deny
    assert (deny.prefix, deny.effect) == ("s3", "Deny")
    assert deny.access_level == "Limited: Write"
    assert deny.resource == "arn:aws:s3:::prod-bucket"
    assert deny.condition == "aws:MultiFactorAuthPresent | Bool | false"
    allow = rows_by_prefix(s.allow)
    assert "iam" not in allow
    assert len(allow) == len(catalog.services()) - 1
    assert allow["s3"].access_level == "Full access"


def test_not_action_with_partial_exclusion_limits_the_service():
    s = summary.policy_summary(doc({"Effect": "Allow", "NotAction": ["iam:Delete*"], "Resource": "*"}))
    iam = rows_by_prefix(s.allow)["iam"]
    assert iam.access_level.startswith("Full: List, Read")
    assert "Limited: Write" in iam.access_level


def test_uncategorized_service_and_action():
    actions = ["foo:Bar", "s3:GetObjct", "s3:GetObject"]
    s = summary.policy_summary(doc({"Effect": "Allow", "Action": actions, "Resource": "*"}))
    (unc,) = s.uncategorized
    assert (unc.prefix, unc.access_level, unc.uncategorized_actions) == ("foo", "", ("foo:Bar",))
    s3 = rows_by_prefix(s.allow)["s3"]
    assert s3.uncategorized_actions == ("s3:GetObjct",)
    assert summary.WARN_UNRECOGNIZED_ACTIONS in s3.warnings
    assert s.allow_heading.startswith("Allow (1 of ")


def test_known_service_with_only_unknown_actions():
    s = summary.policy_summary(doc({"Effect": "Allow", "Action": "s3:NoSuchAction", "Resource": "*"}))
    (s3,) = s.allow
    assert s3.access_level == "No actions defined"
    assert s3.actions == ()


def test_resource_warnings_and_single_arn():
    s = summary.policy_summary(
        doc({"Effect": "Allow", "Action": ["s3:GetObject", "s3:ListAllMyBuckets"], "Resource": "arn:aws:s3:::b"})
    )
    (s3,) = s.allow
    assert s3.resource == "arn:aws:s3:::b"
    assert summary.WARN_NO_RESOURCE_FOR_ACTION in s3.warnings
    assert summary.WARN_NO_ACTION_FOR_RESOURCE in s3.warnings
    ok = summary.policy_summary(doc({"Effect": "Allow", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::b/*"}))
    assert ok.allow[0].warnings == ()
    empty = summary.policy_summary(doc({"Effect": "Allow", "Action": "s3:GetObject", "Resource": []}))
    assert summary.WARN_NO_RESOURCES in empty.allow[0].warnings


def test_multiple_resources_and_conditions():
    policy = doc(
        {
            "Effect": "Allow",
            "Action": "s3:GetObject",
            "Resource": ["arn:aws:s3:::a/*", "arn:aws:s3:::b/*"],
            "Condition": {"IpAddress": {"aws:SourceIp": "192.0.2.0/24"}, "Bool": {"aws:SecureTransport": "true"}},
        }
    )
    (s3,) = summary.policy_summary(policy).allow
    assert (s3.resource, s3.condition) == ("Multiple", "Multiple")
    one = summary.policy_summary(
        doc(
            {
                "Effect": "Allow",
                "Action": "s3:GetObject",
                "Resource": "*",
                "Condition": {"IpAddress": {"aws:SourceIp": ["192.0.2.0/24", "198.51.100.0/24"]}},
            }
        )
    )
    assert one.allow[0].condition == "aws:SourceIp | IpAddress | 192.0.2.0/24, 198.51.100.0/24"


def test_condition_without_applicable_action_warns():
    policy = doc(
        {
            "Effect": "Allow",
            "Action": "s3:GetObject",
            "Resource": "*",
            "Condition": {"StringEquals": {"iam:PassedToService": "ec2.amazonaws.com"}},
        }
    )
    assert summary.WARN_NO_ACTION_FOR_CONDITION in summary.policy_summary(policy).allow[0].warnings


def test_service_summary_drill_down():
    ss = summary.service_summary(managed.get("AmazonS3ReadOnlyAccess").document_dict, "S3")
    assert ss.prefix == "s3" and ss.name == "Amazon S3" and ss.effect == "Allow"
    groups = {g.level: g for g in ss.groups}
    assert set(groups) == {"List", "Read"}
    assert len(groups["List"].rows) == groups["List"].total
    assert groups["Read"].heading == f"Read ({len(groups['Read'].rows)} of {groups['Read'].total} actions)"
    get_object = next(r for r in groups["Read"].rows if r.name == "GetObject")
    assert (get_object.full_name, get_object.resource, get_object.condition) == (
        "s3:GetObject",
        "All resources",
        "None",
    )
    deny_doc = doc({"Effect": "Deny", "Action": "iam:DeleteUser", "Resource": "*"})
    denied = summary.service_summary(deny_doc, "iam", "Deny")
    assert [r.name for g in denied.groups for r in g.rows] == ["DeleteUser"]
    assert summary.service_summary({}, "iam").groups == ()


@pytest.mark.parametrize(
    "odd",
    [
        None,
        [],
        "x",
        3,
        {"Statement": 5},
        {"Statement": [1, {"Effect": "Allow"}, {"Effect": "Maybe", "Action": "*"}]},
        {"Statement": {"Effect": "Allow", "Action": [1, None, "s3"], "Resource": {"a": 1}, "Condition": []}},
    ],
)
def test_odd_documents_do_not_raise(odd):
    s = summary.policy_summary(odd)
    assert isinstance(s, summary.PolicySummary)


def test_read_only_access_summary_lists_its_services():
    document = managed.get("ReadOnlyAccess").document_dict
    catalog.all_actions()  # the console loads the catalog at startup
    s = summary.policy_summary(document)
    assert len(s.allow) > 250
