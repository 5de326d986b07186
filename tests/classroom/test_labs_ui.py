"""Labs for students: the list, a lab's page, the side panel next to console pages and its "Check progress"."""

from __future__ import annotations

import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from classroom import services
from classroom.labs import all_labs, get_lab
from classroom.models import LabProgress
from classroom.templatetags.labs_tags import labtext
from identities import services as users
from policies import services as policies
from tests.classroom.conftest import root_ctx_of
from tests.conftest import signed_in_client
from tests.console.test_user_signin import make_user, sign_in

NEW_PASSWORD = "Stud3nt-Passw0rd!"
HTMX = {"HTTP_HX_REQUEST": "true"}


def student_client(seat):
    """The student signs in with the handout's details (after the first-sign-in password change)."""
    services.change_root_password(
        root_ctx_of(seat.seat.account_id), old_password=seat.password, new_password=NEW_PASSWORD
    )
    return signed_in_client(seat.seat.email, NEW_PASSWORD)


@pytest.fixture
def seats(klass):
    _, issued = klass
    return {s.seat.number: s for s in issued}


@pytest.fixture
def first(seats):
    return student_client(seats[1])


@pytest.fixture
def second(seats):
    return student_client(seats[2])


def solve_lab_1(ctx) -> None:
    users.create_user(ctx, user_name="alice")
    users.create_login_profile(ctx, user_name="alice", password="Initial-Passw0rd!", password_reset_required=True)
    policies.attach_user_policy(ctx, user_name="alice", policy_arn="arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess")


def lab_row(html: str, slug: str) -> str:
    start = html.index(f'data-lab="{slug}"')
    return html[start : html.index("</tr>", start)]


def test_labs_entry_in_navigation_and_list_of_every_lab(first):
    page = first.get("/iam/users").content.decode()
    assert '<div class="sidenav-section">Classroom</div>' in page and 'href="/labs/"' in page

    response = first.get("/labs/")
    assert response.status_code == 200
    html = response.content.decode()
    for lab in all_labs():
        assert f'href="/labs/{lab.slug}"' in html and lab.title in html
        assert "Not started" in lab_row(html, lab.slug)


def test_list_shows_n_of_m_then_complete_for_this_account_only(first, second, students):
    users.create_user(students[1], user_name="alice")
    from classroom.progress import refresh

    refresh(students[1].account_id, [get_lab("first-user")])
    assert "1 of 4 checks" in lab_row(first.get("/labs/").content.decode(), "first-user")

    users.create_login_profile(students[1], user_name="alice", password="Initial-Passw0rd!")
    policies.attach_user_policy(
        students[1], user_name="alice", policy_arn="arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess"
    )
    refresh(students[1].account_id, [get_lab("first-user")])
    assert "Complete" in lab_row(first.get("/labs/").content.decode(), "first-user")
    # The other student's list is their own account's: untouched.
    assert "Not started" in lab_row(second.get("/labs/").content.decode(), "first-user")


def test_lab_page_renders_steps_hints_and_checks(first):
    html = first.get("/labs/first-user").content.decode()
    assert "Your first IAM user" in html
    assert "Open <strong>Users</strong> and choose <strong>Create user</strong>." in html
    assert "Name the user <code>alice</code>" in html
    assert '<details class="lab-hints"><summary>Hints (2)</summary>' in html
    assert "An IAM user named alice exists" in html and "Not checked" in html
    assert first.get("/labs/no-such-lab").status_code == 404


def test_lab_text_is_escaped_before_code_and_bold():
    assert str(labtext("Run `<b>x</b>` then **<i>go</i>**")) == (
        "Run <code>&lt;b&gt;x&lt;/b&gt;</code> then <strong>&lt;i&gt;go&lt;/i&gt;</strong>"
    )
    assert str(labtext("no **bold in `code **x**` here**")) == "no **bold in <code>code **x**</code> here**"


