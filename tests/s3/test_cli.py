"""The real AWS CLI (``aws s3`` and ``aws s3api``) against the live server, with ``AWS_ENDPOINT_URL_S3``."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from audit.models import AuditEvent
from s3.models import S3Object
from tests.s3.conftest import allow, make_user, policy

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

AWS = str(Path(sys.executable).with_name("aws"))


@pytest.fixture
def aws(tmp_path, live_server):
    def profile(keys: tuple[str, str]):
        credentials, config = tmp_path / f"credentials-{keys[0]}", tmp_path / "config"
        credentials.write_text(f"[default]\naws_access_key_id = {keys[0]}\naws_secret_access_key = {keys[1]}\n")
        config.write_text("[default]\nregion = us-east-1\noutput = json\ns3 =\n  addressing_style = path\n")
        env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
        env.update(
            AWS_CONFIG_FILE=str(config),
            AWS_SHARED_CREDENTIALS_FILE=str(credentials),
            AWS_ENDPOINT_URL_S3=f"{live_server.url}/s3",
            AWS_MAX_ATTEMPTS="1",
            HOME=str(tmp_path),
        )

        def run(*args: str, ok: bool = True) -> subprocess.CompletedProcess:
            done = subprocess.run([AWS, *args], capture_output=True, text=True, env=env, timeout=120, cwd=tmp_path)
            assert (done.returncode == 0) == ok, done.stderr
            return done

        return run

    return profile


def test_ls_cp_rm_and_s3api(aws, root_keys, tmp_path, root_ctx):
    root = aws(root_keys)
    root("s3", "mb", "s3://cli-bucket")
    assert "cli-bucket" in root("s3", "ls").stdout
    upload = tmp_path / "notes.txt"
    upload.write_text("from the CLI\n")
    root("s3", "cp", str(upload), "s3://cli-bucket/docs/notes.txt")
    listed = root("s3", "ls", "s3://cli-bucket/docs/").stdout
    assert "notes.txt" in listed and "13" in listed
    root("s3", "cp", "s3://cli-bucket/docs/notes.txt", str(tmp_path / "back.txt"))
    assert (tmp_path / "back.txt").read_text() == "from the CLI\n"
    head = json.loads(root("s3api", "head-object", "--bucket", "cli-bucket", "--key", "docs/notes.txt").stdout)
    assert head["ContentLength"] == 13
    _, keys = make_user(root_ctx, "alice", policy(allow("s3:ListBucket", "arn:aws:s3:::cli-bucket")))
    alice = aws(keys)
    assert "docs/" in alice("s3", "ls", "s3://cli-bucket").stdout
    denied = alice("s3", "cp", str(upload), "s3://cli-bucket/alice.txt", ok=False)
    assert "AccessDenied" in denied.stderr and "s3:PutObject" in denied.stderr
    root("s3", "rm", "s3://cli-bucket/docs/notes.txt")
    assert not S3Object.objects.exists()
    root("s3api", "delete-bucket", "--bucket", "cli-bucket")
    names = set(AuditEvent.objects.values_list("event_name", flat=True))
    assert {"CreateBucket", "PutObject", "GetObject", "ListObjects", "DeleteObject", "DeleteBucket"} <= names


def test_s3api_list_objects_pages_with_the_clis_own_paginator(aws, root_keys, root_ctx):
    """``aws s3api list-objects`` is ListObjects version 1: the CLI pages it by Marker/NextMarker itself."""
    from s3 import services

    services.create_bucket(root_ctx, bucket="cli-v1")
    keys = ["a.txt", "logs/1.log", "logs/2.log", "z.txt"]
    for key in keys:
        services.put_object(root_ctx, bucket="cli-v1", key=key, body=b"x")
    root = aws(root_keys)
    listed = json.loads(root("s3api", "list-objects", "--bucket", "cli-v1", "--page-size", "1").stdout)
    assert [c["Key"] for c in listed["Contents"]] == keys
    grouped = json.loads(
        root("s3api", "list-objects", "--bucket", "cli-v1", "--delimiter", "/", "--page-size", "1").stdout
    )
    assert [c["Key"] for c in grouped["Contents"]] == ["a.txt", "z.txt"]
    assert grouped["CommonPrefixes"] == [{"Prefix": "logs/"}]
    first = json.loads(root("s3api", "list-objects", "--bucket", "cli-v1", "--max-items", "2").stdout)
    assert [c["Key"] for c in first["Contents"]] == keys[:2] and first["NextToken"]
