"""Issue 15: the top bar works as AWS's does. The unified search finds IAM's pages and this account's users, groups,
roles and policies as a person types; the results are a list navigated with the arrow keys, Enter opens one and
Escape closes it; what a user may not list is not shown, and never another account's resources."""

from __future__ import annotations

import json
import re

import pytest
from playwright.sync_api import Page, expect

from tests.browser.conftest import htmx_settled, shot
from tests.conftest import ROOT_PASSWORD

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

KEY_DELAY_MS = 220  # a person's pace, slower than the box's 250 ms debounce only now and then
USER_PASSWORD = "Plain-Passw0rd!"
SIZES = [(1280, 720), (1920, 1080)]


def sign_in_root(page: Page, account) -> None:
    page.goto("/signin")
    page.get_by_label("Root user email address").fill(account.root_email)
    page.get_by_role("button", name="Next").click()  # two steps, as AWS: who, then the password
    page.get_by_label("Password").fill(ROOT_PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page.locator("main h1")).to_have_text("IAM Dashboard")


def sign_in_user(page: Page, account, name: str) -> None:
    page.goto(f"/signin/{account.id}")
    page.get_by_label("IAM user name").fill(name)
    page.get_by_label("Password").fill(USER_PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page.locator("main h1")).to_have_text("IAM Dashboard")


def type_query(page: Page, text: str) -> None:
    box = page.get_by_role("combobox", name="Search IAM pages, users, groups, roles and policies")
    box.fill("")
    page.keyboard.type(text, delay=KEY_DELAY_MS)
    htmx_settled(page)
    page.wait_for_timeout(350)  # the debounce's last request
    htmx_settled(page)
    expect(box).to_have_value(text)  # every letter kept
    expect(box).to_be_focused()


def option_names(page: Page) -> list[str]:
    return page.locator("#search-results [role=option] .search-option-name").all_inner_texts()


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_search_finds_pages_and_resources_with_the_keyboard(page: Page, account, root_ctx, other_root_ctx, size):
    from identities import roles, services

    page.set_viewport_size({"width": size[0], "height": size[1]})
    services.create_user(root_ctx, user_name="alice")
    services.create_user(root_ctx, user_name="alicia")
    services.create_group(root_ctx, group_name="alice-admins")
    trust = {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Principal": {"Service": "ec2.amazonaws.com"}, "Action": "sts:AssumeRole"}],
    }
    roles.create_role(root_ctx, role_name="AliceRunner", assume_role_policy_document=json.dumps(trust))
    services.create_user(other_root_ctx, user_name="alien")  # another account's: never found
    sign_in_root(page, account)

    # The keyboard reaches the box from the top of the page: brand, Services, then the search box.
    page.locator("body").focus()
    for _ in range(6):
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement.id") == "topbar-search":
            break
    box = page.locator("#topbar-search")
    expect(box).to_be_focused()
    type_query(page, "alic")
    results = page.locator("#search-results")
    expect(results).to_be_visible()
    expect(box).to_have_attribute("aria-expanded", "true")
    assert option_names(page) == ["alice", "alicia", "alice-admins", "AliceRunner"]
    expect(results).not_to_contain_text("alien")
    shot(page, f"topbar-01-search-alic-{size[0]}")

    # Arrow keys move the active option (the focus stays in the box); Enter opens it.
    page.keyboard.press("ArrowDown")
    page.keyboard.press("ArrowDown")
    expect(page.locator("#search-option-1-2")).to_have_attribute("aria-selected", "true")
    expect(box).to_have_attribute("aria-activedescendant", "search-option-1-2")
    page.keyboard.press("ArrowUp")
    page.keyboard.press("ArrowUp")  # wraps to the last option
    expect(box).to_have_attribute("aria-activedescendant", "search-option-3-1")
    page.keyboard.press("ArrowDown")  # back round to the first
    page.keyboard.press("ArrowDown")
    page.keyboard.press("Enter")
    expect(page.locator("main h1")).to_contain_text("alicia")

    # Pages are found by name: Escape closes the list and leaves the box focused; Enter opens the first result.
    page.locator("#topbar-search").focus()
    type_query(page, "account set")
    expect(page.locator("#search-results")).to_be_visible()
    assert option_names(page) == ["Account settings"]
    page.keyboard.press("Escape")
    expect(page.locator("#search-results")).to_be_hidden()
    expect(page.locator("#topbar-search")).to_have_attribute("aria-expanded", "false")
    expect(page.locator("#topbar-search")).to_be_focused()
    page.keyboard.press("ArrowDown")  # opens the list again
    expect(page.locator("#search-results")).to_be_visible()
    page.keyboard.press("Enter")
    expect(page.locator("main h1")).to_contain_text("Account settings")

    # Nothing found says so.
    page.locator("#topbar-search").focus()
    type_query(page, "zebra")
    expect(page.locator("#search-results")).to_contain_text('No results for "zebra"')


