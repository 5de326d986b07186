"""Deadlocks between audit delivery, account resets and requests (issue 12 §7), and the trail files' exactness
(§6) under the same load.

A class of ``BENCH_ACCOUNTS`` student accounts. While a real Celery worker (prefork, 2 processes) delivers their
audit events:
- ``BENCH_CLIENTS`` client threads call the IAM services for ``BENCH_SECONDS`` seconds, each in one student
  account: as the account's root user (create/delete users, groups, memberships, inline policies, reads) and
  through a role session (the instructor's user assuming OrganizationAccountAccessRole: reads and writes that move
  the role's "Last activity" and the access-advisor rows);
- one thread resets accounts back to back, ``BENCH_RESETS`` times: three administrator resets of one account
  (``identities.reset.reset_account_iam``) for each classroom reset of all of them (``classroom.services.
  reset_accounts``, which restores the access role).

Counted: deadlocks detected by PostgreSQL in the bench database (``pg_stat_database.deadlocks`` before and after:
every deadlock PostgreSQL logs, whichever transaction it chose as victim), failed resets and calls by cause, the
events left undelivered by the worker, and, once everything is delivered, duplicate and missing trail lines.

Run:  .venv/bin/python bench/deadlocks.py   (fresh database iam_audit_bench on 127.0.0.1:5432, Redis
      BENCH_REDIS=redis://127.0.0.1:6379/4, trail files in a temporary directory)
"""

from __future__ import annotations

import gzip
import json
import os
import random
import subprocess
import sys
import tempfile
import threading
import time
import traceback
from collections import Counter
from pathlib import Path

sys.path.insert(0, os.path.dirname(__file__))
from _setup import ROOT, django_setup, fresh_database  # noqa: E402

CLIENTS = int(os.environ.get("BENCH_CLIENTS", "30"))
SECONDS = float(os.environ.get("BENCH_SECONDS", "60"))
RESETS = int(os.environ.get("BENCH_RESETS", "500"))
LIMIT = float(os.environ.get("BENCH_LIMIT", "600"))  # seconds: resets still running then are stopped (and said)
ACCOUNTS = int(os.environ.get("BENCH_ACCOUNTS", "4"))
REDIS = os.environ.get("BENCH_REDIS", "redis://127.0.0.1:6379/4")
DATABASE = "iam_audit_bench"
QUEUE = "bench-deadlocks"


def deadlocks(database_url: str) -> int:
    """PostgreSQL's own count for the database (a fresh connection: no stale statistics snapshot)."""
    import psycopg

    with psycopg.connect(database_url, autocommit=True) as conn:
        return conn.execute("SELECT deadlocks FROM pg_stat_database WHERE datname = %s", [DATABASE]).fetchone()[0]


def is_deadlock(error: BaseException) -> bool:
    import psycopg

    while error is not None:
        if isinstance(error, psycopg.errors.DeadlockDetected):
            return True
        error = error.__cause__ or error.__context__
    return False


class Tally:
    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.counts: Counter[str] = Counter()
        self.samples: dict[str, str] = {}

    def add(self, what: str, error: BaseException | None = None) -> None:
        with self.lock:
            self.counts[what] += 1
            if error is not None and what not in self.samples:
                self.samples[what] = "".join(traceback.format_exception(error))[-1500:]


def outcome(tally: Tally, kind: str, action) -> bool:  # noqa: ANN001
    from django.db import Error as DatabaseError

    from core.errors import IamError

    try:
        action()
        tally.add(f"{kind} ok")
        return True
    except IamError as error:
        tally.add(f"{kind} refused ({error.code})")  # the account was just reset under it: an answer, not a fault
    except DatabaseError as error:
        tally.add(f"{kind} DEADLOCK" if is_deadlock(error) else f"{kind} database error", error)
    except Exception as error:  # noqa: BLE001 - counted and shown
        tally.add(f"{kind} {type(error).__name__}", error)
    return False


