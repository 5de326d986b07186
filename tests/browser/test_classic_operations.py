"""Issue 14's console pages in Chromium: rename a user group from its Edit page, upload an SSH public key on a
user's Security credentials tab, and switch the STS global endpoint token version in Account settings."""

from __future__ import annotations

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519
from playwright.sync_api import Page, expect

from identities import services
from identities.models import Account, Group, SshPublicKey
from tests.browser.conftest import shot
from tests.browser.test_classic_scenario import expect_title, sign_in_as_root

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_rename_group_upload_ssh_key_and_sts_setting(page: Page, account, root_ctx):
    sign_in_as_root(page, account)
    services.create_user(root_ctx, user_name="alice")
    services.create_group(root_ctx, group_name="Managers")
    services.add_user_to_group(root_ctx, group_name="Managers", user_name="alice")

    page.goto("/iam/groups/Managers")
    page.get_by_test_id("group-edit").click()
    expect_title(page, "Edit user group name")
    field = page.get_by_label("User group name")
    field.fill("")
    field.press_sequentially("MGRs", delay=60)
    page.get_by_role("button", name="Save changes").click()
    expect_title(page, "MGRs")
    expect(page.get_by_test_id("group-arn")).to_have_text(f"arn:aws:iam::{account.id}:group/MGRs")
    expect(page.get_by_role("link", name="alice")).to_be_visible()  # the member followed the group
    shot(page, "classic-ops-01-group-renamed")
    assert Group.objects.get(account_id=account.id).name == "MGRs"

    key = (
        ed25519.Ed25519PrivateKey.generate()
        .public_key()
        .public_bytes(serialization.Encoding.OpenSSH, serialization.PublicFormat.OpenSSH)
        .decode()
    )
    page.goto("/iam/users/alice?tab=security_credentials")
    expect(page.get_by_test_id("ssh-keys-section")).to_contain_text("SSH public keys for AWS CodeCommit (0)")
    page.get_by_test_id("upload-ssh-key").click()
    expect_title(page, "Upload SSH public key")
    page.get_by_label("SSH public key").press_sequentially(key, delay=10)
    page.get_by_role("button", name="Upload SSH public key").click()
    stored = SshPublicKey.objects.get()
    expect(page.get_by_test_id("ssh-keys")).to_contain_text(stored.key_id)
    expect(page.get_by_test_id("ssh-keys-section")).to_contain_text("SSH public keys for AWS CodeCommit (1)")
    shot(page, "classic-ops-02-ssh-key")

    page.goto("/iam/account_settings")
    page.get_by_text("Edit global endpoint session tokens").click()
    page.get_by_label("Valid in all AWS Regions").check()
    page.get_by_role("button", name="Save changes").click()
    expect(page.get_by_test_id("sts-token-version")).to_have_text("Global endpoint: valid in all AWS Regions")
    assert Account.objects.get(pk=account.id).global_endpoint_token_version == "v2Token"
    shot(page, "classic-ops-03-sts")
    assert page.console_errors == []