def test_a_user_who_may_not_list_users_finds_no_users(page: Page, account, root_ctx):
    from identities import roles, services
    from policies import services as policy_services

    page.set_viewport_size({"width": 1280, "height": 720})
    services.create_user(root_ctx, user_name="alice")
    trust = {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Principal": {"Service": "ec2.amazonaws.com"}, "Action": "sts:AssumeRole"}],
    }
    roles.create_role(root_ctx, role_name="alice-runner", assume_role_policy_document=json.dumps(trust))
    services.create_user(root_ctx, user_name="student")
    services.create_login_profile(root_ctx, user_name="student", password=USER_PASSWORD)
    policy_services.put_user_policy(
        root_ctx,
        user_name="student",
        policy_name="RolesOnly",
        policy_document=json.dumps(
            {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "iam:ListRoles", "Resource": "*"}]}
        ),
    )
    sign_in_user(page, account, "student")
    page.locator("#topbar-search").click()
    type_query(page, "alice")
    assert option_names(page) == ["alice-runner"]
    expect(page.locator("#search-results")).not_to_contain_text("Users")
    shot(page, "topbar-02-search-restricted")


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_services_menu_opens_with_the_keyboard_and_lists_what_exists_here(page: Page, account, size):
    page.set_viewport_size({"width": size[0], "height": size[1]})
    sign_in_root(page, account)
    services = page.get_by_test_id("services-menu")
    menu = page.locator("#services-menu")
    expect(menu).to_be_hidden()

    # Keyboard: Tab from the brand reaches Services; Enter opens it, Tab walks its links, Escape closes it.
    page.get_by_test_id("brand").focus()
    page.keyboard.press("Tab")
    expect(services.locator("summary")).to_be_focused()
    page.keyboard.press("Enter")
    expect(menu).to_be_visible()
    names = menu.locator(".services-menu-name").all_inner_texts()
    assert names[:8] == [
        "IAM",
        "IAM Policy Simulator",
        "CloudTrail",
        "S3",
        "EC2",
        "Security credentials",
        "Switch role",
        "Classroom labs",
    ]
    shot(page, f"topbar-03-services-{size[0]}")
    page.keyboard.press("Tab")
    expect(menu.get_by_role("link", name="IAM Manage access")).to_be_focused()
    page.keyboard.press("Escape")
    expect(menu).to_be_hidden()
    expect(services.locator("summary")).to_be_focused()

    # Enter on an entry opens that service.
    page.keyboard.press("Enter")
    for _ in range(3):
        page.keyboard.press("Tab")
    expect(menu.get_by_role("link", name="CloudTrail")).to_be_focused()
    page.keyboard.press("Enter")
    expect(page.locator("main h1")).to_contain_text("Event history")

    # The mouse: a click opens it, a click elsewhere closes it; the account menu and Services are never both open.
    services.locator("summary").click()
    expect(menu).to_be_visible()
    page.get_by_test_id("account-menu").click()
    expect(menu).to_be_hidden()
    expect(page.locator(".account-menu")).to_be_visible()
    page.locator("main h1").click()
    expect(page.locator(".account-menu")).to_be_hidden()

    # The Help icon is a real link now (the labs), not a dead picture.
    page.get_by_role("link", name="Help: the labs").click()
    expect(page).to_have_url(re.compile(r"/labs/$"))
