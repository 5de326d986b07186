"""The teacher sees who is stuck, live, in Chromium: a student's IAM user with no permissions keeps getting denied
in the console; the open board marks the student without a reload ("Needs help", what keeps being denied), the
"Only who needs help" filter keeps just them, and one click shows their denied calls with why each was denied."""

from __future__ import annotations

import re

from playwright.sync_api import expect

from audit import delivery
from classroom import services
from core.context import CallContext, Principal
from identities import services as users
from tests.browser.conftest import allow_console_errors, shot

TEACHER, TEACHER_PASSWORD = "teacher@school.example", "Teach-Passw0rd!"
BOB_PASSWORD = "Bob-Passw0rd!2024"


def ctx_of(account_id: str) -> CallContext:
    return CallContext(Principal.root(account_id), user_agent="pytest", origin="console")


def type_into(locator, text: str) -> None:
    locator.click()
    locator.press_sequentially(text, delay=60)


def test_a_student_who_keeps_getting_denied_is_marked_live(new_page):
    instructor = services.sign_up_instructor(email=TEACHER, password=TEACHER_PASSWORD, name="Ms Teacher")
    classroom, issued = services.create_class(ctx_of(instructor.id), title="IAM 101", students=3, alias_prefix="stk")
    seat = issued[1].seat
    student_root = ctx_of(seat.account_id)
    users.create_user(student_root, user_name="bob")  # no permissions at all
    users.create_login_profile(student_root, user_name="bob", password=BOB_PASSWORD)

    teacher = new_page()
    teacher.goto("/signin")
    type_into(teacher.get_by_label("Root user email address"), TEACHER)
    teacher.get_by_role("button", name="Next").click()  # two steps, as AWS: who, then the password
    type_into(teacher.get_by_label("Password"), TEACHER_PASSWORD)
    teacher.get_by_role("button", name="Sign in").click()
    teacher.goto(f"/classroom/{classroom.pk}/board")
    expect(teacher.get_by_test_id("help-summary")).to_have_text("Nobody looks stuck right now.")
    row = teacher.locator(f'tr[data-account="{seat.account_id}"]')
    expect(row).not_to_have_class(re.compile("board-stuck"))

    # The student signs in as bob and keeps opening Users: denied each time.
    student = new_page()
    allow_console_errors(student, r"status of 403 \(Forbidden\)$")  # the denied Users page, on purpose
    student.goto(f"/signin/{seat.account_id}")
    type_into(student.get_by_label("IAM user name"), "bob")
    type_into(student.get_by_label("Password"), BOB_PASSWORD)
    student.get_by_role("button", name="Sign in").click()
    expect(student.get_by_test_id("account-menu")).to_contain_text("bob @")
    for _ in range(3):
        student.goto("/iam/users")
        expect(student.get_by_text(re.compile("is not authorized to perform: iam:ListUsers")).first).to_be_visible()
    delivery.deliver_pending()  # what the worker does a moment later

    # The board's poll marks the student, no reload.
    expect(row).to_have_class(re.compile("board-stuck"), timeout=10_000)
    expect(row.get_by_test_id("stuck")).to_contain_text("3 denied ListUsers calls in 5 min")
    expect(teacher.get_by_test_id("help-summary")).to_contain_text("1 student may need help")
    shot(teacher, "board-stuck-student")

    teacher.get_by_test_id("help-only").click()
    expect(teacher.locator("[data-testid=board] tbody tr")).to_have_count(1)
    expect(teacher.locator("[data-testid=board] tbody tr")).to_have_attribute("data-account", seat.account_id)

    # One click: the student's denied calls, each with why it was denied.
    row.get_by_test_id("stuck-denials").click()
    expect(teacher.get_by_role("heading", name=re.compile("Denied and failed calls"))).to_be_visible()
    events = teacher.locator("#student-events tbody tr")
    expect(events.filter(has_text="ListUsers")).to_have_count(3)
    expect(events.and_(teacher.locator(":not(.row-error)"))).to_have_count(0)  # only denied or failed calls
    expect(events.filter(has_text="ListUsers").first.locator("[data-testid=why-panel]")).to_be_visible()
    shot(teacher, "board-stuck-denials")
    assert not teacher.console_errors, teacher.console_errors
    # The student's only console errors are the three denied page loads themselves (HTTP 403, as meant).
    assert [e for e in student.console_errors if "status of 403" not in e] == [], student.console_errors