def test_side_panel_opens_on_every_console_page_and_closes(first):
    assert 'id="lab-panel"' not in first.get("/iam/users").content.decode()

    response = first.post("/labs/first-user/open")
    assert response.status_code == 302 and response["Location"] == "/iam/users"  # the lab's first console link

    for page in ("/iam/users", "/iam/roles", "/labs/"):
        html = first.get(page).content.decode()
        assert 'id="lab-panel"' in html, page
        panel = html[html.index('id="lab-panel"') :]
        assert "Your first IAM user" in panel and "Check progress" in panel
        assert 'hx-trigger="every 5s"' in panel and "Hints (2)" in panel

    response = first.post("/labs/panel/close", **HTMX)
    assert response.status_code == 200 and response.content == b""
    assert 'id="lab-panel"' not in first.get("/iam/users").content.decode()


def test_the_panel_costs_one_query_per_page(first):
    first.get("/iam/roles")  # warm: first-request work (session, caches) is not the panel's
    with CaptureQueriesContext(connection) as closed:
        assert first.get("/iam/roles").status_code == 200
    first.post("/labs/first-user/open")
    first.get("/iam/roles")
    with CaptureQueriesContext(connection) as opened:
        assert first.get("/iam/roles").status_code == 200
    assert len(opened) == len(closed) + 1
    assert any("classroom_labprogress" in q["sql"] for q in opened.captured_queries)


def test_check_progress_refreshes_only_the_callers_account(first, second, students):
    solve_lab_1(students[1])
    solve_lab_1(students[2])  # both did the work; only the first asks
    first.post("/labs/first-user/open")

    response = first.post("/labs/first-user/check", HTTP_HX_TARGET="lab-panel", **HTMX)
    assert response.status_code == 200
    html = response.content.decode()
    assert html.lstrip().startswith('<aside class="lab-panel" id="lab-panel"')
    assert html.count("lab-check lab-check-passed") == 4 and "Complete" in html

    assert LabProgress.objects.get(account_id=students[1].account_id, lab="first-user").complete
    assert not LabProgress.objects.filter(account_id=students[2].account_id).exists()

    # The second student's button checks the second account, whatever is in the form.
    second.post("/labs/first-user/check", {"account": students[1].account_id})
    assert LabProgress.objects.get(account_id=students[2].account_id, lab="first-user").complete
    assert LabProgress.objects.filter(account_id=students[1].account_id).count() == 1


def test_check_progress_without_htmx_redirects_back_with_results(first, students):
    users.create_user(students[1], user_name="alice")
    response = first.post("/labs/first-user/check")
    assert response.status_code == 302 and response["Location"] == "/labs/first-user"
    html = first.get("/labs/first-user").content.decode()
    assert "1 of 4 checks" in html
    assert "alice cannot sign in to the console: she has no console password." in html


def test_check_on_the_lab_page_returns_its_checks_partial(first, students):
    users.create_user(students[1], user_name="alice")
    response = first.post("/labs/first-user/check", HTTP_HX_TARGET="lab-checks", **HTMX)
    html = response.content.decode()
    assert html.lstrip().startswith('<section class="container" id="lab-checks">')
    assert "1 of 4 checks" in html and "<html" not in html


def test_panel_poll_is_read_only_and_returns_the_checks_fragment(first, students):
    first.post("/labs/first-user/open")
    users.create_user(students[1], user_name="alice")
    response = first.get("/labs/panel", HTTP_HX_TARGET="lab-panel-checks", **HTMX)
    html = response.content.decode()
    assert html.lstrip().startswith('<section class="lab-panel-checks" id="lab-panel-checks"')
    assert "Not checked yet." in html  # the poll never runs checks
    assert not LabProgress.objects.exists()

    from classroom.progress import refresh

    refresh(students[1].account_id, [get_lab("first-user")])  # as the worker does after delivery
    html = first.get("/labs/panel", HTTP_HX_TARGET="lab-panel-checks", **HTMX).content.decode()
    assert "1 of 4 checks" in html and "The user alice exists." in html

    first.post("/labs/panel/close")
    assert first.get("/labs/panel", HTTP_HX_TARGET="lab-panel-checks", **HTMX).content == b""


