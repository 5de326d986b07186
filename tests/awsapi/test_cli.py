"""The real AWS CLI (from PyPI, as a subprocess) against a live server: the classic scenario, a user's own key,
and a role assumed by the CLI's own AssumeRole flow from a profile with role_arn + source_profile."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from audit.models import AuditEvent

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

AWS = str(Path(sys.executable).with_name("aws"))


@pytest.fixture
def aws(tmp_path, live_server, root_keys):
    credentials, config = tmp_path / "credentials", tmp_path / "config"
    credentials.write_text(f"[default]\naws_access_key_id = {root_keys[0]}\naws_secret_access_key = {root_keys[1]}\n")
    config.write_text("[default]\nregion = us-east-1\noutput = json\n")
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env.update(
        AWS_CONFIG_FILE=str(config),
        AWS_SHARED_CREDENTIALS_FILE=str(credentials),
        AWS_ENDPOINT_URL=f"{live_server.url}/aws",
        AWS_MAX_ATTEMPTS="1",
        HOME=str(tmp_path),
    )

    def run(*args: str, profile: str = "default", ok: bool = True) -> dict:
        done = subprocess.run([AWS, *args, "--profile", profile], capture_output=True, text=True, env=env, timeout=120)
        if ok:
            assert done.returncode == 0, done.stderr
            return json.loads(done.stdout) if done.stdout.strip() else {}
        assert done.returncode != 0
        return {"stderr": done.stderr}

    run.credentials, run.config = credentials, config  # type: ignore[attr-defined]
    return run


def test_classic_scenario_with_the_cli(aws, account):
    acct = account.id
    alice = aws("iam", "create-user", "--user-name", "Alice")["User"]
    assert alice["Arn"] == f"arn:aws:iam::{acct}:user/Alice"
    aws("iam", "create-group", "--group-name", "Developers")
    aws("iam", "add-user-to-group", "--group-name", "Developers", "--user-name", "Alice")
    aws(
        "iam",
        "attach-group-policy",
        "--group-name",
        "Developers",
        "--policy-arn",
        "arn:aws:iam::aws:policy/IAMReadOnlyAccess",
    )
    aws(
        "iam",
        "put-user-policy",
        "--user-name",
        "Alice",
        "--policy-name",
        "assume-admin",
        "--policy-document",
        json.dumps(
            {
                "Version": "2012-10-17",
                "Statement": [
                    {"Effect": "Allow", "Action": "sts:AssumeRole", "Resource": f"arn:aws:iam::{acct}:role/Admin"}
                ],
            }
        ),
    )
    trust = {
        "Version": "2012-10-17",
        "Statement": [
            {"Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{acct}:user/Alice"}, "Action": "sts:AssumeRole"}
        ],
    }
    aws("iam", "create-role", "--role-name", "Admin", "--assume-role-policy-document", json.dumps(trust))
    aws(
        "iam",
        "attach-role-policy",
        "--role-name",
        "Admin",
        "--policy-arn",
        "arn:aws:iam::aws:policy/AdministratorAccess",
    )
    key = aws("iam", "create-access-key", "--user-name", "Alice")["AccessKey"]
    assert key["AccessKeyId"].startswith("AKIA") and len(key["SecretAccessKey"]) == 40

    with aws.credentials.open("a") as f:
        f.write(
            f"[alice]\naws_access_key_id = {key['AccessKeyId']}\naws_secret_access_key = {key['SecretAccessKey']}\n"
        )
    with aws.config.open("a") as f:
        f.write(
            f"[profile alice]\nregion = us-east-1\n[profile admin]\nrole_arn = arn:aws:iam::{acct}:role/Admin\n"
            "source_profile = alice\nrole_session_name = alice-admin\nregion = us-east-1\n"
        )

    assert aws("sts", "get-caller-identity", profile="alice")["Arn"] == f"arn:aws:iam::{acct}:user/Alice"
    assert "Alice" in [u["UserName"] for u in aws("iam", "list-users", profile="alice")["Users"]]
    denied = aws("iam", "create-user", "--user-name", "Mallory", profile="alice", ok=False)["stderr"]
    assert "AccessDenied" in denied and f"User: arn:aws:iam::{acct}:user/Alice is not authorized" in denied

    identity = aws("sts", "get-caller-identity", profile="admin")
    assert identity["Arn"] == f"arn:aws:sts::{acct}:assumed-role/Admin/alice-admin"
    assert aws("iam", "create-user", "--user-name", "Bob", profile="admin")["User"]["UserName"] == "Bob"
    last_used = aws("iam", "get-access-key-last-used", "--access-key-id", key["AccessKeyId"])["AccessKeyLastUsed"]
    assert last_used["ServiceName"] in ("iam", "sts")

    events = AuditEvent.objects.filter(account_id=acct)
    create_alice = events.get(event_name="CreateUser", record__requestParameters__userName="Alice")
    assert "aws-cli/" in create_alice.record["userAgent"] and create_alice.record["sourceIPAddress"] == "127.0.0.1"
    assert create_alice.record["userIdentity"]["type"] == "Root"
    assume = events.get(event_name="AssumeRole")
    assert assume.record["userIdentity"]["accessKeyId"] == key["AccessKeyId"]
    assert assume.record["userIdentity"]["arn"] == f"arn:aws:iam::{acct}:user/Alice"
    bob = events.get(event_name="CreateUser", record__requestParameters__userName="Bob")
    assert bob.record["userIdentity"]["type"] == "AssumedRole" and bob.record["userIdentity"]["accessKeyId"].startswith(
        "ASIA"
    )
    denied_event = events.get(event_name="CreateUser", record__requestParameters__userName="Mallory")
    assert denied_event.record["errorCode"] == "AccessDenied"
