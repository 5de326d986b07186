"""The practice EC2 service decided by the engine: every operation under its own action, iam:PassRole when a
profile's role is attached, EC2's condition keys for attribute-based access control, every denial explained,
tenant isolation, and the protocol's own refusals."""

from __future__ import annotations

import json

import pytest

from audit.models import AuditEvent
from core.context import CallContext
from ec2 import services
from ec2.handlers import HANDLERS
from ec2.models import Instance
from identities import services as identities
from identities.services import Tag
from tests.awsapi.conftest import issue_key
from tests.ec2.conftest import AMI, Ec2Wire, profile_with_role, user_with_policy

pytestmark = pytest.mark.django_db


@pytest.fixture
def world(root_ctx, managed_policies):
    """Two instances of the account's root: one with the profile ``app`` (its association), one without."""
    profile_with_role(root_ctx)
    with_profile = services.run_instances(
        root_ctx,
        image_id=AMI,
        min_count=1,
        max_count=1,
        iam_instance_profile={"Name": "app"},
        tag_specifications=[("instance", [services.Tag("team", "blue")])],
    )[0]
    bare = services.run_instances(
        root_ctx,
        image_id=AMI,
        min_count=1,
        max_count=1,
        tag_specifications=[("instance", [services.Tag("team", "red")])],
    )[0]
    return {"with_profile": with_profile, "bare": bare}


def _params(world: dict[str, Instance]) -> dict[str, dict]:
    blue, red = world["with_profile"], world["bare"]
    return {
        "RunInstances": {"ImageId": AMI, "MinCount": 1, "MaxCount": 1},
        "DescribeInstances": {},
        "StartInstances": {"InstanceIds": [red.instance_id]},
        "StopInstances": {"InstanceIds": [red.instance_id]},
        "TerminateInstances": {"InstanceIds": [red.instance_id]},
        "CreateTags": {"Resources": [red.instance_id], "Tags": [{"Key": "k", "Value": "v"}]},
        "DeleteTags": {"Resources": [red.instance_id]},
        "DescribeImages": {},
        "DescribeInstanceTypes": {},
        "DescribeRegions": {},
        "DescribeAvailabilityZones": {},
        "AssociateIamInstanceProfile": {"InstanceId": red.instance_id, "IamInstanceProfile": {"Name": "app"}},
        "ReplaceIamInstanceProfileAssociation": {
            "AssociationId": blue.association_id,
            "IamInstanceProfile": {"Name": "app"},
        },
        "DisassociateIamInstanceProfile": {"AssociationId": blue.association_id},
        "DescribeIamInstanceProfileAssociations": {},
    }


def test_every_operation_is_decided_and_recorded_under_its_own_action(root_ctx, world, wire_for):
    user, _ = user_with_policy(root_ctx, "nobody", None)
    wire = wire_for(user)
    params = _params(world)
    assert set(params) == set(HANDLERS)  # a new handler must be added here
    before = {i.instance_id: (i.state, i.tags, i.association_id) for i in Instance.objects.all()}
    for operation, kwargs in params.items():
        status, out = wire.call(operation, **kwargs)
        assert status == 403, operation
        error = out["Error"]
        assert error["Code"] == "UnauthorizedOperation"
        assert error["Message"].startswith("You are not authorized to perform this operation. User: ")
        assert f"is not authorized to perform: ec2:{operation}" in error["Message"]
        assert "because no identity-based policy allows" in error["Message"]
        decoded = json.loads(error["Message"].split("Decoded authorization failure message: ", 1)[1])
        assert decoded["allowed"] is False and decoded["context"]["action"] == f"ec2:{operation}"
        event = AuditEvent.objects.filter(event_name=operation, error_code="UnauthorizedOperation").get()
        assert event.event_source == "ec2.amazonaws.com" and event.explanation["outcome"] == "ImplicitDeny"
    assert {i.instance_id: (i.state, i.tags, i.association_id) for i in Instance.objects.all()} == before


def _run(wire, **extra):
    return wire.call("RunInstances", ImageId=AMI, MinCount=1, MaxCount=1, **extra)


EC2_ALL = {"Effect": "Allow", "Action": "ec2:*", "Resource": "*"}


