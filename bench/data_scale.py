"""Scale of the data (issue 16 §3): one account with 5,000 users, 1,000,000 audit events and a class of 200.

The account is an instructor's (``sign_up_instructor``), so the same account owns the users, the events and the
class. The data is made quickly, not through the API, in the bench's own database (``BENCH_DB``, default
``iam_datascale_bench``; never the dev or test one):

- the users, groups, policies, memberships and attachments of ``bench/list_pages.py`` (``bulk_create``);
- ``BENCH_EVENTS`` (1,000,000) delivered audit events by one ``INSERT … SELECT generate_series`` (12 event names,
  users ``user0``…``user4999``, 300 access keys, one in 17 denied, times spread over 89 days, a CloudTrail record of
  ~700 bytes each), then ``ANALYZE``;
- a class of ``BENCH_STUDENTS`` (200) created by ``classroom.services.create_class`` (timed, it is a goal), its
  progress rows written by ``classroom.progress.refresh`` running every registered lab's real checks.

Measured (each request through Django's test ``Client`` signed in as the instructor: middleware, session,
authorization, queries, template; no network), ``WARMUP`` requests first, then ``RUNS`` timed ones; median and p95:

- ``history``: Event history's first page and each single-attribute lookup (goal ≤ 100 ms), with the
  ``EXPLAIN ANALYZE`` of each page's slowest query under ``--explain``;
- ``download``: the CSV and JSON downloads of 1 day, 7 days and (``--full``) all 90 days: time, bytes, chunks, and
  the growth of the process's peak RSS during the download (``VmHWM`` reset through ``/proc/self/clear_refs``);
- ``users``: the users list sorted by groups and its deep pages (goal ≤ 50 ms);
- ``board``: the instructor's board of 200 students × 10 labs, page and htmx poll (goal ≤ 100 ms);
- ``class``: ``create_class`` of 200 and ``reset_student_accounts`` of 200 populated accounts (goal ≤ 10 s each;
  ``ROUNDS`` runs; each account is populated first with 3 users, a group with a member and a policy, an inline
  policy, through the public services).

Run:  .venv/bin/python bench/data_scale.py [--reuse] [--explain] [--full] [history download users board class]
      --reuse keeps a database seeded by an earlier run (the seeding takes a few minutes);
      the words choose the sections (default: all). PostgreSQL from BENCH_POSTGRES.
"""

from __future__ import annotations

import json
import math
import os
import statistics
import sys
import time

sys.path.insert(0, os.path.dirname(__file__))
os.environ.setdefault("BENCH_USERS", "5000")
from _setup import django_setup, fresh_database  # noqa: E402

DATABASE = os.environ.get("BENCH_DB", "iam_datascale_bench")
EVENTS = int(os.environ.get("BENCH_EVENTS", "1000000"))
STUDENTS = int(os.environ.get("BENCH_STUDENTS", "200"))
RUNS = int(os.environ.get("BENCH_RUNS", "30"))
ROUNDS = int(os.environ.get("BENCH_ROUNDS", "3"))
WARMUP = 3
EMAIL = "scale@school.example"
PASSWORD = "Bench-Passw0rd!"
SECTIONS = ("history", "download", "users", "board", "class")

EVENTS_SQL = """
INSERT INTO audit_auditevent (account_id, event_id, event_time, event_source, event_name, event_type, read_only,
    username, access_key_id, resource_type, resource_name, error_code, record, explanation, delivered_at)
SELECT %(account)s::text, e.id, e.at, 'iam.amazonaws.com', e.name, 'AwsApiCall',
    e.name LIKE 'Get%%' OR e.name LIKE 'List%%',
    e.username, e.key, 'AWS::IAM::User', e.target, e.error, jsonb_build_object(
        'eventVersion', '1.08', 'eventID', e.id, 'eventTime', to_char(e.at, 'YYYY-MM-DD"T"HH24:MI:SS"Z"'),
        'eventSource', 'iam.amazonaws.com', 'eventName', e.name, 'awsRegion', 'us-east-1',
        'sourceIPAddress', '192.0.2.' || (e.n %% 250), 'userAgent', 'aws-cli/2.15.0 Python/3.11.6 Linux/6.1',
        'userIdentity', jsonb_build_object('type', 'IAMUser', 'userName', e.username, 'accessKeyId', e.key,
            'arn', 'arn:aws:iam::' || %(account)s::text || ':user/' || e.username, 'accountId', %(account)s::text),
        'requestParameters', jsonb_build_object('userName', e.target), 'responseElements', NULL,
        'errorCode', NULLIF(e.error, ''), 'readOnly', e.name LIKE 'Get%%' OR e.name LIKE 'List%%',
        'eventType', 'AwsApiCall', 'managementEvent', true, 'recipientAccountId', %(account)s::text),
    NULL, e.at
FROM (
    SELECT n, gen_random_uuid() AS id, now() - (n::float8 / %(events)s::int) * interval '89 days' AS at,
        (ARRAY['CreateUser','GetUser','ListUsers','AttachUserPolicy','CreateRole','AssumeRole','ConsoleLogin',
               'ListPolicies','GetPolicy','DeleteUser','PutUserPolicy','CreateAccessKey'])[1 + (n * 7919) %% 12]
            AS name,
        'user' || ((n * 104729) %% %(users)s::int) AS username,
        'AKIA' || lpad(((n * 31) %% 300)::text, 16, '0') AS key,
        'user' || ((n * 15485863) %% %(users)s::int) AS target,
        CASE WHEN n %% 17 = 0 THEN 'AccessDenied' ELSE '' END AS error
    FROM generate_series(1::bigint, %(events)s::bigint) AS n
) AS e
"""

