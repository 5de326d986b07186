"""Issue 4's scenario in Debian's Chromium: root creates bob (IAMReadOnlyAccess, password reset required); bob signs
in at the account's sign-in URL, has a weak password refused and a good one accepted, assigns a virtual MFA device,
signs in again with a TOTP code, browses users, and is refused Create user with the reason."""

from __future__ import annotations

import json

import pyotp
import pytest
from playwright.sync_api import expect

from core import clock
from policies import services as policy_services
from tests.browser.conftest import allow_console_errors, htmx_settled, shot
from tests.conftest import ROOT_PASSWORD

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

# AWS's documented example that lets users manage their own virtual MFA device (a least-privilege grant).
SELF_MANAGE_MFA = json.dumps(
    {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Action": ["iam:CreateVirtualMFADevice", "iam:DeleteVirtualMFADevice"],
                "Resource": "arn:aws:iam::*:mfa/*",
            },
            {
                "Effect": "Allow",
                "Action": [
                    "iam:EnableMFADevice",
                    "iam:ListMFADevices",
                    "iam:ResyncMFADevice",
                    "iam:DeactivateMFADevice",
                    "iam:GetUser",
                    "iam:ListAccessKeys",
                ],
                "Resource": "arn:aws:iam::*:user/${aws:username}",
            },
        ],
    }
)


def codes(seed: str) -> tuple[str, str, str]:
    """Two consecutive codes for enabling (the previous and the current step) and the next one for signing in."""
    totp = pyotp.TOTP(seed)
    now = clock.now().timestamp()
    return totp.at(now - 30), totp.at(now), totp.at(now + 30)


def test_bob_signs_in_changes_password_adds_mfa_and_is_denied(page, account, root_ctx):
    # Root creates bob in the console wizard, with a custom password that must be reset.
    page.goto("/signin")
    page.get_by_label("Root user email address").fill(account.root_email)
    page.get_by_role("button", name="Next").click()  # two steps, as AWS: who, then the password
    page.get_by_label("Password").fill(ROOT_PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.goto("/iam/users/create")
    page.get_by_label("User name").fill("bob")
    page.get_by_text("Provide user access to the AWS Management Console").click()
    page.get_by_text("Custom password", exact=True).click()
    page.get_by_role("textbox", name="Custom password").fill("Initial-Passw0rd!")
    expect(page.get_by_role("textbox", name="Custom password")).to_have_value("Initial-Passw0rd!")
    page.get_by_role("button", name="Next").click()
    # Each choice re-renders the wizard through htmx: wait for the new state before the next action.
    expect(page.get_by_role("heading", name="Set permissions", exact=True)).to_be_visible()
    page.get_by_text("Attach policies directly").click()
    expect(page.get_by_role("heading", name="Permissions policies")).to_be_visible()
    htmx_settled(page)
    page.get_by_label("Filter policies by name").fill("IAMReadOnlyAccess")
    expect(page.get_by_label("Select IAMReadOnlyAccess", exact=True)).to_be_visible()
    page.get_by_label("Select IAMReadOnlyAccess", exact=True).check()
    page.get_by_role("button", name="Next").click()
    expect(page.get_by_role("heading", name="Review and create", exact=True)).to_be_visible()
    expect(page.get_by_role("cell", name="IAMUserChangePassword")).to_be_visible()
    page.get_by_role("button", name="Create user").click()
    expect(page.get_by_test_id("created-user-name")).to_have_text("bob")
    policy_services.put_user_policy(
        root_ctx, user_name="bob", policy_name="SelfManageMFA", policy_document=SELF_MANAGE_MFA
    )
    page.context.clear_cookies()

    # Bob's first sign-in forces a new password; the policy refuses a weak one first.
    page.goto(f"/signin/{account.id}")
    page.get_by_label("IAM user name").fill("bob")
    page.get_by_label("Password").fill("Initial-Passw0rd!")
    page.get_by_role("button", name="Sign in").click()
    expect(page).to_have_url(f"{page.url.split('/change_password')[0]}/change_password")
    page.get_by_label("Old password").fill("Initial-Passw0rd!")
    page.get_by_label("New password", exact=True).fill("weak")
    page.get_by_label("Retype new password").fill("weak")
    allow_console_errors(page, r"status of 400 \(Bad Request\)$")  # the refused form's page answers 400
    page.get_by_role("button", name="Confirm password change").click()
    expect(page.get_by_test_id("password-error")).to_contain_text(
        "Password does not conform to the account password policy"
    )
    shot(page, "bob-01-password-refused")
    page.get_by_label("Old password").fill("Initial-Passw0rd!")
    page.get_by_label("New password", exact=True).fill("Bob-N3w-Passw0rd!")
    page.get_by_label("Retype new password").fill("Bob-N3w-Passw0rd!")
    page.get_by_role("button", name="Confirm password change").click()
    expect(page.get_by_text("Your password has been changed.")).to_be_visible()

    # He assigns a virtual MFA device on My security credentials.
    page.goto("/iam/security_credentials")
    page.get_by_test_id("assign-mfa").click()
    page.get_by_label("Device name").fill("bob-phone")
    page.get_by_role("button", name="Next").click()
    expect(page.get_by_test_id("mfa-qr")).to_be_visible()
    page.get_by_text("Show secret key").click()
    seed = page.get_by_test_id("mfa-seed").inner_text().strip()
    code1, code2, next_code = codes(seed)
    page.get_by_label("MFA code 1").fill(code1)
    page.get_by_label("MFA code 2").fill(code2)
    shot(page, "bob-02-assign-mfa")
    page.get_by_role("button", name="Add MFA").click()
    expect(page.get_by_text("bob-phone").first).to_be_visible()

    # Sign out, and in again: now the TOTP code is asked for.
    page.get_by_test_id("account-menu").click()
    page.get_by_role("button", name="Sign out").click()
    page.goto(f"/signin/{account.id}")
    page.get_by_label("IAM user name").fill("bob")
    page.get_by_label("Password").fill("Bob-N3w-Passw0rd!")
    page.get_by_role("button", name="Sign in").click()
    page.get_by_label("MFA code").fill(next_code)
    shot(page, "bob-03-mfa-code")
    page.get_by_role("button", name="Submit").click()

    # He may look...
    page.goto("/iam/users")
    expect(page.get_by_role("link", name="bob", exact=True)).to_be_visible()
    # ...but not create: AWS's message, and the reason naming the missing allow.
    page.goto("/iam/users/create")
    page.get_by_label("User name").fill("eve")
    page.get_by_role("button", name="Next").click()
    expect(page.get_by_role("heading", name="Set permissions", exact=True)).to_be_visible()
    page.get_by_role("button", name="Next").click()
    expect(page.get_by_role("heading", name="Review and create", exact=True)).to_be_visible()
    page.get_by_role("button", name="Create user").click()
    expect(
        page.get_by_text(
            "User: arn:aws:iam::111122223333:user/bob is not authorized to perform: iam:CreateUser "
            "on resource: arn:aws:iam::111122223333:user/eve because no identity-based policy allows "
            "the iam:CreateUser action"
        )
    ).to_be_visible()
    expect(page.get_by_test_id("why-panel")).to_contain_text("identity")
    shot(page, "bob-04-denied")
