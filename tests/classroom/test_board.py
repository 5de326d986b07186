"""The instructor's board: the live matrix, resets from it, one student's page and the class-wide event history;
only the class's instructor sees any of it."""

from __future__ import annotations

import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from audit import delivery
from audit.models import AuditEvent
from classroom import services
from classroom.labs import all_labs, get_lab
from classroom.models import LabProgress
from classroom.progress import refresh
from core.errors import AccessDenied
from identities import services as users
from identities.models import IamUser
from tests.classroom.conftest import INSTRUCTOR_EMAIL, INSTRUCTOR_PASSWORD
from tests.classroom.test_labs_ui import solve_lab_1, student_client
from tests.conftest import signed_in_client
from tests.console.test_user_signin import make_user

HTMX = {"HTTP_HX_REQUEST": "true"}


@pytest.fixture
def teacher(instructor):
    return signed_in_client(INSTRUCTOR_EMAIL, INSTRUCTOR_PASSWORD)


@pytest.fixture
def class_id(klass):
    return klass[0].organization_id


@pytest.fixture
def seats(klass):
    return {s.seat.number: s for s in klass[1]}


def cell(html: str, account_id: str, slug: str) -> str:
    row = html[html.index(f'<tr data-account="{account_id}">') :]
    row = row[: row.index("</tr>")]
    match = re.search(rf'<td class="board-cell (board-[\w-]+)" data-lab="{slug}"[^>]*>([^<]*)</td>', row)
    assert match, row
    return f"{match.group(1)} {match.group(2)}"


def test_class_page_links_to_the_board(teacher, class_id):
    assert f'href="/classroom/{class_id}/board"' in teacher.get(f"/classroom/{class_id}").content.decode()


def test_board_shows_students_by_labs_and_a_completed_lab(teacher, class_id, students, seats):
    html = teacher.get(f"/classroom/{class_id}/board").content.decode()
    for number, seat in seats.items():
        assert f'<tr data-account="{seat.seat.account_id}">' in html
        assert f"cls1-student{number:02d}" in html and seat.seat.email in html
    for lab in all_labs():
        assert f'title="Lab {lab.number}: {lab.title}"' in html
    assert cell(html, seats[1].seat.account_id, "first-user") == "board-not-started ·"

    users.create_user(students[1], user_name="alice")
    refresh(students[1].account_id)
    solve_lab_1(students[2])
    refresh(students[2].account_id)

    response = teacher.get(f"/classroom/{class_id}/board", HTTP_HX_TARGET="board-matrix", **HTMX)
    html = response.content.decode()
    assert html.lstrip().startswith('<div id="board-matrix"') and "<html" not in html
    assert 'hx-trigger="every 3s"' in html
    assert cell(html, seats[1].seat.account_id, "first-user") == "board-started 1/4"
    assert cell(html, seats[2].seat.account_id, "first-user") == "board-complete 4/4"
    assert cell(html, seats[3].seat.account_id, "first-user") == "board-not-started ·"
    assert re.search(r'<td class="board-total"[^>]*data-lab="first-user">1/3</td>', html)
    # Switch into: the console's Switch role page, prefilled as AWS's shareable link is.
    assert (
        f'href="/switchrole?account={seats[2].seat.account_id}&amp;roleName=OrganizationAccountAccessRole'
        f'&amp;displayName=student02+%40+IAM+101&amp;color=orange"'
    ) in html


def test_board_queries_do_not_grow_with_the_class(teacher, instructor_ctx, class_id):
    small, _ = services.create_class(instructor_ctx, title="Small", students=1, alias_prefix="small")
    for klass_id in (small.organization_id, class_id):
        for account_id in services.list_accounts(instructor_ctx, klass_id):
            refresh(account_id.account_id)
    teacher.get(f"/classroom/{small.organization_id}/board")  # warm
    counts = []
    for klass_id in (small.organization_id, class_id):
        with CaptureQueriesContext(connection) as queries:
            assert teacher.get(f"/classroom/{klass_id}/board").status_code == 200
        counts.append(len(queries))
    assert counts[0] == counts[1], counts