LOOKUPS = [
    ("first page (newest first)", ""),
    ("Event name (1 in 12)", "attribute=EventName&value=CreateUser"),
    ("User name (1 in 5,000)", "attribute=Username&value=user42"),
    ("Resource type (every event)", "attribute=ResourceType&value=AWS::IAM::User"),
    ("Resource name (1 in 5,000)", "attribute=ResourceName&value=user117"),
    ("Event source (every event)", "attribute=EventSource&value=iam.amazonaws.com"),
    ("Read only = false", "attribute=ReadOnly&value=false"),
    ("Access key ID (1 in 300)", "attribute=AccessKeyId&value=AKIA0000000000000042"),
    ("Error code (1 in 17)", "attribute=ErrorCode&value=AccessDenied"),
    ("Event name, last 1 h", "attribute=EventName&value=GetUser&range=1h"),
    ("User name, page 2 (cursor)", None),
    ("no match (User name nobody)", "attribute=Username&value=nobody"),
]
USER_PAGES = [
    "/iam/users",
    "/iam/users?sort=groups",
    "/iam/users?sort=-groups",
    "/iam/users?sort=-groups&page=100",
    "/iam/users?page=100",
    "/iam/users?page=200",
    "/iam/users?sort=-created&page=150",
]


def load() -> str:
    return " ".join(f"{x:.1f}" for x in os.getloadavg())


def timed(client, url: str, *, status: int = 200, headers: dict[str, str] | None = None) -> dict:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    for _ in range(WARMUP):
        response = client.get(url, headers=headers or {})
        assert response.status_code == status, (url, response.status_code)
    samples, cpu = [], []
    for _ in range(RUNS):
        start, start_cpu = time.perf_counter(), time.process_time()
        client.get(url, headers=headers or {})
        samples.append((time.perf_counter() - start) * 1000)
        cpu.append((time.process_time() - start_cpu) * 1000)
    with CaptureQueriesContext(connection) as captured:
        client.get(url, headers=headers or {})
    samples.sort()
    selects = [q for q in captured.captured_queries if q["sql"].lstrip().upper().startswith("SELECT")]
    slowest = max(selects, key=lambda q: float(q["time"])) if selects else {"sql": "", "time": "0"}
    return {
        "median": statistics.median(samples),
        "cpu": statistics.median(cpu),
        "p95": samples[math.ceil(RUNS * 0.95) - 1],
        "queries": len(captured),
        "slowest_sql": slowest["sql"],
        "slowest_ms": float(slowest["time"]) * 1000,
    }


def explain(sql: str) -> str:
    from django.db import connection, transaction

    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("EXPLAIN (ANALYZE, BUFFERS) " + sql)
        plan = "\n".join(row[0] for row in cursor.fetchall())
        transaction.set_rollback(True)
    return plan


def table(title: str, rows: list[tuple[str, dict]], goal: float, show_plans: bool) -> None:
    print(f"\n{title} (goal ≤ {goal:.0f} ms; load average now {load()})")
    print(
        "| request | median ms | p95 ms | Python CPU ms (median) | queries | slowest SELECT ms |\n"
        "| --- | ---: | ---: | ---: | ---: | ---: |"
    )
    for label, r in rows:
        miss = " **(misses goal)**" if r["median"] > goal else ""
        print(
            f"| {label} | {r['median']:.1f}{miss} | {r['p95']:.1f} | {r['cpu']:.1f} | {r['queries']} "
            f"| {r['slowest_ms']:.1f} |"
        )
    for label, r in rows:
        if r["slowest_sql"] and (show_plans or r["median"] > goal):
            print(f"\n--- {label}: slowest query ({r['slowest_ms']:.1f} ms)\n{r['slowest_sql']}")
            print(explain(r["slowest_sql"]))


