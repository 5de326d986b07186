"""Lab 6 solved through the services (the contractor switches into the role as the console does), and wrong
attempts: an end date in the past, a twelve-hour session, access keys, and a date condition that stops nothing."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest

from console.services import user_principal
from core import clock
from core.context import CallContext
from core.errors import AccessDenied
from identities import credentials, roles, workflows
from identities import services as users
from policies import services as policies
from sts import services as sts
from tests.classroom.labs.conftest import lab_results, live_results

SLUG = "contractor-access"
READ_S3 = "arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess"


def account_trust(account_id: str) -> str:
    return json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [
                {"Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{account_id}:root"}, "Action": "sts:AssumeRole"}
            ],
        }
    )


def assume_until(role_arn: str, end: str) -> str:
    return json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Effect": "Allow",
                    "Action": "sts:AssumeRole",
                    "Resource": role_arn,
                    "Condition": {"DateLessThan": {"aws:CurrentTime": end}},
                }
            ],
        }
    )


def iso(days: int) -> str:
    return (clock.now() + timedelta(days=days)).strftime("%Y-%m-%dT%H:%M:%SZ")


def set_up(student, *, end: str, max_session_duration: int = 3600):
    """The contractor, the role (reads S3 through an AWS managed policy) and the dated permission to assume it."""
    contractor = users.create_user(student, user_name="contractor")
    users.create_login_profile(student, user_name="contractor", password="Contract-Passw0rd!")
    role = workflows.create_role_from_wizard(
        student, role_name="ContractorAccess", trust_policy=account_trust(student.account_id), policies=[READ_S3]
    )
    roles.update_role(student, role_name="ContractorAccess", max_session_duration=max_session_duration)
    policies.put_user_policy(
        student,
        user_name="contractor",
        policy_name="AssumeContractorAccess",
        policy_document=assume_until(role.arn, end),
    )
    return CallContext(user_principal(contractor), origin="console"), role


def test_solving_lab_6_passes_every_check(student):
    before = lab_results(student.account_id, SLUG)
    assert not any(ok for ok, _ in before.values())
    assert before["contractor-can-work"][1] == "There is no IAM user named contractor yet."
    assert before["assumed-role"][1] == (
        "The trail shows no AssumeRole of ContractorAccess by contractor since the lab started."
    )

    contractor, _ = set_up(student, end=iso(14))
    # The contractor signs in and uses Switch role.
    sts.switch_role(contractor, account_id=student.account_id, role_name="ContractorAccess", session_seconds_left=43200)

    after = lab_results(student.account_id, SLUG)
    assert all(ok for ok, _ in after.values()), after
    assert after["access-ends"][1].startswith("After ") and after["access-ends"][1].endswith("can no longer get in.")

    # Once the contract is over, the contractor is refused for real, not only in the checks; the lab, completed,
    # stays completed.
    with clock.frozen(clock.now() + timedelta(days=15)):
        denied = live_results(student.account_id, SLUG)
        assert all(ok for ok, _ in lab_results(student.account_id, SLUG).values())
    assert not denied["contractor-can-work"][0]


def test_an_end_date_in_the_past_is_rejected(student):
    set_up(student, end="2020-01-01T00:00:00Z")
    results = lab_results(student.account_id, SLUG)
    assert results["end-date"] == (
        False,
        "The end date 2020-01-01 00:00 UTC is already past: the contract would be over.",
    )
    assert results["contractor-can-work"] == (False, "Today contractor cannot assume ContractorAccess.")


def test_an_end_date_months_away_is_rejected(student):
    set_up(student, end=iso(90))
    ok, message = lab_results(student.account_id, SLUG)["end-date"]
    assert not ok and message.endswith("is more than 30 days away: the contract ends sooner.")


def test_a_twelve_hour_session_and_an_access_key_are_rejected(student):
    set_up(student, end=iso(7), max_session_duration=43200)
    credentials.create_access_key(student, user_name="contractor")
    results = lab_results(student.account_id, SLUG)
    assert results["short-sessions"] == (
        False,
        "Sessions of ContractorAccess may last 12 hours: a session started "
        "just before the end date would outlive the contract by that much.",
    )
    assert results["no-access-keys"] == (
        False,
        "contractor has 1 access key: long-term keys keep working after the contract ends.",
    )


def test_a_date_condition_that_stops_nothing_is_rejected(student):
    """The end date sits in a statement that grants nothing the contractor needs, while another one allows
    AssumeRole at any time: a date is found, but access does not end."""
    _, role = set_up(student, end=iso(10))
    policies.put_user_policy(
        student,
        user_name="contractor",
        policy_name="AlwaysAssume",
        policy_document=json.dumps(
            {
                "Version": "2012-10-17",
                "Statement": [{"Effect": "Allow", "Action": "sts:AssumeRole", "Resource": role.arn}],
            }
        ),
    )
    results = lab_results(student.account_id, SLUG)
    assert results["end-date"][0]
    ok, message = results["access-ends"]
    assert not ok
    assert message.endswith(
        "contractor can still assume ContractorAccess and read the project files: the end date does not stop the work."
    )


def test_a_denied_attempt_shows_in_the_trail_check(student):
    contractor = users.create_user(student, user_name="contractor")
    roles.create_role(
        student, role_name="ContractorAccess", assume_role_policy_document=account_trust(student.account_id)
    )
    ctx = CallContext(user_principal(contractor), origin="api")
    with pytest.raises(AccessDenied):
        sts.assume_role(
            ctx, role_arn=f"arn:aws:iam::{student.account_id}:role/ContractorAccess", role_session_name="contractor"
        )
    assert lab_results(student.account_id, SLUG)["assumed-role"] == (
        False,
        "contractor tried to assume ContractorAccess but was denied: Event history shows why.",
    )
