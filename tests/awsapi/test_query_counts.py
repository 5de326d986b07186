"""SQL round trips of one Query API call (issue 6): authentication is one query and authorization one more, however
many groups and policies the caller has, and nothing cached between calls hides a change.

boto3 signs each request as usual; its ``before-send`` hook hands the request to Django's test client instead of
the network, so the whole server side runs (middleware, SigV4, authorization, the service, the audit row)."""

from __future__ import annotations

import json

import boto3
import pytest
from botocore.awsrequest import AWSResponse
from botocore.exceptions import ClientError
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from identities import roles
from identities import services as identities
from identities.models import IamUser
from policies import services as policies
from tests.awsapi.conftest import issue_key

IAM_ALL = json.dumps({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "iam:*", "Resource": "*"}]})
READ_S3 = json.dumps(
    {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"}]}
)


class _Raw:
    def __init__(self, body: bytes) -> None:
        self.body = body

    def stream(self, *args, **kwargs):
        yield self.body


def in_process(service: str, key_id: str, secret: str, token: str | None = None):
    django_client = Client()
    boto = boto3.client(
        service,
        endpoint_url="http://testserver/aws",
        region_name="us-east-1",
        aws_access_key_id=key_id,
        aws_secret_access_key=secret,
        aws_session_token=token,
    )

    def send(request, **kwargs):
        def text(value):
            return value.decode() if isinstance(value, bytes) else value

        headers = {
            f"HTTP_{k.upper().replace('-', '_')}": text(v)
            for k, v in request.headers.items()
            if k.lower() not in ("content-type", "content-length")
        }
        response = django_client.generic(
            request.method, "/aws", request.body, content_type=text(request.headers.get("Content-Type", "")), **headers
        )
        return AWSResponse(request.url, response.status_code, dict(response.headers.items()), _Raw(response.content))

    boto.meta.events.register(f"before-send.{service}", send)
    return boto


def queries(call) -> list[str]:
    call()  # warm-up: parsed documents are cached per process
    with CaptureQueriesContext(connection) as captured:
        call()
    return [q["sql"] for q in captured.captured_queries]


def equip(root_ctx, user_name: str) -> None:
    """Three groups with an attached and an inline policy each, an inline policy and tags on the user."""
    for i in range(3):
        identities.create_group(root_ctx, group_name=f"team{i}")
        identities.add_user_to_group(root_ctx, group_name=f"team{i}", user_name=user_name)
        policies.attach_group_policy(
            root_ctx, group_name=f"team{i}", policy_arn="arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess"
        )
        policies.put_group_policy(root_ctx, group_name=f"team{i}", policy_name="s3", policy_document=READ_S3)
    policies.put_user_policy(root_ctx, user_name=user_name, policy_name="s3", policy_document=READ_S3)
    identities.tag_user(root_ctx, user_name=user_name, tags=[identities.Tag("team", "blue")])


@pytest.fixture
def dev(db, account, root_ctx, managed_policies):
    identities.create_user(root_ctx, user_name="dev")
    policy = policies.create_policy(root_ctx, policy_name="IamAll", policy_document=IAM_ALL)
    policies.attach_user_policy(root_ctx, user_name="dev", policy_arn=policy.arn)
    return in_process("iam", *issue_key(account.id, IamUser.objects.get(name="dev")))


def test_an_iam_users_call_costs_the_same_queries_however_many_policies_it_has(dev, root_ctx):
    plain = queries(lambda: dev.get_user(UserName="dev"))
    equip(root_ctx, "dev")
    equipped = queries(lambda: dev.get_user(UserName="dev"))
    assert len(equipped) == len(plain)
    # One query finds the key, its user, and every policy, the tags and the organization.
    assert sum("identities_accesskey" in sql for sql in equipped) == 1
    assert sum("policies_inlinepolicy" in sql for sql in equipped) == 1
    assert [sql for sql in equipped if "identities_accesskey" in sql] == [
        sql for sql in equipped if "policies_inlinepolicy" in sql
    ]


def test_a_role_sessions_call_costs_the_same_queries_however_many_policies_its_role_has(
    db, account, root_ctx, managed_policies
):
    trust = json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [
                {"Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{account.id}:root"}, "Action": "sts:AssumeRole"}
            ],
        }
    )
    roles.create_role(root_ctx, role_name="Worker", assume_role_policy_document=trust)
    policies.put_role_policy(root_ctx, role_name="Worker", policy_name="iam", policy_document=IAM_ALL)
    identities.create_user(root_ctx, user_name="dev")
    policies.put_user_policy(
        root_ctx,
        user_name="dev",
        policy_name="assume",
        policy_document=json.dumps(
            {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "sts:AssumeRole", "Resource": "*"}]}
        ),
    )
    keys = issue_key(account.id, IamUser.objects.get(name="dev"))
    creds = in_process("sts", *keys).assume_role(
        RoleArn=f"arn:aws:iam::{account.id}:role/Worker", RoleSessionName="s1"
    )["Credentials"]
    iam = in_process("iam", creds["AccessKeyId"], creds["SecretAccessKey"], creds["SessionToken"])
    plain = queries(lambda: iam.get_user(UserName="dev"))
    for i, name in enumerate(("AmazonS3ReadOnlyAccess", "AmazonEC2ReadOnlyAccess", "ReadOnlyAccess")):
        policies.attach_role_policy(root_ctx, role_name="Worker", policy_arn=f"arn:aws:iam::aws:policy/{name}")
        policies.put_role_policy(root_ctx, role_name="Worker", policy_name=f"s3-{i}", policy_document=READ_S3)
    equipped = queries(lambda: iam.get_user(UserName="dev"))
    assert len(equipped) == len(plain)
    assert sum("policies_inlinepolicy" in sql for sql in equipped) == 1


def test_a_change_to_the_callers_policies_applies_to_the_very_next_call(dev, root_ctx, account):
    dev.get_user(UserName="dev")
    policies.detach_user_policy(root_ctx, user_name="dev", policy_arn=f"arn:aws:iam::{account.id}:policy/IamAll")
    with pytest.raises(ClientError) as err:
        dev.get_user(UserName="dev")
    assert err.value.response["Error"]["Code"] == "AccessDenied"
    policies.put_user_policy(root_ctx, user_name="dev", policy_name="back", policy_document=IAM_ALL)
    assert dev.get_user(UserName="dev")["User"]["UserName"] == "dev"
    # A new revision of the same inline policy is read, not the parsed one from before.
    policies.put_user_policy(root_ctx, user_name="dev", policy_name="back", policy_document=READ_S3)
    with pytest.raises(ClientError):
        dev.get_user(UserName="dev")