def seed() -> None:
    import list_pages
    from django.db import connection

    from classroom import services
    from core.context import CallContext, Principal
    from policies.loading import load_aws_managed_policies

    load_aws_managed_policies()
    account = services.sign_up_instructor(email=EMAIL, password=PASSWORD)
    start = time.perf_counter()
    sizes = list_pages.seed(account.id)
    print(f"seeded {list_pages.USERS} users in {time.perf_counter() - start:.1f} s: {sizes}")
    start = time.perf_counter()
    with connection.cursor() as cursor:
        cursor.execute(EVENTS_SQL, {"account": account.id, "events": EVENTS, "users": list_pages.USERS})
        cursor.execute("ANALYZE audit_auditevent")
    print(f"inserted {EVENTS:,} audit events in {time.perf_counter() - start:.1f} s (load {load()})")
    ctx = CallContext(Principal.root(account.id), user_agent="bench", origin="console")
    start = time.perf_counter()
    services.create_class(ctx, title="Scale", students=STUDENTS, alias_prefix="scale")
    print(f"created the class of {STUDENTS} in {time.perf_counter() - start:.1f} s")


def the_class():
    from classroom.models import Class

    return Class.objects.filter(title="Scale").get()


def signed_in():
    from django.test import Client

    client = Client()
    assert client.post("/signin", {"email": EMAIL, "password": PASSWORD}).status_code == 302
    return client


def history(show_plans: bool) -> None:
    from audit import queries

    client = signed_in()
    rows = []
    for label, query in LOOKUPS:
        if query is None:  # the second page of a lookup, through the cursor the first page links to
            from core.context import CallContext, Principal

            ctx = CallContext(Principal.root(the_class().instructor_account_id), user_agent="bench")
            _, cursor = queries.lookup_events(ctx, queries.Lookup("Username", "user42"))
            query = f"attribute=Username&value=user42&cursor={cursor}"
        rows.append((label, timed(client, f"/iam/event_history?{query}")))
    table(f"Event history, {EVENTS:,} events in the account", rows, 100, show_plans)


def download(full: bool) -> None:
    client = signed_in()
    ranges = ["1d", "7d"] + (["90d"] if full else [])
    print(f"\nDownloads (load average now {load()})")
    print(
        "| download | events in range | events downloaded | MB | chunks | seconds | peak RSS growth MB |\n"
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: |"
    )
    for fmt in ("csv", "json"):
        for span in ranges:
            times, grow = [], []
            for _ in range(ROUNDS if span != "90d" else 1):
                with open("/proc/self/clear_refs", "w") as f:
                    f.write("5")  # resets VmHWM (peak RSS) to the current RSS
                before = _status("VmHWM")
                start = time.perf_counter()
                response = client.get(f"/iam/event_history/download?format={fmt}&range={span}")
                size = chunks = rows = 0
                body = response.streaming_content if response.streaming else [response.content]
                for chunk in body:
                    size += len(chunk)
                    chunks += 1
                    rows += chunk.count(b"\n") if fmt == "csv" else chunk.count(b'"eventID"')
                times.append(time.perf_counter() - start)
                grow.append((_status("VmHWM") - before) / 1024)
                del response, body
            rows -= fmt == "csv"  # the header
            print(
                f"| {fmt.upper()}, {span} | {_count(span):,} | {rows:,} | {size / 1e6:.1f} | {chunks} "
                f"| {statistics.median(times):.2f} "
                f"| {statistics.median(grow):.1f} |"
            )


def _count(span: str) -> int:
    from audit.models import AuditEvent
    from audit.queries import RANGES
    from core import clock

    account_id = the_class().instructor_account_id
    return AuditEvent.objects.filter(account_id=account_id, event_time__gte=clock.now() - RANGES[span]).count()


def _status(key: str) -> int:
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(key + ":"):
                return int(line.split()[1])  # kB
    raise KeyError(key)


def users(show_plans: bool) -> None:
    client = signed_in()
    table("Users list, 5,000 users", [(f"`{url}`", timed(client, url)) for url in USER_PAGES], 50, show_plans)


