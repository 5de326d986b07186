"""STS GetFederationToken through boto3 against a live server: a federated-user session whose permissions are the
intersection of the calling user's policies and the session policies passed, AWS's duration rules, and the callers
AWS refuses."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from botocore.exceptions import ClientError

from audit.models import AuditEvent
from identities.models import IamUser
from tests.awsapi.conftest import client, issue_key

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def code(err: pytest.ExceptionInfo) -> str:
    return err.value.response["Error"]["Code"]


def allow(*actions: str) -> str:
    return json.dumps(
        {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": list(actions), "Resource": "*"}]}
    )


@pytest.fixture
def proxy(live_server, iam, account):
    """The proxy application's IAM user: may read IAM users and groups, and call GetFederationToken."""
    iam.create_user(UserName="proxy")
    iam.put_user_policy(
        UserName="proxy",
        PolicyName="p",
        PolicyDocument=allow("sts:GetFederationToken", "iam:ListUsers", "iam:ListGroups", "s3:ListAllMyBuckets"),
    )
    return client(live_server, "sts", *issue_key(account.id, IamUser.objects.get(name="proxy")))


def federated(live_server, creds: dict, service: str = "sts"):
    return client(live_server, service, creds["AccessKeyId"], creds["SecretAccessKey"], creds["SessionToken"])


def test_federated_user_session_and_identity(live_server, proxy, account):
    out = proxy.get_federation_token(Name="Bob", Policy=allow("s3:*"))
    assert out["FederatedUser"] == {
        "FederatedUserId": f"{account.id}:Bob",
        "Arn": f"arn:aws:sts::{account.id}:federated-user/Bob",
    }
    expires = out["Credentials"]["Expiration"]
    assert dt.timedelta(hours=11, minutes=59) < expires - dt.datetime.now(dt.UTC) <= dt.timedelta(hours=12)
    assert out["Credentials"]["AccessKeyId"].startswith("ASIA")
    me = federated(live_server, out["Credentials"]).get_caller_identity()
    assert me["Arn"] == f"arn:aws:sts::{account.id}:federated-user/Bob" and me["UserId"] == f"{account.id}:Bob"
    issued = AuditEvent.objects.get(event_name="GetFederationToken")
    assert issued.record["requestParameters"]["name"] == "Bob"
    assert "secretAccessKey" not in json.dumps(issued.record) and "sessionToken" not in json.dumps(issued.record)


def test_permissions_are_the_intersection_and_no_iam_or_sts(live_server, proxy, account):
    # The session policy allows IAM reads and S3; the user allows ListUsers but not GetUser. IAM is refused to
    # federated users whatever the policies say.
    creds = proxy.get_federation_token(Name="Bob", Policy=allow("iam:*", "s3:*"))["Credentials"]
    with pytest.raises(ClientError) as err:
        federated(live_server, creds, "iam").list_users()
    assert code(err) == "AccessDenied"
    with pytest.raises(ClientError) as err:
        federated(live_server, creds).get_federation_token(Name="Again", Policy=allow("s3:*"))
    assert code(err) == "AccessDenied"
    assert "session credentials" in err.value.response["Error"]["Message"]

    # The intersection, read through the engine that decides every call (the simulator's path).
    from core.context import CallContext
    from policies.authz import decide
    from sts.models import TemporaryCredential
    from sts.services import principal_for

    def outcome(name: str, action: str) -> str:
        credential = TemporaryCredential.objects.get(session_name=name)
        ctx = CallContext(principal_for(credential), origin="api")
        return decide(ctx, action, "*", {}).outcome

    assert outcome("Bob", "s3:ListAllMyBuckets") == "Allow"  # both allow it
    assert outcome("Bob", "s3:GetObject") == "ImplicitDeny"  # the session allows it, the user does not
    proxy.get_federation_token(Name="NoPolicy")
    assert outcome("NoPolicy", "s3:ListAllMyBuckets") == "ImplicitDeny"  # no session policy: no permissions
    proxy.get_federation_token(Name="Managed", PolicyArns=[{"arn": "arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess"}])
    assert outcome("Managed", "s3:ListAllMyBuckets") == "Allow"


def test_duration_and_input_rules(live_server, iam, proxy, account):
    short = proxy.get_federation_token(Name="Bob", Policy=allow("s3:*"), DurationSeconds=900)["Credentials"]
    assert short["Expiration"] - dt.datetime.now(dt.UTC) <= dt.timedelta(seconds=900)
    for bad in ({"DurationSeconds": 129601}, {"Name": "has space"}):  # (botocore itself checks the minimums)
        with pytest.raises(ClientError) as err:
            proxy.get_federation_token(**{"Name": "Bob", **bad})
        assert code(err) == "ValidationError"
    with pytest.raises(ClientError) as err:
        proxy.get_federation_token(Name="Bob", Policy='{"Statement": "nope"}')
    assert code(err) == "MalformedPolicyDocument"

    # The root user may call it (AWS discourages it), capped at one hour.
    root_sts = client(live_server, "sts", *issue_key(account.id))
    capped = root_sts.get_federation_token(Name="RootFed", Policy=allow("s3:*"), DurationSeconds=7200)
    assert capped["Credentials"]["Expiration"] - dt.datetime.now(dt.UTC) <= dt.timedelta(hours=1)

    # A role session may not.
    trust = {
        "Version": "2012-10-17",
        "Statement": [
            {"Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{account.id}:root"}, "Action": "sts:AssumeRole"}
        ],
    }
    iam.create_role(RoleName="r", AssumeRolePolicyDocument=json.dumps(trust))
    iam.put_role_policy(RoleName="r", PolicyName="p", PolicyDocument=allow("sts:GetFederationToken"))
    iam.put_user_policy(UserName="proxy", PolicyName="assume", PolicyDocument=allow("sts:AssumeRole"))
    role_creds = proxy.assume_role(RoleArn=f"arn:aws:iam::{account.id}:role/r", RoleSessionName="proxy-session")[
        "Credentials"
    ]
    with pytest.raises(ClientError) as err:
        federated(live_server, role_creds).get_federation_token(Name="Bob", Policy=allow("s3:*"))
    assert code(err) == "AccessDenied"


def test_needs_permission(live_server, iam, account):
    iam.create_user(UserName="nobody")
    nobody = client(live_server, "sts", *issue_key(account.id, IamUser.objects.get(name="nobody")))
    with pytest.raises(ClientError) as err:
        nobody.get_federation_token(Name="Bob", Policy=allow("s3:*"))
    assert code(err) == "AccessDenied"
    assert f"sts:GetFederationToken on resource: arn:aws:sts::{account.id}:federated-user/Bob" in str(err.value)
