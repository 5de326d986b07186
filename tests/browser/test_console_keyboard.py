"""Issue 15, defects 1 and 4: the console at a person's pace and with the keyboard alone.

- Filter boxes: typing "AmazonS3Read" at 2–5 keys a second (a live search fires between keys) leaves every letter
  in the box and the focus in it, and the results match what was typed: in Create user step 2, Create user group,
  the Policies list and the Users list.
- The Create user wizard done with the keyboard alone: every in-place update (console access, password option,
  permissions tile, Next/Previous) leaves the focus where a keyboard user expects it, and the tile group answers
  the arrow keys as a radio group.
"""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from tests.browser.conftest import htmx_settled, shot
from tests.conftest import ROOT_PASSWORD

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

TYPED = "AmazonS3Read"
KEY_DELAY_MS = 220  # a person's pace: about 4.5 keys a second, slower than the boxes' 300 ms debounce


def sign_in(page: Page, account) -> None:
    page.goto("/signin")
    page.get_by_label("Root user email address").fill(account.root_email)
    page.get_by_role("button", name="Next").click()  # two steps, as AWS: who, then the password
    page.get_by_label("Password").fill(ROOT_PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page.locator("main h1")).to_have_text("IAM Dashboard")


def type_like_a_person(page: Page, box) -> None:
    box.click()
    page.keyboard.type(TYPED, delay=KEY_DELAY_MS)
    htmx_settled(page)
    page.wait_for_timeout(400)  # the debounce's last request: let it arrive and settle
    htmx_settled(page)


def assert_box_kept(page: Page, box) -> None:
    expect(box).to_have_value(TYPED)
    expect(box).to_be_focused()


def focused(page: Page) -> str:
    """A short description of the focused element: tag, name/value or text."""
    return page.evaluate(
        """() => { const el = document.activeElement; if (!el || el === document.body) return 'BODY';
                   const name = el.getAttribute('name'); const text = (el.textContent || '').trim().slice(0, 40);
                   return el.tagName + (name ? `[${name}=${el.value}]` : '')
                          + (el.tagName === 'H1' ? `:${text}` : ''); }"""
    )


def tab_to(page: Page, wanted: str, most: int = 8, back: bool = False) -> int:
    """Press Tab (Shift+Tab with back) until ``wanted`` (as ``focused`` describes it) has the focus; at most ``most``
    presses, as a keyboard user would not press more."""
    for presses in range(1, most + 1):
        page.keyboard.press("Shift+Tab" if back else "Tab")
        if focused(page) == wanted:
            return presses
    raise AssertionError(f"{wanted} not reached in {most} Tabs; focus is on {focused(page)}")


def test_filter_boxes_keep_every_letter_and_the_focus(page: Page, account, root_ctx):
    from identities import services

    services.create_user(root_ctx, user_name="AmazonS3ReaderBot")
    services.create_user(root_ctx, user_name="carol")
    sign_in(page, account)

    # Create user, step 2, Attach policies directly
    page.goto("/iam/users/create")
    page.get_by_label("User name").fill("dave")
    page.get_by_role("button", name="Next").click()
    expect(page.locator("main h1")).to_have_text("Set permissions")
    page.get_by_text("Attach policies directly").click()
    htmx_settled(page)
    box = page.get_by_label("Filter policies by name")
    type_like_a_person(page, box)
    assert_box_kept(page, box)
    expect(page.get_by_label("Select AmazonS3ReadOnlyAccess", exact=True)).to_be_visible()
    expect(page.get_by_label("Select AmazonEC2FullAccess", exact=True)).to_have_count(0)
    shot(page, "keyboard-01-create-user-filter")

    # Create user group
    page.goto("/iam/groups/create")
    box = page.get_by_label("Filter policies by name")
    type_like_a_person(page, box)
    assert_box_kept(page, box)
    expect(page.get_by_label("Select AmazonS3ReadOnlyAccess", exact=True)).to_be_visible()
    expect(page.get_by_label("Select AmazonEC2FullAccess", exact=True)).to_have_count(0)

    # Policies list: the count follows the results
    page.goto("/iam/policies")
    box = page.get_by_label("Filter policies by property or policy name")
    type_like_a_person(page, box)
    assert_box_kept(page, box)
    expect(page.get_by_role("link", name="AmazonS3ReadOnlyAccess", exact=True)).to_be_visible()
    expect(page.get_by_role("link", name="AmazonEC2FullAccess", exact=True)).to_have_count(0)
    count = page.get_by_test_id("policy-count").inner_text()
    assert count == f"({page.get_by_test_id('policy-table').locator('tbody tr').count()})", count
    shot(page, "keyboard-02-policies-filter")

    # Users list
    page.goto("/iam/users")
    box = page.get_by_label("Find users by username")
    type_like_a_person(page, box)
    assert_box_kept(page, box)
    expect(page.get_by_role("link", name="AmazonS3ReaderBot")).to_be_visible()
    expect(page.get_by_role("link", name="carol")).to_have_count(0)
    expect(page.locator("main h1")).to_contain_text("Users (1)")
    expect(page).to_have_url(re.compile(r"q=AmazonS3Read"))


