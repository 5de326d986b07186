"""The real boto3 client against a live server: the wire format, signatures, and enforcement end to end."""

from __future__ import annotations

import json

import pytest
from botocore.exceptions import ClientError

from audit.models import AuditEvent
from identities.models import IamUser
from tests.awsapi.conftest import client, issue_key

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

READ_S3 = json.dumps(
    {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"}]}
)


def code(err: pytest.ExceptionInfo) -> str:
    return err.value.response["Error"]["Code"]


def test_caller_identity_of_root(sts_client, account):
    identity = sts_client.get_caller_identity()
    assert identity["Account"] == account.id and identity["Arn"] == f"arn:aws:iam::{account.id}:root"


def test_seed_scenario_users_groups_policies(iam, account):
    user = iam.create_user(UserName="Alice", Tags=[{"Key": "team", "Value": "dev"}])["User"]
    assert user["UserId"].startswith("AIDA") and user["Arn"] == f"arn:aws:iam::{account.id}:user/Alice"
    iam.create_group(GroupName="Developers")
    iam.add_user_to_group(GroupName="Developers", UserName="Alice")
    iam.attach_group_policy(GroupName="Developers", PolicyArn="arn:aws:iam::aws:policy/AmazonS3FullAccess")
    iam.attach_user_policy(UserName="Alice", PolicyArn="arn:aws:iam::aws:policy/AmazonEC2FullAccess")
    policy = iam.create_policy(PolicyName="ReadReports", PolicyDocument=READ_S3)["Policy"]
    iam.create_policy_version(PolicyArn=policy["Arn"], PolicyDocument=READ_S3, SetAsDefault=True)
    versions = iam.list_policy_versions(PolicyArn=policy["Arn"])["Versions"]
    assert [(v["VersionId"], v["IsDefaultVersion"]) for v in versions] == [("v2", True), ("v1", False)]
    doc = iam.get_policy_version(PolicyArn=policy["Arn"], VersionId="v1")["PolicyVersion"]["Document"]
    assert doc["Statement"][0]["Action"] == "s3:GetObject"  # botocore decodes the URL-encoded document
    assert [g["GroupName"] for g in iam.list_groups_for_user(UserName="Alice")["Groups"]] == ["Developers"]
    assert [p["PolicyName"] for p in iam.list_attached_user_policies(UserName="Alice")["AttachedPolicies"]] == [
        "AmazonEC2FullAccess"
    ]
    assert [u["UserName"] for u in iam.get_group(GroupName="Developers")["Users"]] == ["Alice"]
    assert AuditEvent.objects.filter(event_name="CreateUser", record__userAgent__icontains="boto3").exists()


def test_errors_have_aws_codes(iam):
    iam.create_user(UserName="bob")
    with pytest.raises(ClientError) as err:
        iam.create_user(UserName="BOB")
    assert code(err) == "EntityAlreadyExists" and err.value.response["ResponseMetadata"]["HTTPStatusCode"] == 409
    with pytest.raises(ClientError) as err:
        iam.get_user(UserName="ghost")
    assert code(err) == "NoSuchEntity" and "The user with name ghost cannot be found." in str(err.value)
    with pytest.raises(ClientError) as err:
        iam.create_policy(PolicyName="Bad", PolicyDocument="{not json")
    assert code(err) == "MalformedPolicyDocument"


def test_pagination(iam):
    for i in range(7):
        iam.create_user(UserName=f"u{i}")
    pages = list(iam.get_paginator("list_users").paginate(PaginationConfig={"PageSize": 3}))
    assert len(pages) == 3 and sum(len(p["Users"]) for p in pages) == 7


def test_iam_user_key_is_enforced(live_server, iam, account):
    iam.create_user(UserName="reader")
    iam.attach_user_policy(UserName="reader", PolicyArn="arn:aws:iam::aws:policy/IAMReadOnlyAccess")
    reader = client(live_server, "iam", *issue_key(account.id, IamUser.objects.get(name="reader")))
    assert "reader" in [u["UserName"] for u in reader.list_users()["Users"]]
    with pytest.raises(ClientError) as err:
        reader.create_user(UserName="nope")
    assert code(err) == "AccessDenied"
    assert (
        "User: arn:aws:iam::111122223333:user/reader is not authorized to perform: iam:CreateUser on resource: "
        "arn:aws:iam::111122223333:user/nope because no identity-based policy allows the iam:CreateUser action"
        in err.value.response["Error"]["Message"]
    )
    assert not IamUser.objects.filter(name="nope").exists()


def test_assume_role_and_use_the_session(live_server, iam, account):
    trust = json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [
                {"Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{account.id}:root"}, "Action": "sts:AssumeRole"}
            ],
        }
    )
    iam.create_role(RoleName="Reader", AssumeRolePolicyDocument=trust)
    iam.attach_role_policy(RoleName="Reader", PolicyArn="arn:aws:iam::aws:policy/IAMReadOnlyAccess")
    iam.create_user(UserName="dev")
    iam.put_user_policy(
        UserName="dev",
        PolicyName="assume",
        PolicyDocument=json.dumps(
            {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "sts:AssumeRole", "Resource": "*"}]}
        ),
    )
    dev_keys = issue_key(account.id, IamUser.objects.get(name="dev"))
    creds = client(live_server, "sts", *dev_keys).assume_role(
        RoleArn=f"arn:aws:iam::{account.id}:role/Reader", RoleSessionName="dev-session"
    )["Credentials"]
    assert creds["AccessKeyId"].startswith("ASIA")
    session_sts = client(live_server, "sts", creds["AccessKeyId"], creds["SecretAccessKey"], creds["SessionToken"])
    assert session_sts.get_caller_identity()["Arn"] == f"arn:aws:sts::{account.id}:assumed-role/Reader/dev-session"
    session_iam = client(live_server, "iam", creds["AccessKeyId"], creds["SecretAccessKey"], creds["SessionToken"])
    session_iam.list_users()
    with pytest.raises(ClientError) as err:
        session_iam.create_user(UserName="x")
    assert code(err) == "AccessDenied"
