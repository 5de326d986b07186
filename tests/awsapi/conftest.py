"""Fixtures for the Query API: a live server and boto3 clients signed with real access keys."""

from __future__ import annotations

import boto3
import pytest
from botocore.config import Config

from core import clock, ids
from core.secrets import encrypt
from identities.models import AccessKey, IamUser


def issue_key(account_id: str, user: IamUser | None = None) -> tuple[str, str]:
    """A long-term key for a user (or root), stored the way the access-key service stores it."""
    key_id, secret = ids.new_access_key_id(), ids.new_secret_access_key()
    AccessKey.objects.create(
        account_id=account_id,
        user=user,
        access_key_id=key_id,
        secret_encrypted=encrypt(secret),
        status="Active",
        created_at=clock.now(),
    )
    return key_id, secret


def client(live_server, service: str, key_id: str, secret: str, token: str | None = None):
    return boto3.client(
        service,
        endpoint_url=f"{live_server.url}/aws",
        region_name="us-east-1",
        aws_access_key_id=key_id,
        aws_secret_access_key=secret,
        aws_session_token=token,
        config=Config(retries={"max_attempts": 1}, connect_timeout=5, read_timeout=30),
    )


@pytest.fixture
def root_keys(account, managed_policies):
    return issue_key(account.id)


@pytest.fixture
def iam(live_server, root_keys):
    return client(live_server, "iam", *root_keys)


@pytest.fixture
def sts_client(live_server, root_keys):
    return client(live_server, "sts", *root_keys)


@pytest.fixture(autouse=True)
def responses_carry_required_members(monkeypatch):
    """Every response any Query API test makes the server send is parsed back with botocore and must carry each
    member its output shape marks as required, at every depth (issue 14 §3); the walk in test_param_walk.py does
    the same for every operation."""
    from awsapi.protocol import serializer
    from tests.awsapi.test_param_walk import missing_required, parse_response

    problems: list[str] = []
    serialize = serializer.serialize

    def checked(service, operation, result, request_id):
        body = serialize(service, operation, result, request_id)
        if operation.output_shape is not None:
            problems.extend(missing_required(operation.output_shape, parse_response(operation, body), operation.name))
        return body

    monkeypatch.setattr(serializer, "serialize", checked)
    yield
    assert not problems, f"responses without required members: {problems}"
