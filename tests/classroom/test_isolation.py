"""Isolation between the students of a class: through the Query API (real boto3 against a live server), the
console's event history, lab checks and the class pages, a student reads and changes nothing of another
student's account, and only the class's instructor sees the class."""

from __future__ import annotations

import json

import pytest
from botocore.exceptions import ClientError
from django.test import Client

from audit import delivery
from audit.models import AuditEvent
from classroom import services as classes
from identities import services as users
from identities.models import IamUser
from policies import services as policies
from tests.awsapi.conftest import client, issue_key
from tests.classroom.labs.conftest import lab_results

DOC = json.dumps({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:*", "Resource": "*"}]})


def signed_in(email: str, password: str) -> Client:
    browser = Client()
    assert browser.post("/signin", {"email": email, "password": password}).status_code == 302
    return browser


@pytest.fixture
def two_students(klass, students):
    """Student B owns a user, a policy and a trail; student A has root access keys for the API."""
    b = students[2]
    users.create_user(b, user_name="bea")
    policies.create_policy(b, policy_name="BeaPolicy", policy_document=DOC)
    return students[1], b


def test_the_api_of_one_student_cannot_reach_another_students_account(live_server, two_students):
    a, b = two_students
    iam = client(live_server, "iam", *issue_key(a.account_id))
    bea_policy = f"arn:aws:iam::{b.account_id}:policy/BeaPolicy"

    assert [u["UserName"] for u in iam.list_users()["Users"]] == []
    with pytest.raises(ClientError) as denied:
        iam.get_user(UserName="bea")
    assert denied.value.response["Error"]["Code"] == "NoSuchEntity"
    # An ARN in another account is a cross-account request: denied by default, as AWS answers.
    with pytest.raises(ClientError) as denied:
        iam.get_policy(PolicyArn=bea_policy)
    assert denied.value.response["Error"]["Code"] == "AccessDenied"
    with pytest.raises(ClientError) as denied:
        iam.delete_policy(PolicyArn=bea_policy)
    assert denied.value.response["Error"]["Code"] == "AccessDenied"
    iam.create_user(UserName="alice")
    with pytest.raises(ClientError) as denied:
        iam.attach_user_policy(UserName="alice", PolicyArn=bea_policy)
    assert denied.value.response["Error"]["Code"] in ("NoSuchEntity", "AccessDenied")
    assert iam.list_attached_user_policies(UserName="alice")["AttachedPolicies"] == []
    # Nothing of B's changed, and A's user was made in A's account.
    assert IamUser.objects.in_account(b.account_id).get().name == "bea"
    assert IamUser.objects.in_account(a.account_id).get().name == "alice"
    assert policies.get_policy(b, policy_arn=bea_policy).name == "BeaPolicy"


def test_event_history_shows_only_the_students_own_trail(klass, two_students):
    _, issued = klass
    a, b = two_students
    users.create_user(a, user_name="alice")
    delivery.deliver_pending()
    seat_a = issued[0]
    browser = signed_in(seat_a.seat.email, seat_a.password)
    browser.post(
        "/change_password",
        {"old_password": seat_a.password, "new_password": "N3w-Passw0rd!", "confirm_password": "N3w-Passw0rd!"},
    )
    page = browser.get("/iam/event_history").content.decode()
    assert "alice" in page and "bea" not in page and "BeaPolicy" not in page
    theirs = AuditEvent.objects.filter(account_id=b.account_id, event_name="CreateUser").get()
    assert browser.get(f"/iam/event_history/{theirs.event_id}").status_code == 404


def test_lab_checks_look_only_at_the_students_own_account(two_students):
    a, b = two_students
    users.create_user(b, user_name="alice")
    users.create_login_profile(b, user_name="alice", password="Initial-Passw0rd!")
    policies.attach_user_policy(b, user_name="alice", policy_arn="arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess")
    assert all(ok for ok, _ in lab_results(b.account_id, "first-user").values())
    assert not any(ok for ok, _ in lab_results(a.account_id, "first-user").values())


def test_only_the_classs_instructor_sees_the_class(klass, students):
    classroom, _ = klass
    other = classes.sign_up_instructor(email="other@school.example", password="Other-Passw0rd!", name="Other")
    from tests.classroom.conftest import root_ctx_of

    assert list(classes.list_classes(root_ctx_of(other.id))) == []
    with pytest.raises(classes.ClassNotFound):
        classes.get_class(root_ctx_of(other.id), classroom.pk)
    with pytest.raises(classes.ClassNotFound):
        classes.reset_student_accounts(root_ctx_of(other.id), classroom.pk)
    with pytest.raises(classes.ClassNotFound):
        classes.get_class(students[1], classroom.pk)
    browser = signed_in("other@school.example", "Other-Passw0rd!")
    for url in ["", "/handout", "/handout.csv", "/organization", "/policies", "/reset"]:
        assert browser.get(f"/classroom/{classroom.pk}{url}").status_code == 404, url
    assert browser.post(f"/classroom/{classroom.pk}/reset", {"confirm": "reset"}).status_code == 404
