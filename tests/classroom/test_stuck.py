"""The board's "needs help" signs (classroom.stuck): repeated denials on one action, no progress on the current lab
while working, a check that went red again; the filter and the sort; the student's denials one click away.
Time is frozen (core.clock), never slept through."""

from __future__ import annotations

from datetime import timedelta

import pytest

from audit import delivery
from audit.models import AuditEvent
from classroom import labs_services
from classroom.progress import refresh
from console.services import user_principal
from core import clock
from core.context import CallContext
from core.errors import AccessDenied
from identities import services as users
from identities.models import IamUser
from policies import services as policies
from tests.classroom.test_board import HTMX, class_id, seats, teacher  # noqa: F401 - fixtures

S3_READ_ONLY = "arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess"


def denied_create_user(ctx, times: int) -> None:
    """An IAM user with no permissions keeps trying Create user."""
    if not IamUser.objects.in_account(ctx.account_id).filter(name="bob").exists():
        users.create_user(ctx, user_name="bob")
    bob = CallContext(
        user_principal(IamUser.objects.in_account(ctx.account_id).get(name="bob")), user_agent="x", origin="console"
    )
    for _ in range(times):
        with pytest.raises(AccessDenied):
            users.create_user(bob, user_name="mallory")
    delivery.deliver_pending()


def signs(instructor_ctx, class_id: str) -> dict[str, list[tuple[str, str]]]:  # noqa: F811
    board = labs_services.describe_class_board(instructor_ctx, class_id)
    return {account: [(s.kind, s.text) for s in found] for account, found in board.stuck.items()}


def test_several_denials_on_one_action_mark_the_student_until_they_age_out(instructor_ctx, class_id, students):  # noqa: F811
    start = clock.now()
    with clock.frozen(start):
        denied_create_user(students[1], 2)
        assert signs(instructor_ctx, class_id) == {}  # two is not several
        denied_create_user(students[1], 1)
        assert signs(instructor_ctx, class_id) == {
            students[1].account_id: [("denials", "3 denied CreateUser calls in 5 min")]
        }
    with clock.frozen(start + timedelta(minutes=6)):
        assert signs(instructor_ctx, class_id) == {}


def test_no_progress_on_the_current_lab_while_working(instructor_ctx, class_id, students):  # noqa: F811
    ctx = students[2]
    start = clock.now()
    with clock.frozen(start):
        users.create_user(ctx, user_name="alice")  # lab 1: 1 of 4
        refresh(ctx.account_id)
        delivery.deliver_pending()
    with clock.frozen(start + timedelta(minutes=16)):
        assert signs(instructor_ctx, class_id) == {}  # idle, but not working: gone for lunch, not stuck
        users.create_group(ctx, group_name="Something")  # working, but lab 1 does not move
        delivery.deliver_pending()
        refresh(ctx.account_id)
        assert signs(instructor_ctx, class_id) == {ctx.account_id: [("idle", "No progress on lab 1 for 16 min")]}
        users.create_login_profile(ctx, user_name="alice", password="Initial-Passw0rd!")  # progress
        refresh(ctx.account_id)
        assert signs(instructor_ctx, class_id) == {}


def test_a_check_that_went_red_again(instructor_ctx, class_id, students):  # noqa: F811
    ctx = students[3]
    users.create_user(ctx, user_name="alice")
    users.create_login_profile(ctx, user_name="alice", password="Initial-Passw0rd!")
    refresh(ctx.account_id)
    users.delete_login_profile(ctx, user_name="alice")
    refresh(ctx.account_id)
    assert signs(instructor_ctx, class_id) == {
        ctx.account_id: [("regressed", "Lab 1: “alice can sign in to the console” passed before and fails now")]
    }
    # A completed lab is never "red again": it stays completed.
    users.create_login_profile(ctx, user_name="alice", password="Initial-Passw0rd!")
    policies.attach_user_policy(ctx, user_name="alice", policy_arn=S3_READ_ONLY)
    refresh(ctx.account_id)
    users.delete_login_profile(ctx, user_name="alice")
    refresh(ctx.account_id)
    assert signs(instructor_ctx, class_id) == {}


def test_the_board_marks_filters_and_sorts_who_needs_help(teacher, class_id, students, seats):  # noqa: F811
    url = f"/classroom/{class_id}/board"
    html = teacher.get(url).content.decode()
    assert "Nobody looks stuck right now." in html
    poll = html[html.index('hx-get="/classroom/') :].split('"')[1].replace("&amp;", "&")
    assert teacher.get(poll, HTTP_HX_TARGET="board-matrix", **HTMX).status_code == 204

    denied_create_user(students[3], 4)
    # The poll notices a new denial (no progress row changed) and redraws.
    response = teacher.get(poll, HTTP_HX_TARGET="board-matrix", **HTMX)
    assert response.status_code == 200
    html = response.content.decode()
    stuck = seats[3].seat.account_id
    assert f'<tr data-account="{stuck}" class="board-stuck">' in html
    assert "4 denied CreateUser calls in 5 min" in html and "1 student may need help" in html
    assert f"/classroom/{class_id}/students/{stuck}?show=denied#student-events" in html

    only = teacher.get(url, {"help": "only"}).content.decode()
    assert only.count("<tr data-account=") == 1 and f'<tr data-account="{stuck}"' in only
    assert "help=only" in only[only.index('id="board-matrix"') :].split(">")[0]  # the poll keeps the filter
    first = teacher.get(url, {"help": "first"}).content.decode()
    order = [first.index(f'<tr data-account="{seats[n].seat.account_id}"') for n in (3, 1, 2)]
    assert order == sorted(order)

    # One click: the student's denied calls, with why each was denied.
    page = teacher.get(f"/classroom/{class_id}/students/{stuck}", {"show": "denied"}).content.decode()
    assert "Denied and failed calls" in page and page.count('<details class="event-why" open>') == 4
    assert page.count("<td>CreateUser</td>") == 4  # the root user's successful CreateUser of bob is left out


def test_the_searches_the_console_makes_while_typing_are_not_denials(instructor_ctx, class_id, students, client):  # noqa: F811
    """The top bar's search reads each kind through its List call; a student whose user may not list users is
    refused each time they type. Those calls are in their trail, but only what they asked for themselves counts."""
    ctx = students[1]
    users.create_user(ctx, user_name="bob")
    users.create_login_profile(ctx, user_name="bob", password="Initial-Passw0rd!")
    users.update_login_profile(ctx, user_name="bob", password_reset_required=False)
    response = client.post(
        f"/signin/{ctx.account_id}", {"account": ctx.account_id, "username": "bob", "password": "Initial-Passw0rd!"}
    )
    assert response.status_code == 302
    for query in ("a", "al", "ali", "alic"):
        assert client.get("/search", {"q": query}, HTTP_HX_REQUEST="true").status_code == 200
    delivery.deliver_pending()
    denied = AuditEvent.objects.filter(account_id=ctx.account_id, event_name="ListUsers", error_code="AccessDenied")
    assert denied.count() == 4  # recorded, as AWS records the console's calls
    assert signs(instructor_ctx, class_id) == {}
    for _ in range(3):  # the Users page, opened three times: the student's own refused calls
        assert client.get("/iam/users").status_code == 403
    delivery.deliver_pending()
    assert signs(instructor_ctx, class_id) == {ctx.account_id: [("denials", "3 denied ListUsers calls in 5 min")]}
