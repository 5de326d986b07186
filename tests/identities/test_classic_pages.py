"""Console pages of issue 14's classic operations: the group's Edit page, the SSH public key and service-specific
credential sections of a user's Security credentials tab, and the STS token setting in Account settings."""

from __future__ import annotations

import html
import re

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from identities import services, user_credentials
from identities.models import Account, Group, ServiceSpecificCredential, SshPublicKey
from policies import services as policy_services

pytestmark = pytest.mark.django_db


def plain(response) -> str:
    return re.sub(r"\s+", " ", html.unescape(re.sub(r"<[^>]+>", " ", response.content.decode())))


def ssh_rsa() -> str:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048).public_key()
    return key.public_bytes(serialization.Encoding.OpenSSH, serialization.PublicFormat.OpenSSH).decode()


def test_group_edit_renames_and_keeps_members_and_policies(root_client, root_ctx):
    services.create_user(root_ctx, user_name="alice")
    services.create_group(root_ctx, group_name="Managers")
    services.add_user_to_group(root_ctx, group_name="Managers", user_name="alice")
    policy_services.attach_group_policy(
        root_ctx, group_name="Managers", policy_arn="arn:aws:iam::aws:policy/ReadOnlyAccess"
    )
    detail = root_client.get("/iam/groups/Managers")
    assert 'href="/iam/groups/Managers/edit"' in detail.content.decode()
    assert root_client.get("/iam/groups/Managers/edit").status_code == 200

    response = root_client.post("/iam/groups/Managers/edit", {"group_name": "MGRs"})

    assert response.status_code == 302 and response["Location"] == "/iam/groups/MGRs"
    group = Group.objects.get(account_id=root_ctx.account_id)
    assert group.name == "MGRs" and group.arn.endswith(":group/MGRs")
    assert [u.name for u in group.users.all()] == ["alice"]
    assert group.policy_attachments.count() == 1
    page = plain(root_client.get("/iam/groups/MGRs"))
    assert "alice" in page


def test_group_edit_shows_aws_errors_and_changes_nothing(root_client, root_ctx):
    services.create_group(root_ctx, group_name="a")
    services.create_group(root_ctx, group_name="b")
    taken = root_client.post("/iam/groups/a/edit", {"group_name": "B"})
    assert taken.status_code == 409 and "Group with name B already exists." in plain(taken)
    bad = root_client.post("/iam/groups/a/edit", {"group_name": "has space"})
    assert bad.status_code == 400 and "failed to satisfy constraint" in plain(bad)
    assert sorted(Group.objects.values_list("name", flat=True)) == ["a", "b"]
    assert root_client.get("/iam/groups/ghost/edit").status_code == 404


def test_ssh_keys_on_the_security_credentials_tab(root_client, root_ctx):
    services.create_user(root_ctx, user_name="alice")
    tab = plain(root_client.get("/iam/users/alice?tab=security_credentials"))
    assert "SSH public keys for AWS CodeCommit (0)" in tab and "No SSH public keys" in tab

    refused = root_client.post("/iam/users/alice/ssh_keys/upload", {"ssh_public_key_body": "not a key"})
    assert refused.status_code == 400 and "unsupported or unrecognized" in plain(refused)
    body = ssh_rsa()
    uploaded = root_client.post("/iam/users/alice/ssh_keys/upload", {"ssh_public_key_body": body})
    assert uploaded.status_code == 302
    key = SshPublicKey.objects.get()
    tab = plain(root_client.get("/iam/users/alice?tab=security_credentials"))
    assert "SSH public keys for AWS CodeCommit (1)" in tab and key.key_id in tab
    shown = plain(root_client.get(f"/iam/users/alice/ssh_keys/show?ssh_public_key_id={key.key_id}"))
    assert key.fingerprint in shown and body.split()[1][:40] in shown

    root_client.post("/iam/users/alice/ssh_keys/action", {"ssh_public_key_id": key.key_id, "action": "Inactive"})
    assert SshPublicKey.objects.get().status == "Inactive"
    root_client.post("/iam/users/alice/ssh_keys/action", {"ssh_public_key_id": key.key_id, "action": "delete"})
    assert not SshPublicKey.objects.exists()


def test_git_credentials_password_is_shown_once(root_client, root_ctx, account):
    services.create_user(root_ctx, user_name="alice")
    response = root_client.post(
        "/iam/users/alice/service_credentials", {"action": "generate", "service_name": "codecommit.amazonaws.com"}
    )
    assert response.status_code == 200 and response["Cache-Control"] == "no-store"
    password = re.search(r'data-testid="service-password">([^<]+)<', response.content.decode()).group(1)
    credential = ServiceSpecificCredential.objects.get()
    assert credential.service_user_name == f"alice-at-{account.id}" and password not in credential.password_hash
    tab = root_client.get("/iam/users/alice?tab=security_credentials").content.decode()
    assert credential.service_user_name in tab and password not in tab
    assert "HTTPS Git credentials for AWS CodeCommit (1)" in plain(
        root_client.get("/iam/users/alice?tab=security_credentials")
    )
    root_client.post(
        "/iam/users/alice/service_credentials", {"action": "delete", "credential_id": credential.credential_id}
    )
    assert not ServiceSpecificCredential.objects.exists()


def test_account_settings_sts_token_version(root_client, root_ctx, account):
    page = plain(root_client.get("/iam/account_settings"))
    assert "Global endpoint: valid only in AWS Regions enabled by default" in page
    response = root_client.post("/iam/account_settings/sts", {"global_endpoint_token_version": "v2Token"})
    assert response.status_code == 302
    assert Account.objects.get(pk=account.id).global_endpoint_token_version == "v2Token"
    assert "Global endpoint: valid in all AWS Regions" in plain(root_client.get("/iam/account_settings"))
    assert user_credentials.global_endpoint_token_version(account.id) == "v2Token"


def test_console_delete_user_removes_ssh_keys_certificates_and_service_credentials(root_client, root_ctx):
    services.create_user(root_ctx, user_name="dave")
    user_credentials.upload_ssh_public_key(root_ctx, user_name="dave", ssh_public_key_body=ssh_rsa())
    user_credentials.create_service_specific_credential(
        root_ctx, user_name="dave", service_name="codecommit.amazonaws.com"
    )
    response = root_client.post("/iam/users/dave/delete", {"confirm": "dave"})
    assert response.status_code == 302
    assert not SshPublicKey.objects.exists() and not ServiceSpecificCredential.objects.exists()
