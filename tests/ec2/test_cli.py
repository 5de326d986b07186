"""The real AWS CLI against the practice EC2 service, reached the way the README says: AWS_ENDPOINT_URL_EC2."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from audit.models import AuditEvent
from tests.ec2.conftest import AMI, profile_with_role

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
        AWS_ENDPOINT_URL_EC2=f"{live_server.url}/ec2",
        AWS_MAX_ATTEMPTS="1",
        HOME=str(tmp_path),
    )

    def run(*args: str, ok: bool = True) -> dict:
        done = subprocess.run([AWS, *args], capture_output=True, text=True, env=env, timeout=120)
        if ok:
            assert done.returncode == 0, done.stderr
            return json.loads(done.stdout) if done.stdout.strip() else {}
        assert done.returncode != 0
        return {"stderr": done.stderr}

    return run


def test_instances_with_the_cli(aws, root_ctx):
    profile_with_role(root_ctx)
    launched = aws(
        "ec2",
        "run-instances",
        "--image-id",
        AMI,
        "--instance-type",
        "t2.micro",
        "--iam-instance-profile",
        "Name=app",
        "--tag-specifications",
        "ResourceType=instance,Tags=[{Key=Name,Value=web}]",
    )
    instance_id = launched["Instances"][0]["InstanceId"]
    described = aws(
        "ec2",
        "describe-instances",
        "--filters",
        "Name=tag:Name,Values=web",
        "Name=instance-state-name,Values=running",
        "--query",
        "Reservations[].Instances[].[InstanceId,InstanceType,IamInstanceProfile.Arn]",
    )
    assert described == [[instance_id, "t2.micro", f"arn:aws:iam::{root_ctx.account_id}:instance-profile/app"]]
    aws("ec2", "create-tags", "--resources", instance_id, "--tags", "Key=env,Value=dev")
    stopped = aws("ec2", "stop-instances", "--instance-ids", instance_id)
    assert stopped["StoppingInstances"][0]["CurrentState"]["Name"] == "stopping"
    assert aws("ec2", "describe-instance-types", "--instance-types", "t2.micro")["InstanceTypes"][0]["FreeTierEligible"]
    failed = aws("ec2", "terminate-instances", "--instance-ids", "i-0000000000000000f", ok=False)
    assert "InvalidInstanceID.NotFound" in failed["stderr"]
    failed = aws("ec2", "describe-instances", "--instance-ids", "web", ok=False)
    assert "InvalidInstanceID.Malformed" in failed["stderr"]
    names = set(AuditEvent.objects.filter(event_source="ec2.amazonaws.com").values_list("event_name", flat=True))
    assert {"RunInstances", "DescribeInstances", "CreateTags", "StopInstances", "TerminateInstances"} <= names
