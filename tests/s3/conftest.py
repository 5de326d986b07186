"""Fixtures for the S3 practice service: users of account A (alpha) and B (bravo) with inline policies, their
call contexts, and boto3 S3 clients signed with their real access keys against the live server."""

from __future__ import annotations

import json

import boto3
import pytest
from botocore.config import Config

from core.context import CallContext, Principal
from identities.credentials import create_access_key
from identities.services import Tag as IamTag
from identities.services import create_user
from policies.services import put_user_policy


def policy(*statements: dict) -> str:
    return json.dumps({"Version": "2012-10-17", "Statement": list(statements)})


def allow(action: str | list[str], resource: str | list[str] = "*", **extra) -> dict:
    return {"Effect": "Allow", "Action": action, "Resource": resource, **extra}


def deny(action: str | list[str], resource: str | list[str] = "*", **extra) -> dict:
    return {"Effect": "Deny", "Action": action, "Resource": resource, **extra}


def make_user(root: CallContext, name: str, document: str | None = None, tags: dict[str, str] | None = None):
    """A user of root's account with an inline policy; returns (its CallContext, (key id, secret))."""
    user = create_user(root, user_name=name, tags=[IamTag(k, v) for k, v in (tags or {}).items()])
    if document is not None:
        put_user_policy(root, user_name=name, policy_name="s3", policy_document=document)
    new = create_access_key(root, user_name=name)
    ctx = CallContext(
        Principal("IAMUser", root.account_id, user.arn, user.name, user.user_id, user_pk=user.pk),
        origin="api",
        user_agent="pytest",
    )
    return ctx, (new.key.access_key_id, new.secret_access_key)


def s3_client(live_server, key_id: str, secret: str, token: str | None = None, **config):
    return boto3.client(
        "s3",
        endpoint_url=f"{live_server.url}/s3",
        region_name="us-east-1",
        aws_access_key_id=key_id,
        aws_secret_access_key=secret,
        aws_session_token=token,
        config=Config(
            s3={"addressing_style": "path"}, retries={"max_attempts": 1}, connect_timeout=5, read_timeout=30, **config
        ),
    )


@pytest.fixture
def root_keys(account, managed_policies):
    from tests.awsapi.conftest import issue_key

    return issue_key(account.id)


@pytest.fixture
def s3(live_server, root_keys):
    return s3_client(live_server, *root_keys)
