"""AWS Organizations' read-only API through boto3 on a live server, as Prowler's organizations service calls it:
DescribeOrganization, ListPolicies (paged, every policy type), DescribePolicy, ListTargetsForPolicy and
ListDelegatedAdministrators, as the instructor (the management account), a student (a member account) and an
account in no class."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from typing import Any, NamedTuple

import pytest
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials
from botocore.exceptions import ClientError

from audit.models import AuditEvent
from classroom import services as classroom
from classroom.models import FULL_AWS_ACCESS_DOCUMENT
from core.context import CallContext, Principal
from identities.models import IamUser
from identities.services import create_user
from tests.awsapi.conftest import client, issue_key

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

PROWLER_TYPES = ("SERVICE_CONTROL_POLICY", "TAG_POLICY", "BACKUP_POLICY", "AISERVICES_OPT_OUT_POLICY")
DENY_S3 = json.dumps({"Version": "2012-10-17", "Statement": [{"Effect": "Deny", "Action": "s3:*", "Resource": "*"}]})


class Answer(NamedTuple):
    status: int
    content_type: str
    body: Any


def error(err: pytest.ExceptionInfo) -> tuple[str, str]:
    return err.value.response["Error"]["Code"], err.value.response["Error"]["Message"]


@pytest.fixture
def org(live_server, managed_policies):
    """An instructor's class of two students."""
    instructor = classroom.sign_up_instructor(email="t@school.example", password="Teach-Passw0rd!", name="T")
    ctx = CallContext(Principal.root(instructor.id), origin="console")
    klass, seats = classroom.create_class(ctx, title="IAM 101", students=2)
    return {
        "ctx": ctx,
        "class": klass,
        "org": klass.organization,
        "instructor": instructor,
        "students": [s.seat.account_id for s in seats],
        "client": client(live_server, "organizations", *issue_key(instructor.id)),
    }


def test_the_instructor_reads_the_organization_as_prowler_does(live_server, org):
    organizations, o = org["client"], org["org"]
    described = organizations.describe_organization()["Organization"]
    assert described == {
        "Id": o.id,
        "Arn": f"arn:aws:organizations::{org['instructor'].id}:organization/{o.id}",
        "FeatureSet": "ALL",
        "MasterAccountArn": f"arn:aws:organizations::{org['instructor'].id}:account/{o.id}/{org['instructor'].id}",
        "MasterAccountId": org["instructor"].id,
        "MasterAccountEmail": "t@school.example",
        "AvailablePolicyTypes": [{"Type": "SERVICE_CONTROL_POLICY", "Status": "ENABLED"}],
    }

    found = {}
    for policy_type in PROWLER_TYPES:
        pages = organizations.get_paginator("list_policies").paginate(Filter=policy_type)
        found[policy_type] = [p for page in pages for p in page["Policies"]]
    assert {t: len(p) for t, p in found.items()} == dict.fromkeys(PROWLER_TYPES, 0) | {"SERVICE_CONTROL_POLICY": 1}
    full = found["SERVICE_CONTROL_POLICY"][0]
    assert full == {
        "Id": "p-FullAWSAccess",
        "Arn": "arn:aws:organizations::aws:policy/service_control_policy/p-FullAWSAccess",
        "Name": "FullAWSAccess",
        "Description": "Allows access to every operation",
        "Type": "SERVICE_CONTROL_POLICY",
        "AwsManaged": True,
    }

    policy = organizations.describe_policy(PolicyId="p-FullAWSAccess")["Policy"]
    assert policy["PolicySummary"] == full
    assert json.loads(policy["Content"]) == json.loads(FULL_AWS_ACCESS_DOCUMENT)

    targets = organizations.list_targets_for_policy(PolicyId="p-FullAWSAccess")["Targets"]
    root = o.root
    assert targets[0] == {"TargetId": root.id, "Arn": root.arn, "Name": "Root", "Type": "ROOT"}
    assert sorted(t["TargetId"] for t in targets[1:]) == sorted(org["students"])
    assert {t["Type"] for t in targets[1:]} == {"ACCOUNT"}
    student = org["students"][0]
    assert f"arn:aws:organizations::{org['instructor'].id}:account/{o.id}/{student}" in {t["Arn"] for t in targets}

    pages = organizations.get_paginator("list_delegated_administrators").paginate()
    assert [a for page in pages for a in page["DelegatedAdministrators"]] == []
    by_service = organizations.list_delegated_administrators(ServicePrincipal="securityhub.amazonaws.com")
    assert by_service["DelegatedAdministrators"] == []

    events = AuditEvent.objects.filter(
        account_id=org["instructor"].id, event_source="organizations.amazonaws.com"
    ).exclude(event_name="CreateOrganization")  # the class's creation, by the console
    names = set(events.values_list("event_name", flat=True))
    assert names == {
        "DescribeOrganization",
        "ListPolicies",
        "DescribePolicy",
        "ListTargetsForPolicy",
        "ListDelegatedAdministrators",
    }
    listed = events.filter(event_name="ListPolicies").values_list("record__requestParameters__filter", flat=True)
    assert set(listed) == set(PROWLER_TYPES)
    assert all(events.values_list("read_only", flat=True))
    assert events.filter(event_name="DescribePolicy").get().resource_name.endswith("p-FullAWSAccess")


