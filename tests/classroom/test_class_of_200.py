"""A class of 200 students (issue 16 §3): created in one go, and no more than 200."""

from __future__ import annotations

import pytest

from classroom import services
from core.errors import IamError
from tests.classroom.conftest import INSTRUCTOR_EMAIL, INSTRUCTOR_PASSWORD
from tests.conftest import signed_in_client


def test_a_class_of_200_and_not_one_more(instructor_ctx):
    refused = signed_in_client(INSTRUCTOR_EMAIL, INSTRUCTOR_PASSWORD).post(
        "/classroom/create", {"title": "Too big", "students": "201"}
    )
    assert refused.status_code == 400 and b"between 1 and 200" in refused.content
    classroom, issued = services.create_class(instructor_ctx, title="Lecture hall", students=200, alias_prefix="hall")
    assert len(issued) == 200 and classroom.seats.count() == 200
    assert len({seat.seat.account_id for seat in issued}) == 200
    with pytest.raises(IamError, match="at most 200 student accounts"):
        services.add_students(instructor_ctx, classroom.pk, count=1)
    assert classroom.seats.count() == 200
