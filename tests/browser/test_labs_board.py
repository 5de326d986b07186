"""Labs and the board in Chromium: a class of 40, the board (readable at 40 × labs), a student's page, the labs list
and a console page with the lab panel; "Check progress" and resets through htmx. Screenshots in artifacts/."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from audit import delivery
from classroom import services
from classroom.labs import get_lab
from classroom.models import LabProgress
from classroom.progress import refresh
from console.services import user_principal
from core.context import CallContext, Principal
from core.errors import AccessDenied
from identities import services as users
from identities.models import IamUser
from policies import services as policies
from tests.browser.conftest import shot

TEACHER, TEACHER_PASSWORD = "teacher@school.example", "Teach-Passw0rd!"
STUDENT_PASSWORD = "Stud3nt-Passw0rd!"


def ctx_of(account_id: str) -> CallContext:
    return CallContext(Principal.root(account_id), user_agent="pytest", origin="console")


def sign_in(page, email: str, password: str) -> None:
    page.goto("/signin")
    page.fill("input[name=email]", email)
    page.click("button[type=submit]")  # two steps, as AWS: who, then the password
    page.fill("input[name=password]", password)
    page.click("button[type=submit]")
    page.wait_for_load_state()


def test_board_labs_and_panel(new_page):
    instructor = services.sign_up_instructor(email=TEACHER, password=TEACHER_PASSWORD, name="Ms Teacher")
    classroom, issued = services.create_class(ctx_of(instructor.id), title="IAM 101", students=40, alias_prefix="cls1")
    seats = {s.seat.number: s for s in issued}
    # Some of the class is under way: lab 1 done by every fourth student, started by every third.
    for number, seat in seats.items():
        student = ctx_of(seat.seat.account_id)
        if number % 4 == 0 or number % 3 == 0:
            users.create_user(student, user_name="alice")
        if number % 4 == 0:
            users.create_login_profile(student, user_name="alice", password="Initial-Passw0rd!")
            policies.attach_user_policy(
                student, user_name="alice", policy_arn="arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess"
            )
        refresh(seat.seat.account_id)
    delivery.deliver_pending()

    teacher = new_page()
    sign_in(teacher, TEACHER, TEACHER_PASSWORD)
    teacher.goto(f"/classroom/{classroom.pk}/board")
    expect(teacher.locator("[data-testid=board] tbody tr")).to_have_count(40)
    expect(teacher.locator(f'tr[data-account="{seats[4].seat.account_id}"] td[data-lab="first-user"]')).to_have_text(
        "4/4"
    )
    shot(teacher, "board-40-students")

    # A student (seat 1) signs in, changes the handout password, opens lab 1 in the side panel.
    student = new_page()
    first = seats[1]
    sign_in(student, first.seat.email, first.password)
    student.fill("input[name=old_password]", first.password)
    student.fill("input[name=new_password]", STUDENT_PASSWORD)
    student.fill("input[name=confirm_password]", STUDENT_PASSWORD)
    student.locator("main button[type=submit]").click()
    student.wait_for_url(re.compile(r".*/$"))
    student.goto("/labs/")
    shot(student, "labs-list")
    student.click("text=Your first IAM user")
    student.click("[data-testid=open-panel]")
    student.wait_for_url("**/iam/users")
    panel = student.locator("#lab-panel")
    expect(panel).to_contain_text("Your first IAM user")
    expect(panel.locator(".lab-check-not-yet, .lab-check-unknown")).to_have_count(4)  # neutral, not red
    expect(panel.locator(".lab-check-failed")).to_have_count(0)

    # Work happens (as through the console or the CLI); "Check progress" picks it up in place.
    solve = ctx_of(first.seat.account_id)
    users.create_user(solve, user_name="alice")
    users.create_login_profile(solve, user_name="alice", password="Initial-Passw0rd!")
    policies.attach_user_policy(solve, user_name="alice", policy_arn="arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess")
    student.click("[data-testid=check-progress]")
    expect(panel.locator(".lab-check-passed")).to_have_count(4)
    student.reload()  # the Users list shows alice; the panel is drawn with the page
    expect(panel.locator(".lab-check-passed")).to_have_count(4)
    student.click("summary:has-text('Hints')")
    expect(student.locator("#lab-panel-spinner")).to_have_css("opacity", "0")
    shot(student, "console-with-lab-panel")
    # Every column of the Users table stays visible beside the panel (none slides under it).
    last_column = student.locator("table.table th").last.bounding_box()
    assert last_column["x"] + last_column["width"] <= panel.bounding_box()["x"]

    # The board's poll shows it within a few seconds, without a reload.
    cell = teacher.locator(f'tr[data-account="{first.seat.account_id}"] td[data-lab="first-user"]')
    expect(cell).to_have_text("4/4", timeout=10_000)
    expect(cell).to_have_class(re.compile("board-complete"))

    # A denied call in the student's account: its explanation shows on the student's page.
    users.create_user(solve, user_name="bob")
    bob = IamUser.objects.get(account_id=first.seat.account_id, name="bob")
    with pytest.raises(AccessDenied):
        users.create_user(CallContext(user_principal(bob), user_agent="pytest", origin="console"), user_name="mallory")
    delivery.deliver_pending()
    teacher.goto(f"/classroom/{classroom.pk}/students/{first.seat.account_id}")
    expect(teacher.locator("#student-activity")).to_contain_text("An IAM user named alice exists")
    denied = teacher.locator("#student-activity tr.row-error").first
    expect(denied).to_contain_text("AccessDenied")
    denied.locator("summary").click()
    expect(denied.locator("[data-testid=why-panel]")).to_be_visible()
    shot(teacher, "board-student-page")

    # Reset one student from the board row (with the chosen lab's start): it asks first, naming the student and
    # what goes, and deletes nothing until confirmed; then all (confirmed).
    teacher.goto(f"/classroom/{classroom.pk}/board")
    teacher.select_option("[data-testid=reset-to]", "first-user")
    teacher.locator(f'tr[data-account="{first.seat.account_id}"] button:has-text("Reset")').click()
    confirm = teacher.get_by_test_id("reset-confirm")
    expect(confirm).to_contain_text("Reset student01 (cls1-student01) to the start of lab 1?")
    expect(teacher.get_by_test_id("reset-deletes")).to_contain_text("IAM users: alice, bob")
    assert IamUser.objects.filter(account_id=first.seat.account_id).exists()  # nothing deleted yet
    shot(teacher, "board-reset-one-confirm")
    teacher.get_by_test_id("confirm-reset").press_sequentially("reset", delay=60)
    teacher.get_by_test_id("confirm-reset-submit").click()
    expect(teacher.locator(".flash")).to_contain_text("Reset 1 student account to the start of lab 1")
    assert not IamUser.objects.filter(account_id=first.seat.account_id).exists()
    assert IamUser.objects.filter(account_id=seats[4].seat.account_id).exists()

    teacher.once("dialog", lambda dialog: dialog.accept())
    teacher.click("[data-testid=reset-all]")
    expect(teacher.locator(".flash")).to_contain_text("Reset 40 student accounts to empty", timeout=30_000)
    assert not LabProgress.objects.filter(account__seat__classroom=classroom).exists()
    assert get_lab("first-user") is not None
    shot(teacher, "board-after-reset")

    teacher.goto(f"/classroom/{classroom.pk}/events")
    expect(teacher.locator("table")).to_contain_text("AccessDenied")
    shot(teacher, "board-class-events")
    assert not teacher.console_errors and not student.console_errors, (teacher.console_errors, student.console_errors)
