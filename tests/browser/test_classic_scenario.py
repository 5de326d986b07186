"""The classic scenario, clicked through in Debian's Chromium as a new user would: sign in as root, create Alice
with console access and two AWS managed policies, create the Developers group with a policy and add Alice, create
a customer managed policy and a second version. Screenshots are saved under artifacts/screenshots/."""

from __future__ import annotations

import csv
import io

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import shot
from tests.conftest import ROOT_PASSWORD

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

POLICY = """{
    "Version": "2012-10-17",
    "Statement": [
        {"Sid": "ReadReports", "Effect": "Allow", "Action": "s3:GetObjekt", "Resource": "arn:aws:s3:::reports/*"}
    ]
}"""


def test_classic_scenario(page, account):
    page.goto("/iam/users")
    assert "/signin" in page.url
    page.get_by_label("Root user email address").fill(account.root_email)
    page.get_by_label("Password").fill(ROOT_PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", name="Users")).to_be_visible()
    page.goto("/")
    expect(page.get_by_test_id("account-id")).to_have_text(account.id)
    shot(page, "01-dashboard")

    # Create user Alice with console access and two AWS managed policies.
    page.goto("/iam/users")
    page.get_by_role("link", name="Create user").click()
    page.get_by_label("User name").fill("Alice")
    page.get_by_text("Provide user access to the AWS Management Console").click()
    page.get_by_text("Custom password", exact=True).click()
    page.get_by_role("textbox", name="Custom password").fill("Alice-Passw0rd!")
    shot(page, "02-create-user-step1")
    page.get_by_role("button", name="Next").click()
    page.get_by_text("Attach policies directly").click()
    for name in ("AmazonS3FullAccess", "AmazonEC2FullAccess"):
        search = page.get_by_label("Filter policies by name")
        search.fill(name)
        page.get_by_label(f"Select {name}", exact=True).check()
    shot(page, "03-create-user-step2")
    page.get_by_role("button", name="Next").click()
    expect(page.get_by_test_id("review-user-name")).to_have_text("Alice")
    expect(page.get_by_role("cell", name="AmazonS3FullAccess")).to_be_visible()
    expect(page.get_by_role("cell", name="AmazonEC2FullAccess")).to_be_visible()
    shot(page, "04-create-user-review")
    page.get_by_role("button", name="Create user").click()
    expect(page.get_by_text("Retrieve password")).to_be_visible()
    expect(page.get_by_test_id("created-user-name")).to_have_text("Alice")
    expect(page.get_by_test_id("signin-url")).to_contain_text(f"/signin/{account.id}")
    with page.expect_download() as download:
        page.get_by_role("link", name="Download .csv file").click()
    rows = list(csv.reader(io.StringIO(download.value.path().read_text())))
    assert rows[0] == ["User name", "Password", "Console sign-in URL"] and rows[1][:2] == ["Alice", "Alice-Passw0rd!"]
    shot(page, "05-retrieve-password")

    page.goto("/iam/users/Alice")
    for name in ("AmazonS3FullAccess", "AmazonEC2FullAccess", "IAMUserChangePassword"):
        expect(page.get_by_role("link", name=name, exact=True)).to_be_visible()
    shot(page, "06-user-permissions")

    # Group Developers with a policy, Alice in it.
    page.goto("/iam/groups/create")
    page.get_by_label("User group name").fill("Developers")
    page.get_by_label("Select Alice").check()
    page.get_by_label("Filter policies by name").fill("AmazonS3ReadOnlyAccess")
    page.get_by_label("Select AmazonS3ReadOnlyAccess", exact=True).check()
    shot(page, "07-create-group")
    page.get_by_role("button", name="Create user group").click()
    expect(page.get_by_text("Developers user group created.")).to_be_visible()
    page.goto("/iam/users/Alice?tab=groups")
    expect(page.get_by_role("link", name="Developers")).to_be_visible()
    shot(page, "08-user-groups")

    # A customer managed policy: the findings panel catches the typo as it is typed.
    page.goto("/iam/policies/create")
    editor = page.get_by_label("Policy editor")
    editor.fill(POLICY)
    expect(page.get_by_test_id("findings-error")).to_have_text("Errors (1)")
    expect(page.get_by_test_id("validation-findings")).to_contain_text("s3:GetObjekt")
    shot(page, "09-policy-findings")
    editor.fill(POLICY.replace("GetObjekt", "GetObject"))
    expect(page.get_by_test_id("findings-error")).to_have_text("Errors (0)")
    page.get_by_role("button", name="Next").click()
    page.get_by_label("Policy name").fill("ReadReports")
    expect(page.get_by_test_id("permissions-summary")).to_contain_text("S3")
    page.get_by_role("button", name="Create policy").click()
    expect(page.get_by_text("Policy ReadReports created.")).to_be_visible()
    expect(page.get_by_test_id("policy-type")).to_have_text("Customer managed")
    page.get_by_role("link", name="Edit").click()
    page.get_by_label("Policy editor").fill(POLICY.replace("GetObjekt", "GetObject").replace("reports", "team-reports"))
    page.get_by_role("button", name="Save changes").click()
    versions = page.get_by_test_id("policy-versions")
    expect(versions).to_contain_text("v2 (Default)")
    expect(versions).to_contain_text("v1")
    shot(page, "10-policy-versions")
    assert not [e for e in page.console_errors if "Content Security Policy" in e]
