"""Issue 15.5: a new teacher reaches a student's account in a few steps, without breaking AWS's rule.

AWS does not let the root user switch roles. A teacher who signs up, creates a class and takes the offer to create
their own administrator IAM user signs in as it (account and user name filled in) and switches into a student's
account with OrganizationAccountAccessRole, where the student's users are listed. As root, the Switch role page
still refuses with AWS's message and points at that path.
"""

from __future__ import annotations

import re

from playwright.sync_api import expect

from classroom.models import Class
from identities import services as identity_services
from tests.browser.conftest import allow_console_errors, shot
from tests.classroom.conftest import root_ctx_of

TEACHER, TEACHER_PASSWORD = "new.teacher@school.example", "Teach-Passw0rd!"
ADMIN_PASSWORD = "Admin-Passw0rd!9"
DELAY = 40  # ms between keys: typed, not filled


def type_into(locator, text: str) -> None:
    locator.click()
    locator.press_sequentially(text, delay=DELAY)


def test_new_teacher_takes_the_admin_offer_and_switches_into_a_student(page):
    # Two refusals on purpose answer 400: the mismatched password confirmation and root's Switch role.
    allow_console_errors(page, r"status of 400 \(Bad Request\)$")
    # Sign up as a new instructor.
    page.goto("/classroom/signup")
    type_into(page.get_by_label("Your name"), "Mr New")
    type_into(page.get_by_label("Root user email address"), TEACHER)
    type_into(page.get_by_label(re.compile("^Password")), TEACHER_PASSWORD)
    type_into(page.get_by_label("Confirm password"), TEACHER_PASSWORD)
    page.get_by_role("button", name="Create instructor account").click()
    expect(page).to_have_url(re.compile(r"/classroom/$"))

    # Create a class of two and take the offer on the same form.
    page.goto("/classroom/create")
    type_into(page.get_by_label("Title"), "IAM 101")
    page.get_by_label("Number of students").fill("2")
    offer = page.get_by_label(re.compile("Next, create my own administrator IAM user"))
    expect(offer).not_to_be_checked()
    offer.check()
    page.get_by_role("button", name="Create class").click()
    classroom = Class.objects.get(title="IAM 101")
    expect(page.locator("main h1")).to_have_text("Create your administrator IAM user")
    student = classroom.seats.order_by("number").first().account_id
    identity_services.create_user(root_ctx_of(student), user_name="student-alice")  # the student's own work

    # The user name is proposed; the teacher chooses the password (mismatch first: nothing is created).
    expect(page.get_by_label("User name")).to_have_value("admin")
    type_into(page.get_by_label("Console password"), ADMIN_PASSWORD)
    type_into(page.get_by_label("Confirm password"), ADMIN_PASSWORD + "x")
    page.get_by_role("button", name="Create administrator user").click()
    expect(page.get_by_text("The passwords you entered don't match.")).to_be_visible()
    type_into(page.get_by_label("Console password"), ADMIN_PASSWORD)
    type_into(page.get_by_label("Confirm password"), ADMIN_PASSWORD)
    page.get_by_role("button", name="Create administrator user").click()
    expect(page.get_by_text("User admin created successfully")).to_be_visible()
    expect(page.get_by_test_id("admin-signin-url")).to_contain_text(f"/signin/{classroom.instructor_account_id}")
    shot(page, "teacher-01-admin-created")

    # Root still cannot switch roles: AWS's message, and the way out (sign in as the new admin user).
    page.goto(f"/switchrole?account={student}&roleName=OrganizationAccountAccessRole")
    page.get_by_role("button", name="Switch Role").click()
    expect(page.get_by_test_id("switch-error")).to_have_text(
        "Root users cannot switch roles. Sign in as an IAM user to switch roles."
    )
    shot(page, "teacher-02-root-cannot-switch")
    page.goto(f"/classroom/{classroom.pk}")
    expect(page.get_by_test_id("admin-offer")).to_have_count(0)
    page.get_by_test_id("admin-signin").click()

    # The IAM user sign-in page, account and user name filled in: only the password is typed.
    expect(page.locator("main h1")).to_have_text("Sign in as IAM user")
    expect(page.get_by_label("Account ID (12 digits) or account alias")).to_have_value(classroom.instructor_account_id)
    expect(page.get_by_label("IAM user name")).to_have_value("admin")
    expect(page.get_by_label("Password")).to_be_focused()
    page.keyboard.type(ADMIN_PASSWORD, delay=DELAY)
    page.keyboard.press("Enter")

    # Back on the class page as admin: Switch into the first student's account and see the student's users.
    expect(page).to_have_url(re.compile(f"/classroom/{classroom.pk}$"))
    expect(page.get_by_test_id("admin-offer")).to_have_count(0)
    page.locator(f'tr[data-account="{student}"]').get_by_role("button", name="Switch into").click()
    expect(page.get_by_test_id("switched-badge")).to_be_visible()
    page.goto("/iam/users")
    expect(page.locator("#user-table")).to_contain_text("student-alice")
    expect(page.get_by_test_id("switched-badge")).to_contain_text("student01")
    shot(page, "teacher-03-switched-into-student")
