"""AWS's response shapes and behaviours (issue 14 §3), through a real boto3 client against the live server."""

from __future__ import annotations

import json

import pyotp
import pytest
from botocore.exceptions import ClientError

from audit.delivery import deliver_pending
from identities.models import IamUser, Role
from tests.awsapi.conftest import client, issue_key

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

DOC = json.dumps({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:*", "Resource": "*"}]})
TRUST = json.dumps(
    {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::111122223333:root"}, "Action": "sts:*"}],
    }
)
GITHUB = "https://token.actions.githubusercontent.com"


def error(exc: pytest.ExceptionInfo[ClientError]) -> tuple[str, str]:
    return exc.value.response["Error"]["Code"], exc.value.response["Error"]["Message"]


# AWS's SummaryMap keys (botocore's summaryKeyType enum): every one is answered.
SUMMARY_KEYS = {
    "Users",
    "UsersQuota",
    "Groups",
    "GroupsQuota",
    "ServerCertificates",
    "ServerCertificatesQuota",
    "UserPolicySizeQuota",
    "GroupPolicySizeQuota",
    "GroupsPerUserQuota",
    "SigningCertificatesPerUserQuota",
    "AccessKeysPerUserQuota",
    "MFADevices",
    "MFADevicesInUse",
    "AccountMFAEnabled",
    "AccountAccessKeysPresent",
    "AccountPasswordPresent",
    "AccountSigningCertificatesPresent",
    "AttachedPoliciesPerGroupQuota",
    "AttachedPoliciesPerRoleQuota",
    "AttachedPoliciesPerUserQuota",
    "Policies",
    "PoliciesQuota",
    "PolicySizeQuota",
    "PolicyVersionsInUse",
    "PolicyVersionsInUseQuota",
    "VersionsPerPolicyQuota",
    "GlobalEndpointTokenVersion",
    "AssumeRolePolicySizeQuota",
    "InstanceProfiles",
    "InstanceProfilesQuota",
    "Providers",
    "RolePolicySizeQuota",
    "Roles",
    "RolesQuota",
}


def test_account_summary_has_every_key_and_counts_for_real(iam):
    from core.validation import service_model

    assert set(service_model("iam").shape_for("summaryKeyType").enum) == SUMMARY_KEYS
    iam.create_user(UserName="alice")
    iam.create_instance_profile(InstanceProfileName="web")
    policy = iam.create_policy(PolicyName="p", PolicyDocument=DOC)["Policy"]
    iam.attach_user_policy(UserName="alice", PolicyArn=policy["Arn"])
    iam.create_virtual_mfa_device(VirtualMFADeviceName="spare")
    summary = iam.get_account_summary()["SummaryMap"]
    assert set(summary) == SUMMARY_KEYS
    assert summary["Users"] == 1 and summary["InstanceProfiles"] == 1 and summary["Policies"] == 1
    assert summary["MFADevices"] == 1 and summary["MFADevicesInUse"] == 0 and summary["AccountMFAEnabled"] == 0
    assert summary["PolicyVersionsInUse"] == 1
    assert summary["AccountAccessKeysPresent"] == 1  # the root key this client signs with
    assert summary["AccountPasswordPresent"] == 1


def test_mfa_devices_in_use_counts_enabled_devices(iam):
    from core import clock
    from identities import credentials

    iam.create_user(UserName="alice")
    created = iam.create_virtual_mfa_device(VirtualMFADeviceName="alice")["VirtualMFADevice"]
    totp = pyotp.TOTP(
        created["Base32StringSeed"].decode(), digits=credentials.TOTP_DIGITS, interval=credentials.TOTP_STEP_SECONDS
    )
    step = credentials.totp_step(clock.now())
    iam.enable_mfa_device(
        UserName="alice",
        SerialNumber=created["SerialNumber"],
        AuthenticationCode1=totp.at((step - 1) * credentials.TOTP_STEP_SECONDS),
        AuthenticationCode2=totp.at(step * credentials.TOTP_STEP_SECONDS),
    )
    summary = iam.get_account_summary()["SummaryMap"]
    assert summary["MFADevices"] == 1 and summary["MFADevicesInUse"] == 1 and summary["AccountMFAEnabled"] == 0


def test_policy_shapes_get_create_list(iam):
    created = iam.create_policy(PolicyName="p", PolicyDocument=DOC, Description="reads")["Policy"]
    assert "Description" not in created and "Tags" not in created  # CreatePolicy: no Description, no empty Tags
    assert created["AttachmentCount"] == 0 and created["PermissionsBoundaryUsageCount"] == 0
    got = iam.get_policy(PolicyArn=created["Arn"])["Policy"]
    assert got["Tags"] == [] and got["Description"] == "reads"
    tagged = iam.create_policy(PolicyName="t", PolicyDocument=DOC, Tags=[{"Key": "k", "Value": "v"}])["Policy"]
    assert tagged["Tags"] == [{"Key": "k", "Value": "v"}]

    iam.create_user(UserName="alice")
    iam.create_role(RoleName="app", AssumeRolePolicyDocument=TRUST)
    iam.attach_user_policy(UserName="alice", PolicyArn=created["Arn"])
    iam.attach_role_policy(RoleName="app", PolicyArn=created["Arn"])
    iam.put_role_permissions_boundary(RoleName="app", PermissionsBoundary=created["Arn"])
    got = iam.get_policy(PolicyArn=created["Arn"])["Policy"]
    assert got["AttachmentCount"] == 2 and got["PermissionsBoundaryUsageCount"] == 1
    listed = {p["PolicyName"]: p for p in iam.list_policies(Scope="Local")["Policies"]}
    assert listed["p"]["AttachmentCount"] == 2 and listed["p"]["PermissionsBoundaryUsageCount"] == 1
    assert listed["t"]["AttachmentCount"] == 0
    assert "Tags" not in listed["t"] and "Description" not in listed["p"]  # ListPolicies returns neither
    aws = iam.list_policies(Scope="AWS", MaxItems=1)["Policies"][0]
    assert aws["AttachmentCount"] == 0 and aws["PermissionsBoundaryUsageCount"] == 0


def test_policy_usage_filter_of_list_policies(iam):
    used = iam.create_policy(PolicyName="used", PolicyDocument=DOC)["Policy"]["Arn"]
    fence = iam.create_policy(PolicyName="fence", PolicyDocument=DOC)["Policy"]["Arn"]
    iam.create_policy(PolicyName="idle", PolicyDocument=DOC)
    iam.create_user(UserName="alice", PermissionsBoundary=fence)
    iam.attach_user_policy(UserName="alice", PolicyArn=used)

    def names(**kwargs) -> list[str]:
        return [p["PolicyName"] for p in iam.list_policies(Scope="Local", **kwargs)["Policies"]]

    assert names(OnlyAttached=True) == ["fence", "used"]
    assert names(OnlyAttached=True, PolicyUsageFilter="PermissionsPolicy") == ["used"]
    assert names(OnlyAttached=True, PolicyUsageFilter="PermissionsBoundary") == ["fence"]
    assert names(PolicyUsageFilter="PermissionsBoundary") == ["fence", "idle", "used"]  # any policy can be either
    with pytest.raises(ClientError) as exc:
        names(PolicyUsageFilter="Sometimes")
    assert error(exc)[0] == "ValidationError" and "enum value set" in error(exc)[1]


def test_list_entities_for_policy_filters_and_pages(iam):
    arn = iam.create_policy(PolicyName="p", PolicyDocument=DOC)["Policy"]["Arn"]
    for name, path in (("ann", "/eng/"), ("bob", "/"), ("cat", "/eng/")):
        iam.create_user(UserName=name, Path=path)
        iam.attach_user_policy(UserName=name, PolicyArn=arn)
    iam.create_group(GroupName="devs", Path="/eng/")
    iam.attach_group_policy(GroupName="devs", PolicyArn=arn)
    iam.create_role(RoleName="fenced", AssumeRolePolicyDocument=TRUST, PermissionsBoundary=arn)

    everything = iam.list_entities_for_policy(PolicyArn=arn)
    assert [u["UserName"] for u in everything["PolicyUsers"]] == ["ann", "bob", "cat"]
    assert [r["RoleName"] for r in everything["PolicyRoles"]] == ["fenced"]  # as a boundary
    only = iam.list_entities_for_policy(PolicyArn=arn, PolicyUsageFilter="PermissionsPolicy")
    assert only["PolicyRoles"] == [] and len(only["PolicyUsers"]) == 3
    bounded = iam.list_entities_for_policy(PolicyArn=arn, PolicyUsageFilter="PermissionsBoundary")
    assert bounded["PolicyUsers"] == [] and bounded["PolicyGroups"] == [] and len(bounded["PolicyRoles"]) == 1
    groups = iam.list_entities_for_policy(PolicyArn=arn, EntityFilter="Group")
    assert groups["PolicyUsers"] == [] and [g["GroupName"] for g in groups["PolicyGroups"]] == ["devs"]
    assert iam.list_entities_for_policy(PolicyArn=arn, EntityFilter="AWSManagedPolicy")["PolicyUsers"] == []
    eng = iam.list_entities_for_policy(PolicyArn=arn, PathPrefix="/eng/")
    assert [u["UserName"] for u in eng["PolicyUsers"]] == ["ann", "cat"] and len(eng["PolicyGroups"]) == 1
    assert eng["PolicyRoles"] == []

    first = iam.list_entities_for_policy(PolicyArn=arn, MaxItems=2)
    assert first["IsTruncated"] is True and [u["UserName"] for u in first["PolicyUsers"]] == ["ann", "bob"]
    rest = iam.list_entities_for_policy(PolicyArn=arn, Marker=first["Marker"])
    assert [u["UserName"] for u in rest["PolicyUsers"]] == ["cat"] and len(rest["PolicyGroups"]) == 1
    assert rest["IsTruncated"] is False
    pages = list(
        iam.get_paginator("list_entities_for_policy").paginate(PolicyArn=arn, PaginationConfig={"PageSize": 1})
    )
    assert len(pages) == 5


def test_list_attached_policies_honour_path_prefix(iam):
    team = iam.create_policy(PolicyName="team", Path="/team/", PolicyDocument=DOC)["Policy"]["Arn"]
    iam.create_user(UserName="alice")
    iam.create_group(GroupName="devs")
    iam.create_role(RoleName="app", AssumeRolePolicyDocument=TRUST)
    for call, kwargs in (
        (iam.attach_user_policy, {"UserName": "alice"}),
        (iam.attach_group_policy, {"GroupName": "devs"}),
        (iam.attach_role_policy, {"RoleName": "app"}),
    ):
        call(PolicyArn=team, **kwargs)
        call(PolicyArn="arn:aws:iam::aws:policy/ReadOnlyAccess", **kwargs)
    for call, kwargs in (
        (iam.list_attached_user_policies, {"UserName": "alice"}),
        (iam.list_attached_group_policies, {"GroupName": "devs"}),
        (iam.list_attached_role_policies, {"RoleName": "app"}),
    ):
        assert len(call(**kwargs)["AttachedPolicies"]) == 2
        assert [p["PolicyName"] for p in call(PathPrefix="/team/", **kwargs)["AttachedPolicies"]] == ["team"]


def test_tag_listings_page(iam):
    tags = [{"Key": f"k{i}", "Value": str(i)} for i in range(5)]
    arn = iam.create_policy(PolicyName="p", PolicyDocument=DOC, Tags=tags)["Policy"]["Arn"]
    iam.create_role(RoleName="app", AssumeRolePolicyDocument=TRUST, Tags=tags)
    iam.create_user(UserName="alice", Tags=tags)
    for call, kwargs in (
        (iam.list_policy_tags, {"PolicyArn": arn}),
        (iam.list_role_tags, {"RoleName": "app"}),
        (iam.list_user_tags, {"UserName": "alice"}),
    ):
        first = call(MaxItems=2, **kwargs)
        assert len(first["Tags"]) == 2 and first["IsTruncated"] is True
        rest = call(Marker=first["Marker"], **kwargs)
        assert [t["Key"] for t in first["Tags"] + rest["Tags"]] == [f"k{i}" for i in range(5)]
        assert rest["IsTruncated"] is False


def test_list_account_aliases_pages(iam):
    empty = iam.list_account_aliases(MaxItems=1)
    assert empty["AccountAliases"] == [] and empty["IsTruncated"] is False
    iam.create_account_alias(AccountAlias="class-a")
    page = iam.list_account_aliases(MaxItems=1)
    assert page["AccountAliases"] == ["class-a"] and page["IsTruncated"] is False
    with pytest.raises(ClientError) as exc:
        iam.list_account_aliases(Marker="not-a-marker")
    assert error(exc)[0] == "ValidationError"


def test_oidc_delete_is_idempotent(iam):
    arn = iam.create_open_id_connect_provider(Url=GITHUB, ClientIDList=["sts.amazonaws.com"])[
        "OpenIDConnectProviderArn"
    ]
    iam.delete_open_id_connect_provider(OpenIDConnectProviderArn=arn)
    iam.delete_open_id_connect_provider(OpenIDConnectProviderArn=arn)  # AWS: no error for a provider already gone
    iam.delete_open_id_connect_provider(OpenIDConnectProviderArn=arn.replace("token.actions", "never"))
    assert iam.list_open_id_connect_providers()["OpenIDConnectProviderList"] == []


def test_delete_account_password_policy_without_one(iam):
    with pytest.raises(ClientError) as exc:
        iam.delete_account_password_policy()
    assert error(exc) == ("NoSuchEntity", "The account policy with name PasswordPolicy cannot be found.")


def test_instance_profile_and_virtual_mfa_tags_are_kept(iam):
    tags = [{"Key": "team", "Value": "web"}]
    created = iam.create_instance_profile(InstanceProfileName="web", Tags=tags)["InstanceProfile"]
    assert created["Tags"] == tags
    assert iam.get_instance_profile(InstanceProfileName="web")["InstanceProfile"]["Tags"] == tags
    device = iam.create_virtual_mfa_device(VirtualMFADeviceName="spare", Tags=tags)["VirtualMFADevice"]
    assert device["Tags"] == tags
    listed = iam.list_virtual_mfa_devices()["VirtualMFADevices"]
    assert [d.get("Tags") for d in listed] == [tags]
    with pytest.raises(ClientError) as exc:
        iam.create_instance_profile(
            InstanceProfileName="dup", Tags=[{"Key": "a", "Value": "1"}, {"Key": "A", "Value": "2"}]
        )
    assert error(exc)[0] == "InvalidInput"
    assert [p["InstanceProfileName"] for p in iam.list_instance_profiles()["InstanceProfiles"]] == ["web"]


def test_role_last_used_is_empty_until_used_then_has_region(live_server, iam, account):
    iam.create_user(UserName="alice")
    iam.attach_user_policy(UserName="alice", PolicyArn="arn:aws:iam::aws:policy/AdministratorAccess")
    iam.create_role(RoleName="app", AssumeRolePolicyDocument=TRUST)
    iam.attach_role_policy(RoleName="app", PolicyArn="arn:aws:iam::aws:policy/IAMReadOnlyAccess")
    assert iam.get_role(RoleName="app")["Role"]["RoleLastUsed"] == {}
    details = iam.get_account_authorization_details(Filter=["Role"])["RoleDetailList"]
    assert details[0]["RoleLastUsed"] == {}

    alice = client(live_server, "sts", *issue_key(account.id, IamUser.objects.get(name="alice")))
    creds = alice.assume_role(RoleArn=f"arn:aws:iam::{account.id}:role/app", RoleSessionName="s1")["Credentials"]
    session = client(live_server, "iam", creds["AccessKeyId"], creds["SecretAccessKey"], creds["SessionToken"])
    session.list_users()
    deliver_pending()
    used = iam.get_role(RoleName="app")["Role"]["RoleLastUsed"]
    assert used["Region"] == "us-east-1" and used["LastUsedDate"] is not None
    assert Role.objects.get(name="app").last_used_region == "us-east-1"


def test_transitive_tag_keys_are_checked_and_passed_along_a_chain(live_server, iam, account):
    trust = json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Effect": "Allow",
                    "Principal": {"AWS": f"arn:aws:iam::{account.id}:root"},
                    "Action": ["sts:AssumeRole", "sts:TagSession"],
                }
            ],
        }
    )
    iam.create_user(UserName="alice")
    iam.attach_user_policy(UserName="alice", PolicyArn="arn:aws:iam::aws:policy/AdministratorAccess")
    iam.create_role(RoleName="first", AssumeRolePolicyDocument=trust)
    iam.attach_role_policy(RoleName="first", PolicyArn="arn:aws:iam::aws:policy/AdministratorAccess")
    iam.create_role(RoleName="second", AssumeRolePolicyDocument=trust)
    alice = client(live_server, "sts", *issue_key(account.id, IamUser.objects.get(name="alice")))
    first_arn = f"arn:aws:iam::{account.id}:role/first"
    with pytest.raises(ClientError) as exc:
        alice.assume_role(RoleArn=first_arn, RoleSessionName="s1", TransitiveTagKeys=["team"])
    assert error(exc) == (
        "InvalidParameterValue",
        "The specified transitive tag key must be included in the requested tags.",
    )
    creds = alice.assume_role(
        RoleArn=first_arn,
        RoleSessionName="s1",
        Tags=[{"Key": "team", "Value": "web"}, {"Key": "stage", "Value": "dev"}],
        TransitiveTagKeys=["team"],
    )["Credentials"]
    session = client(live_server, "sts", creds["AccessKeyId"], creds["SecretAccessKey"], creds["SessionToken"])
    second_arn = f"arn:aws:iam::{account.id}:role/second"
    with pytest.raises(ClientError) as exc:
        session.assume_role(RoleArn=second_arn, RoleSessionName="t1", Tags=[{"Key": "TEAM", "Value": "x"}])
    assert error(exc)[0] == "InvalidParameterValue" and "conflicts with a transitive tag key" in error(exc)[1]
    session.assume_role(RoleArn=second_arn, RoleSessionName="t1")
    from sts.models import TemporaryCredential

    chained = TemporaryCredential.objects.get(session_name="t1")
    assert chained.session_tags == [{"Key": "team", "Value": "web"}] and chained.transitive_tag_keys == ["team"]