def test_an_iam_user_of_the_account_without_policies_keeps_the_labs(seats, students):
    """A student testing a lab as a restricted IAM user still sees the account's labs and checks them."""
    make_user(students[1], "bob")  # no policies at all
    solve_lab_1(students[1])
    client, response = sign_in(seats[1].seat.account_id, "bob")
    assert response.status_code == 302
    assert "Not started" in lab_row(client.get("/labs/").content.decode(), "first-user")

    client.post("/labs/first-user/open")
    html = client.post("/labs/first-user/check", HTTP_HX_TARGET="lab-panel", **HTMX).content.decode()
    assert html.count("lab-check lab-check-passed") == 4
    assert LabProgress.objects.get(account_id=students[1].account_id, lab="first-user").complete
    # Nothing of it lands in the trail the labs read.
    from audit.models import AuditEvent

    assert not AuditEvent.objects.filter(event_name__icontains="Lab").exists()


def test_open_only_redirects_inside_the_site(first):
    response = first.post("/labs/first-user/open", {"next": "https://evil.example/"})
    assert response["Location"] == "/iam/users"
    response = first.post("/labs/first-user/open", {"next": "/iam/roles"})
    assert response["Location"] == "/iam/roles"


def test_the_student_loads_a_labs_start_from_a_confirmation_page(first, seats):
    account = seats[1].seat.account_id
    root = root_ctx_of(account)
    solve_lab_1(root)
    first.post("/labs/first-user/check")
    page = first.get("/labs/developers-group").content.decode()
    assert 'href="/labs/developers-group/start"' in page and "Goes on from lab 1&#x27;s end" in page

    confirm = first.get("/labs/developers-group/start").content.decode()
    assert "Load the starting state of lab 2: The Developers group?" in confirm
    assert '1 IAM users: <span class="mono">alice</span>' in confirm
    assert "Completed labs before this one stay completed (lab 1)." in confirm
    response = first.post("/labs/developers-group/start")
    assert response.status_code == 302 and response["Location"] == "/iam/groups"
    assert sorted(users.list_users(root), key=lambda u: u.name)[1].name == "bob"
    assert "Complete" in lab_row(first.get("/labs/").content.decode(), "first-user")


def test_an_iam_user_can_neither_see_what_a_start_deletes_nor_load_it(seats):
    account = seats[1].seat.account_id
    root = root_ctx_of(account)
    solve_lab_1(root)
    make_user(root, "dave")
    dave, _ = sign_in(account, "dave")
    page = dave.get("/labs/developers-group/start").content.decode()
    assert "IAM users:" not in page and "lab-start-submit" not in page
    assert "Only the root user of a student account can load a lab's starting state" in page
    assert 'href="/labs/developers-group/start"' not in dave.get("/labs/developers-group").content.decode()
    response = dave.post("/labs/developers-group/start")
    assert response.status_code == 403
    assert sorted(u.name for u in users.list_users(root)) == ["alice", "dave"]


def test_panel_poll_answers_204_while_nothing_it_shows_changed(first, students):
    """The panel's poll sends the stamp of what it shows; unchanged, the answer is 204 (htmx swaps nothing), so a
    class polling every 5 s costs next to nothing. New results, or the next minute of "Checked … ago", redraw it."""
    from classroom.progress import refresh

    first.post("/labs/first-user/open")
    users.create_user(students[1], user_name="alice")
    refresh(students[1].account_id, [get_lab("first-user")])
    html = first.get("/labs/panel", HTTP_HX_TARGET="lab-panel-checks", **HTMX).content.decode()
    poll = re.search(r'hx-get="(/labs/panel\?shown=[^"]+)"', html).group(1)
    assert first.get(poll, HTTP_HX_TARGET="lab-panel-checks", **HTMX).status_code == 204

    users.create_login_profile(
        students[1], user_name="alice", password="Correct-Horse-9!", password_reset_required=True
    )
    refresh(students[1].account_id, [get_lab("first-user")])
    response = first.get(poll, HTTP_HX_TARGET="lab-panel-checks", **HTMX)
    assert response.status_code == 200 and "2 of 4 checks" in response.content.decode()
    assert 'hx-get="/labs/panel?shown=' in response.content.decode()
    assert first.get("/labs/panel?shown=stale", HTTP_HX_TARGET="lab-panel-checks", **HTMX).status_code == 200
