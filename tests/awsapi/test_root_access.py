"""Centralized root access over a class's organization through boto3: IAM's organization features, STS AssumeRoot
limited by its task policy, and the Organizations access report."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from botocore.exceptions import ClientError

from audit import delivery
from classroom import services as classroom
from core.context import CallContext, Principal
from identities.models import IamUser
from identities.services import create_user
from tests.awsapi.conftest import client, issue_key

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

AUDIT = {"arn": "arn:aws:iam::aws:policy/root-task/IAMAuditRootUserCredentials"}


def code(err: pytest.ExceptionInfo) -> str:
    return err.value.response["Error"]["Code"]


@pytest.fixture
def org(live_server, managed_policies, tmp_path, settings):
    """An instructor's class of two students, and an IAM administrator of the instructor's account (AssumeRoot
    refuses root user credentials)."""
    settings.DATA_DIR = tmp_path
    instructor = classroom.sign_up_instructor(email="t@school.example", password="Teach-Passw0rd!", name="T")
    ctx = CallContext(Principal.root(instructor.id), origin="console")
    klass, seats = classroom.create_class(ctx, title="IAM 101", students=2)
    admin = create_user(ctx, user_name="admin")
    iam_root = client(live_server, "iam", *issue_key(instructor.id))
    allow_all = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}
    iam_root.put_user_policy(UserName="admin", PolicyName="all", PolicyDocument=json.dumps(allow_all))
    keys = issue_key(instructor.id, IamUser.objects.get(pk=admin.pk))
    return {
        "org": klass.organization,
        "students": [s.seat.account_id for s in seats],
        "iam": client(live_server, "iam", *keys),
        "sts": client(live_server, "sts", *keys),
        "root_sts": client(live_server, "sts", *issue_key(instructor.id)),
    }


def test_features_and_assume_root(live_server, org, account):
    iam, sts = org["iam"], org["sts"]
    student = org["students"][0]
    features = iam.list_organizations_features()
    assert (features["OrganizationId"], features["EnabledFeatures"]) == (org["org"].id, [])
    with pytest.raises(ClientError) as err:
        sts.assume_root(TargetPrincipal=student, TaskPolicyArn=AUDIT)
    assert code(err) == "AccessDenied"  # root sessions are not enabled yet

    assert iam.enable_organizations_root_credentials_management()["EnabledFeatures"] == ["RootCredentialsManagement"]
    enabled = iam.enable_organizations_root_sessions()
    assert enabled["EnabledFeatures"] == ["RootCredentialsManagement", "RootSessions"]

    out = sts.assume_root(TargetPrincipal=student, TaskPolicyArn=AUDIT)
    creds = out["Credentials"]
    assert creds["Expiration"] - dt.datetime.now(dt.UTC) <= dt.timedelta(seconds=900)
    assert out["SourceIdentity"] == "admin"
    member_sts = client(live_server, "sts", creds["AccessKeyId"], creds["SecretAccessKey"], creds["SessionToken"])
    assert member_sts.get_caller_identity()["Arn"] == f"arn:aws:iam::{student}:root"
    member_iam = client(live_server, "iam", creds["AccessKeyId"], creds["SecretAccessKey"], creds["SessionToken"])
    assert member_iam.list_access_keys()["AccessKeyMetadata"] == []  # the task policy allows auditing root
    with pytest.raises(ClientError) as err:
        member_iam.create_user(UserName="intruder")  # and nothing else
    assert code(err) == "AccessDenied"

    with pytest.raises(ClientError) as err:
        sts.assume_root(TargetPrincipal=student, TaskPolicyArn=AUDIT, DurationSeconds=901)
    assert code(err) == "ValidationError"
    with pytest.raises(ClientError) as err:
        sts.assume_root(TargetPrincipal=student, TaskPolicyArn={"arn": "arn:aws:iam::aws:policy/AdministratorAccess"})
    assert code(err) == "InvalidInput"
    with pytest.raises(ClientError) as err:
        sts.assume_root(TargetPrincipal=account.id, TaskPolicyArn=AUDIT)  # not a member of the organization
    assert code(err) == "AccessDenied"
    with pytest.raises(ClientError) as err:
        org["root_sts"].assume_root(TargetPrincipal=student, TaskPolicyArn=AUDIT)
    assert code(err) == "AccessDenied" and "root user" in err.value.response["Error"]["Message"]

    iam.disable_organizations_root_sessions()
    assert iam.list_organizations_features()["EnabledFeatures"] == ["RootCredentialsManagement"]
    with pytest.raises(ClientError) as err:
        sts.assume_root(TargetPrincipal=student, TaskPolicyArn=AUDIT)
    assert code(err) == "AccessDenied"
    iam.disable_organizations_root_credentials_management()
    assert iam.list_organizations_features()["EnabledFeatures"] == []


def test_features_outside_a_management_account(live_server, org, iam):
    member = client(live_server, "iam", *issue_key(org["students"][0]))
    with pytest.raises(ClientError) as err:
        member.list_organizations_features()
    assert code(err) == "AccountNotManagementOrDelegatedAdministratorException"
    with pytest.raises(ClientError) as err:
        iam.enable_organizations_root_sessions()  # an account in no organization
    assert code(err) == "OrganizationNotFoundException"


def test_organizations_access_report(live_server, org):
    student = org["students"][0]
    client(live_server, "iam", *issue_key(student)).list_users()  # the student uses IAM
    delivery.deliver_pending()
    root_id = org["org"].root.id
    iam = org["iam"]
    job = iam.generate_organizations_access_report(EntityPath=f"{org['org'].id}/{root_id}")["JobId"]
    report = iam.get_organizations_access_report(JobId=job, SortKey="LAST_AUTHENTICATED_TIME_DESCENDING")
    assert report["JobStatus"] == "COMPLETED"
    first = report["AccessDetails"][0]
    assert first["ServiceNamespace"] == "iam" and first["TotalAuthenticatedEntities"] == 1
    assert first["EntityPath"] == f"{org['org'].id}/{root_id}/{student}"
    assert report["NumberOfServicesNotAccessed"] == report["NumberOfServicesAccessible"] - 1

    other = org["students"][1]
    job = iam.generate_organizations_access_report(EntityPath=f"{org['org'].id}/{root_id}/{other}")["JobId"]
    report = iam.get_organizations_access_report(JobId=job, MaxItems=5)
    assert report["IsTruncated"] and all("LastAuthenticatedTime" not in d for d in report["AccessDetails"])
    with pytest.raises(ClientError) as err:
        iam.generate_organizations_access_report(EntityPath="o-aaaaaaaaaa/r-aaaa")
    assert code(err) == "InvalidInput"
