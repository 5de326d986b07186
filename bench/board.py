"""Instructor board benchmark (issue 7): a class of 40 students with progress rows for 10 labs; the board page's
server time and query count.

Progress rows are written as ``classroom.progress.refresh`` writes them: for each registered lab, the real checks
run against each account (a fifth of the students solve lab 1 first, so cells differ). If fewer than 10 labs are
registered, synthetic rows are added for made-up slugs (``synthetic-NN``) so the database holds 10 labs' rows per
student; the board shows registered labs only, so those rows are read by its query but not drawn.

Measured: GET /classroom/<id>/board through Django's test Client (the whole stack: middleware, session, the
authorization, the two board queries, the template), after 5 warm-up requests, 50 requests: median and p95 wall
time, and the number of SQL queries per request; the same for the htmx poll when progress changed (the
``board-matrix`` partial), when nothing changed (``?since=<stamp>``: 204, nothing drawn), and for a class of 1 (the
query count must not change).

Run:  .venv/bin/python bench/board.py   (uses a fresh database iam_bench_board on 127.0.0.1:5432)
"""

from __future__ import annotations

import os
import statistics
import sys
import time

sys.path.insert(0, os.path.dirname(__file__))
from _setup import django_setup, fresh_database

STUDENTS = int(os.environ.get("BENCH_STUDENTS", "40"))
LABS = 10
REQUESTS = 50
WARMUP = 5


def measure(client, url: str, headers: dict[str, str], status: int = 200) -> tuple[float, float, int, int]:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    for _ in range(WARMUP):
        assert client.get(url, headers=headers).status_code == status
    times = []
    for _ in range(REQUESTS):
        start = time.perf_counter()
        response = client.get(url, headers=headers)
        times.append(time.perf_counter() - start)
        assert response.status_code == status
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url, headers=headers)
    times.sort()
    p95 = times[max(0, int(len(times) * 0.95) - 1)]
    return statistics.median(times) * 1000, p95 * 1000, len(queries), len(response.content)


def main() -> None:
    django_setup(fresh_database("iam_bench_board"), AUDIT_ENQUEUE_DELIVERY="0")
    from django.test import Client

    from classroom import services
    from classroom.labs import all_labs
    from classroom.models import LabProgress
    from classroom.progress import refresh
    from core import clock
    from core.context import CallContext, Principal
    from identities import services as identities
    from policies import services as policies
    from policies.loading import load_aws_managed_policies

    load_aws_managed_policies()
    instructor = services.sign_up_instructor(email="bench@school.example", password="Bench-Passw0rd!")
    ctx = CallContext(Principal.root(instructor.id), user_agent="bench", origin="console")
    classroom, issued = services.create_class(ctx, title="Board bench", students=STUDENTS, alias_prefix="board")
    small, small_issued = services.create_class(ctx, title="Board of one", students=1, alias_prefix="one")

    labs = all_labs()
    start = time.perf_counter()
    for n, seat in enumerate([*issued, *small_issued]):
        student = CallContext(Principal.root(seat.seat.account_id), user_agent="bench", origin="console")
        if n % 5 == 0:
            identities.create_user(student, user_name="alice")
            identities.create_login_profile(student, user_name="alice", password="Initial-Passw0rd!")
            policies.attach_user_policy(
                student, user_name="alice", policy_arn="arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess"
            )
        refresh(seat.seat.account_id)
    refresh_seconds = time.perf_counter() - start
    synthetic = max(0, LABS - len(labs))
    now = clock.now()
    LabProgress.objects.bulk_create(
        [
            LabProgress(
                account_id=seat.seat.account_id,
                lab=f"synthetic-{i:02d}",
                passed=i % 4,
                total=3,
                results={},
                updated_at=now,
            )
            for seat in [*issued, *small_issued]
            for i in range(synthetic)
        ]
    )
    rows = LabProgress.objects.filter(account__seat__classroom=classroom).count()
    print(
        f"{STUDENTS} students; {len(labs)} registered labs ({', '.join(lab.slug for lab in labs)}); "
        f"{synthetic} synthetic lab slugs; {rows} LabProgress rows in the class "
        f"(real checks of every lab for every account took {refresh_seconds:.1f} s)"
    )

    client = Client()
    assert client.post("/signin", {"email": "bench@school.example", "password": "Bench-Passw0rd!"}).status_code == 302
    from classroom.labs_services import board_stamp

    stamp = board_stamp(ctx, classroom.pk)
    poll = {"HX-Request": "true", "HX-Target": "board-matrix"}
    cases = [
        ("board page, 40 students", f"/classroom/{classroom.pk}/board", {}, 200),
        ("poll, progress changed (matrix), 40", f"/classroom/{classroom.pk}/board", poll, 200),
        ("poll, nothing changed (204), 40", f"/classroom/{classroom.pk}/board?since={stamp}", poll, 204),
        ("board page, 1 student", f"/classroom/{small.pk}/board", {}, 200),
    ]
    print(f"{'case':40} {'median ms':>10} {'p95 ms':>8} {'queries':>8} {'bytes':>8}")
    for label, url, headers, status in cases:
        median, p95, queries, size = measure(client, url, headers, status)
        print(f"{label:40} {median:10.1f} {p95:8.1f} {queries:8d} {size:8d}")


if __name__ == "__main__":
    main()
