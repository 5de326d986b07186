"""Lab tests: a class of three students (tests/classroom/conftest.py); ``student`` is seat 1's root context.

``lab_results(account_id, slug)`` runs the lab's checks through ``classroom.progress.refresh`` (the same path as
the worker and the "Check progress" button) and returns ``{check key: (passed, message)}``.
"""

from __future__ import annotations

import pytest

from classroom.labs import get_lab


@pytest.fixture
def student(students):
    return students[1]


@pytest.fixture
def other_student(students):
    return students[2]


def lab_results(account_id: str, slug: str) -> dict[str, tuple[bool, str]]:
    from classroom.progress import refresh

    lab = get_lab(slug)
    assert lab is not None, slug
    row = refresh(account_id, [lab])[slug]
    return {key: (value["passed"], value["message"]) for key, value in row.results.items()}


def live_results(account_id: str, slug: str) -> dict[str, tuple[bool, str]]:
    """The lab's checks run now against the account, ignoring a recorded completion (which ``refresh`` keeps)."""
    from classroom.labs.facts import AccountFacts
    from classroom.models import StudentSeat
    from classroom.progress import run_checks

    seat = StudentSeat.objects.filter(account_id=account_id).first()
    outcomes = run_checks(get_lab(slug), AccountFacts(account_id, since=seat.last_reset_at if seat else None))
    return {key: (o.passed, o.message) for key, o in outcomes.items()}


def start_lab(instructor_ctx, klass, account_id: str, slug: str) -> None:
    """The instructor resets the student's account to the lab's starting state, as the board does."""
    from classroom import services
    from classroom.progress import starting_state_builder

    classroom, _ = klass
    services.reset_student_accounts(
        instructor_ctx,
        classroom.organization_id,
        account_ids=[account_id],
        to_state=starting_state_builder(get_lab(slug)),
    )