def test_pass_role_is_required_to_attach_a_profile_with_a_role(root_ctx, wire_for, managed_policies):
    arn = profile_with_role(root_ctx)
    role_arn = f"arn:aws:iam::{root_ctx.account_id}:role/app"
    user, _ = user_with_policy(root_ctx, "dev", [EC2_ALL])
    wire = wire_for(user)
    status, out = _run(wire, IamInstanceProfile={"Arn": arn})
    assert status == 403
    assert f"is not authorized to perform: iam:PassRole on resource: {role_arn}" in out["Error"]["Message"]
    assert not Instance.objects.exists()
    denied = AuditEvent.objects.get(event_name="RunInstances", error_code="UnauthorizedOperation")
    assert denied.explanation["action"] == "iam:PassRole"

    bare = _run(wire)[1]["Instances"][0]["InstanceId"]  # no profile: no PassRole needed
    status, out = wire.call("AssociateIamInstanceProfile", InstanceId=bare, IamInstanceProfile={"Name": "app"})
    assert status == 403 and "iam:PassRole" in out["Error"]["Message"]

    to_lambda = {
        "Effect": "Allow",
        "Action": "iam:PassRole",
        "Resource": role_arn,
        "Condition": {"StringEquals": {"iam:PassedToService": "lambda.amazonaws.com"}},
    }
    identities_policy(root_ctx, "dev", [EC2_ALL, to_lambda])
    assert _run(wire, IamInstanceProfile={"Arn": arn})[0] == 403
    to_ec2 = {**to_lambda, "Condition": {"StringEquals": {"iam:PassedToService": "ec2.amazonaws.com"}}}
    identities_policy(root_ctx, "dev", [EC2_ALL, to_ec2])
    status, out = _run(wire, IamInstanceProfile={"Arn": arn})
    assert status == 200 and out["Instances"][0]["IamInstanceProfile"]["Arn"] == arn


def identities_policy(root_ctx: CallContext, user: str, statements: list[dict]) -> None:
    from policies import services as policies

    policies.put_user_policy(
        root_ctx,
        user_name=user,
        policy_name="ec2",
        policy_document=json.dumps({"Version": "2012-10-17", "Statement": statements}),
    )


def test_abac_on_resource_tags_matches_the_principal_tag(root_ctx, world, wire_for):
    statement = {
        "Effect": "Allow",
        "Action": ["ec2:StopInstances", "ec2:StartInstances"],
        "Resource": "arn:aws:ec2:*:*:instance/*",
        "Condition": {"StringEquals": {"ec2:ResourceTag/team": "${aws:PrincipalTag/team}"}},
    }
    user, _ = user_with_policy(root_ctx, "bluedev", [statement])
    identities.tag_user(root_ctx, user_name="bluedev", tags=[Tag("team", "blue")])
    wire = wire_for(user)
    assert wire.call("StopInstances", InstanceIds=[world["with_profile"].instance_id])[0] == 200
    status, out = wire.call("StopInstances", InstanceIds=[world["bare"].instance_id])
    assert status == 403
    decoded = json.loads(out["Error"]["Message"].split("message: ", 1)[1])
    conditions = {c["key"]: c["values"]["items"][0]["value"] for c in decoded["context"]["conditions"]["items"]}
    assert conditions["ec2:ResourceTag/team"] == "red"
    assert Instance.objects.get(pk=world["bare"].pk).state == "running"
    # Both instances in one call: all or nothing.
    both = [world["with_profile"].instance_id, world["bare"].instance_id]
    assert wire.call("StartInstances", InstanceIds=both)[0] == 403
    assert Instance.objects.get(pk=world["with_profile"].pk).state == "stopped"


def test_request_tags_and_instance_type_conditions(root_ctx, wire_for, managed_policies):
    statements = [
        {"Effect": "Allow", "Action": "ec2:RunInstances", "Resource": "arn:aws:ec2:*::image/*"},
        {
            "Effect": "Allow",
            "Action": "ec2:RunInstances",
            "Resource": "arn:aws:ec2:*:*:instance/*",
            "Condition": {"StringEquals": {"ec2:InstanceType": ["t2.micro", "t3.micro"]}},
        },
        {
            "Effect": "Deny",
            "Action": "ec2:RunInstances",
            "Resource": "arn:aws:ec2:*:*:instance/*",
            "Condition": {"Null": {"aws:RequestTag/team": "true"}},
        },
        {
            "Effect": "Allow",
            "Action": "ec2:CreateTags",
            "Resource": "arn:aws:ec2:*:*:instance/*",
            "Condition": {
                "StringEquals": {"ec2:CreateAction": "RunInstances"},
                "ForAllValues:StringEquals": {"aws:TagKeys": ["team", "Name"]},
            },
        },
    ]
    user, _ = user_with_policy(root_ctx, "launcher", statements)
    wire = wire_for(user)
    team = [{"ResourceType": "instance", "Tags": [{"Key": "team", "Value": "blue"}]}]

    status, out = _run(wire, InstanceType="t3.micro")  # no team tag: the explicit deny
    assert status == 403 and "with an explicit deny in an identity-based policy" in out["Error"]["Message"]
    assert AuditEvent.objects.filter(error_code="UnauthorizedOperation").last().explanation["outcome"] == "ExplicitDeny"
    status, out = _run(wire, InstanceType="m5.large", TagSpecifications=team)
    assert status == 403 and "ec2:RunInstances on resource: arn:aws:ec2:us-east-1:" in out["Error"]["Message"]
    cost = [{"ResourceType": "instance", "Tags": [{"Key": "team", "Value": "b"}, {"Key": "cost", "Value": "1"}]}]
    status, out = _run(wire, InstanceType="t3.micro", TagSpecifications=cost)  # a tag key the policy does not allow
    assert status == 403 and "ec2:CreateTags" in out["Error"]["Message"]
    assert not Instance.objects.exists()
    status, out = _run(wire, InstanceType="t3.micro", TagSpecifications=team)
    assert status == 200 and out["Instances"][0]["Tags"] == [{"Key": "team", "Value": "blue"}]


