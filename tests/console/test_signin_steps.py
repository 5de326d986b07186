"""AWS's two-step sign-in (issue 15): first Root user (email) or IAM user (account ID or alias), then the password.
The first step never tells whether an address is known; an IAM user goes on to the account's sign-in URL."""

from __future__ import annotations

import pytest

from tests.conftest import ROOT_PASSWORD

pytestmark = pytest.mark.django_db


def test_root_first_step_asks_for_the_password_whether_or_not_the_address_is_known(client, account):
    known = client.post("/signin", {"signin_kind": "root", "email": account.root_email})
    unknown = client.post("/signin", {"signin_kind": "root", "email": "nobody@nowhere.example"})
    for response, email in ((known, account.root_email), (unknown, "nobody@nowhere.example")):
        assert response.status_code == 200
        body = response.content.decode()
        assert "Root user sign in" in body and 'name="password"' in body and email in body
    assert client.get("/").status_code == 302  # nobody is signed in by the first step


def test_root_second_step_signs_in_and_keeps_next(client, account):
    response = client.post(
        "/signin?next=/iam/users", {"signin_kind": "root", "email": account.root_email, "password": ROOT_PASSWORD}
    )
    assert response.status_code == 302 and response["Location"] == "/iam/users"


def test_a_wrong_password_stays_on_the_second_step(client, account):
    response = client.post("/signin", {"signin_kind": "root", "email": account.root_email, "password": "wrong"})
    assert response.status_code == 400
    body = response.content.decode()
    assert "Root user sign in" in body and account.root_email in body


def test_iam_user_first_step_goes_to_the_accounts_sign_in_url(client, account):
    response = client.post("/signin?next=/iam/roles", {"signin_kind": "user", "account": account.id})
    assert response.status_code == 302
    assert response["Location"] == f"/signin/{account.id}?next=%2Fiam%2Froles"
    page = client.get(response["Location"]).content.decode()
    assert f'value="{account.id}"' in page and "IAM user name" in page


@pytest.mark.parametrize("value", ["", "a/b", "../x", "x" * 64, "acc ount"])
def test_iam_user_first_step_refuses_what_is_no_account_id_or_alias(client, value):
    response = client.post("/signin", {"signin_kind": "user", "account": value})
    assert response.status_code == 400
    assert "Enter your account ID (12 digits) or account alias." in response.content.decode()


def test_root_first_step_needs_an_address(client):
    response = client.post("/signin", {"signin_kind": "root", "email": ""})
    assert response.status_code == 400
    assert "Enter your root user email address." in response.content.decode()