def test_reset_one_student_to_the_start_of_a_lab(teacher, class_id, students, seats):
    solve_lab_1(students[1])
    solve_lab_1(students[2])
    refresh(students[1].account_id)
    refresh(students[2].account_id)

    response = teacher.post(
        f"/classroom/{class_id}/board/reset",
        {"account": seats[1].seat.account_id, "to": "first-user", "confirm": "reset"},
        **HTMX,
    )
    assert response.status_code == 200 and response["HX-Redirect"] == f"/classroom/{class_id}/board"
    assert not IamUser.objects.filter(account_id=seats[1].seat.account_id).exists()
    assert not LabProgress.objects.filter(account_id=seats[1].seat.account_id).exists()
    assert IamUser.objects.filter(account_id=seats[2].seat.account_id).exists()  # only the one student

    html = teacher.get(f"/classroom/{class_id}/board").content.decode()
    assert re.search(r"Reset 1 student account to the start of lab 1 \(Your first IAM user\) in \d+\.\d s\.", html)
    assert cell(html, seats[1].seat.account_id, "first-user") == "board-not-started ·"
    assert cell(html, seats[2].seat.account_id, "first-user") == "board-complete 4/4"
    assert AuditEvent.objects.filter(account_id=klass_instructor(class_id), event_name="ResetAccount").exists()


def klass_instructor(class_id: str) -> str:
    from classroom.models import Class

    return Class.objects.get(pk=class_id).instructor_account_id


def test_reset_all_asks_for_confirmation_first(teacher, class_id, students, seats):
    for ctx in students.values():
        users.create_user(ctx, user_name="alice")

    with CaptureQueriesContext(connection) as captured:
        response = teacher.post(f"/classroom/{class_id}/board/reset", {"account": "all", "to": ""})
    assert response.status_code == 200
    assert "Reset all 3 student accounts to empty?" in response.content.decode()
    # The confirmation needs the class and its seat count, not the board's progress matrix.
    assert not [q for q in captured.captured_queries if "classroom_labprogress" in q["sql"]]
    assert IamUser.objects.filter(name="alice").count() == 3

    response = teacher.post(f"/classroom/{class_id}/board/reset", {"account": "all", "confirm": "nope"})
    assert response.status_code == 400 and IamUser.objects.filter(name="alice").count() == 3

    response = teacher.post(f"/classroom/{class_id}/board/reset", {"account": "all", "to": "", "confirm": "reset"})
    assert response.status_code == 302 and response["Location"] == f"/classroom/{class_id}/board"
    assert not IamUser.objects.filter(name="alice").exists()
    html = teacher.get(f"/classroom/{class_id}/board").content.decode()
    assert re.search(r"Reset 3 student accounts to empty in \d+\.\d s\.", html)


def test_a_rows_reset_asks_first_naming_the_student_and_what_goes(teacher, class_id, students, seats):
    """The board's per-row Reset submits the row's account and the "Reset to" choice: that shows a confirmation
    naming the student and their users, and deletes nothing until "reset" is typed."""
    solve_lab_1(students[2])
    users.create_user(students[2], user_name="bob")
    account = seats[2].seat.account_id
    html = teacher.get(f"/classroom/{class_id}/board").content.decode()
    row = html[html.index(f'<tr data-account="{account}">') :]
    button = row[row.index('data-testid="reset-row"') - 200 : row.index("</button>")]
    assert "hx-post" not in button and 'form="board-reset"' in button  # a plain submit: no one-click htmx reset

    response = teacher.post(f"/classroom/{class_id}/board/reset", {"account": account, "to": "developers-group"})
    assert response.status_code == 200
    page = response.content.decode()
    assert "Reset student02 (cls1-student02) to the start of lab 2?" in page
    assert '2 IAM users: <span class="mono">alice</span>, <span class="mono">bob</span>' in page
    assert 'name="to" value="developers-group"' in page
    assert IamUser.objects.filter(account_id=account).count() == 2

    response = teacher.post(
        f"/classroom/{class_id}/board/reset", {"account": account, "to": "developers-group", "confirm": "nope"}
    )
    assert response.status_code == 400 and IamUser.objects.filter(account_id=account).count() == 2
    response = teacher.post(
        f"/classroom/{class_id}/board/reset", {"account": account, "to": "developers-group", "confirm": "reset"}
    )
    assert response.status_code == 302
    assert sorted(IamUser.objects.filter(account_id=account).values_list("name", flat=True)) == [
        "alice",
        "bob",
        "carol",
    ]


def test_board_page_confirms_reset_all_in_the_browser(teacher, class_id):
    html = teacher.get(f"/classroom/{class_id}/board").content.decode()
    button = html[html.index('data-testid="reset-all"') :]
    button = button[: button.index("</button>")]
    assert 'hx-confirm="Reset all 3 student accounts?' in button and 'hx-indicator="#board-busy"' in button


