"""Issue 7's acceptance scenario, end to end in Chromium with a real Celery worker:

an instructor creates a class of 3 students and prints the handout; a student signs in with the handout's details,
changes the password and completes lab 1 through the console while the board, open in a second browser context,
turns the lab green (the worker delivers the audit events and refreshes progress; the board polls); the instructor
attaches an SCP denying iam:CreateUser to the student's account and the student's next Create user is denied with
an explanation naming the SCP; the instructor resets the account from the board and it is empty again.
"""

from __future__ import annotations

import json
import re

from playwright.sync_api import expect

from classroom import services
from classroom.models import Class
from identities.models import IamUser
from tests.browser.conftest import htmx_settled, shot

TEACHER, TEACHER_PASSWORD = "teacher@school.example", "Teach-Passw0rd!"
NEW_PASSWORD = "My-0wn-Passw0rd!"
ALICE_PASSWORD = "Alice-Start-Passw0rd!"
DENY_CREATE_USER = json.dumps(
    {
        "Version": "2012-10-17",
        "Statement": [{"Sid": "NoNewUsers", "Effect": "Deny", "Action": "iam:CreateUser", "Resource": "*"}],
    },
    indent=2,
)


def sign_in_as_root(page, email: str, password: str) -> None:
    page.goto("/signin")
    page.get_by_label("Root user email address").fill(email)
    page.get_by_role("button", name="Next").click()  # two steps, as AWS: who, then the password
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()


def start_create_user(page, name: str) -> None:
    page.goto("/iam/users")
    page.locator("#user-table").get_by_role("link", name="Create user").click()
    page.locator("#wizard").get_by_label("User name").fill(name)


