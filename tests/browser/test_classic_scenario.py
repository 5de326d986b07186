"""Issue 2's acceptance test: the classic scenario, clicked through in Debian's Chromium as a new user would.

Sign in as root; create Alice with console access, a custom password and two AWS managed policies; download her
credentials; create the Developers group with a policy and Alice in it; write a customer managed policy in the JSON
editor (the findings panel catches a typo as it is typed), then edit it into a second version. Every step checks
what the page shows and leaves a screenshot in artifacts/screenshots/classic-NN-<step>.png.
"""

from __future__ import annotations

import csv
import io
import re

import pytest
from playwright.sync_api import Page, expect

from policies.models import ManagedPolicy
from tests.browser.conftest import htmx_settled, shot
from tests.conftest import ROOT_PASSWORD

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

ALICE_PASSWORD = "Alice-Passw0rd!"
POLICY = """{
    "Version": "2012-10-17",
    "Statement": [
        {"Sid": "ReadReports", "Effect": "Allow", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::reports/*"}
    ]
}"""
TYPED = '"s3:GetObjekt", "Resource": "arn:aws:s3:::reports/*"}\n    ]\n}'  # typed key by key after the prefix
EDITED = POLICY.replace('"s3:GetObject"', '["s3:GetObject", "s3:ListBucket"]').replace(
    '"arn:aws:s3:::reports/*"', '["arn:aws:s3:::reports", "arn:aws:s3:::reports/*"]'
)


def nav(page: Page, name: str) -> None:
    page.get_by_role("navigation", name="IAM navigation").get_by_role("link", name=name, exact=True).click()


def expect_title(page: Page, text: str) -> None:
    """The page's (or wizard step's) h1 says ``text``; an "Info" link may follow it."""
    expect(page.locator("main h1").filter(has_text=text)).to_be_visible()


def row(page: Page, *texts: str):
    """The table row that contains every one of ``texts``."""
    rows = page.get_by_role("row")
    for text in texts:
        rows = rows.filter(has_text=text)
    return rows


