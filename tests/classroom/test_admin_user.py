"""The instructor's own administrator IAM user: AWS does not let root switch roles, so the class pages offer to
create an IAM user with AdministratorAccess (a password the teacher chooses) and to sign in as it; that user then
switches into a student's account with OrganizationAccountAccessRole."""

from __future__ import annotations

import html
import re

import pytest

from audit.models import AuditEvent
from console import throttle
from identities.models import IamUser, LoginProfile
from policies.models import UserPolicyAttachment
from tests.conftest import signed_in_client

from .conftest import INSTRUCTOR_EMAIL, INSTRUCTOR_PASSWORD

ADMIN_PASSWORD = "Admin-Passw0rd!"
ADMIN_ARN = "arn:aws:iam::aws:policy/AdministratorAccess"


@pytest.fixture(autouse=True)
def _fresh_throttle():
    throttle.clear_all()
    yield
    throttle.clear_all()


@pytest.fixture
def teacher(instructor):
    return signed_in_client(INSTRUCTOR_EMAIL, INSTRUCTOR_PASSWORD)


def _create_admin(client, class_id: str = "", **fields):
    data = {"user_name": "admin", "password": ADMIN_PASSWORD, "confirm_password": ADMIN_PASSWORD, **fields}
    if class_id:
        data["class"] = class_id
    return client.post("/classroom/admin-user", data)


def test_class_creation_offers_the_admin_user_and_leads_to_it(teacher, instructor):
    page = teacher.get("/classroom/create").content.decode()
    assert 'data-testid="admin-offer"' in page and 'name="create_admin" value="1" >' in page

    response = teacher.post("/classroom/create", {"title": "IAM 101", "students": "2", "create_admin": "1"})

    assert response.status_code == 302
    match = re.fullmatch(r"/classroom/admin-user\?class=(o-[a-z0-9]+)", response["Location"])
    assert match, response["Location"]
    form = teacher.get(response["Location"]).content.decode()
    assert "Create your administrator IAM user" in form and f'name="class" value="{match.group(1)}"' in form


def test_class_creation_without_the_offer_goes_to_the_class(teacher):
    response = teacher.post("/classroom/create", {"title": "IAM 101", "students": "2"})
    assert response.status_code == 302 and re.fullmatch(r"/classroom/o-[a-z0-9]+", response["Location"])


def test_class_page_offers_the_admin_user_until_one_exists(teacher, klass, instructor_ctx):
    classroom, _ = klass
    url = f"/classroom/{classroom.pk}"
    assert 'data-testid="admin-offer"' in teacher.get(url).content.decode()

    response = _create_admin(teacher, classroom.pk)

    assert response.status_code == 200 and response["Cache-Control"] == "no-store"
    done = response.content.decode()
    assert 'data-testid="admin-user-name">admin<' in done and ADMIN_PASSWORD not in done
    user = IamUser.objects.get(account_id=instructor_ctx.account_id, name="admin")
    assert list(UserPolicyAttachment.objects.filter(user=user).values_list("policy__arn", flat=True)) == [ADMIN_ARN]
    assert not LoginProfile.objects.get(user=user).password_reset_required
    assert {"CreateUser", "CreateLoginProfile", "AttachUserPolicy"} <= set(
        AuditEvent.objects.values_list("event_name", flat=True)
    )
    page = teacher.get(url).content.decode()
    assert 'data-testid="admin-offer"' not in page and "Sign out and sign in as admin" in page
    assert 'name="create_admin"' not in teacher.get("/classroom/create").content.decode()


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"confirm_password": "Other-Passw0rd!"}, "The passwords you entered don't match."),
        ({"password": "", "confirm_password": ""}, "Enter a console password."),
        ({"user_name": ""}, "Enter a user name."),
        ({"user_name": "no way!"}, "Member must satisfy regular expression pattern"),
        (
            {"password": "short", "confirm_password": "short"},
            "Password does not conform to the account password policy",
        ),
    ],
)
def test_bad_admin_user_input_creates_nothing(teacher, instructor, fields, message):
    response = _create_admin(teacher, **fields)
    assert response.status_code == 400 and message in html.unescape(response.content.decode())
    assert not IamUser.objects.exists() and not LoginProfile.objects.exists()


def test_an_existing_name_is_reported_and_nothing_changes(teacher, instructor):
    assert _create_admin(teacher).status_code == 200
    response = _create_admin(teacher, password="Another-Passw0rd!", confirm_password="Another-Passw0rd!")
    assert response.status_code == 400 and "User with name admin already exists." in response.content.decode()
    assert IamUser.objects.count() == 1


def test_sign_in_as_the_admin_user_then_switch_into_a_student(teacher, klass, instructor):
    classroom, issued = klass
    _create_admin(teacher, classroom.pk)

    response = teacher.post("/classroom/admin-user/signin", {"user_name": "admin", "class": classroom.pk})

    assert response.status_code == 302
    assert response["Location"] == f"/signin/{instructor.id}?username=admin&next=%2Fclassroom%2F{classroom.pk}"
    assert teacher.get("/classroom/").status_code == 302  # the root session is over
    form = teacher.get(response["Location"]).content.decode()
    assert f'name="account" value="{instructor.id}"' in form and 'name="username" value="admin"' in form
    signed_in = teacher.post(
        response["Location"], {"account": instructor.id, "username": "admin", "password": ADMIN_PASSWORD}
    )
    assert signed_in.status_code == 302 and signed_in["Location"] == f"/classroom/{classroom.pk}"
    page = teacher.get(signed_in["Location"]).content.decode()
    assert "Switch into" in page and 'data-testid="admin-offer"' not in page

    student = issued[0].seat.account_id
    switched = teacher.post("/switchrole", {"account": student, "roleName": "OrganizationAccountAccessRole"})
    assert switched.status_code == 302
    users = teacher.get("/iam/users")
    assert users.status_code == 200 and b'data-testid="switched-badge"' in users.content


def test_root_still_cannot_switch_roles_and_is_shown_the_way(teacher, klass):
    classroom, issued = klass
    student = issued[0].seat.account_id
    page = teacher.get(f"/switchrole?account={student}&roleName=OrganizationAccountAccessRole").content.decode()
    assert 'href="/classroom/admin-user"' in page

    response = teacher.post("/switchrole", {"account": student, "roleName": "OrganizationAccountAccessRole"})

    assert (
        response.status_code == 400
        and "Root users cannot switch roles. Sign in as an IAM user to switch roles."
        in html.unescape(response.content.decode())
    )
    assert 'href="/classroom/admin-user"' in response.content.decode()
    _create_admin(teacher)
    page = teacher.get("/switchrole").content.decode()
    assert 'data-testid="switch-root-signin"' in page and "Sign out and sign in as admin" in page


def test_an_iam_user_is_not_offered_the_admin_user(teacher, klass, instructor):
    _create_admin(teacher)
    teacher.post("/classroom/admin-user/signin", {"user_name": "admin"})
    teacher.post(
        f"/signin/{instructor.id}", {"account": instructor.id, "username": "admin", "password": ADMIN_PASSWORD}
    )
    response = teacher.get("/classroom/admin-user")
    assert response.status_code == 302 and response["Location"] == "/classroom/"
    assert teacher.post("/classroom/admin-user", {"user_name": "x"}).status_code == 302
    assert IamUser.objects.count() == 1


def test_admin_user_pages_need_a_session():
    from django.test import Client

    client = Client()
    for method, url in (("get", "/classroom/admin-user"), ("post", "/classroom/admin-user/signin")):
        response = getattr(client, method)(url)
        assert response.status_code == 302 and "/signin" in response["Location"]