def test_list_policies_pages_and_targets_name_units(live_server, org):
    ctx, class_id = org["ctx"], org["class"].pk
    for n in range(4):
        classroom.create_policy(ctx, class_id, name=f"deny-s3-{n}", content=DENY_S3)
    unit = classroom.create_organizational_unit(ctx, class_id, parent_id=org["org"].root.id, name="Team A")
    scp = classroom.list_policies(ctx, class_id)[1]
    classroom.attach_policy(ctx, class_id, policy_id=scp.policy_id, target_id=unit.id)
    organizations = org["client"]

    first = organizations.list_policies(Filter="SERVICE_CONTROL_POLICY", MaxResults=2)
    assert [p["Name"] for p in first["Policies"]] == ["FullAWSAccess", "deny-s3-0"] and first["NextToken"]
    second = organizations.list_policies(Filter="SERVICE_CONTROL_POLICY", MaxResults=2, NextToken=first["NextToken"])
    third = organizations.list_policies(Filter="SERVICE_CONTROL_POLICY", MaxResults=2, NextToken=second["NextToken"])
    assert [p["Name"] for p in second["Policies"] + third["Policies"]] == ["deny-s3-1", "deny-s3-2", "deny-s3-3"]
    assert "NextToken" not in third
    custom = second["Policies"][0]
    assert custom["AwsManaged"] is False
    assert custom["Arn"] == (
        f"arn:aws:organizations::{org['instructor'].id}:policy/{org['org'].id}/service_control_policy/{custom['Id']}"
    )
    paged = organizations.get_paginator("list_policies").paginate(
        Filter="SERVICE_CONTROL_POLICY", PaginationConfig={"PageSize": 1}
    )
    assert len([p for page in paged for p in page["Policies"]]) == 5

    content = organizations.describe_policy(PolicyId=scp.policy_id)["Policy"]["Content"]
    assert json.loads(content) == json.loads(DENY_S3)
    targets = organizations.list_targets_for_policy(PolicyId=scp.policy_id)["Targets"]
    assert targets == [{"TargetId": unit.id, "Arn": unit.arn, "Name": "Team A", "Type": "ORGANIZATIONAL_UNIT"}]

    with pytest.raises(ClientError) as err:
        organizations.list_policies(Filter="SERVICE_CONTROL_POLICY", NextToken="not-a-token")
    assert err.value.response["Error"]["Code"] == "InvalidInputException"
    assert err.value.response["Reason"] == "INVALID_NEXT_TOKEN"
    with pytest.raises(ClientError) as err:
        organizations.list_policies(Filter="SERVICE_CONTROL_POLICY", MaxResults=21)
    assert (err.value.response["Error"]["Code"], err.value.response["Reason"]) == (
        "InvalidInputException",
        "MAX_VALUE_EXCEEDED",
    )


