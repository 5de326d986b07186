from __future__ import annotations

import subprocess
import sys

import pytest

from policies.catalog import actions as catalog


def test_catalog_has_the_expected_size():
    assert len(catalog.services()) >= 400
    names = catalog.all_actions()
    assert len(names) >= 20_000
    assert len(set(names)) == len(names)
    assert all(":" in n for n in names)
    assert "iam:CreateUser" in names


@pytest.mark.parametrize(
    ("name", "level"),
    [
        ("iam:CreateUser", "Write"),
        ("iam:AttachUserPolicy", "Permissions management"),
        ("iam:TagUser", "Tagging"),
        ("iam:ListUsers", "List"),
        ("iam:GetUser", "Read"),
    ],
)
def test_iam_access_levels_map_to_the_console_levels(name, level):
    info = catalog.action(name)
    assert info is not None
    assert info.access_level == level


def test_raw_levels_are_kept():
    assert catalog.action("iam:AttachUserPolicy").raw_access_level == "Permissions management, Write"
    assert catalog.action("iam:TagUser").raw_access_level == "Tagging, Write"


def test_lookup_is_case_insensitive_and_returns_canonical_case():
    info = catalog.action("IAM:createuser")
    assert info is not None
    assert info.full_name == "iam:CreateUser"
    assert catalog.action("iam:NoSuchThing") is None
    assert catalog.action("nosuchservice:GetThing") is None
    assert catalog.action("iam:Get*") is None
    assert catalog.action("CreateUser") is None


def test_services_and_names():
    assert "Identity and Access Management" in catalog.service_name("iam")
    assert catalog.service_name("IAM") == catalog.service_name("iam")
    assert catalog.service_name("nope") is None
    assert catalog.service_exists("s3") and not catalog.service_exists("s4")
    prefixes = [s.prefix for s in catalog.services()]
    assert prefixes == sorted(prefixes)


def test_actions_of_a_service_are_sorted_and_counted_by_level():
    iam = catalog.actions("iam")
    assert [a.name.lower() for a in iam] == sorted(a.name.lower() for a in iam)
    counts = catalog.level_counts("iam")
    assert sum(counts.values()) == len(iam)
    assert set(counts) <= set(catalog.ACCESS_LEVELS)
    assert catalog.actions("nope") == ()


def test_expand_action_pattern():
    assert catalog.expand_action_pattern("iam:?etUser") == ("iam:GetUser",)
    gets = catalog.expand_action_pattern("S3:get*")
    assert "s3:GetObject" in gets and all(a.startswith("s3:Get") for a in gets)
    assert catalog.expand_action_pattern("*") == catalog.all_actions()
    assert catalog.expand_action_pattern("iam:getuser") == ("iam:GetUser",)
    assert catalog.expand_action_pattern("nope:*") == ()
    assert catalog.expand_action_pattern("iam:NoSuch") == ()
    assert catalog.expand_action_pattern("iam") == ()
    both = catalog.expand_action_pattern("s3*:GetObject")
    assert "s3:GetObject" in both


def test_resource_types_and_arn_patterns():
    patterns = catalog.resource_arn_patterns("iam:CreateUser")
    assert patterns == ("arn:${Partition}:iam::${Account}:user/${UserNameWithPath}",)
    assert catalog.resource_arn_patterns("s3:ListAllMyBuckets") == ()
    assert catalog.resource_type("iam", "role").arn.endswith(":role/${RoleNameWithPath}")


@pytest.mark.parametrize(
    ("action", "arn", "expected"),
    [
        ("s3:GetObject", "arn:aws:s3:::bucket/*", True),
        ("s3:GetObject", "arn:aws:s3:::bucket", False),
        ("s3:GetObject", "arn:aws:s3:::b*", True),  # "*" can reach into the key
        ("s3:ListBucket", "arn:aws:s3:::bucket", True),
        ("s3:ListAllMyBuckets", "arn:aws:s3:::bucket", False),
        ("s3:ListAllMyBuckets", "*", True),
        ("iam:PassRole", "arn:aws:iam::123456789012:role/app/*", True),
        ("iam:PassRole", "arn:aws:iam::123456789012:user/bob", False),
        ("iam:GetUser", "arn:aws:iam::*:user/${aws:username}", True),
        ("cloudformation:CreateStack", "arn:aws:cloudformation:*:*:stack/awseb-*", True),
    ],
)
def test_action_accepts_resource(action, arn, expected):
    assert catalog.action_accepts_resource(action, arn) is expected


def test_split_arn_keeps_policy_variables_whole():
    assert catalog.split_arn("arn:aws:kms:*:${aws:PrincipalAccount}:key/*") == [
        "arn",
        "aws",
        "kms",
        "*",
        "${aws:PrincipalAccount}",
        "key/*",
    ]
    assert catalog.split_arn("arn:aws:states:*:*:execution:a:b") == ["arn", "aws", "states", "*", "*", "execution:a:b"]


def test_condition_keys():
    assert catalog.condition_key_exists("aws:SourceIp")
    assert catalog.condition_key_exists("AWS:sourceip")
    assert catalog.condition_key_exists("aws:PrincipalTag/team")
    assert catalog.condition_key_exists("iam:PassedToService")
    assert catalog.condition_key_exists("s3:ExistingObjectTag/owner")
    assert not catalog.condition_key_exists("iam:Bogus")
    assert not catalog.condition_key_exists("aws:Bogus")
    assert catalog.action_supports_condition_key("iam:PassRole", "iam:PassedToService")
    assert not catalog.action_supports_condition_key("s3:GetObject", "iam:PassedToService")
    assert catalog.action_supports_condition_key("s3:GetObject", "aws:SourceIp")
    assert catalog.action_supports_condition_key("iam:CreateUser", "aws:RequestTag/team")
    assert not catalog.action_supports_condition_key("iam:ListUsers", "aws:RequestTag/team")
    assert any(k.key == "iam:PassedToService" for k in catalog.condition_keys("iam"))
    assert "aws:SourceIp" in catalog.global_condition_keys()


def test_modules_import_neither_django_nor_moto_and_the_catalog_loads():
    code = (
        "import sys\n"
        "from policies.catalog import actions, managed\n"
        "import policies.summary, policies.engine.catalog_checks\n"
        "n = len(actions.all_actions())\n"
        "assert 'django' not in sys.modules and 'moto' not in sys.modules and 'boto3' not in sys.modules\n"
        "print(n)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    n = out.stdout.strip()
    assert int(n) >= 20_000
