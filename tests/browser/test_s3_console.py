"""The S3 console in the browser: create a bucket, upload and see an object, write a bucket policy that the
validator refuses and then one it accepts, and open it in the policy simulator in one click."""

from __future__ import annotations

import json

import pytest
from playwright.sync_api import expect

from s3 import bodies
from s3.models import S3Object
from tests.browser.conftest import allow_console_errors, shot
from tests.conftest import ROOT_PASSWORD

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SIZES = [(1280, 720), (1920, 1080)]  # the laptop and the projector


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_bucket_upload_and_policy(page, account, tmp_path, size):
    page.set_viewport_size({"width": size[0], "height": size[1]})
    page.goto("/signin")
    page.get_by_label("Root user email address").fill(account.root_email)
    page.get_by_role("button", name="Next").click()  # two steps, as AWS: who, then the password
    page.get_by_label("Password").fill(ROOT_PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.get_by_role("link", name="S3 buckets").click()
    expect(page.get_by_role("heading", name="General purpose buckets (0)")).to_be_visible()
    page.get_by_label("Bucket name").press_sequentially("team-bucket", delay=20)
    page.get_by_role("button", name="Create bucket").click()
    expect(page.get_by_text('Successfully created bucket "team-bucket".')).to_be_visible()
    page.get_by_role("link", name="team-bucket").click()
    upload = tmp_path / "report.csv"
    upload.write_text("a,b\n1,2\n")
    page.get_by_label("File").set_input_files(str(upload))
    page.get_by_role("button", name="Upload").click()
    expect(page.get_by_role("link", name="report.csv")).to_be_visible()
    assert bodies.read(S3Object.objects.get().body_file) == b"a,b\n1,2\n"

    page.get_by_role("link", name="Bucket policy").click()
    allow_console_errors(page, "status of 400")  # the refused policy is answered 400, with the form and its error
    editor = page.get_by_label("Policy", exact=True)
    editor.fill('{"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:GetObject"}]}')
    page.get_by_role("button", name="Save changes").click()
    expect(page.get_by_role("alert")).to_be_visible()
    grant = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"AWS": "arn:aws:iam::444455556666:root"},
                "Action": "s3:GetObject",
                "Resource": "arn:aws:s3:::team-bucket/*",
            }
        ],
    }
    page.get_by_label("Policy", exact=True).fill(json.dumps(grant, indent=2))
    page.get_by_role("button", name="Save changes").click()
    expect(page.get_by_text("Successfully edited bucket policy.")).to_be_visible()
    shot(page, f"s3-bucket-policy-{size[0]}x{size[1]}")
    page.get_by_test_id("simulate").click()
    expect(page.get_by_label("Resource-based policy")).to_have_value(json.dumps(grant, indent=2))
    expect(page.get_by_label("Resources")).to_contain_text("arn:aws:s3:::team-bucket")