def test_errors_of_each_kind_of_caller(live_server, org, account):
    organizations = org["client"]
    with pytest.raises(ClientError) as err:
        organizations.describe_policy(PolicyId="p-abcd1234")
    assert error(err) == ("PolicyNotFoundException", "We can't find a policy with the PolicyId that you specified.")
    with pytest.raises(ClientError) as err:
        organizations.list_targets_for_policy(PolicyId="p-abcd1234")
    assert error(err)[0] == "PolicyNotFoundException"
    with pytest.raises(ClientError) as err:
        organizations.describe_policy(PolicyId="not-a-policy-id")
    assert error(err)[0] == "InvalidInputException" and err.value.response["Reason"] == "INVALID_PATTERN"
    with pytest.raises(ClientError) as err:
        organizations.list_policies(Filter="NOT_A_TYPE")
    assert error(err)[0] == "InvalidInputException" and err.value.response["Reason"] == "INVALID_ENUM"

    # A student: a member account may describe its organization, and nothing AWS keeps to the management account.
    student = client(live_server, "organizations", *issue_key(org["students"][0]))
    assert student.describe_organization()["Organization"]["Id"] == org["org"].id
    assert student.describe_organization()["Organization"]["MasterAccountId"] == org["instructor"].id
    for call in (
        lambda: student.list_policies(Filter="SERVICE_CONTROL_POLICY"),
        lambda: student.describe_policy(PolicyId="p-FullAWSAccess"),
        lambda: student.list_targets_for_policy(PolicyId="p-FullAWSAccess"),
        student.list_delegated_administrators,
    ):
        with pytest.raises(ClientError) as err:
            call()
        assert error(err) == ("AccessDeniedException", "You don't have permissions to access this resource.")

    # An account in no class: no organization, for every operation.
    outsider = client(live_server, "organizations", *issue_key(account.id))
    for call in (
        outsider.describe_organization,
        lambda: outsider.list_policies(Filter="SERVICE_CONTROL_POLICY"),
        lambda: outsider.describe_policy(PolicyId="p-FullAWSAccess"),
        lambda: outsider.list_targets_for_policy(PolicyId="p-FullAWSAccess"),
        outsider.list_delegated_administrators,
    ):
        with pytest.raises(ClientError) as err:
            call()
        assert error(err) == ("AWSOrganizationsNotInUseException", "Your account is not a member of an organization.")

    # An IAM user of the management account with no policy: denied by IAM, under Organizations' code.
    user = create_user(org["ctx"], user_name="auditor")
    nobody = client(live_server, "organizations", *issue_key(org["instructor"].id, IamUser.objects.get(pk=user.pk)))
    with pytest.raises(ClientError) as err:
        nobody.describe_organization()
    code, message = error(err)
    assert code == "AccessDeniedException" and "organizations:DescribeOrganization" in message

    recorded = AuditEvent.objects.filter(event_source="organizations.amazonaws.com")
    assert set(recorded.exclude(error_code="").values_list("account_id", "error_code")) == {
        (org["instructor"].id, "PolicyNotFoundException"),
        (org["instructor"].id, "AccessDeniedException"),
        (org["students"][0], "AccessDeniedException"),
        (account.id, "AWSOrganizationsNotInUseException"),
    }
    denied = recorded.get(account_id=org["instructor"].id, error_code="AccessDeniedException")
    assert (denied.event_name, denied.username) == ("DescribeOrganization", "auditor")
    assert denied.explanation is not None  # the engine's decision, as for every denial


