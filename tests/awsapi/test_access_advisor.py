"""Access advisor through boto3 against a live server: GenerateServiceLastAccessedDetails and its reports, fed by the
same delivered audit data as the console's Last accessed tab, and ListPoliciesGrantingServiceAccess."""

from __future__ import annotations

import json

import pytest
from botocore.exceptions import ClientError

from audit import delivery
from identities.models import IamUser
from tests.awsapi.conftest import client, issue_key

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

S3_READ = "arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess"
IAM_READ = "arn:aws:iam::aws:policy/IAMReadOnlyAccess"


def code(err: pytest.ExceptionInfo) -> str:
    return err.value.response["Error"]["Code"]


@pytest.fixture
def alice(live_server, iam, account, tmp_path, settings):
    """alice: IAMReadOnlyAccess directly, AmazonS3ReadOnlyAccess through the group readers, an inline EC2 policy;
    she has called IAM (ListUsers), and the trail has been delivered."""
    settings.DATA_DIR = tmp_path
    iam.create_user(UserName="alice")
    iam.attach_user_policy(UserName="alice", PolicyArn=IAM_READ)
    iam.create_group(GroupName="readers")
    iam.add_user_to_group(GroupName="readers", UserName="alice")
    iam.attach_group_policy(GroupName="readers", PolicyArn=S3_READ)
    ec2 = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "ec2:Describe*", "Resource": "*"}]}
    iam.put_user_policy(UserName="alice", PolicyName="ec2-read", PolicyDocument=json.dumps(ec2))
    alice_iam = client(live_server, "iam", *issue_key(account.id, IamUser.objects.get(name="alice")))
    alice_iam.list_users()
    delivery.deliver_pending()
    return f"arn:aws:iam::{account.id}:user/alice"


def test_user_report(iam, alice):
    job = iam.generate_service_last_accessed_details(Arn=alice)["JobId"]
    report = iam.get_service_last_accessed_details(JobId=job)
    assert report["JobStatus"] == "COMPLETED" and report["JobType"] == "SERVICE_LEVEL"
    by_ns = {s["ServiceNamespace"]: s for s in report["ServicesLastAccessed"]}
    assert set(by_ns) >= {"iam", "s3", "ec2"}
    assert by_ns["iam"]["LastAuthenticatedEntity"] == alice and by_ns["iam"]["TotalAuthenticatedEntities"] == 1
    assert "LastAuthenticated" in by_ns["iam"]
    assert "LastAuthenticated" not in by_ns["s3"] and by_ns["s3"]["TotalAuthenticatedEntities"] == 0
    assert report["ServicesLastAccessed"][0]["ServiceNamespace"] == "iam"  # accessed first

    page = iam.get_service_last_accessed_details(JobId=job, MaxItems=1)
    assert page["IsTruncated"] and len(page["ServicesLastAccessed"]) == 1

    actions = iam.get_service_last_accessed_details(
        JobId=iam.generate_service_last_accessed_details(Arn=alice, Granularity="ACTION_LEVEL")["JobId"]
    )
    iam_row = next(s for s in actions["ServicesLastAccessed"] if s["ServiceNamespace"] == "iam")
    assert "ListUsers" in [a["ActionName"] for a in iam_row["TrackedActionsLastAccessed"]]


def test_group_and_policy_reports_with_entities(iam, alice, account):
    group_job = iam.generate_service_last_accessed_details(Arn=f"arn:aws:iam::{account.id}:group/readers")["JobId"]
    services = iam.get_service_last_accessed_details(JobId=group_job)["ServicesLastAccessed"]
    assert "s3" in {s["ServiceNamespace"] for s in services}
    entities = iam.get_service_last_accessed_details_with_entities(JobId=group_job, ServiceNamespace="iam")
    assert [(e["EntityInfo"]["Name"], e["EntityInfo"]["Type"]) for e in entities["EntityDetailsList"]] == [
        ("alice", "USER")
    ]
    assert "LastAuthenticated" in entities["EntityDetailsList"][0]

    policy_job = iam.generate_service_last_accessed_details(Arn=IAM_READ)["JobId"]
    policy_services = iam.get_service_last_accessed_details(JobId=policy_job)["ServicesLastAccessed"]
    assert [s["ServiceNamespace"] for s in policy_services if "LastAuthenticated" in s] == ["iam"]
    users = iam.get_service_last_accessed_details_with_entities(JobId=policy_job, ServiceNamespace="s3")
    assert [e["EntityInfo"]["Arn"] for e in users["EntityDetailsList"]] == [alice]
    assert "LastAuthenticated" not in users["EntityDetailsList"][0]  # alice never used S3


def test_list_policies_granting_service_access(iam, alice):
    out = iam.list_policies_granting_service_access(Arn=alice, ServiceNamespaces=["s3", "ec2", "iam", "lambda"])
    by_ns = {e["ServiceNamespace"]: e["Policies"] for e in out["PoliciesGrantingServiceAccess"]}
    assert by_ns["s3"] == [{"PolicyName": "AmazonS3ReadOnlyAccess", "PolicyType": "MANAGED", "PolicyArn": S3_READ}]
    assert by_ns["ec2"] == [
        {"PolicyName": "ec2-read", "PolicyType": "INLINE", "EntityType": "USER", "EntityName": "alice"}
    ]
    assert [p["PolicyName"] for p in by_ns["iam"]] == ["IAMReadOnlyAccess"]
    assert by_ns["lambda"] == []


def test_errors_and_authorization(live_server, iam, account, alice):
    with pytest.raises(ClientError) as err:
        iam.generate_service_last_accessed_details(Arn=f"arn:aws:iam::{account.id}:user/nobody")
    assert code(err) == "NoSuchEntity"
    with pytest.raises(ClientError) as err:
        iam.generate_service_last_accessed_details(Arn="arn:aws:s3:::classroom-bucket")
    assert code(err) == "InvalidInput"
    with pytest.raises(ClientError) as err:
        iam.get_service_last_accessed_details(JobId="00000000-0000-0000-0000-000000000000")
    assert code(err) == "NoSuchEntity"
    with pytest.raises(ClientError) as err:
        iam.list_policies_granting_service_access(Arn=IAM_READ, ServiceNamespaces=["iam"])
    assert code(err) == "InvalidInput"  # users, groups and roles only

    # A job is the account's own: alice (with only read access to IAM) may read it, nobody else's account can.
    job = iam.generate_service_last_accessed_details(Arn=alice)["JobId"]
    alice_iam = client(live_server, "iam", *issue_key(account.id, IamUser.objects.get(name="alice")))
    assert alice_iam.get_service_last_accessed_details(JobId=job)["JobStatus"] == "COMPLETED"
    iam.create_user(UserName="bob")
    bob = client(live_server, "iam", *issue_key(account.id, IamUser.objects.get(name="bob")))
    with pytest.raises(ClientError) as err:
        bob.generate_service_last_accessed_details(Arn=alice)
    assert code(err) == "AccessDenied"
