"""Effective permissions shown on user and group pages, computed by the engine over the action catalog."""

from __future__ import annotations

import re

from identities import services
from policies import services as policy_services


def rows(html: str) -> dict[str, str]:
    """Service prefix → access level, from the Effective permissions table."""
    section = html.split('data-testid="effective-permissions"')[1]
    return dict(re.findall(r'<span class="muted mono">([\w-]+)</span></td><td>([^<]*)</td>', section))


def test_user_effective_permissions_respect_the_boundary(root_ctx, root_client, managed_policies):
    services.create_user(root_ctx, user_name="carol")
    for name in ("AmazonS3FullAccess", "IAMReadOnlyAccess"):
        policy_services.attach_user_policy(root_ctx, user_name="carol", policy_arn=f"arn:aws:iam::aws:policy/{name}")
    found = rows(root_client.get("/iam/users/carol?tab=effective").content.decode())
    assert found["s3"] == "Full access"
    assert found["iam"].startswith("Full: List") and "Write" not in found["iam"]
    services.put_user_permissions_boundary(
        root_ctx, user_name="carol", permissions_boundary="arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess"
    )
    bounded = rows(root_client.get("/iam/users/carol?tab=effective").content.decode())
    assert "Write" not in bounded["s3"] and "iam" not in bounded


def test_group_and_empty_user(root_ctx, root_client, managed_policies):
    services.create_user(root_ctx, user_name="dave")
    assert "Nothing is allowed" in root_client.get("/iam/users/dave?tab=effective").content.decode()
    services.create_group(root_ctx, group_name="ops")
    policy_services.attach_group_policy(
        root_ctx, group_name="ops", policy_arn="arn:aws:iam::aws:policy/AmazonEC2ReadOnlyAccess"
    )
    assert "ec2" in rows(root_client.get("/iam/groups/ops?tab=effective").content.decode())


def test_role_effective_permissions_follow_its_policies_and_boundary(root_ctx, root_client, managed_policies):
    import json

    from identities import roles

    trust = json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [
                {"Effect": "Allow", "Principal": {"Service": "ec2.amazonaws.com"}, "Action": "sts:AssumeRole"}
            ],
        }
    )
    roles.create_role(root_ctx, role_name="app", assume_role_policy_document=trust)
    assert "Nothing is allowed" in root_client.get("/iam/roles/app?tab=effective").content.decode()
    policy_services.attach_role_policy(
        root_ctx, role_name="app", policy_arn="arn:aws:iam::aws:policy/AmazonS3FullAccess"
    )
    assert rows(root_client.get("/iam/roles/app?tab=effective").content.decode())["s3"] == "Full access"
    roles.put_role_permissions_boundary(
        root_ctx, role_name="app", permissions_boundary="arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess"
    )
    assert "Write" not in rows(root_client.get("/iam/roles/app?tab=effective").content.decode())["s3"]
