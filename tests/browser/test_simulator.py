"""The policy simulator in the browser: why is a user with S3 permissions and a read-only boundary refused
s3:PutObject? The answer names the permissions boundary."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from identities import services
from policies import services as policy_services
from tests.browser.conftest import shot
from tests.conftest import ROOT_PASSWORD

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_simulator_names_the_boundary(page, account, root_ctx):
    services.create_user(root_ctx, user_name="carol")
    for name in ("AmazonS3ReadOnlyAccess", "AmazonS3FullAccess"):
        policy_services.attach_user_policy(root_ctx, user_name="carol", policy_arn=f"arn:aws:iam::aws:policy/{name}")
    services.put_user_permissions_boundary(
        root_ctx, user_name="carol", permissions_boundary="arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess"
    )
    page.goto("/signin")
    page.get_by_label("Root user email address").fill(account.root_email)
    page.get_by_role("button", name="Next").click()  # two steps, as AWS: who, then the password
    page.get_by_label("Password").fill(ROOT_PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.goto("/iam/policy_simulator")
    page.get_by_label("Principal").select_option("user:carol")
    page.get_by_label("Service", exact=True).select_option("s3")
    page.locator('input[name="actions"][value="s3:PutObject"]').check()  # the list arrives by htmx
    page.locator('input[name="actions"][value="s3:GetObject"]').check()
    page.get_by_label("Resources").fill("arn:aws:s3:::team-bucket/report.csv")
    page.get_by_role("button", name="Run simulation").click()
    results = page.get_by_test_id("simulation-results")
    put_row = results.get_by_role("row").filter(has_text="s3:PutObject")
    expect(put_row.get_by_test_id("decision")).to_have_text("Denied (implicit)")
    expect(results.get_by_role("row").filter(has_text="s3:GetObject").get_by_test_id("decision")).to_have_text(
        "Allowed"
    )
    put_row.get_by_test_id("decision").click()
    expect(put_row.get_by_test_id("missing-layer")).to_contain_text("permissions_boundary")
    get_row = results.get_by_role("row").filter(has_text="s3:GetObject")
    get_row.get_by_test_id("decision").click()
    expect(get_row.get_by_test_id("deciding-statement").first).to_be_visible()
    shot(page, "11-simulator-boundary")
