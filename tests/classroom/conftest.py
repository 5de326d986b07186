"""Classroom personas: an instructor (management account) with a class of three students."""

from __future__ import annotations

import pytest

from core.context import CallContext, Principal

INSTRUCTOR_EMAIL = "teacher@school.example"
INSTRUCTOR_PASSWORD = "Teach-Passw0rd!"


def root_ctx_of(account_id: str) -> CallContext:
    return CallContext(Principal.root(account_id), user_agent="pytest", origin="console")


@pytest.fixture
def instructor(db, managed_policies):
    from classroom import services

    return services.sign_up_instructor(email=INSTRUCTOR_EMAIL, password=INSTRUCTOR_PASSWORD, name="Ms Teacher")


@pytest.fixture
def instructor_ctx(instructor) -> CallContext:
    return root_ctx_of(instructor.id)


@pytest.fixture
def klass(instructor_ctx):
    """(class, issued seats) for a class of three students with aliases cls1-student01…03."""
    from classroom import services

    return services.create_class(instructor_ctx, title="IAM 101", students=3, alias_prefix="cls1")


@pytest.fixture
def students(klass):
    """The three student root contexts, by seat number."""
    _, issued = klass
    return {s.seat.number: root_ctx_of(s.seat.account_id) for s in issued}
