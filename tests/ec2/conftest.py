"""Fixtures for the practice EC2 service: boto3 clients on ``/ec2`` of a live server, signed with real keys."""

from __future__ import annotations

import json
from urllib.parse import urlencode

import boto3
import pytest
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.config import Config
from botocore.credentials import Credentials
from botocore.parsers import create_parser
from botocore.serialize import create_serializer
from django.test import RequestFactory

from awsapi import wsgi
from console.services import user_principal
from core.context import CallContext
from core.validation import service_model
from identities import instance_profiles, roles
from identities import services as identities
from identities.models import IamUser
from policies import services as policies
from tests.awsapi.conftest import issue_key

AMI = "ami-0a3c3a20c09d6f377"
EC2_TRUST = json.dumps(
    {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Principal": {"Service": "ec2.amazonaws.com"}, "Action": "sts:AssumeRole"}],
    }
)


def ec2_client(live_server, key_id: str, secret: str, token: str | None = None):
    return boto3.client(
        "ec2",
        endpoint_url=f"{live_server.url}/ec2",
        region_name="us-east-1",
        aws_access_key_id=key_id,
        aws_secret_access_key=secret,
        aws_session_token=token,
        config=Config(retries={"max_attempts": 1}, connect_timeout=5, read_timeout=30),
    )


def user_with_policy(root_ctx: CallContext, name: str, statements: list[dict] | None) -> tuple[IamUser, CallContext]:
    """An IAM user with an inline policy of ``statements`` (none: no policy at all) and its console context."""
    user = identities.create_user(root_ctx, user_name=name)
    if statements is not None:
        policies.put_user_policy(
            root_ctx,
            user_name=name,
            policy_name="ec2",
            policy_document=json.dumps({"Version": "2012-10-17", "Statement": statements}),
        )
    return user, CallContext(user_principal(user), user_agent="pytest", origin="api")


def profile_with_role(root_ctx: CallContext, name: str = "app", trust: str = EC2_TRUST) -> str:
    """An instance profile ``name`` holding the role ``name``; its ARN."""
    roles.create_role(root_ctx, role_name=name, assume_role_policy_document=trust)
    profile = instance_profiles.create_instance_profile(root_ctx, instance_profile_name=name)
    instance_profiles.add_role_to_instance_profile(root_ctx, instance_profile_name=name, role_name=name)
    return profile.arn


@pytest.fixture
def ec2(live_server, root_keys):
    return ec2_client(live_server, *root_keys)


@pytest.fixture
def user_keys():
    """Access keys for a user: ``user_keys(user)`` → (key id, secret)."""

    def make(user: IamUser) -> tuple[str, str]:
        return issue_key(user.account_id, user)

    return make


@pytest.fixture
def root_keys(account, managed_policies):
    return issue_key(account.id)


class Ec2Wire:
    """Signed EC2 requests through ``/ec2``'s one entry (``awsapi.wsgi.endpoint``) without a live server: botocore
    serializes and signs them, and parses the answer with its own EC2 parser."""

    def __init__(self, key_id: str, secret: str, token: str | None = None) -> None:
        self.credentials = Credentials(key_id, secret, token)
        self.factory = RequestFactory()

    def raw(self, body: str, *, sign: bool = True, service: str = "ec2", path: str = "/ec2/"):
        request = AWSRequest(
            method="POST",
            url=f"http://testserver{path}",
            data=body,
            headers={"Content-Type": "application/x-www-form-urlencoded; charset=utf-8"},
        )
        headers = {}
        if sign:
            SigV4Auth(self.credentials, service, "us-east-1").add_auth(request)
            headers = {
                "HTTP_AUTHORIZATION": request.headers["Authorization"],
                "HTTP_X_AMZ_DATE": request.headers["X-Amz-Date"],
            }
            if self.credentials.token:
                headers["HTTP_X_AMZ_SECURITY_TOKEN"] = self.credentials.token
        return wsgi.endpoint(
            self.factory.post(
                path, data=body, content_type=request.headers["Content-Type"], HTTP_USER_AGENT="wire-test", **headers
            )
        )

    def call(self, operation: str, **params):
        model = service_model("ec2").operation_model(operation)
        wire = create_serializer("ec2").serialize_to_request(params, model)
        response = self.raw(urlencode(wire["body"]))
        parsed = create_parser("ec2").parse(
            {"body": response.content, "headers": dict(response.headers), "status_code": response.status_code},
            model.output_shape,
        )
        return response.status_code, parsed


@pytest.fixture
def wire_for():
    """``wire_for(user)``: an Ec2Wire signed with a new key of ``user`` (None: the account's root)."""

    def make(user: IamUser | None, account_id: str | None = None) -> Ec2Wire:
        return Ec2Wire(*issue_key(account_id or user.account_id, user))

    return make
