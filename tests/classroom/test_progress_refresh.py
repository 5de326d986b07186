"""What a refresh of lab progress costs the worker, and what it does not change for students and the teacher.

A burst of deliveries for one account makes one refresh, a second or so later, by the worker; a refresh whose
results are the same rewrites nothing the board watches (its poll stays quiet) and only moves the panel's
"Checked … ago"; and when Redis is away the delivery refreshes at once, as it did before.
"""

from __future__ import annotations

import base64
import json
import re
import uuid
from datetime import UTC, datetime, timedelta

import pytest

from audit import delivery
from classroom import labs_services, tasks
from classroom.models import LabProgress
from classroom.progress import board, refresh
from core import clock, redis_clients
from identities import services as users
from policies import services as policies
from tests.classroom.test_labs_ui import HTMX, student_client
from tests.classroom.test_progress_live import progress, wait_for


def queued_refreshes(queue: str) -> list[list]:
    """The arguments of the ``classroom.refresh_progress`` tasks waiting in the broker's queue."""
    from console.celery import app as celery_app

    broker = redis_clients.client(celery_app.conf.broker_url, timeout=2)
    messages = [json.loads(raw) for raw in broker.lrange(queue, 0, -1)]
    return [
        json.loads(base64.b64decode(m["body"]))[0]
        for m in messages
        if m["headers"]["task"] == "classroom.refresh_progress"
    ]


@pytest.fixture
def seats_and_clients(klass, students):
    """The first student's root context and their signed-in browser."""
    _, issued = klass
    return students[1], student_client(next(s for s in issued if s.seat.number == 1))


def test_a_burst_of_deliveries_is_one_refresh_by_the_worker(worker, klass, students, settings):
    settings.AUDIT_ENQUEUE_DELIVERY = False  # this test delivers, as the worker's delivery task would
    settings.CLASSROOM_PROGRESS_DELAY = 1
    student = students[1].account_id
    delivery.deliver_pending()  # the class's creation
    LabProgress.objects.all().delete()

    users.create_user(students[1], user_name="alice")
    assert delivery.deliver_pending() == 1
    users.create_login_profile(students[1], user_name="alice", password="Initial-Passw0rd!")
    assert delivery.deliver_pending() == 1
    # Two deliveries, one refresh waiting for the worker; none ran in the deliveries.
    assert queued_refreshes(worker.queue) == [[student]]
    assert progress(student) is None

    worker.start()
    row = wait_for(lambda: (p := progress(student)) and p.passed == 2 and p, 30)
    assert row, "the worker's refresh sees both writes"
    assert row.results["user-exists"]["passed"] and row.results["console-access"]["passed"]

    # The refresh cleared the account's marker: the next write is refreshed too.
    policies.attach_user_policy(
        students[1], user_name="alice", policy_arn="arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess"
    )
    assert delivery.deliver_pending() == 1
    row = wait_for(lambda: (p := progress(student)) and p.completed_at and p, 30)
    assert row and row.complete


def test_when_redis_is_away_the_delivery_refreshes_at_once(klass, students, settings, tmp_path):
    settings.DATA_DIR = tmp_path
    settings.CLASSROOM_PROGRESS_DELAY = 1
    settings.REDIS_URL = "redis://127.0.0.1:1/0"  # nothing listens there
    delivery.deliver_pending()  # the class's creation
    users.create_user(students[1], user_name="alice")
    assert delivery.deliver_pending() == 1
    row = progress(students[1].account_id)
    assert row is not None and row.results["user-exists"]["passed"]


@pytest.fixture
def private_queue():
    """A queue of the test's own for the tasks it publishes (no worker takes them), emptied at the end."""
    from console.celery import app as celery_app

    previous = celery_app.conf.task_default_queue
    queue = celery_app.conf.task_default_queue = f"test-{uuid.uuid4().hex[:8]}"
    yield queue
    redis_clients.client(celery_app.conf.broker_url, timeout=2).delete(queue)
    celery_app.conf.task_default_queue = previous


def test_the_refresh_task_lets_the_next_delivery_schedule_again(klass, students, settings, private_queue):
    settings.CLASSROOM_PROGRESS_DELAY = 1
    account = students[1].account_id
    broker = redis_clients.client(settings.REDIS_URL, timeout=2)
    users.create_user(students[1], user_name="alice")

    assert tasks.schedule_refresh(account) and broker.exists(tasks.marker_key(account))
    assert 0 < broker.ttl(tasks.marker_key(account)) <= tasks.MARKER_SECONDS  # a lost task does not block forever
    assert tasks.schedule_refresh(account) and queued_refreshes(private_queue) == [[account]]  # one, not two
    tasks.refresh_progress(account)  # what the worker runs
    assert not broker.exists(tasks.marker_key(account))
    assert progress(account).results["user-exists"]["passed"]
    assert tasks.schedule_refresh(account) and len(queued_refreshes(private_queue)) == 2  # the next one
    broker.delete(tasks.marker_key(account))


def test_a_refresh_that_changes_nothing_leaves_the_board_alone_and_says_when_it_checked(
    klass, seats_and_clients, instructor_ctx
):
    classroom, _ = klass
    student, client = seats_and_clients
    account = student.account_id
    start = datetime.now(UTC) - timedelta(minutes=10)
    client.post("/labs/first-user/open")
    with clock.frozen(start):
        users.create_user(student, user_name="alice")
        refresh(account)
        stamp = labs_services.board_stamp(instructor_ctx, str(classroom.pk))
        written = dict(LabProgress.objects.filter(account_id=account).values_list("lab", "updated_at"))
        html = client.get("/labs/panel", HTTP_HX_TARGET="lab-panel-checks", **HTMX).content.decode()
        assert "Checked 10\xa0minutes ago." in html
        poll = re.search(r'hx-get="(/labs/panel\?shown=[^"]+)"', html).group(1)

        clock.advance(timedelta(minutes=10))  # nothing changed in the account since
        refresh(account)
        assert labs_services.board_stamp(instructor_ctx, str(classroom.pk)) == stamp  # the board does not redraw
        assert dict(LabProgress.objects.filter(account_id=account).values_list("lab", "updated_at")) == written
        row = LabProgress.objects.get(account_id=account, lab="first-user")
        assert row.checked_at == start + timedelta(minutes=10)

    # The panel's poll redraws: its "Checked … ago" moved, though no result did.
    response = client.get(poll, HTTP_HX_TARGET="lab-panel-checks", **HTMX)
    html = response.content.decode()
    assert response.status_code == 200
    assert "1 of 4 checks" in html and "Checked 0\xa0minutes ago." in html  # not "10 minutes"
    poll = re.search(r'hx-get="(/labs/panel\?shown=[^"]+)"', html).group(1)
    assert client.get(poll, HTTP_HX_TARGET="lab-panel-checks", **HTMX).status_code == 204
    page = client.get("/labs/first-user").content.decode()
    assert "checked 0\xa0minutes ago" in page

    users.create_login_profile(student, user_name="alice", password="Initial-Passw0rd!")
    refresh(account)
    assert labs_services.board_stamp(instructor_ctx, str(classroom.pk)) != stamp
    cells = {r.seat.account_id: r.cells for r in board(classroom)}[account]
    first = next(c for c in cells if c.lab.slug == "first-user")
    assert (first.state, first.progress.passed) == ("started", 2)
    # Only the lab whose results changed was written.
    moved = {
        lab
        for lab, at in LabProgress.objects.filter(account_id=account).values_list("lab", "updated_at")
        if at != written.get(lab)
    }
    assert moved == {"first-user"}
