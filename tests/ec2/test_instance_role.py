"""The instance's role really works: role credentials for an instance with a profile (a session named after the
instance ID, assumed by ec2.amazonaws.com through the role's trust policy), served by the metadata service in
IMDSv2's shape to its own account only, and the console's "Run as this instance" panel."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from django.test import Client

from audit.models import AuditEvent
from core import clock
from core.context import CallContext, Principal
from ec2 import services
from ec2.instance_credentials import machine_key
from identities import instance_profiles, roles
from identities import services as identities
from policies import services as policies
from s3 import services as s3
from tests.conftest import signed_in_client
from tests.ec2.conftest import AMI, EC2_TRUST, profile_with_role

pytestmark = pytest.mark.django_db

READ_ONLY = "arn:aws:iam::aws:policy/IAMReadOnlyAccess"


@pytest.fixture
def instance(root_ctx, managed_policies):
    profile_with_role(root_ctx)
    policies.attach_role_policy(root_ctx, role_name="app", policy_arn=READ_ONLY)
    return services.run_instances(
        root_ctx, image_id=AMI, min_count=1, max_count=1, iam_instance_profile={"Name": "app"}
    )[0]


def _imds(client, instance, path: str, *, key: str | None = None, token: str | None = None, method: str = "get"):
    base = f"/ec2/imds/{instance.instance_id}/" + (f"{key}/" if key else "")
    headers = {}
    if token is not None:
        headers["X-aws-ec2-metadata-token"] = token
    if method == "put":
        return client.put(base + "latest/" + path, headers={"X-aws-ec2-metadata-token-ttl-seconds": "300"})
    return client.get(base + "latest/" + path, headers=headers)


def test_imdsv2_serves_the_role_session_named_after_the_instance(root_client, instance, account):
    token = _imds(root_client, instance, "api/token", method="put").content.decode()
    assert _imds(root_client, instance, "meta-data/iam/security-credentials/").status_code == 401  # IMDSv1: no
    assert _imds(root_client, instance, "meta-data/iam/security-credentials/", token=token).content == b"app"
    info = json.loads(_imds(root_client, instance, "meta-data/iam/info", token=token).content)
    assert info["Code"] == "Success" and info["InstanceProfileArn"].endswith(":instance-profile/app")
    first = json.loads(_imds(root_client, instance, "meta-data/iam/security-credentials/app", token=token).content)
    assert first["Code"] == "Success" and first["AccessKeyId"].startswith("ASIA")
    assert {"SecretAccessKey", "Token", "Expiration"} <= set(first)
    again = json.loads(_imds(root_client, instance, "meta-data/iam/security-credentials/app", token=token).content)
    assert again["AccessKeyId"] == first["AccessKeyId"]  # kept until due for rotation, as EC2 does
    assumed = AuditEvent.objects.get(event_name="AssumeRole")
    assert assumed.record["userIdentity"] == {"type": "AWSService", "invokedBy": "ec2.amazonaws.com"}
    assert assumed.record["requestParameters"]["roleSessionName"] == instance.instance_id
    assert assumed.record["responseElements"]["assumedRoleUser"]["arn"] == (
        f"arn:aws:sts::{account.id}:assumed-role/app/{instance.instance_id}"
    )
    with clock.frozen(clock.now() + timedelta(hours=6)):  # six hours on: rotated
        rotated = json.loads(
            _imds(
                root_client,
                instance,
                "meta-data/iam/security-credentials/app",
                token=_imds(root_client, instance, "api/token", method="put").content.decode(),
            ).content
        )
    assert rotated["AccessKeyId"] != first["AccessKeyId"]
    assert _imds(root_client, instance, "meta-data/instance-id", token=token).content.decode() == instance.instance_id


def test_metadata_is_reached_from_its_own_account_only(root_client, instance, other_account):
    stranger = signed_in_client(other_account.root_email)
    assert _imds(stranger, instance, "api/token", method="put").status_code == 404
    assert _imds(Client(), instance, "api/token", method="put").status_code == 404  # no session, no key
    assert _imds(Client(), instance, "api/token", method="put", key="forged").status_code == 404
    key = machine_key(instance)
    token = _imds(Client(), instance, "api/token", method="put", key=key).content.decode()
    assert _imds(Client(), instance, "meta-data/iam/security-credentials/", key=key, token=token).content == b"app"
    # A token is good for its own instance only.
    other = services.run_instances(
        CallContext(Principal.root(instance.account_id)), image_id=AMI, min_count=1, max_count=1
    )[0]
    assert _imds(root_client, other, "meta-data/instance-id", token=token).status_code == 401


def test_a_role_that_does_not_trust_ec2_gets_no_credentials(root_ctx, root_client, managed_policies):
    trust = json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [
                {"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole"}
            ],
        }
    )
    profile_with_role(root_ctx, "lambdaonly", trust)
    instance = services.run_instances(
        root_ctx, image_id=AMI, min_count=1, max_count=1, iam_instance_profile={"Name": "lambdaonly"}
    )[0]
    token = _imds(root_client, instance, "api/token", method="put").content.decode()
    body = json.loads(
        _imds(root_client, instance, "meta-data/iam/security-credentials/lambdaonly", token=token).content
    )
    assert body["Code"] == "AssumeRoleUnauthorizedAccess" and "EC2 cannot assume the role lambdaonly" in body["Message"]
    denied = AuditEvent.objects.get(event_name="AssumeRole")
    assert denied.error_code == "AccessDenied" and denied.explanation["outcome"] == "ImplicitDeny"


def test_a_stopped_or_replaced_instance_serves_what_aws_serves(root_ctx, root_client, instance):
    token = _imds(root_client, instance, "api/token", method="put").content.decode()
    first = json.loads(_imds(root_client, instance, "meta-data/iam/security-credentials/app", token=token).content)
    roles.create_role(root_ctx, role_name="other", assume_role_policy_document=EC2_TRUST)
    instance_profiles.create_instance_profile(root_ctx, instance_profile_name="other")
    instance_profiles.add_role_to_instance_profile(root_ctx, instance_profile_name="other", role_name="other")
    instance.refresh_from_db()
    services.replace_iam_instance_profile_association(
        root_ctx, association_id=instance.association_id, iam_instance_profile={"Name": "other"}
    )
    assert _imds(root_client, instance, "meta-data/iam/security-credentials/app", token=token).status_code == 404
    other = json.loads(_imds(root_client, instance, "meta-data/iam/security-credentials/other", token=token).content)
    assert other["AccessKeyId"] != first["AccessKeyId"]
    services.stop_instances(root_ctx, instance_ids=[instance.instance_id])
    assert _imds(root_client, instance, "meta-data/iam/security-credentials/other", token=token).status_code == 404


def test_run_as_this_instance_panel(root_client, instance, account):
    url = f"/ec2/instances/{instance.instance_id}/run"
    page = root_client.post(
        url, {"command": "aws sts get-caller-identity"}, headers={"HX-Request": "true", "HX-Target": "run-output"}
    )
    assert page.status_code == 200
    identity = json.loads(page.context["result"].output)
    assert identity["Arn"] == f"arn:aws:sts::{account.id}:assumed-role/app/{instance.instance_id}"
    assert b'id="run-output"' in page.content and b"<html" not in page.content
    event = AuditEvent.objects.get(event_name="GetCallerIdentity")
    assert event.username == instance.instance_id
    assert event.record["userIdentity"]["type"] == "AssumedRole"
    assert event.record["userIdentity"]["arn"].endswith(f"assumed-role/app/{instance.instance_id}")
    assert event.record["sourceIPAddress"] == instance.private_ip

    listed = root_client.post(url, {"command": "aws iam list-roles"})
    assert '"RoleName": "app"' in listed.context["result"].output  # IAMReadOnlyAccess on the role

    denied = root_client.post(url, {"command": "aws ec2 describe-instances"}).context["result"]
    assert not denied.ok and denied.code == "UnauthorizedOperation"
    assert (
        f"assumed-role/app/{instance.instance_id} is not authorized to perform: ec2:DescribeInstances" in denied.output
    )
    assert denied.explanation["missing_layer"] == "identity"

    unknown = root_client.post(url, {"command": "rm -rf /"}).context["result"]
    assert not unknown.ok and "This panel runs only" in unknown.output


def test_console_pages(root_client, root_ctx, managed_policies):
    profile_with_role(root_ctx)
    assert root_client.get("/ec2/instances").status_code == 200
    launched = root_client.post(
        "/ec2/instances/launch",
        {
            "name": "web",
            "image_id": AMI,
            "instance_type": "t3.micro",
            "profile": "app",
            "tag_key": ["team", ""],
            "tag_value": ["blue", ""],
        },
    )
    assert launched.status_code == 302
    instance_id = launched["Location"].rsplit("/", 1)[1]
    page = root_client.get(f"/ec2/instances/{instance_id}")
    assert page.status_code == 200 and b"instance-profile/app" in page.content and b"blue" in page.content
    root_client.post(f"/ec2/instances/{instance_id}/state", {"action": "stop"})
    root_client.post(f"/ec2/instances/{instance_id}/tags", {"action": "add", "key": "env", "value": "dev"})
    root_client.post(f"/ec2/instances/{instance_id}/tags", {"action": "remove", "key": "team"})
    root_client.post(f"/ec2/instances/{instance_id}/profile", {"profile": ""})
    rows, _ = services.describe_instances(root_ctx, instance_ids=[instance_id])
    assert rows[0].state == "stopped" and rows[0].tag_dict == {"Name": "web", "env": "dev"} and not rows[0].profile_arn
    bad = root_client.post("/ec2/instances/launch", {"image_id": AMI, "instance_type": "t9.huge"})
    assert bad.status_code == 400 and b"Invalid value &#x27;t9.huge&#x27; for InstanceType." in bad.content
    assert root_client.get("/ec2/instances/i-0123456789abcdef0").status_code == 404


def test_console_denials_are_explained(root_ctx, account, managed_policies):
    identities.create_user(root_ctx, user_name="viewer")
    identities.create_login_profile(
        root_ctx, user_name="viewer", password="Viewer-Passw0rd!", password_reset_required=False
    )
    policies.put_user_policy(
        root_ctx,
        user_name="viewer",
        policy_name="describe",
        policy_document=json.dumps(
            {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "ec2:Describe*", "Resource": "*"}]}
        ),
    )
    services.run_instances(root_ctx, image_id=AMI, min_count=1, max_count=1)
    viewer = Client()
    viewer.post(f"/signin/{account.id}", {"username": "viewer", "password": "Viewer-Passw0rd!"})
    assert viewer.get("/ec2/instances").status_code == 200
    denied = viewer.post("/ec2/instances/launch", {"image_id": AMI, "instance_type": "t2.micro"})
    assert denied.status_code == 403
    assert denied.context["explanation"]["action"] == "ec2:RunInstances"
    assert b"UnauthorizedOperation: You are not authorized to perform this operation." in denied.content
    assert b"Decoded authorization failure message" not in denied.content


def test_the_app_on_the_instance_reads_s3_through_its_role(root_ctx, root_client, instance, account):
    """The seed's example made real: no stored keys, the instance's role reads the bucket and cannot write it."""
    policies.attach_role_policy(root_ctx, role_name="app", policy_arn="arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess")
    s3.create_bucket(root_ctx, bucket="team-bucket-ec2")
    s3.put_object(root_ctx, bucket="team-bucket-ec2", key="reports/q1.txt", body=b"quarter one\n")
    url = f"/ec2/instances/{instance.instance_id}/run"

    def run(command: str):
        return root_client.post(url, {"command": command}).context["result"]

    assert "team-bucket-ec2" in run("aws s3 ls").output
    listing = run("aws s3 ls s3://team-bucket-ec2/")
    assert listing.ok and "PRE reports/" in listing.output
    assert run("aws s3 cp s3://team-bucket-ec2/reports/q1.txt -").output == "quarter one\n"
    denied = run("echo hello | aws s3 cp - s3://team-bucket-ec2/hello.txt")
    assert not denied.ok and denied.code == "AccessDenied"
    assert "when calling the PutObject operation" in denied.output
    assert denied.explanation["action"] == "s3:PutObject"
    reads = AuditEvent.objects.filter(username=instance.instance_id, event_source="s3.amazonaws.com")
    assert {"ListBuckets", "ListObjects", "GetObject", "PutObject"} & set(reads.values_list("event_name", flat=True))
    get = reads.get(event_name="GetObject")
    assert get.record["userIdentity"]["arn"] == f"arn:aws:sts::{account.id}:assumed-role/app/{instance.instance_id}"