def test_tags_on_create_need_create_tags(root_ctx, wire_for, managed_policies):
    user, _ = user_with_policy(root_ctx, "runner", [{"Effect": "Allow", "Action": "ec2:RunInstances", "Resource": "*"}])
    wire = wire_for(user)
    status, out = _run(wire, TagSpecifications=[{"ResourceType": "instance", "Tags": [{"Key": "a", "Value": "b"}]}])
    assert status == 403 and "ec2:CreateTags" in out["Error"]["Message"]
    assert _run(wire)[0] == 200


def test_another_account_reaches_nothing(root_ctx, world, other_account, wire_for):
    wire = wire_for(None, other_account.id)
    blue = world["with_profile"]
    status, out = wire.call("DescribeInstances")
    assert status == 200 and out["Reservations"] == []
    status, out = wire.call("StopInstances", InstanceIds=[blue.instance_id])
    assert status == 400 and out["Error"]["Code"] == "InvalidInstanceID.NotFound"
    status, out = wire.call("CreateTags", Resources=[blue.instance_id], Tags=[{"Key": "x", "Value": "y"}])
    assert out["Error"]["Code"] == "InvalidInstanceID.NotFound"
    status, out = wire.call("DisassociateIamInstanceProfile", AssociationId=blue.association_id)
    assert out["Error"]["Code"] == "InvalidAssociationID.NotFound"
    status, out = _run(wire, IamInstanceProfile={"Arn": blue.profile_arn})
    assert (
        out["Error"]["Code"] == "InvalidParameterValue"
        and "Invalid IAM Instance Profile ARN" in out["Error"]["Message"]
    )
    assert not Instance.objects.filter(account=other_account).exists()
    assert Instance.objects.get(pk=blue.pk).state == "running" and Instance.objects.get(pk=blue.pk).association_id


def test_protocol_refusals_in_ec2_error_format(wire_for, account, managed_policies):
    wire = wire_for(None, account.id)
    response = wire.raw("Action=LaunchRocket&Version=2016-11-15")
    assert response.status_code == 400
    assert b"<Response><Errors><Error><Code>InvalidAction</Code>" in response.content
    assert b"<RequestID>" in response.content
    response = wire.raw("Action=DescribeInstances&Version=2016-11-15&Colour=blue")
    assert b"<Code>UnknownParameter</Code>" in response.content
    response = wire.raw("Action=RunInstances&Version=2016-11-15&ImageId=" + AMI + "&MinCount=x&MaxCount=1")
    assert b"<Code>InvalidParameterValue</Code>" in response.content
    response = wire.raw("Action=DescribeInstances&Version=2016-11-15", sign=False)
    assert response.status_code == 403 and b"<Code>MissingAuthenticationToken</Code>" in response.content
    forged = type(wire)("AKIAFORGEDFORGED0000", "x" * 40)
    response = forged.raw("Action=DescribeInstances&Version=2016-11-15")
    assert response.status_code == 401 and b"<Code>AuthFailure</Code>" in response.content
    response = wire.raw("Action=DescribeInstances&Version=2016-11-15", service="iam")
    assert b"<Code>SignatureDoesNotMatch</Code>" in response.content
    assert not Instance.objects.exists()


def test_ec2_requests_sent_to_the_iam_endpoint_are_answered_by_ec2(account, managed_policies):
    """A client with only AWS_ENDPOINT_URL=…/aws set sends EC2 calls to /aws: they are answered as EC2 answers."""
    wire = Ec2Wire(*issue_key(account.id))
    body = "Action=DescribeInstanceTypes&Version=2016-11-15&InstanceType.1=t2.micro"
    response = wire.raw(body, path="/aws")
    assert response.status_code == 200 and b"<DescribeInstanceTypesResponse" in response.content
    assert b"<instanceType>t2.micro</instanceType>" in response.content