def sign_in_as_root(page: Page, account) -> None:
    page.goto("/")
    expect(page).to_have_url(re.compile(r"/signin(\?|$)"))
    expect_title(page, "Sign in")
    shot(page, "classic-01-signin")
    page.get_by_label("Root user email address").fill(account.root_email)
    page.get_by_role("button", name="Next").click()  # two steps, as AWS: who, then the password
    page.get_by_label("Password").fill(ROOT_PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect_title(page, "IAM Dashboard")
    expect(page.get_by_test_id("account-id")).to_have_text(account.id)
    expect(page.get_by_test_id("count-users")).to_have_text("0")
    shot(page, "classic-02-dashboard")


def create_alice(page: Page, account) -> None:
    nav(page, "Users")
    expect_title(page, "Users (0)")
    page.get_by_role("link", name="Create user").click()

    expect_title(page, "Specify user details")
    page.get_by_label("User name").fill("Alice")
    page.get_by_text("Provide user access to the AWS Management Console").click()
    page.get_by_text("Custom password", exact=True).click()  # each choice re-renders the step (htmx)
    password = page.get_by_role("textbox", name="Custom password")
    expect(password).to_be_visible()
    password.fill(ALICE_PASSWORD)
    expect(page.get_by_label("User name")).to_have_value("Alice")  # no re-render moved focus or typing elsewhere
    expect(password).to_have_value(ALICE_PASSWORD)
    expect(page.get_by_role("checkbox", name=re.compile("Users must create a new password"))).to_be_checked()
    shot(page, "classic-03-user-details")
    page.get_by_role("button", name="Next").click()

    expect_title(page, "Set permissions")
    page.get_by_text("Attach policies directly").click()
    # AWS titles the table with its count ("Permissions policies (1,234)") and has an "Attached entities" column
    expect(page.get_by_role("heading", name=re.compile(r"^Permissions policies \(\d{1,3}(,\d{3})+\)$"))).to_be_visible()
    expect(page.get_by_role("columnheader", name="Attached entities")).to_be_visible()
    for name in ("AmazonS3FullAccess", "AmazonEC2FullAccess"):
        htmx_settled(page)
        page.get_by_label("Filter policies by name").fill(name)
        expect(page.get_by_label(f"Select {name}", exact=True)).to_be_visible()  # the filtered table arrived
        page.get_by_label(f"Select {name}", exact=True).check()
    matches = ManagedPolicy.objects.filter(account__isnull=True, name__icontains="AmazonEC2FullAccess").count()
    expect(page.get_by_role("heading", name=f"Permissions policies ({matches})", exact=True)).to_be_visible()
    expect(page.get_by_label("Select AmazonS3FullAccess", exact=True)).to_be_checked()  # kept across searches
    shot(page, "classic-04-set-permissions")
    page.get_by_role("button", name="Next").click()

    expect_title(page, "Review and create")
    expect(page.get_by_test_id("review-user-name")).to_have_text("Alice")
    for name in ("AmazonS3FullAccess", "AmazonEC2FullAccess"):
        expect(row(page, name, "Permissions policy")).to_be_visible()
    shot(page, "classic-05-review")
    page.get_by_role("button", name="Create user").click()

    expect_title(page, "Retrieve password")
    expect(page.get_by_text("User created successfully")).to_be_visible()
    expect(page.get_by_test_id("created-user-name")).to_have_text("Alice")
    expect(page.get_by_test_id("signin-url")).to_contain_text(f"/signin/{account.id}")
    sign_in_url = page.get_by_test_id("signin-url").inner_text()
    # AWS's Retrieve password step: the password masked behind "Show", the sign-in instructions by email (without
    # the password), and a warning when leaving before the password was shown or downloaded.
    expect(page.get_by_test_id("created-password")).to_be_hidden()
    expect(page.get_by_test_id("email-instructions")).to_have_attribute(
        "href", re.compile(r"^mailto:\?subject=Welcome%20to%20Amazon%20Web%20Services&body=.*User%20name%3A%20Alice")
    )
    page.get_by_role("link", name="Return to users list").click()
    warning = page.get_by_role("dialog", name="Leave page?")
    expect(warning).to_contain_text("you can't view or download it again")
    shot(page, "classic-06a-leave-warning")
    warning.get_by_role("button", name="Cancel").click()
    expect(warning).to_be_hidden()
    expect(page.get_by_role("link", name="Return to users list")).to_be_focused()
    page.get_by_test_id("password-reveal").get_by_text("Show").click()
    expect(page.get_by_test_id("created-password")).to_have_text(ALICE_PASSWORD)
    expect(page.get_by_test_id("password-reveal").get_by_text("Hide")).to_be_visible()
    with page.expect_download() as download:
        page.get_by_role("link", name="Download .csv file").click()
    assert download.value.suggested_filename == "Alice_credentials.csv"
    rows = list(csv.reader(io.StringIO(download.value.path().read_text())))
    assert rows == [["User name", "Password", "Console sign-in URL"], ["Alice", ALICE_PASSWORD, sign_in_url]]
    shot(page, "classic-06-retrieve-password")

    page.get_by_role("link", name="View user").click()
    expect_title(page, "Alice")
    expect(page.get_by_test_id("user-arn")).to_have_text(f"arn:aws:iam::{account.id}:user/Alice")
    expect(page.get_by_text("Enabled without MFA")).to_be_visible()
    expect(page.get_by_role("heading", name="Permissions policies (3)")).to_be_visible()
    for name in ("AmazonS3FullAccess", "AmazonEC2FullAccess", "IAMUserChangePassword"):
        expect(row(page, name, "AWS managed", "Directly")).to_be_visible()
    shot(page, "classic-07-user-permissions")


def create_developers(page: Page) -> None:
    nav(page, "User groups")
    page.get_by_role("link", name="Create group").first.click()  # also offered in the empty table
    expect_title(page, "Create user group")
    page.get_by_label("User group name").fill("Developers")
    page.get_by_label("Select Alice").check()
    htmx_settled(page)
    page.get_by_label("Filter policies by name").fill("AmazonS3ReadOnlyAccess")
    page.get_by_label("Select AmazonS3ReadOnlyAccess", exact=True).check()
    shot(page, "classic-08-create-group")
    page.get_by_role("button", name="Create user group").click()
    expect(page.get_by_text("Developers user group created.")).to_be_visible()
    # AWS returns to the list with a green flash and a "View group" button
    expect_title(page, "User groups (")
    expect(page.locator("#flashbar").get_by_role("link", name="View group")).to_have_attribute(
        "href", "/iam/groups/Developers"
    )
    shot(page, "classic-09-group-created")

    nav(page, "Users")
    expect(row(page, "Alice")).to_contain_text("1")  # Groups column
    page.get_by_role("link", name="Alice", exact=True).click()
    page.get_by_role("tab", name="Groups", exact=True).click()
    expect(page.get_by_role("heading", name="User groups membership (1)")).to_be_visible()
    expect(row(page, "Developers", "AmazonS3ReadOnlyAccess")).to_be_visible()
    shot(page, "classic-10-user-groups")
    page.get_by_role("tab", name="Permissions", exact=True).click()
    expect(row(page, "AmazonS3ReadOnlyAccess", "Group Developers")).to_be_visible()


def create_and_edit_policy(page: Page, account) -> None:
    nav(page, "Policies")
    page.get_by_role("link", name="Create policy").click()
    expect_title(page, "Specify permissions")
    page.get_by_role("button", name="JSON").click()  # Create policy opens the visual editor, as AWS does
    editor = page.get_by_label("Policy editor")
    editor.fill(POLICY.split('"s3:GetObject"')[0])  # half-written: the panel already reports the broken JSON
    expect(page.get_by_test_id("findings-error")).to_have_text("Errors (1)")
    expect(page.get_by_test_id("validation-findings")).not_to_contain_text("GetObjekt")
    editor.press("End")
    editor.press_sequentially(TYPED)  # typed: each key is an input event; the panel asks the server once typing stops
    expect(page.get_by_test_id("findings-error")).to_have_text("Errors (1)")
    expect(page.get_by_test_id("validation-findings")).to_contain_text("s3:GetObjekt")
    shot(page, "classic-11-policy-finding")
    # select the typo and type over it, as one would
    editor.evaluate(
        "(el, word) => { const at = el.value.indexOf(word); el.focus(); el.setSelectionRange(at, at + word.length); }",
        "GetObjekt",
    )
    page.keyboard.type("GetObject")
    expect(page.get_by_test_id("findings-error")).to_have_text("Errors (0)")
    assert editor.input_value() == POLICY
    shot(page, "classic-12-policy-valid")
    page.get_by_role("button", name="Next").click()

    expect_title(page, "Review and create")
    page.get_by_label("Policy name").fill("ReadReports")
    expect(page.get_by_test_id("permissions-summary")).to_contain_text("S3")
    shot(page, "classic-13-policy-review")
    page.get_by_role("button", name="Create policy").click()

    expect(page.get_by_text("Policy ReadReports created.")).to_be_visible()
    expect_title(page, "ReadReports")
    expect(page.get_by_test_id("policy-type")).to_have_text("Customer managed")
    expect(page.get_by_test_id("policy-arn")).to_have_text(f"arn:aws:iam::{account.id}:policy/ReadReports")
    page.get_by_role("tab", name="Policy versions", exact=True).click()
    versions = page.get_by_test_id("policy-versions")
    expect(versions.get_by_role("row")).to_have_count(2)  # header + v1
    expect(versions).to_contain_text("v1 (Default)")
    shot(page, "classic-14-policy-v1")

    page.get_by_role("link", name="Edit", exact=True).click()
    expect_title(page, "Modify permissions in ReadReports")
    page.get_by_label("Policy editor").fill(EDITED)
    expect(page.get_by_test_id("findings-error")).to_have_text("Errors (0)")
    page.get_by_role("button", name="Next").click()
    expect_title(page, "Review and save")
    expect(page.get_by_test_id("permissions-summary")).to_contain_text("S3")
    shot(page, "classic-15-policy-review-edit")
    page.get_by_role("button", name="Save changes").click()
    expect(page.get_by_text("Policy ReadReports updated.")).to_be_visible()
    page.get_by_role("tab", name="Policy versions", exact=True).click()
    versions = page.get_by_test_id("policy-versions")
    expect(versions.get_by_role("row")).to_have_count(3)
    expect(versions.get_by_role("row").nth(1)).to_contain_text("v2 (Default)")
    expect(versions.get_by_role("row").nth(2)).to_contain_text("v1")
    expect(versions.get_by_role("row").nth(2)).not_to_contain_text("Default")
    shot(page, "classic-16-policy-versions")
    page.get_by_role("tab", name="Permissions", exact=True).click()
    expect(page.get_by_test_id("permissions-summary")).to_contain_text("S3")


def test_classic_scenario(page, account):
    sign_in_as_root(page, account)
    create_alice(page, account)
    create_developers(page)
    create_and_edit_policy(page, account)
    assert page.console_errors == []