def test_student_page_shows_checks_and_recent_events_with_denials_explained(teacher, class_id, students, seats):
    ctx = students[1]
    users.create_user(ctx, user_name="alice")
    make_user(ctx, "bob")  # no permissions
    from console.services import user_principal
    from core.context import CallContext

    bob = IamUser.objects.get(account_id=ctx.account_id, name="bob")
    bob_ctx = CallContext(user_principal(bob), user_agent="pytest", origin="console")
    with pytest.raises(AccessDenied):
        users.create_user(bob_ctx, user_name="mallory")
    delivery.deliver_pending()

    response = teacher.get(f"/classroom/{class_id}/students/{seats[1].seat.account_id}")
    assert response.status_code == 200
    html = response.content.decode()
    assert "An IAM user named alice exists" in html and "The user alice exists." in html
    assert "alice cannot sign in to the console: she has no console password." in html
    denied = html[html.index('<tr class="row-error"') :]
    denied = denied[: denied.index("</tr>")]
    assert "CreateUser" in denied and "AccessDenied" in denied and "<code>iam:CreateUser</code>" in denied
    assert 'data-testid="why-panel"' in denied

    partial = teacher.get(
        f"/classroom/{class_id}/students/{seats[1].seat.account_id}", HTTP_HX_TARGET="student-activity", **HTMX
    ).content.decode()
    assert partial.lstrip().startswith('<div id="student-activity"') and 'hx-trigger="every 5s"' in partial

    assert teacher.get(f"/classroom/{class_id}/students/123456789012").status_code == 404


def test_class_event_history_spans_the_organization(teacher, instructor_ctx, class_id, students, seats):
    users.create_user(students[1], user_name="alice")
    users.create_user(students[2], user_name="bob")
    delivery.deliver_pending()

    html = teacher.get(f"/classroom/{class_id}/events").content.decode()
    rows = re.findall(r'<tr class="[^"]*" data-account="(\d+)">\s*<td>(\w+)</td>', html)
    names = {(account, name) for account, name in rows}
    assert (seats[1].seat.account_id, "CreateUser") in names and (seats[2].seat.account_id, "CreateUser") in names
    assert (klass_instructor(class_id), "CreateOrganization") in names
    assert ">student01</a>" in html and "Management account" in html

    html = teacher.get(
        f"/classroom/{class_id}/events", {"attribute": "EventName", "value": "CreateOrganization"}
    ).content.decode()
    assert re.findall(r'data-account="(\d+)">\s*<td>(\w+)</td>', html) == [
        (klass_instructor(class_id), "CreateOrganization")
    ]


def test_class_event_history_polls_and_redraws_only_when_a_student_did_something(teacher, class_id, students):
    users.create_user(students[1], user_name="alice")
    delivery.deliver_pending()
    html = teacher.get(f"/classroom/{class_id}/events").content.decode()
    poll = re.search(r'hx-get="(/classroom/[^"]+newer=[^"]+)"\s+hx-trigger="every 5s"', html).group(1)
    poll = poll.replace("&amp;", "&")
    assert teacher.get(poll, headers={"HX-Request": "true"}).status_code == 204  # nothing new: the page stays
    users.create_user(students[2], user_name="bob")
    delivery.deliver_pending()
    redrawn = teacher.get(poll, headers={"HX-Request": "true", "HX-Target": "class-event-table"})
    assert redrawn.status_code == 200
    html = redrawn.content.decode()
    assert '<td class="truncate">bob</td>' in html and '<td class="truncate">alice</td>' in html
    assert html.lstrip().startswith('<section class="container" id="class-event-table">')  # the fragment only


def test_class_event_history_pages_with_a_cursor(teacher, class_id, students):
    for n in range(55):
        users.create_group(students[1 + n % 3], group_name=f"g{n}")
    delivery.deliver_pending()
    first = teacher.get(f"/classroom/{class_id}/events", {"attribute": "EventName", "value": "CreateGroup"})
    html = first.content.decode()
    assert html.count("<td>CreateGroup</td>") == 50
    next_url = re.search(r'data-testid="next-page" href="([^"]+)"', html).group(1).replace("&amp;", "&")
    html = teacher.get(next_url).content.decode()
    assert html.count("<td>CreateGroup</td>") == 5 and 'data-testid="next-page"' not in html


@pytest.mark.parametrize("page", ["board", "events", "students/{account}", "board/reset?account={account}"])
def test_students_and_other_instructors_get_404(page, class_id, seats, klass):
    from classroom.services import sign_up_instructor

    student = student_client(seats[1])
    sign_up_instructor(email="other@school.example", password="Other-Passw0rd!", name="Other")
    other = signed_in_client("other@school.example", "Other-Passw0rd!")
    url = f"/classroom/{class_id}/" + page.format(account=seats[1].seat.account_id)
    for client in (student, other):
        assert client.get(url).status_code == 404, url
    for client in (student, other):
        response = client.post(f"/classroom/{class_id}/board/reset", {"account": seats[1].seat.account_id, "to": ""})
        assert response.status_code == 404