def client(n: int, account_id: str, teacher_pk: int, stop: threading.Event, tally: Tally) -> None:
    from django.db import connection

    from console.services import user_principal
    from core.context import CallContext, Principal
    from identities import services
    from identities.models import IamUser
    from policies import services as policies
    from sts import services as sts

    rng = random.Random(n)
    root = CallContext(Principal.root(account_id), user_agent="bench", origin="api")
    teacher = CallContext(user_principal(IamUser.objects.get(pk=teacher_pk)), user_agent="bench", origin="api")
    role_arn = f"arn:aws:iam::{account_id}:role/OrganizationAccountAccessRole"
    session: list[CallContext] = []
    doc = json.dumps({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:*", "Resource": "*"}]})

    def assume() -> None:
        issued = sts.assume_role(teacher, role_arn=role_arn, role_session_name=f"bench{n}")
        session[:] = [CallContext(sts.principal_for(issued.credential), user_agent="bench", origin="api")]

    def as_session(action) -> None:  # noqa: ANN001
        if not session:
            assume()
        action(session[0])

    def churn(ctx: CallContext) -> None:
        name = f"u{n}-{rng.randrange(1_000_000)}"
        services.create_user(ctx, user_name=name)
        policies.put_user_policy(ctx, user_name=name, policy_name="inline", policy_document=doc)
        services.create_group(ctx, group_name=name)
        services.add_user_to_group(ctx, group_name=name, user_name=name)
        list(services.list_users(ctx))
        services.remove_user_from_group(ctx, group_name=name, user_name=name)
        services.delete_group(ctx, group_name=name)
        policies.delete_user_policy(ctx, user_name=name, policy_name="inline")
        services.delete_user(ctx, user_name=name)

    try:
        while not stop.is_set():
            choice = rng.random()
            if choice < 0.35:
                ok = outcome(tally, "root calls", lambda: churn(root))
            elif choice < 0.7:
                ok = outcome(tally, "session calls", lambda: as_session(churn))
            elif choice < 0.9:
                ok = outcome(tally, "session read", lambda: as_session(lambda ctx: list(services.list_users(ctx))))
            else:
                ok = outcome(tally, "assume role", assume)
            if not ok:
                session.clear()  # the reset may have ended the session or removed the role: assume it again
    finally:
        connection.close()


def resets(account_ids: list[str], tally: Tally, done: threading.Event, give_up: threading.Event) -> None:
    from django.db import connection

    from classroom.services import reset_accounts
    from identities.reset import reset_account_iam

    try:
        for i in range(RESETS):
            if give_up.is_set():
                break
            if i % 4 == 3:
                outcome(tally, "classroom reset", lambda: reset_accounts(account_ids))
            else:
                outcome(tally, "account reset", lambda i=i: reset_account_iam(account_ids[i % len(account_ids)]))
    finally:
        connection.close()
        done.set()


def start_worker(database_url: str, data_dir: str) -> subprocess.Popen:
    env = {
        **os.environ,
        "DATABASE_URL": database_url,
        "REDIS_URL": REDIS,
        "IAM_DATA_DIR": data_dir,
        "DJANGO_SETTINGS_MODULE": "console.settings",
    }
    command = [sys.executable, "-m", "celery", "-A", "console", "worker", "-Q", QUEUE, "--concurrency", "2"]
    command += ["-l", "warning", "--without-gossip", "--without-mingle"]
    return subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)


def trail_lines(data_dir: str) -> Counter[str]:
    """The eventIDs of every line of every trail file, read by the standard gzip reader."""
    lines: Counter[str] = Counter()
    for path in Path(data_dir, "trails").glob("*/*.json.gz"):
        with gzip.open(path, "rb") as fh:
            lines.update(json.loads(line)["eventID"] for line in fh if line.strip())
    return lines


def main() -> None:
    data_dir = tempfile.mkdtemp(prefix="iam-bench-deadlocks-")
    database_url = fresh_database(DATABASE)
    django_setup(database_url, AUDIT_ENQUEUE_DELIVERY="true", REDIS_URL=REDIS, IAM_DATA_DIR=data_dir)
    from django.db import connection

    from audit import delivery
    from audit.models import AuditEvent
    from classroom import services as classroom
    from console.celery import app
    from core.context import CallContext, Principal
    from identities import services
    from policies import services as policies
    from policies.loading import load_aws_managed_policies

    app.conf.broker_url = REDIS
    app.conf.task_default_queue = QUEUE
    load_aws_managed_policies()
    instructor = classroom.sign_up_instructor(email="bench@school.example", password="Bench-Passw0rd!")
    instructor_ctx = CallContext(Principal.root(instructor.id), user_agent="bench", origin="console")
    _, seats = classroom.create_class(instructor_ctx, title="Bench", students=ACCOUNTS, alias_prefix="bench")
    account_ids = sorted(s.seat.account_id for s in seats)
    teacher = services.create_user(instructor_ctx, user_name="teacher")
    policies.put_user_policy(
        instructor_ctx,
        user_name="teacher",
        policy_name="assume",
        policy_document=json.dumps(
            {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "sts:AssumeRole", "Resource": "*"}]}
        ),
    )
    delivery.deliver_pending()
    connection.close()

    worker = start_worker(database_url, data_dir)
    try:
        time.sleep(5)  # worker start-up, outside the measured window
        before = deadlocks(database_url)
        tally = Tally()
        stop, resets_done, give_up = threading.Event(), threading.Event(), threading.Event()
        threads = [
            threading.Thread(target=client, args=(n, account_ids[n % len(account_ids)], teacher.pk, stop, tally))
            for n in range(CLIENTS)
        ]
        threads.append(threading.Thread(target=resets, args=(account_ids, tally, resets_done, give_up)))
        started = time.perf_counter()
        for thread in threads:
            thread.start()
        time.sleep(SECONDS)
        while not resets_done.wait(timeout=10):
            done = sum(c for what, c in tally.counts.items() if "reset" in what)
            found = deadlocks(database_url) - before
            print(f"  ... {time.perf_counter() - started:.0f} s: {done} resets, {found} deadlocks", flush=True)
            if time.perf_counter() - started > LIMIT:
                give_up.set()
        stop.set()
        for thread in threads:
            thread.join()
        elapsed = time.perf_counter() - started
        # The worker drains what the calls wrote (its tasks were published by the clients' background thread).
        deadline = time.monotonic() + 120
        while AuditEvent.objects.filter(delivered_at__isnull=True).exists() and time.monotonic() < deadline:
            time.sleep(0.5)
        left = AuditEvent.objects.filter(delivered_at__isnull=True).count()
    finally:
        worker.terminate()
        _, worker_log = worker.communicate(timeout=30)
    swept = delivery.deliver_pending(limit=1_000_000)  # what the beat sweep would deliver
    connection.close()
    time.sleep(1.5)  # statistics are flushed by each backend at most once a second
    found = deadlocks(database_url) - before

    delivered = {str(e) for e in AuditEvent.objects.values_list("event_id", flat=True)}
    lines = trail_lines(data_dir)
    duplicates = sum(count - 1 for count in lines.values() if count > 1)
    missing = len(delivered - set(lines))
    operations = sum(c for what, c in tally.counts.items() if "reset" not in what)
    print(
        f"{CLIENTS} clients in {ACCOUNTS} accounts for {elapsed:.0f} s, "
        f"{sum(c for what, c in tally.counts.items() if 'reset' in what)} resets (of {RESETS}), "
        "worker: prefork, 2 processes"
    )
    for what, count in sorted(tally.counts.items()):
        print(f"  {what:48} {count:7}")
    print(f"  {'client operations (1 to 9 calls each)':48} {operations:7}")
    print(f"events: {len(delivered)}; left undelivered by the worker: {left} (then swept: {swept})")
    print(f"trail files: {sum(lines.values())} lines, {duplicates} duplicate, {missing} delivered events missing")
    worker_deadlocks = worker_log.count("DeadlockDetected") + worker_log.count("deadlock detected")
    print(f"worker log: {worker_deadlocks} deadlock errors")
    for what, sample in tally.samples.items():
        print(f"\n--- first {what}:\n{sample}")
    print(f"\nDEADLOCKS (pg_stat_database.deadlocks for {DATABASE}): {found}")


if __name__ == "__main__":
    main()
