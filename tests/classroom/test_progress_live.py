"""Lab progress follows the student's work live: the real Celery worker delivers the audit events and refreshes
the account's lab progress; the board reads it. Nobody presses a button."""

from __future__ import annotations

import time

from classroom.models import LabProgress
from identities import services as users
from policies import services as policies


def wait_for(predicate, timeout: float):
    """Poll the database until the worker has done its part (a real asynchronous system, not a clock)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.1)
    return predicate()


def progress(account_id: str) -> LabProgress | None:
    return LabProgress.objects.filter(account_id=account_id, lab="first-user").first()


def test_the_worker_refreshes_progress_after_each_delivered_event(worker, klass, students):
    from classroom.progress import board

    classroom, _ = klass
    student = students[1]
    worker.start()

    users.create_user(student, user_name="alice")
    row = wait_for(lambda: (p := progress(student.account_id)) and p.results["user-exists"]["passed"] and p, 30)
    assert row and row.passed == 1 and not row.complete

    users.create_login_profile(student, user_name="alice", password="Initial-Passw0rd!", password_reset_required=True)
    policies.attach_user_policy(student, user_name="alice", policy_arn="arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess")
    row = wait_for(lambda: (p := progress(student.account_id)) and p.complete and p, 15)
    assert row and row.completed_at is not None

    cells = {r.seat.account_id: r.cells for r in board(classroom)}
    assert [c.state for c in cells[student.account_id] if c.lab.slug == "first-user"] == ["complete"]
    # The other students did nothing: no progress was computed for them.
    assert all(c.state == "not-started" for c in cells[students[2].account_id])
