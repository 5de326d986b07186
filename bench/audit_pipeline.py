"""Audit pipeline benchmarks (issue 5):

1. Event history page latency with 100,000 events in one account, for every single-attribute lookup
   (server time through Django's test client, 30 requests each after 3 warm-ups; goal ≤ 100 ms median).
2. Audit delivery throughput end to end: events written by real service calls, delivered through Redis by a real
   Celery worker (prefork, 2 processes), until every event is marked delivered.

Run:  .venv/bin/python bench/audit_pipeline.py   (uses 127.0.0.1:5432 and redis://127.0.0.1:6379/12)
"""

from __future__ import annotations

import os
import random
import statistics
import subprocess
import sys
import time
import uuid
from datetime import timedelta

sys.path.insert(0, os.path.dirname(__file__))
from _setup import ROOT, django_setup, fresh_database  # noqa: E402

EVENTS = int(os.environ.get("BENCH_EVENTS", "100000"))
DELIVERIES = int(os.environ.get("BENCH_DELIVERIES", "2000"))
REDIS = os.environ.get("BENCH_REDIS", "redis://127.0.0.1:6379/12")


def seed_events(account_id: str) -> None:
    from audit.models import AuditEvent
    from core import clock

    names = [
        "CreateUser",
        "GetUser",
        "ListUsers",
        "AttachUserPolicy",
        "CreateRole",
        "AssumeRole",
        "ConsoleLogin",
        "ListPolicies",
        "GetPolicy",
        "DeleteUser",
        "PutUserPolicy",
        "CreateAccessKey",
    ]
    users = [f"user{i:03d}" for i in range(200)]
    now = clock.now()
    rng = random.Random(7)
    batch = []
    for i in range(EVENTS):
        name = rng.choice(names)
        when = now - timedelta(seconds=rng.randint(0, 89 * 86400))
        user = rng.choice(users)
        batch.append(
            AuditEvent(
                account_id=account_id,
                event_id=uuid.uuid4(),
                event_time=when,
                event_source="iam.amazonaws.com",
                event_name=name,
                read_only=name.startswith(("Get", "List")),
                username=user,
                access_key_id=f"AKIA{i % 300:016d}",
                resource_type="AWS::IAM::User",
                resource_name=rng.choice(users),
                error_code="AccessDenied" if i % 17 == 0 else "",
                record={"eventName": name, "eventTime": when.strftime("%Y-%m-%dT%H:%M:%SZ"), "userIdentity": {}},
                delivered_at=when,
            )
        )
        if len(batch) == 5000:
            AuditEvent.objects.bulk_create(batch)
            batch = []
    AuditEvent.objects.bulk_create(batch)
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("ANALYZE audit_auditevent")  # as autovacuum would after a bulk load


def time_page(client, url: str, runs: int = 30) -> tuple[float, float]:
    for _ in range(3):
        client.get(url)
    samples = []
    for _ in range(runs):
        start = time.perf_counter()
        response = client.get(url)
        samples.append((time.perf_counter() - start) * 1000)
        assert response.status_code == 200, (url, response.status_code)
    samples.sort()
    return statistics.median(samples), samples[int(len(samples) * 0.95) - 1]


def history_latency(account) -> list[tuple[str, float, float]]:
    from django.test import Client

    client = Client()
    assert client.post("/signin", {"email": account.root_email, "password": "Bench-Passw0rd!"}).status_code == 302
    lookups = [
        ("(no lookup, newest first)", ""),
        ("Event name", "attribute=EventName&value=CreateUser"),
        ("User name", "attribute=Username&value=user042"),
        ("Resource type", "attribute=ResourceType&value=AWS::IAM::User"),
        ("Resource name", "attribute=ResourceName&value=user117"),
        ("Event source", "attribute=EventSource&value=iam.amazonaws.com"),
        ("Read only", "attribute=ReadOnly&value=true"),
        ("Access key ID", "attribute=AccessKeyId&value=AKIA0000000000000042"),
        ("Error code", "attribute=ErrorCode&value=AccessDenied"),
        ("Event name, last 1 h", "attribute=EventName&value=GetUser&range=1h"),
    ]
    return [(label, *time_page(client, f"/iam/event_history?{query}")) for label, query in lookups]


def delivery_throughput(database_url: str, account) -> tuple[int, float, float, float]:
    from audit.models import AuditEvent
    from console.celery import app
    from core.context import CallContext, Principal
    from identities import services

    app.conf.broker_url = REDIS
    app.conf.task_default_queue = "bench-audit"
    env = {**os.environ, "DATABASE_URL": database_url, "REDIS_URL": REDIS, "DJANGO_SETTINGS_MODULE": "console.settings"}
    worker = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "console",
            "worker",
            "-Q",
            "bench-audit",
            "--concurrency",
            "2",
            "-l",
            "warning",
            "--without-gossip",
            "--without-mingle",
        ],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        ctx = CallContext(Principal.root(account.id), origin="api")
        time.sleep(3)  # worker start-up, outside the measured window
        before = AuditEvent.objects.filter(delivered_at__isnull=True).count()
        start = time.perf_counter()
        for i in range(DELIVERIES):
            services.create_group(ctx, group_name=f"bench-{i}")
        written = time.perf_counter() - start
        while AuditEvent.objects.filter(delivered_at__isnull=True).count() > before:
            time.sleep(0.05)
        total = time.perf_counter() - start
        # The backlog case: events already written (Redis was down), then delivered by the worker.
        from django.test import override_settings

        from audit.tasks import deliver_event

        with override_settings(AUDIT_ENQUEUE_DELIVERY=False):
            for i in range(DELIVERIES):
                services.create_group(ctx, group_name=f"backlog-{i}")
        pending = list(AuditEvent.objects.filter(delivered_at__isnull=True).values_list("pk", flat=True))
        start = time.perf_counter()
        for pk in pending:
            deliver_event.delay(pk)
        while AuditEvent.objects.filter(delivered_at__isnull=True).exists():
            time.sleep(0.05)
        drain = len(pending) / (time.perf_counter() - start)
        return DELIVERIES, DELIVERIES / total, DELIVERIES / written, drain
    finally:
        worker.terminate()
        worker.wait(timeout=20)


def main() -> None:
    database_url = fresh_database("iam_bench_audit")
    django_setup(database_url, AUDIT_ENQUEUE_DELIVERY="true", REDIS_URL=REDIS)
    from console.services import create_account

    account = create_account(account_id="999900001111", email="bench@example.com", password="Bench-Passw0rd!")
    t0 = time.perf_counter()
    seed_events(account.id)
    print(f"seeded {EVENTS} events in {time.perf_counter() - t0:.1f}s")
    print("\nEvent history page, server time (ms):")
    print(f"{'lookup':32} {'median':>8} {'p95':>8}")
    for label, median, p95 in history_latency(account):
        print(f"{label:32} {median:8.1f} {p95:8.1f}")
    count, end_to_end, write_rate, drain = delivery_throughput(database_url, account)
    print(
        f"\nAudit delivery, {count} CreateGroup calls while the worker runs: end to end {end_to_end:.0f} events/s "
        f"(the calls themselves ran at {write_rate:.0f}/s on the same 2 cores)"
    )
    print(f"Backlog of {count} undelivered events drained by the worker: {drain:.0f} events/s")


if __name__ == "__main__":
    main()