def test_unsupported_parameters_are_refused_not_ignored(iam):
    with pytest.raises(ClientError) as exc:
        iam.create_role(RoleName="app", AssumeRolePolicyDocument=TRUST, MaxSigninSessionDuration=7200)
    assert error(exc) == (
        "InvalidInput",
        "The parameter MaxSigninSessionDuration is not supported by this IAM Classroom endpoint.",
    )
    assert iam.list_roles()["Roles"] == []  # nothing created


def test_simulate_principal_policy_honours_caller_arn_and_resource_owner(iam, account):
    iam.create_user(UserName="alice")
    iam.create_user(UserName="bob")
    bob = f"arn:aws:iam::{account.id}:user/bob"
    bucket_policy = json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [{"Effect": "Allow", "Principal": {"AWS": bob}, "Action": "s3:GetObject", "Resource": "*"}],
        }
    )

    def decision(**kwargs) -> str:
        results = iam.simulate_principal_policy(
            PolicySourceArn=f"arn:aws:iam::{account.id}:user/alice",
            ActionNames=["s3:GetObject"],
            ResourceArns=["arn:aws:s3:::reports/q1.csv"],
            ResourcePolicy=bucket_policy,
            **kwargs,
        )
        return results["EvaluationResults"][0]["EvalDecision"]

    assert decision() == "implicitDeny"  # alice calling: the bucket policy names bob
    assert decision(CallerArn=bob) == "allowed"  # alice's policies (none), bob calling
    assert decision(CallerArn=bob, ResourceOwner=f"arn:aws:iam::{account.id}:root") == "allowed"
    # The bucket in another account: its policy alone no longer grants bob access (cross-account needs both).
    assert decision(CallerArn=bob, ResourceOwner="arn:aws:iam::444455556666:root") == "implicitDeny"
    with pytest.raises(ClientError) as exc:
        decision(CallerArn=f"arn:aws:iam::{account.id}:role/nobody")
    assert error(exc)[0] == "InvalidInput"
    with pytest.raises(ClientError) as exc:
        decision(ResourceHandlingOption="EC2-VPC-InstanceStore")
    assert error(exc)[0] == "InvalidInput" and "ResourceHandlingOption" in error(exc)[1]