def board(show_plans: bool) -> None:
    from classroom.labs import all_labs
    from classroom.labs_services import board_stamp
    from classroom.models import LabProgress
    from classroom.progress import refresh
    from core.context import CallContext, Principal

    classroom = the_class()
    seats = list(classroom.seats.values_list("account_id", flat=True))
    if not LabProgress.objects.filter(account_id__in=seats).exists():
        start = time.perf_counter()
        for account_id in seats:
            refresh(account_id)
        print(f"\nran every lab's checks for {len(seats)} accounts in {time.perf_counter() - start:.1f} s")
    rows = LabProgress.objects.filter(account_id__in=seats).count()
    print(f"{len(seats)} students, {len(all_labs())} labs, {rows} progress rows")
    ctx = CallContext(Principal.root(classroom.instructor_account_id), user_agent="bench")
    client = signed_in()
    url = f"/classroom/{classroom.pk}/board"
    poll = {"HX-Request": "true", "HX-Target": "board-matrix"}
    cases = [
        ("board page", timed(client, url)),
        ("htmx poll, progress changed (matrix)", timed(client, url, headers=poll)),
        (
            "htmx poll, nothing changed (204)",
            timed(client, f"{url}?since={board_stamp(ctx, classroom.pk)}", status=204, headers=poll),
        ),
    ]
    table(f"Board, {len(seats)} students × {len(all_labs())} labs", cases, 100, show_plans)


def populate(ctx) -> None:  # noqa: ANN001
    from identities import services as identities
    from policies import services as policies

    doc = json.dumps(
        {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"}]}
    )
    for i in range(3):
        identities.create_user(ctx, user_name=f"user{i}")
    identities.create_group(ctx, group_name="group0")
    identities.add_user_to_group(ctx, group_name="group0", user_name="user0")
    policies.attach_group_policy(ctx, group_name="group0", policy_arn="arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess")
    policies.put_user_policy(ctx, user_name="user1", policy_name="inline", policy_document=doc)


def class_ops() -> None:
    from classroom import services
    from core.context import CallContext, Principal
    from identities.models import IamUser

    classroom = the_class()
    ctx = CallContext(Principal.root(classroom.instructor_account_id), user_agent="bench", origin="console")
    created, resets = [], []
    stamp = int(time.time()) % 100000  # a database kept with --reuse still holds the classes of earlier runs
    for run in range(ROUNDS):
        start = time.perf_counter()
        extra, _ = services.create_class(ctx, title=f"Create {run}", students=STUDENTS, alias_prefix=f"c{run}x{stamp}")
        created.append(time.perf_counter() - start)
        accounts = list(extra.seats.values_list("account_id", flat=True))
        start = time.perf_counter()
        for account_id in accounts:
            populate(CallContext(Principal.root(account_id), user_agent="bench", origin="console"))
        populated = time.perf_counter() - start
        users_before = IamUser.objects.filter(account_id__in=accounts).count()
        start = time.perf_counter()
        services.reset_student_accounts(ctx, extra.pk)
        resets.append(time.perf_counter() - start)
        assert not IamUser.objects.filter(account_id__in=accounts).exists()
        print(
            f"create {created[-1]:.2f} s; populated {users_before} users in {populated:.0f} s; "
            f"reset {resets[-1]:.2f} s (load {load()})"
        )
    print(f"\n| operation ({STUDENTS} accounts) | median s | min s | max s |\n| --- | ---: | ---: | ---: |")
    for label, times in ((f"create_class, {STUDENTS} students", created), (f"reset {STUDENTS} populated", resets)):
        print(f"| {label} | {statistics.median(times):.2f} | {min(times):.2f} | {max(times):.2f} |")


def main() -> None:
    args = sys.argv[1:]
    reuse, show_plans, full = "--reuse" in args, "--explain" in args, "--full" in args
    chosen = [a for a in args if a in SECTIONS] or list(SECTIONS)
    if reuse:
        base = os.environ.get("BENCH_POSTGRES", "postgresql://postgres@127.0.0.1:5432/postgres")
        django_setup(base.rsplit("/", 1)[0] + "/" + DATABASE, AUDIT_ENQUEUE_DELIVERY="false")
    else:
        django_setup(fresh_database(DATABASE), AUDIT_ENQUEUE_DELIVERY="false")
        seed()
    print(f"{os.cpu_count()} cores; load average {load()}; {WARMUP} warm-ups and {RUNS} timed requests per line")
    for section in chosen:
        if section == "history":
            history(show_plans)
        elif section == "download":
            download(full)
        elif section == "users":
            users(show_plans)
        elif section == "board":
            board(show_plans)
        elif section == "class":
            class_ops()


if __name__ == "__main__":
    main()