def test_a_management_account_of_several_classes_answers_for_its_oldest(live_server, org):
    classroom.create_class(org["ctx"], title="IAM 201", students=1)
    described = org["client"].describe_organization()["Organization"]
    iam = client(live_server, "iam", *issue_key(org["instructor"].id))
    assert described["Id"] == org["org"].id == iam.list_organizations_features()["OrganizationId"]


def test_the_wire_format_is_aws_json(live_server, org):
    """What botocore hides: the JSON protocol's content type, and errors as ``{"__type", "Message"}``."""
    key_id, secret = issue_key(org["instructor"].id)

    def send(target: str, body: str, service: str = "organizations") -> Answer:
        request = AWSRequest(
            method="POST",
            url=f"{live_server.url}/aws",
            data=body.encode(),
            headers={"Content-Type": "application/x-amz-json-1.1", **({"X-Amz-Target": target} if target else {})},
        )
        SigV4Auth(Credentials(key_id, secret), service, "us-east-1").add_auth(request)
        prepared = request.prepare()
        raw = urllib.request.Request(prepared.url, data=prepared.body, headers=dict(prepared.headers), method="POST")
        try:
            with urllib.request.urlopen(raw, timeout=30) as response:
                return Answer(response.status, response.headers["Content-Type"], json.loads(response.read()))
        except urllib.error.HTTPError as failed:
            return Answer(failed.code, failed.headers["Content-Type"], json.loads(failed.read()))

    ok = send("AWSOrganizationsV20161128.DescribeOrganization", "{}")
    assert (ok.status, ok.content_type) == (200, "application/x-amz-json-1.1")
    assert ok.body["Organization"]["Id"] == org["org"].id
    listed = send("AWSOrganizationsV20161128.ListPolicies", json.dumps({"Filter": "SERVICE_CONTROL_POLICY"}))
    assert listed.body["Policies"][0]["Id"] == "p-FullAWSAccess"

    missing = send("AWSOrganizationsV20161128.ListPolicies", "{}")
    assert (missing.status, missing.content_type) == (400, "application/x-amz-json-1.1")
    assert missing.body == {
        "__type": "InvalidInputException",
        "Message": "You must include a value for all required parameters.",
        "Reason": "INPUT_REQUIRED",
    }
    assert send("AWSOrganizationsV20161128.ListPolicies", "[1").body["__type"] == "SerializationException"
    assert send("AWSOrganizationsV20161128.CreateOrganization", "{}").body["__type"] == "UnknownOperationException"
    no_target = send("", "{}")
    assert (no_target.status, no_target.content_type) == (400, "application/x-amz-json-1.1")
    assert no_target.body["__type"] == "UnknownOperationException"
    wrong_scope = send("AWSOrganizationsV20161128.DescribeOrganization", "{}", service="iam")
    assert wrong_scope.body["__type"] == "InvalidSignatureException"


def test_every_operation_is_decided_under_its_own_action(live_server, org):
    """An IAM user with no policy is refused each operation under ``organizations:<Operation>``, and each refusal
    is recorded under the operation's name (as tests/awsapi/test_every_operation_authorized.py holds for IAM)."""
    from classroom.organizations_api import HANDLERS

    user = create_user(org["ctx"], user_name="nobody")
    nobody = client(live_server, "organizations", *issue_key(org["instructor"].id, IamUser.objects.get(pk=user.pk)))
    params = {"ListPolicies": {"Filter": "SERVICE_CONTROL_POLICY"}, "DescribePolicy": {"PolicyId": "p-FullAWSAccess"}}
    params["ListTargetsForPolicy"] = params["DescribePolicy"]
    for name in HANDLERS:
        method = getattr(nobody, "".join("_" + c.lower() if c.isupper() else c for c in name).lstrip("_"))
        with pytest.raises(ClientError) as err:
            method(**params.get(name, {}))
        code, message = error(err)
        assert code == "AccessDeniedException" and f"organizations:{name}" in message, name
        assert AuditEvent.objects.filter(
            event_source="organizations.amazonaws.com", event_name=name, username="nobody", error_code=code
        ).exists(), name