def test_switch_page_is_prefilled_and_explains_root_users_cannot_switch(teacher, seats):
    account = seats[1].seat.account_id
    html = teacher.get(
        "/switchrole",
        {"account": account, "roleName": "OrganizationAccountAccessRole", "displayName": "student01 @ IAM 101"},
    ).content.decode()
    assert f'name="account" value="{account}"' in html
    assert 'name="roleName" value="OrganizationAccountAccessRole"' in html
    assert 'value="student01 @ IAM 101"' in html
    assert "root users can't switch roles" in html and "an IAM user of its management account" in html


def test_reset_to_a_lab_start_builds_its_starting_state(teacher, class_id, seats):
    """Lab by lab: reset to a lab's start leaves exactly what its starting state builds (labs without one: empty)."""
    for lab in all_labs():
        response = teacher.post(
            f"/classroom/{class_id}/board/reset",
            {"account": seats[3].seat.account_id, "to": lab.slug, "confirm": "reset"},
        )
        assert response.status_code == 302, lab.slug
        setup = AuditEvent.objects.filter(
            account_id=seats[3].seat.account_id, record__userAgent="IAM Classroom lab setup"
        )
        assert setup.exists() == (lab.starting_state is not None), lab.slug
        AuditEvent.objects.filter(account_id=seats[3].seat.account_id).delete()
    assert get_lab("cross-account").starting_state is None  # the loop covered a lab without one


def test_the_poll_redraws_the_matrix_only_when_progress_changed(teacher, class_id, students, seats):
    def poll_url(html: str) -> str:
        return re.search(r'<div id="board-matrix" class="board-matrix" hx-get="([^"]+)"', html).group(1)

    url = poll_url(teacher.get(f"/classroom/{class_id}/board").content.decode())
    assert "?since=" in url
    assert teacher.get(url, HTTP_HX_TARGET="board-matrix", **HTMX).status_code == 204

    users.create_user(students[2], user_name="alice")
    refresh(students[2].account_id)  # as the worker does after delivering the event
    response = teacher.get(url, HTTP_HX_TARGET="board-matrix", **HTMX)
    assert response.status_code == 200
    html = response.content.decode()
    assert cell(html, seats[2].seat.account_id, "first-user") == "board-started 1/4"
    new_url = poll_url(html)
    assert new_url != url and teacher.get(new_url, HTTP_HX_TARGET="board-matrix", **HTMX).status_code == 204

    teacher.post(
        f"/classroom/{class_id}/board/reset", {"account": seats[2].seat.account_id, "to": "", "confirm": "reset"}
    )
    assert teacher.get(new_url, HTTP_HX_TARGET="board-matrix", **HTMX).status_code == 200


def test_iam_users_of_the_management_account_need_permission(instructor_ctx, instructor, class_id):
    make_user(instructor_ctx, "ta")  # no policies
    make_user(instructor_ctx, "admin", "AdministratorAccess")
    from tests.console.test_user_signin import sign_in

    ta, _ = sign_in(instructor.id, "ta")
    response = ta.get(f"/classroom/{class_id}/board")
    assert response.status_code == 403
    assert "is not authorized to perform: organizations:DescribeClassBoard" in response.content.decode()
    assert ta.get(f"/classroom/{class_id}/events").status_code == 403

    admin, _ = sign_in(instructor.id, "admin")
    assert admin.get(f"/classroom/{class_id}/board").status_code == 200
    assert admin.get(f"/classroom/{class_id}/events").status_code == 200


def test_a_reset_to_a_later_labs_start_keeps_the_labs_completed_before_it(teacher, class_id, students, seats):
    solve_lab_1(students[1])
    refresh(students[1].account_id)
    account = seats[1].seat.account_id
    page = teacher.post(f"/classroom/{class_id}/board/reset", {"account": account, "to": "developers-group"})
    assert "Completed labs before lab 2 stay completed (lab 1)." in page.content.decode()
    teacher.post(
        f"/classroom/{class_id}/board/reset", {"account": account, "to": "developers-group", "confirm": "reset"}
    )
    refresh(account)
    html = teacher.get(f"/classroom/{class_id}/board").content.decode()
    assert cell(html, account, "first-user") == "board-complete 4/4"
    assert cell(html, account, "developers-group").startswith("board-not-started")

    teacher.post(f"/classroom/{class_id}/board/reset", {"account": account, "to": "", "confirm": "reset"})
    html = teacher.get(f"/classroom/{class_id}/board").content.decode()
    assert cell(html, account, "first-user") == "board-not-started ·"  # a reset to empty forgets every lab
