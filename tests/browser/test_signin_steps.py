"""Issue 15: sign-in asks, as AWS does, "Root user" or "IAM user" first (with the email, or the account ID or alias),
then the password on a second step. Done with the keyboard at a person's pace, at a laptop's and a projector's size."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from tests.browser.conftest import allow_console_errors, shot
from tests.conftest import ROOT_PASSWORD

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

KEY_DELAY_MS = 60  # sign-in fields are plain inputs (no live search): a quick typist's pace
USER_PASSWORD = "Plain-Passw0rd!"
SIZES = [(1280, 720), (1920, 1080)]


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_root_signs_in_in_two_steps_with_the_keyboard(page: Page, account, size):
    page.set_viewport_size({"width": size[0], "height": size[1]})
    page.goto("/iam/users")  # signed out: sign-in first, then back to the page asked for
    expect(page.locator("main h1")).to_have_text("Sign in")
    expect(page.get_by_role("radio", name="Root user")).to_be_checked()
    expect(page.get_by_label("Account ID (12 digits) or account alias")).to_be_hidden()
    email = page.get_by_label("Root user email address")
    expect(email).to_be_focused()
    page.keyboard.type(account.root_email, delay=KEY_DELAY_MS)
    shot(page, f"signin-01-who-{size[0]}")
    page.keyboard.press("Enter")

    expect(page.locator("main h1")).to_have_text("Root user sign in")
    expect(page.get_by_test_id("signin-email")).to_have_text(account.root_email)
    expect(page.get_by_label("Password")).to_be_focused()
    allow_console_errors(page, r"status of 400 \(Bad Request\)$")  # the refused password's page answers 400
    page.keyboard.type("not-the-password", delay=KEY_DELAY_MS)
    page.keyboard.press("Enter")
    expect(page.get_by_role("alert")).to_be_visible()
    expect(page.locator("main h1")).to_have_text("Root user sign in")  # still the second step, address kept
    expect(page.get_by_test_id("signin-email")).to_have_text(account.root_email)
    page.get_by_label("Password").focus()
    page.keyboard.type(ROOT_PASSWORD, delay=KEY_DELAY_MS)
    shot(page, f"signin-02-password-{size[0]}")
    page.keyboard.press("Enter")
    expect(page.locator("main h1")).to_contain_text("Users")
    assert page.url.endswith("/iam/users")


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_iam_user_gives_the_account_then_signs_in_at_its_url(page: Page, account, root_ctx, size):
    from identities import services

    services.create_user(root_ctx, user_name="alice")
    services.create_login_profile(root_ctx, user_name="alice", password=USER_PASSWORD)
    page.set_viewport_size({"width": size[0], "height": size[1]})
    page.goto("/signin")
    # The radio group with the keyboard: Shift+Tab from the email field reaches it, an arrow key picks IAM user.
    page.keyboard.press("Shift+Tab")
    expect(page.get_by_role("radio", name="Root user")).to_be_focused()
    page.keyboard.press("ArrowDown")
    expect(page.get_by_role("radio", name="IAM user")).to_be_checked()
    expect(page.get_by_label("Root user email address")).to_be_hidden()
    account_box = page.get_by_label("Account ID (12 digits) or account alias")
    expect(account_box).to_be_visible()
    page.keyboard.press("Tab")
    expect(account_box).to_be_focused()
    page.keyboard.type(account.id, delay=KEY_DELAY_MS)
    shot(page, f"signin-03-iam-user-{size[0]}")
    page.keyboard.press("Enter")

    expect(page.locator("main h1")).to_have_text("Sign in as IAM user")
    expect(page.get_by_label("Account ID (12 digits) or account alias")).to_have_value(account.id)
    expect(page.get_by_label("IAM user name")).to_be_focused()
    page.keyboard.type("alice", delay=KEY_DELAY_MS)
    page.keyboard.press("Tab")
    page.keyboard.type(USER_PASSWORD, delay=KEY_DELAY_MS)
    page.keyboard.press("Enter")
    expect(page.locator("main h1")).to_have_text("IAM Dashboard")
    expect(page.get_by_test_id("account-menu")).to_contain_text("alice")