def test_create_user_wizard_with_the_keyboard_alone(page: Page, account):
    sign_in(page, account)
    page.goto("/iam/users/create")
    name = page.get_by_label("User name")
    expect(name).to_be_focused()  # autofocus on the first field
    page.keyboard.type("kim", delay=60)

    # Tab to "Provide user access…", tick it with Space: the step re-renders and the box keeps the focus
    page.keyboard.press("Tab")
    assert focused(page) == "INPUT[console_access=on]", focused(page)
    page.keyboard.press("Space")
    expect(page.get_by_role("radio", name=re.compile("Custom password"))).to_be_visible()
    htmx_settled(page)
    assert focused(page) == "INPUT[console_access=on]", focused(page)
    expect(name).to_have_value("kim")

    # Tab into the password options, arrow to "Custom password": focus stays on the chosen radio
    page.keyboard.press("Tab")
    assert focused(page) == "INPUT[password_type=autogenerated]", focused(page)
    page.keyboard.press("ArrowDown")
    expect(page.get_by_role("textbox", name="Custom password")).to_be_visible()
    htmx_settled(page)
    assert focused(page) == "INPUT[password_type=custom]", focused(page)
    page.keyboard.press("Tab")
    assert focused(page) == "INPUT[custom_password=]", focused(page)
    page.keyboard.type("Kim-Passw0rd!", delay=40)
    shot(page, "keyboard-03-step1")

    # Enter submits the step (Next), and the focus goes to the new step's heading
    page.keyboard.press("Enter")
    expect(page.locator("main h1")).to_have_text("Set permissions")
    htmx_settled(page)
    assert focused(page) == "H1:Set permissions", focused(page)

    # The permissions tiles are one radio group: Tab reaches the checked tile, arrows move through all three
    page.keyboard.press("Tab")
    assert focused(page) == "INPUT[permissions_option=groups]", focused(page)
    page.keyboard.press("ArrowRight")
    expect(page.get_by_role("heading", name="Copy permissions from user")).to_be_visible()
    htmx_settled(page)
    assert focused(page) == "INPUT[permissions_option=copy]", focused(page)
    page.keyboard.press("ArrowRight")
    expect(page.get_by_label("Filter policies by name")).to_be_visible()
    htmx_settled(page)
    assert focused(page) == "INPUT[permissions_option=attach]", focused(page)
    shot(page, "keyboard-04-step2-tiles")

    # Into the policy filter, type, Tab to the first result and tick it with Space
    tab_to(page, "INPUT[policy_query=]", most=2)  # past the "Create policy" link
    page.keyboard.type("IAMReadOnlyAccess", delay=150)
    expect(page.get_by_label("Select IAMReadOnlyAccess", exact=True)).to_be_visible()
    htmx_settled(page)
    page.wait_for_timeout(400)
    htmx_settled(page)
    page.keyboard.press("Enter")  # Enter in the filter filters; it does not leave the step
    htmx_settled(page)
    expect(page.locator("main h1")).to_have_text("Set permissions")
    tab_to(page, "INPUT[policies=arn:aws:iam::aws:policy/IAMReadOnlyAccess]", most=2)  # past the type menu
    page.keyboard.press("Space")
    expect(page.get_by_label("Select IAMReadOnlyAccess", exact=True)).to_be_checked()

    # Previous and Next, reached with Tab, move the focus to the new step's heading
    tab_to(page, "BUTTON[action=previous]")
    page.keyboard.press("Enter")
    expect(page.locator("main h1")).to_have_text("Specify user details")
    htmx_settled(page)
    assert focused(page) == "H1:Specify user details", focused(page)
    expect(page.get_by_label("User name")).to_have_value("kim")
    expect(page.get_by_role("textbox", name="Custom password")).to_have_value("Kim-Passw0rd!")
    tab_to(page, "BUTTON[action=next]", most=14)
    page.keyboard.press("Enter")
    expect(page.locator("main h1")).to_have_text("Set permissions")
    htmx_settled(page)
    assert focused(page) == "H1:Set permissions", focused(page)
    expect(page.get_by_label("Select IAMReadOnlyAccess", exact=True)).to_be_checked()

    # Step 3: add a tag from the keyboard; the focus goes to the new tag's key
    tab_to(page, "BUTTON[action=next]", most=12)
    page.keyboard.press("Enter")
    expect(page.locator("main h1")).to_have_text("Review and create")
    htmx_settled(page)
    assert focused(page) == "H1:Review and create", focused(page)
    tab_to(page, "BUTTON[action=add_tag]")
    page.keyboard.press("Enter")
    expect(page.get_by_label("Key")).to_be_visible()
    htmx_settled(page)
    assert focused(page) == "INPUT[tag_key=]", focused(page)
    page.keyboard.type("team", delay=60)
    shot(page, "keyboard-05-step3")
    tab_to(page, "BUTTON[action=create]")
    page.keyboard.press("Enter")
    expect(page.locator("main h1")).to_have_text("Retrieve password")
    htmx_settled(page)
    assert focused(page) == "H1:Retrieve password", focused(page)
    shot(page, "keyboard-06-created")


def test_a_step_with_an_error_focuses_the_field_in_error(page: Page, account, root_ctx):
    from identities import services

    services.create_user(root_ctx, user_name="taken")
    sign_in(page, account)
    page.goto("/iam/users/create")
    expect(page.get_by_label("User name")).to_be_focused()  # a person starts typing once the cursor is there
    page.keyboard.type("taken", delay=60)
    page.keyboard.press("Enter")
    expect(page.get_by_text("User with name taken already exists.").first).to_be_visible()
    htmx_settled(page)
    assert focused(page) == "INPUT[user_name=taken]", focused(page)