def test_instructor_runs_a_class_and_a_student_does_lab_1(new_page, worker, settings):
    settings.AUDIT_ENQUEUE_DELIVERY = True  # the browser fixtures turn it off; here a real worker delivers
    worker.start()
    services.sign_up_instructor(email=TEACHER, password=TEACHER_PASSWORD, name="Ms Teacher")

    # The instructor creates a class of three and opens the handout.
    teacher = new_page()
    sign_in_as_root(teacher, TEACHER, TEACHER_PASSWORD)
    teacher.goto("/classroom/create")
    teacher.get_by_label("Title").fill("IAM 101")
    teacher.get_by_label("Number of students").fill("3")
    teacher.get_by_label(re.compile("Account alias prefix")).fill("cls1")
    teacher.get_by_role("button", name="Create class").click()
    classroom = Class.objects.get(title="IAM 101")
    expect(teacher).to_have_url(re.compile(f"/classroom/{classroom.pk}$"))
    teacher.goto(f"/classroom/{classroom.pk}/handout")
    cards = teacher.get_by_test_id("handout-card")
    expect(cards).to_have_count(3)
    teacher.emulate_media(media="print")
    shot(teacher, "acceptance-01-handout-print")
    teacher.emulate_media(media="screen")
    card = cards.first
    email = card.locator("dt:has-text('Email (root user)') + dd").inner_text().strip()
    password = card.locator("dd.handout-password").inner_text().strip()
    seat = classroom.seats.get(email=email)
    account_id = seat.account_id

    # The board, in the instructor's browser, shows nothing done yet.
    teacher.goto(f"/classroom/{classroom.pk}/board")
    cell = teacher.locator(f'tr[data-account="{account_id}"] td[data-lab="first-user"]')
    expect(cell).not_to_have_class(re.compile("board-complete"))

    # The student signs in with the handout's details and must choose a new password first.
    student = new_page()
    sign_in_as_root(student, email, password)
    student.fill("input[name=old_password]", password)
    student.fill("input[name=new_password]", NEW_PASSWORD)
    student.fill("input[name=confirm_password]", NEW_PASSWORD)
    student.locator("main button[type=submit]").click()
    expect(student.get_by_test_id("account-id")).to_have_text(account_id)

    # Lab 1 in the side panel, then the Create user wizard.
    student.goto("/labs/")
    student.get_by_text("Your first IAM user").first.click()
    student.get_by_test_id("open-panel").click()
    panel = student.locator("#lab-panel")
    expect(panel).to_contain_text("Your first IAM user")
    start_create_user(student, "alice")
    wizard = student.locator("#wizard")  # the lab panel repeats some of the wizard's words
    wizard.get_by_text("Provide user access to the AWS Management Console").click()
    wizard.get_by_text("Custom password", exact=True).click()
    wizard.get_by_role("textbox", name="Custom password").fill(ALICE_PASSWORD)
    wizard.get_by_role("button", name="Next").click()
    expect(
        wizard.get_by_role("heading", name="Set permissions", exact=True)
    ).to_be_visible()  # each step is an htmx swap
    wizard.get_by_text("Attach policies directly").click()
    htmx_settled(student)
    wizard.get_by_label("Filter policies by name").fill("AmazonS3ReadOnlyAccess")
    wizard.get_by_label("Select AmazonS3ReadOnlyAccess", exact=True).check()
    wizard.get_by_role("button", name="Next").click()
    expect(wizard.get_by_role("heading", name="Review and create", exact=True)).to_be_visible()
    wizard.get_by_role("button", name="Create user").click()
    expect(student.get_by_text("User created successfully")).to_be_visible()

    # The worker delivers the events and checks lab 1; the board's poll turns the cell green, no reload.
    expect(cell).to_have_class(re.compile("board-complete"), timeout=45_000)
    expect(cell).to_have_text("4/4")
    shot(teacher, "acceptance-02-board-lab-1-complete")
    expect(panel.locator(".lab-check-passed")).to_have_count(4, timeout=15_000)  # the panel's own poll
    shot(student, "acceptance-03-student-panel-complete")

    # The instructor fences the student's account with an SCP that denies iam:CreateUser.
    teacher.goto(f"/classroom/{classroom.pk}/policies/create")
    teacher.get_by_label("Policy name").fill("DenyCreateUser")
    teacher.get_by_label("Policy JSON").fill(DENY_CREATE_USER)
    teacher.get_by_role("button", name="Create policy").click()
    teacher.get_by_label("Attach to").select_option(account_id)
    teacher.get_by_role("button", name="Attach policy").click()
    expect(teacher.get_by_text(f"student{seat.number:02d}")).to_be_visible()

    # The student's next Create user is denied, and the explanation names the SCP and its statement.
    start_create_user(student, "bob")
    wizard.get_by_role("button", name="Next").click()
    expect(wizard.get_by_role("heading", name="Set permissions", exact=True)).to_be_visible()
    wizard.get_by_role("button", name="Next").click()
    expect(wizard.get_by_role("heading", name="Review and create", exact=True)).to_be_visible()
    wizard.get_by_role("button", name="Create user").click()
    why = student.get_by_test_id("why-panel")
    expect(why).to_be_visible()
    expect(why).to_contain_text("DenyCreateUser")
    expect(why).to_contain_text("NoNewUsers")
    expect(student.get_by_text(re.compile("is not authorized to perform: iam:CreateUser"))).to_be_visible()
    shot(student, "acceptance-04-create-user-denied-by-scp")
    assert not IamUser.objects.filter(account_id=account_id, name="bob").exists()

    # The instructor resets the student's account from the board: it is empty again, root sign-in kept.
    teacher.goto(f"/classroom/{classroom.pk}/board")
    teacher.get_by_test_id("reset-to").select_option("")
    teacher.locator(f'tr[data-account="{account_id}"] button:has-text("Reset")').click()
    expect(teacher.get_by_test_id("reset-confirm")).to_contain_text(f"Reset student{seat.number:02d}")
    expect(teacher.get_by_test_id("reset-deletes")).to_contain_text("IAM users: alice")
    teacher.get_by_test_id("confirm-reset").press_sequentially("reset", delay=60)
    teacher.get_by_test_id("confirm-reset-submit").click()
    expect(teacher.locator(".flash")).to_contain_text("Reset 1 student account")
    expect(cell).not_to_have_class(re.compile("board-complete"))
    student.goto("/iam/users")
    expect(student.get_by_role("heading", name="Users (0)")).to_be_visible()
    shot(student, "acceptance-05-after-reset")
    assert not IamUser.objects.filter(account_id=account_id).exists()
