"""Instructor sign-up with names the account cannot hold (issue 12, section 5): ``Account.name`` has 50
characters, as AWS's account names. A longer name is a form error; without a name, the account is named after
the email's local part cut to 50 characters. Never a 500, and a refused sign-up creates nothing."""

from __future__ import annotations

import pytest
from django.core.management import CommandError, call_command
from django.test import Client

from classroom import services
from classroom.models import Instructor
from console.services import create_account
from core.errors import InvalidInput
from identities.models import Account

PASSWORD = "Teach-Passw0rd!"


def sign_up(email: str, name: str):
    return Client().post(
        "/classroom/signup", {"email": email, "name": name, "password": PASSWORD, "confirm_password": PASSWORD}
    )


@pytest.mark.parametrize("length", [51, 128, 500])
def test_a_name_over_50_characters_is_a_form_error(db, managed_policies, length):
    response = sign_up("long@school.example", "N" * length)
    assert response.status_code == 400
    assert b"Your name can have at most 50 characters." in response.content
    assert not Account.objects.filter(root_email="long@school.example").exists()
    assert not Instructor.objects.exists()


def test_a_name_of_50_characters_is_kept(db, managed_policies):
    assert sign_up("fifty@school.example", "N" * 50).status_code == 302
    assert Account.objects.get(root_email="fifty@school.example").name == "N" * 50


def test_no_name_and_a_long_email_local_part(db, managed_policies):
    local = "a" * 64  # the longest local part an address may have
    response = sign_up(f"{local}@school.example", "")
    assert response.status_code == 302
    account = Account.objects.get(root_email=f"{local}@school.example")
    assert account.name == "a" * 50 and services.is_instructor(account.id)


def test_an_email_over_254_characters(db, managed_policies):
    response = sign_up("b" * 250 + "@school.example", "")
    assert response.status_code == 400 and b"Enter a valid email address." in response.content
    assert not Account.objects.exists()


def test_the_command_and_the_service_refuse_the_same(db, managed_policies):
    with pytest.raises(CommandError, match="at most 50 characters"):
        call_command("create_instructor", email="cmd@school.example", password=PASSWORD, name="x" * 51)
    with pytest.raises(InvalidInput, match="at most 50 characters"):
        create_account(email="svc@school.example", password=PASSWORD, name="y" * 51)
    with pytest.raises(CommandError):
        call_command("create_account", email="alias@school.example", password=PASSWORD, alias="z" * 64)
    assert not Account.objects.exists()
    assert create_account(email=("c" * 60) + "@school.example", password=PASSWORD).name == "c" * 50
