"""Issue 15, defect 6: nothing overflows sideways on a 1280×720 laptop (with the lab panel open) or a 1920×1080
projector: for each main page, ``document.documentElement.scrollWidth`` <= the viewport's width, and no word in
the Event history is broken in the middle ("Decembe r")."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from audit import delivery
from classroom import services
from core.context import CallContext, Principal
from identities import services as users
from policies import services as policies
from tests.browser.conftest import shot

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

TEACHER, TEACHER_PASSWORD = "teacher@school.example", "Teach-Passw0rd!"
STUDENT_PASSWORD = "Stud3nt-Passw0rd!"
SIZES = [(1280, 720), (1920, 1080)]


def ctx_of(account_id: str) -> CallContext:
    return CallContext(Principal.root(account_id), user_agent="pytest", origin="console")


def sign_in(page, email: str, password: str) -> None:
    page.goto("/signin")
    page.get_by_label("Root user email address").fill(email)
    page.get_by_role("button", name="Next").click()  # two steps, as AWS: who, then the password
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_load_state()


def overflow(page) -> tuple[int, int]:
    return page.evaluate("() => [document.documentElement.scrollWidth, window.innerWidth]")


def words_broken_mid_word(page, selector: str) -> list[str]:
    """Words (runs of letters and digits) in ``selector`` laid out on more than one line: broken mid-word. A break
    at a hyphen or a dot is a normal line break."""
    return page.evaluate(
        """(selector) => {
            const broken = [];
            for (const cell of document.querySelectorAll(selector)) {
                const walker = document.createTreeWalker(cell, NodeFilter.SHOW_TEXT);
                for (let node = walker.nextNode(); node; node = walker.nextNode()) {
                    const re = /[A-Za-z0-9]+/g; let m;  // a break between two letters or digits
                    while ((m = re.exec(node.data))) {
                        const range = document.createRange();
                        range.setStart(node, m.index); range.setEnd(node, m.index + m[0].length);
                        const tops = new Set([...range.getClientRects()].map(r => Math.round(r.top)));
                        if (tops.size > 1) broken.push(m[0]);
                    }
                }
            }
            return broken;
        }""",
        selector,
    )


def test_main_pages_fit_the_laptop_and_the_projector(new_page):
    instructor = services.sign_up_instructor(email=TEACHER, password=TEACHER_PASSWORD, name="Ms Teacher")
    classroom, issued = services.create_class(
        ctx_of(instructor.id), title="IAM 101 - Period 3", students=3, alias_prefix="period3-iam101"
    )
    seat = issued[0]
    student_ctx = ctx_of(seat.seat.account_id)
    for name in ("alice", "bob-the-developer-with-a-long-name", "carol"):
        users.create_user(student_ctx, user_name=name)
        users.create_login_profile(student_ctx, user_name=name, password="Initial-Passw0rd!")
    policies.attach_user_policy(
        student_ctx, user_name="alice", policy_arn="arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess"
    )
    users.create_group(student_ctx, group_name="Developers")
    delivery.deliver_pending()

    student = new_page()
    sign_in(student, seat.seat.email, seat.password)
    student.fill("input[name=old_password]", seat.password)
    student.fill("input[name=new_password]", STUDENT_PASSWORD)
    student.fill("input[name=confirm_password]", STUDENT_PASSWORD)
    student.locator("main button[type=submit]").click()
    student.wait_for_url(re.compile(r".*/$"))
    student.goto("/labs/")
    student.click("text=Your first IAM user")
    student.click("[data-testid=open-panel]")
    student.wait_for_url("**/iam/users")
    expect(student.locator("#lab-panel")).to_be_visible()
    delivery.deliver_pending()

    teacher = new_page()
    sign_in(teacher, TEACHER, TEACHER_PASSWORD)

    student_pages = ["/", "/iam/users", "/iam/groups", "/iam/roles", "/iam/policies", "/iam/event_history"]
    student_pages += ["/iam/users/alice", "/iam/users/create", "/labs/"]
    teacher_pages = [f"/classroom/{classroom.pk}", f"/classroom/{classroom.pk}/events", "/classroom/"]
    teacher_pages += [f"/classroom/{classroom.pk}/organization", f"/classroom/{classroom.pk}/policies"]
    too_wide = []
    for width, height in SIZES:
        for page, paths in ((student, student_pages), (teacher, teacher_pages)):
            page.set_viewport_size({"width": width, "height": height})
            for path in paths:
                page.goto(path)
                scroll, viewport = overflow(page)
                if scroll > viewport:
                    too_wide.append((width, path, scroll))
                    shot(page, f"layout-too-wide-{width}-{path.strip('/').replace('/', '-') or 'dashboard'}")
        if width == 1280:
            student.goto("/iam/users")
            shot(student, "layout-1280-users-with-panel")
            last = student.locator("table.table th").last.bounding_box()
            if last["x"] + last["width"] > student.locator("#lab-panel").bounding_box()["x"]:
                too_wide.append((width, "users table's last column under the panel", last))
            student.goto("/iam/event_history")
            shot(student, "layout-1280-event-history")
            if broken := words_broken_mid_word(student, "main table td"):
                too_wide.append((width, "event history words broken", broken))
            teacher.goto(f"/classroom/{classroom.pk}")
            shot(teacher, "layout-1280-class")
            teacher.goto(f"/classroom/{classroom.pk}/events")
            shot(teacher, "layout-1280-class-events")
    assert too_wide == [], too_wide
