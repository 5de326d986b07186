"""Round trips through botocore's own query serializer and parser: requests are built by
``serialize.create_serializer('query')``, signed by SigV4Auth, handed to the ``/aws`` view, and our XML is read
back by ``parsers.create_parser('query')`` — lists, maps, timestamps, booleans, integers and nested structures."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta, timezone
from urllib.parse import unquote, urlencode

import pytest
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials
from botocore.model import OperationModel
from botocore.parsers import create_parser
from botocore.serialize import create_serializer
from django.test import RequestFactory

from awsapi import wsgi
from awsapi.protocol import serializer
from core.validation import service_model
from tests.awsapi.conftest import issue_key

pytestmark = pytest.mark.django_db

DOC = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"}]}


class Wire:
    def __init__(self, key_id: str, secret: str) -> None:
        self.credentials = Credentials(key_id, secret)
        self.factory = RequestFactory()

    def call(self, service: str, operation: str, *, client_validation: bool = True, **params):
        """``client_validation=False`` sends what botocore itself would refuse to send (a raw client could)."""
        model = service_model(service).operation_model(operation)
        wire = create_serializer("query", include_validation=client_validation).serialize_to_request(params, model)
        body = urlencode(wire["body"])
        request = AWSRequest(
            method="POST",
            url="http://testserver/aws",
            data=body,
            headers={"Content-Type": "application/x-www-form-urlencoded; charset=utf-8"},
        )
        SigV4Auth(self.credentials, service, "us-east-1").add_auth(request)
        response = wsgi.endpoint(
            self.factory.post(
                "/aws",
                data=body,
                content_type=request.headers["Content-Type"],
                HTTP_AUTHORIZATION=request.headers["Authorization"],
                HTTP_X_AMZ_DATE=request.headers["X-Amz-Date"],
                HTTP_USER_AGENT="wire-test",
            )
        )
        parsed = create_parser("query").parse(
            {"body": response.content, "headers": dict(response.headers), "status_code": response.status_code},
            model.output_shape,
        )
        return response.status_code, parsed


@pytest.fixture
def wire(account, managed_policies) -> Wire:
    return Wire(*issue_key(account.id))


def test_structures_timestamps_and_lists_of_structures(wire, account):
    status, out = wire.call(
        "iam",
        "CreateUser",
        UserName="alice",
        Path="/dev/",
        Tags=[{"Key": "team", "Value": "blue"}, {"Key": "cost", "Value": ""}],
    )
    assert status == 200
    user = out["User"]
    assert user["Arn"] == f"arn:aws:iam::{account.id}:user/dev/alice" and user["Path"] == "/dev/"
    assert isinstance(user["CreateDate"], datetime) and abs(user["CreateDate"] - datetime.now(UTC)) < timedelta(
        minutes=1
    )
    assert user["Tags"] == [{"Key": "team", "Value": "blue"}, {"Key": "cost", "Value": ""}]
    assert out["ResponseMetadata"]["RequestId"]


def test_lists_of_strings_booleans_and_integers(wire):
    wire.call("iam", "CreateUser", UserName="bob")
    wire.call("iam", "PutUserPolicy", UserName="bob", PolicyName="b", PolicyDocument=json.dumps(DOC))
    wire.call("iam", "PutUserPolicy", UserName="bob", PolicyName="a", PolicyDocument=json.dumps(DOC))
    _, out = wire.call("iam", "ListUserPolicies", UserName="bob", MaxItems=1)
    assert out["PolicyNames"] == ["a"] and out["IsTruncated"] is True and out["Marker"]
    _, out = wire.call("iam", "ListUserPolicies", UserName="bob", Marker=out["Marker"])
    assert out["PolicyNames"] == ["b"] and out["IsTruncated"] is False
    _, out = wire.call(
        "iam",
        "CreateRole",
        RoleName="r",
        AssumeRolePolicyDocument=json.dumps(
            {
                "Version": "2012-10-17",
                "Statement": [
                    {"Effect": "Allow", "Principal": {"Service": "ec2.amazonaws.com"}, "Action": "sts:AssumeRole"}
                ],
            }
        ),
        MaxSessionDuration=7200,
    )
    assert out["Role"]["MaxSessionDuration"] == 7200
    # URL-encoded JSON on the wire (boto3's event handlers decode it; the bare parser does not)
    trust = json.loads(unquote(out["Role"]["AssumeRolePolicyDocument"]))
    assert trust["Statement"][0]["Principal"]["Service"] == "ec2.amazonaws.com"


def test_maps(wire):
    wire.call("iam", "CreateUser", UserName="carol")
    _, out = wire.call("iam", "GetAccountSummary")
    assert out["SummaryMap"]["Users"] == 1 and out["SummaryMap"]["AccessKeysPerUserQuota"] == 2


def test_nested_structures_with_blobs(wire):
    status, out = wire.call("iam", "CreateVirtualMFADevice", VirtualMFADeviceName="phone")
    assert status == 200
    device = out["VirtualMFADevice"]
    assert device["SerialNumber"].endswith(":mfa/phone")
    assert len(device["Base32StringSeed"]) == 32 and device["QRCodePNG"].startswith(b"\x89PNG")


def test_authorization_details_nested_lists(wire):
    wire.call("iam", "CreateUser", UserName="dora")
    wire.call("iam", "CreateGroup", GroupName="devs")
    wire.call("iam", "AddUserToGroup", GroupName="devs", UserName="dora")
    wire.call("iam", "AttachGroupPolicy", GroupName="devs", PolicyArn="arn:aws:iam::aws:policy/ReadOnlyAccess")
    wire.call("iam", "PutUserPolicy", UserName="dora", PolicyName="inline", PolicyDocument=json.dumps(DOC))
    status, out = wire.call("iam", "GetAccountAuthorizationDetails")
    assert status == 200
    (user,) = out["UserDetailList"]
    assert user["GroupList"] == ["devs"] and json.loads(unquote(user["UserPolicyList"][0]["PolicyDocument"])) == DOC
    assert out["GroupDetailList"][0]["AttachedManagedPolicies"][0]["PolicyName"] == "ReadOnlyAccess"
    assert [p["PolicyName"] for p in out["Policies"]] == ["ReadOnlyAccess"]
    assert out["Policies"][0]["PolicyVersionList"][0]["IsDefaultVersion"] is True


def test_simulator_with_matched_statements(wire, account):
    wire.call("iam", "CreateUser", UserName="erin")
    text = json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [
                {"Effect": "Allow", "Action": "s3:*", "Resource": "*"},
                {"Effect": "Deny", "Action": "s3:DeleteBucket", "Resource": "*"},
            ],
        },
        indent=2,
    )
    wire.call("iam", "PutUserPolicy", UserName="erin", PolicyName="s3", PolicyDocument=text)
    status, out = wire.call(
        "iam",
        "SimulatePrincipalPolicy",
        PolicySourceArn=f"arn:aws:iam::{account.id}:user/erin",
        ActionNames=["s3:GetObject", "s3:DeleteBucket", "ec2:RunInstances"],
    )
    assert status == 200
    decisions = {r["EvalActionName"]: r["EvalDecision"] for r in out["EvaluationResults"]}
    assert decisions == {
        "s3:GetObject": "allowed",
        "s3:DeleteBucket": "explicitDeny",
        "ec2:RunInstances": "implicitDeny",
    }
    denied = next(r for r in out["EvaluationResults"] if r["EvalActionName"] == "s3:DeleteBucket")
    (matched,) = denied["MatchedStatements"]
    assert matched["SourcePolicyId"] == "s3" and matched["StartPosition"]["Line"] == 9
    status, out = wire.call(
        "iam",
        "SimulateCustomPolicy",
        PolicyInputList=[json.dumps(DOC)],
        ActionNames=["s3:GetObject"],
        ResourceArns=["arn:aws:s3:::b/k"],
        ContextEntries=[{"ContextKeyName": "aws:SourceIp", "ContextKeyValues": ["10.0.0.1"], "ContextKeyType": "ip"}],
    )
    assert out["EvaluationResults"][0]["EvalDecision"] == "allowed"
    assert out["EvaluationResults"][0]["MatchedStatements"][0]["SourcePolicyId"] == "PolicyInputList.1"
    conditional = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Action": "s3:*",
                "Resource": "arn:aws:s3:::home/${aws:username}/*",
                "Condition": {"IpAddress": {"aws:SourceIp": "10.0.0.0/8"}},
            }
        ],
    }
    _, out = wire.call("iam", "GetContextKeysForCustomPolicy", PolicyInputList=[json.dumps(conditional)])
    assert out["ContextKeyNames"] == ["aws:SourceIp", "aws:username"]


def test_sts_timestamps_and_errors(wire, account):
    status, out = wire.call("sts", "GetSessionToken", DurationSeconds=900)
    assert status == 200 and out["Credentials"]["AccessKeyId"].startswith("ASIA")
    assert out["Credentials"]["Expiration"] - datetime.now(UTC) < timedelta(minutes=16)  # root: at most one hour
    status, out = wire.call("sts", "GetAccessKeyInfo", AccessKeyId=out["Credentials"]["AccessKeyId"])
    assert (status, out["Account"]) == (200, account.id)
    status, out = wire.call("iam", "GetUser", UserName="ghost")
    assert status == 404 and out["Error"] == {
        "Type": "Sender",
        "Code": "NoSuchEntity",
        "Message": "The user with name ghost cannot be found.",
    }


def test_aware_datetimes_are_written_in_utc():
    model: OperationModel = service_model("iam").operation_model("GetUser")
    plus_two = datetime(2026, 11, 28, 13, 5, tzinfo=timezone(timedelta(hours=2)))
    body = serializer.serialize(
        "iam",
        model,
        {"User": {"Path": "/", "UserName": "a", "UserId": "AIDA", "Arn": "x", "CreateDate": plus_two}},
        "rid",
    )
    assert b"<CreateDate>2026-11-28T11:05:00Z</CreateDate>" in body
    parsed = create_parser("query").parse({"body": body, "headers": {}, "status_code": 200}, model.output_shape)
    assert parsed["User"]["CreateDate"] == plus_two
