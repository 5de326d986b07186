"""Create policy with the visual editor, keyboard first: choose S3, tick ListBucket and GetObject, build the bucket
and object ARNs from their ARN parts, switch to JSON, check the document, and create the policy."""

from __future__ import annotations

import json

import pytest
from playwright.sync_api import expect

from policies.models import ManagedPolicy
from tests.browser.conftest import ARTIFACTS, htmx_settled
from tests.conftest import ROOT_PASSWORD

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

EXPECTED = {
    "Version": "2012-10-17",
    "Statement": [
        {
            "Sid": "Statement1",
            "Effect": "Allow",
            "Action": ["s3:GetObject", "s3:ListBucket"],
            "Resource": ["arn:aws:s3:::team-bucket", "arn:aws:s3:::team-bucket/*"],
        }
    ],
}


def _shot(page, name: str) -> None:
    """The shared ``shot`` hides the caret by giving every input a style attribute, which htmx's attribute settling
    then copies (a CSP violation the test would count): keep the caret here."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True, caret="initial")


def _press(page, selector: str, key: str) -> None:
    page.locator(selector).focus()
    page.keyboard.press(key)
    htmx_settled(page)


def test_build_an_s3_policy_visually_then_create_it(page, account):
    page.goto("/signin")
    page.get_by_label("Root user email address").fill(account.root_email)
    page.get_by_role("button", name="Next").click()  # two steps, as AWS: who, then the password
    page.get_by_label("Password").fill(ROOT_PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.goto("/iam/policies/create")

    expect(page.locator("#editor-visual")).to_have_attribute("aria-pressed", "true")  # the visual editor comes first
    expect(page.locator("#v0-filter")).to_be_visible()
    page.locator("#v0-filter").press_sequentially("s3", delay=200)
    expect(page.locator("#v0-svc-s3")).to_be_visible()
    expect(page.locator("#v0-filter")).to_have_value("s3")  # no letter lost to the list's swap
    expect(page.locator("#v0-filter")).to_be_focused()
    _shot(page, "visual-editor-service-filter")
    page.keyboard.press("Enter")  # Enter in the filter picks the first service offered
    htmx_settled(page)
    expect(page.get_by_test_id("chosen-service")).to_have_text("Amazon S3")
    expect(page.locator("#v0-all")).to_be_focused()

    actions_filter = page.get_by_label("Filter actions")
    expect(page.locator("#v0-action-ListBucket")).to_be_hidden()  # access levels start folded
    actions_filter.press_sequentially("ListBucket", delay=150)
    expect(actions_filter).to_have_value("ListBucket")
    expect(page.locator("#v0-action-GetObject")).to_be_hidden()
    _press(page, "#v0-action-ListBucket", "Space")
    expect(page.locator("#v0-action-ListBucket")).to_be_focused()  # focus survives the swap
    actions_filter.focus()
    page.keyboard.press("Control+A")
    page.keyboard.type("GetObject", delay=150)
    expect(actions_filter).to_have_value("GetObject")
    _press(page, "#v0-action-GetObject", "Space")
    expect(page.get_by_text("(1 of", exact=False).first).to_be_visible()
    _shot(page, "visual-editor-s3-actions")
    expect(page.locator("#v0-action-ListBucket")).to_be_checked()
    expect(page.locator("#v0-action-GetObject")).to_be_checked()

    page.locator("#v0-b-bucket-BucketName").press_sequentially("team-bucket", delay=60)
    page.keyboard.press("Enter")  # Enter in an ARN part adds the ARN
    htmx_settled(page)
    page.locator("#v0-b-object-BucketName").press_sequentially("team-bucket", delay=60)
    _press(page, "#v0-b-object-ObjectName-any", "Space")
    _press(page, "#v0-add-object", "Enter")
    arns = page.get_by_test_id("arn")
    expect(arns).to_have_text(["arn:aws:s3:::team-bucket", "arn:aws:s3:::team-bucket/*"])
    expect(page.get_by_test_id("findings-error")).to_have_text("Errors (0)")
    _shot(page, "visual-editor-s3-cards")

    _press(page, "#editor-json", "Enter")
    editor = page.get_by_label("Policy editor")
    expect(editor).to_be_visible()
    assert json.loads(editor.input_value()) == EXPECTED
    _shot(page, "visual-editor-s3-json")

    page.get_by_role("button", name="Next").click()
    page.get_by_label("Policy name").press_sequentially("TeamBucketRead", delay=60)
    htmx_settled(page)
    page.get_by_role("button", name="Create policy").click()
    expect(page.get_by_text("Policy TeamBucketRead created.")).to_be_visible()
    policy = ManagedPolicy.objects.get(account=account, name="TeamBucketRead")
    assert json.loads(policy.versions.get(is_default=True).document) == EXPECTED
    assert page.console_errors == []
