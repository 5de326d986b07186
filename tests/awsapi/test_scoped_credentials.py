"""STS GetScopedCredentials through boto3 against a live server: the same identity with fewer permissions (each
scope-down policy intersected with the session's), never outliving the calling session, and refused to long-term
credentials."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from botocore.exceptions import ClientError

from identities.models import IamUser
from tests.awsapi.conftest import client, issue_key

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def code(err: pytest.ExceptionInfo) -> str:
    return err.value.response["Error"]["Code"]


def allow(*actions: str) -> str:
    statement = {"Effect": "Allow", "Action": list(actions), "Resource": "*"}
    return json.dumps({"Version": "2012-10-17", "Statement": [statement]})


def session(live_server, creds: dict, service: str):
    return client(live_server, service, creds["AccessKeyId"], creds["SecretAccessKey"], creds["SessionToken"])


@pytest.fixture
def role_session(live_server, iam, account):
    """A role session allowed to read IAM (users and groups) and to scope its own credentials down."""
    trust = {
        "Version": "2012-10-17",
        "Statement": [
            {"Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{account.id}:root"}, "Action": "sts:AssumeRole"}
        ],
    }
    iam.create_role(RoleName="reader", AssumeRolePolicyDocument=json.dumps(trust))
    iam.put_role_policy(
        RoleName="reader",
        PolicyName="p",
        PolicyDocument=allow("iam:ListUsers", "iam:ListGroups", "sts:GetScopedCredentials"),
    )
    iam.create_user(UserName="dev")
    iam.put_user_policy(UserName="dev", PolicyName="p", PolicyDocument=allow("sts:AssumeRole"))
    dev = client(live_server, "sts", *issue_key(account.id, IamUser.objects.get(name="dev")))
    out = dev.assume_role(RoleArn=f"arn:aws:iam::{account.id}:role/reader", RoleSessionName="work")
    return out["Credentials"], out["AssumedRoleUser"]


def test_scope_down_keeps_the_identity_and_intersects(live_server, role_session, account):
    creds, user = role_session
    sts = session(live_server, creds, "sts")
    out = sts.get_scoped_credentials(Policy=allow("iam:ListUsers", "sts:GetScopedCredentials"))
    assert out["SessionInfo"] == {"ScopedSessionId": user["AssumedRoleId"], "Arn": user["Arn"]}
    assert out["ScopedPoliciesCount"] == 1
    assert out["Credentials"]["Expiration"] == creds["Expiration"]  # inherits the session's expiry
    scoped = out["Credentials"]
    assert session(live_server, scoped, "sts").get_caller_identity()["Arn"] == user["Arn"]
    scoped_iam = session(live_server, scoped, "iam")
    assert scoped_iam.list_users()["Users"] is not None  # the role and the scope both allow it
    with pytest.raises(ClientError) as err:
        scoped_iam.list_groups()  # the role allows it, the scope does not
    assert code(err) == "AccessDenied"
    session(live_server, creds, "iam").list_groups()  # the original credentials keep their permissions

    # A second layer intersects with the first: ListGroups stays refused even if the new layer allows it.
    again = session(live_server, scoped, "sts").get_scoped_credentials(Policy=allow("iam:ListGroups", "iam:ListUsers"))
    assert again["ScopedPoliciesCount"] == 2
    twice = session(live_server, again["Credentials"], "iam")
    twice.list_users()
    with pytest.raises(ClientError) as err:
        twice.list_groups()
    assert code(err) == "AccessDenied"


def test_duration_and_callers(live_server, role_session, iam, account):
    creds, _ = role_session
    sts = session(live_server, creds, "sts")
    short = sts.get_scoped_credentials(DurationSeconds=60)
    assert short["ScopedPoliciesCount"] == 0
    assert short["Credentials"]["Expiration"] - dt.datetime.now(dt.UTC) <= dt.timedelta(seconds=60)
    with pytest.raises(ClientError) as err:
        sts.get_scoped_credentials(DurationSeconds=7200)  # longer than the session has left
    assert code(err) == "InsufficientSessionLifetime"
    with pytest.raises(ClientError) as err:
        sts.get_scoped_credentials()
    assert code(err) == "ValidationError"
    with pytest.raises(ClientError) as err:
        sts.get_scoped_credentials(Policy='{"Statement": "nope"}')
    assert code(err) == "MalformedPolicyDocument"

    root_sts = client(live_server, "sts", *issue_key(account.id))
    with pytest.raises(ClientError) as err:
        root_sts.get_scoped_credentials(Policy=allow("s3:*"))  # long-term credentials
    assert code(err) == "InvalidSubjectCredentials"
    # Root's GetSessionToken credentials are temporary: those may be scoped down.
    token = root_sts.get_session_token()["Credentials"]
    scoped = session(live_server, token, "sts").get_scoped_credentials(Policy=allow("iam:ListUsers"))
    scoped_iam = session(live_server, scoped["Credentials"], "iam")
    scoped_iam.list_users()
    with pytest.raises(ClientError) as err:
        scoped_iam.list_roles()
    assert code(err) == "AccessDenied"
