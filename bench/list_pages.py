"""Console list and detail pages with 5,000 users and the full AWS managed catalog (issue 2).

Creates a fresh database (``iam_bench_lists``, never the dev or test one), migrates, loads the AWS managed catalog,
and seeds one account by ``bulk_create``, shaped like a real classroom account: ``BENCH_USERS`` users (default
5,000: ``user0``…``user4999``, so ``?q=user12`` matches 111 of them), 40 groups with 1–3 AWS managed policies each
(10 with an inline policy), 200 customer managed policies; 75 % of the users in 1–3 groups, 60 % with a console
password, 40 % with 1–3 directly attached policies, 5 % with an inline policy.

Each page is requested through Django's test ``Client`` signed in as root, so the time is the whole server side of
a request (middleware, session, authorization, audit write, queries, template) without the network: 5 warm-up
requests, then ``BENCH_RUNS`` (default 50) timed ones; median and p95 wall time in ms, the median CPU time of this
Python process (the part that does not wait for PostgreSQL; it moves less when other work shares the machine), and
the queries one request runs. The load average is printed with the table: on a busy machine wall times grow.
Goal: ≤ 50 ms median for the users and policies lists. With ``--explain``, the slowest query of every page is
shown with ``EXPLAIN (ANALYZE, BUFFERS)``; it is always shown for a list page that misses the goal.

Run:  .venv/bin/python bench/list_pages.py [--explain]
      (PostgreSQL from BENCH_POSTGRES, default postgresql://postgres@127.0.0.1:5432/postgres)
"""

from __future__ import annotations

import math
import os
import platform
import random
import statistics
import sys
import time
from datetime import timedelta

sys.path.insert(0, os.path.dirname(__file__))
from _setup import django_setup, fresh_database  # noqa: E402

USERS = int(os.environ.get("BENCH_USERS", "5000"))
RUNS = int(os.environ.get("BENCH_RUNS", "50"))
WARMUP = 5
GOAL_MS = 50.0
DATABASE = os.environ.get("BENCH_DB", "iam_bench_lists")
ACCOUNT_ID = "999900002222"
PASSWORD = "Bench-Passw0rd!"
DETAIL_USER = f"user{min(4242, USERS - 1)}"
#: (url, held to the 50 ms goal)
PAGES = [
    ("/iam/users", True),
    ("/iam/users?q=user12", True),
    ("/iam/users?page=100", True),
    ("/iam/users?sort=-created", True),
    ("/iam/users?sort=-groups", True),
    ("/iam/policies", True),
    ("/iam/policies?q=S3", True),
    ("/iam/policies?type=aws", True),
    ("/iam/policies?type=customer", True),
    ("/iam/policies?page=30", True),
    (f"/iam/users/{DETAIL_USER}", False),
    (f"/iam/users/{DETAIL_USER}?tab=groups", False),
    (f"/iam/users/{DETAIL_USER}?tab=security_credentials", False),
    ("/iam/groups", False),
]
POLICY_DOC = (
    '{"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": ["s3:GetObject", '
    '"s3:ListBucket"], "Resource": ["arn:aws:s3:::team-%d", "arn:aws:s3:::team-%d/*"]}]}'
)


def seed(account_id: str) -> dict[str, int]:
    from core import arns, clock, ids
    from core.passwords import hash_password
    from identities.models import Group, GroupMembership, IamUser, LoginProfile
    from policies.models import (
        GroupPolicyAttachment,
        InlinePolicy,
        ManagedPolicy,
        PolicyVersion,
        UserPolicyAttachment,
    )

    rng = random.Random(20261128)
    now = clock.now()
    created = [now - timedelta(minutes=rng.randrange(0, 60 * 24 * 400)) for _ in range(USERS)]

    IamUser.objects.bulk_create(
        [
            IamUser(
                account_id=account_id,
                user_id=ids.new_id("AIDA"),
                name=f"user{i}",
                path="/",
                arn=arns.user(account_id, "/", f"user{i}"),
                created_at=created[i],
            )
            for i in range(USERS)
        ],
        batch_size=1000,
    )
    users = list(IamUser.objects.filter(account_id=account_id).order_by("name"))

    groups = Group.objects.bulk_create(
        [
            Group(
                account_id=account_id,
                group_id=ids.new_id("AGPA"),
                name=f"team{i:02d}",
                path="/",
                arn=arns.group(account_id, "/", f"team{i:02d}"),
                created_at=now,
            )
            for i in range(40)
        ]
    )
    customer = ManagedPolicy.objects.bulk_create(
        [
            ManagedPolicy(
                account_id=account_id,
                policy_id=ids.new_id("ANPA"),
                name=f"team-bucket-{i:03d}",
                path="/",
                arn=arns.policy(account_id, "/", f"team-bucket-{i:03d}"),
                created_at=now,
                updated_at=now,
            )
            for i in range(200)
        ]
    )
    PolicyVersion.objects.bulk_create(
        [
            PolicyVersion(policy=p, version_id="v1", document=POLICY_DOC % (i, i), is_default=True, created_at=now)
            for i, p in enumerate(customer)
        ]
    )
    common = list(
        ManagedPolicy.objects.filter(
            account__isnull=True,
            name__in=[
                "AmazonS3ReadOnlyAccess",
                "AmazonS3FullAccess",
                "AmazonEC2FullAccess",
                "AmazonEC2ReadOnlyAccess",
                "ReadOnlyAccess",
                "IAMUserChangePassword",
                "AmazonDynamoDBFullAccess",
                "AWSLambda_FullAccess",
                "CloudWatchReadOnlyAccess",
                "AmazonSQSFullAccess",
                "AmazonRDSReadOnlyAccess",
                "PowerUserAccess",
            ],
        )
    )
    attachable = common * 10 + customer  # AWS managed ones are attached more often, as in real accounts

    GroupPolicyAttachment.objects.bulk_create(
        [
            GroupPolicyAttachment(account_id=account_id, group=g, policy=p, created_at=now)
            for g in groups
            for p in rng.sample(common, rng.randint(1, 3))
        ]
    )
    memberships = [
        GroupMembership(account_id=account_id, group=g, user=u, created_at=now)
        for u in users
        if rng.random() < 0.75
        for g in rng.sample(groups, rng.randint(1, 3))
    ]
    GroupMembership.objects.bulk_create(memberships, batch_size=2000)
    digest = hash_password("Bench-User-Passw0rd!")
    profiles = [
        LoginProfile(
            user=u,
            password_hash=digest,
            created_at=u.created_at,
            password_changed_at=u.created_at,
            password_reset_required=rng.random() < 0.2,
        )
        for u in users
        if rng.random() < 0.6
    ]
    LoginProfile.objects.bulk_create(profiles, batch_size=2000)
    attachments = [
        UserPolicyAttachment(account_id=account_id, user=u, policy=p, created_at=now)
        for u in users
        if rng.random() < 0.4
        for p in {id(p): p for p in rng.sample(attachable, rng.randint(1, 3))}.values()
    ]
    UserPolicyAttachment.objects.bulk_create(attachments, batch_size=2000, ignore_conflicts=True)
    inline = [
        InlinePolicy(
            account_id=account_id,
            user=u,
            name="own-bucket",
            document=POLICY_DOC % (i, i),
            created_at=now,
            updated_at=now,
        )
        for i, u in enumerate(users)
        if rng.random() < 0.05
    ]
    inline += [
        InlinePolicy(
            account_id=account_id,
            group=g,
            name="team-bucket",
            document=POLICY_DOC % (i, i),
            created_at=now,
            updated_at=now,
        )
        for i, g in enumerate(groups[:10])
    ]
    InlinePolicy.objects.bulk_create(inline, batch_size=2000)

    # the detail page's user gets the full set, so every section of the page has rows to render
    detail = next(u for u in users if u.name == DETAIL_USER)
    for g in groups[:3]:
        GroupMembership.objects.get_or_create(
            group=g, user=detail, defaults={"account_id": account_id, "created_at": now}
        )
    LoginProfile.objects.get_or_create(
        user=detail, defaults={"password_hash": digest, "created_at": now, "password_changed_at": now}
    )
    for p in (common[0], common[1], customer[0]):
        UserPolicyAttachment.objects.get_or_create(
            user=detail, policy=p, defaults={"account_id": account_id, "created_at": now}
        )

    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    return {
        "groups": len(groups),
        "memberships": GroupMembership.objects.filter(account_id=account_id).count(),
        "login profiles": LoginProfile.objects.filter(user__account_id=account_id).count(),
        "customer managed policies": len(customer),
        "user attachments": UserPolicyAttachment.objects.filter(account_id=account_id).count(),
        "inline policies": len(inline),
    }


def measure(client, url: str) -> dict:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    for _ in range(WARMUP):
        response = client.get(url)
        assert response.status_code == 200, (url, response.status_code)
    samples, cpu = [], []
    for _ in range(RUNS):
        start, start_cpu = time.perf_counter(), time.process_time()
        client.get(url)
        samples.append((time.perf_counter() - start) * 1000)
        cpu.append((time.process_time() - start_cpu) * 1000)
    with CaptureQueriesContext(connection) as captured:  # a separate request: query capture has its own cost
        client.get(url)
    samples.sort()
    selects = [q for q in captured.captured_queries if q["sql"].lstrip().upper().startswith("SELECT")]
    slowest = max(selects, key=lambda q: float(q["time"]))  # the audit INSERT is not ours to explain
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


def main() -> None:
    show_plans = "--explain" in sys.argv[1:]
    django_setup(fresh_database(DATABASE), AUDIT_ENQUEUE_DELIVERY="false")
    from django.db import connection
    from django.test import Client

    from console.services import create_account
    from policies.loading import load_aws_managed_policies

    start = time.perf_counter()
    loaded = load_aws_managed_policies()
    print(f"loaded {loaded} AWS managed policies in {time.perf_counter() - start:.1f}s")
    account = create_account(account_id=ACCOUNT_ID, email="lists@example.com", password=PASSWORD)
    start = time.perf_counter()
    sizes = seed(account.id)
    print(
        f"seeded {USERS} users in {time.perf_counter() - start:.1f}s: "
        + ", ".join(f"{n} {what}" for what, n in sizes.items())
    )
    with connection.cursor() as cursor:
        cursor.execute("SHOW server_version")
        server = cursor.fetchone()[0]
    print(
        f"{platform.node()}: {os.cpu_count()} cores, Python {platform.python_version()}, PostgreSQL {server}; "
        f"{WARMUP} warm-ups, {RUNS} timed requests per page"
    )

    client = Client()
    assert client.post("/signin", {"email": account.root_email, "password": PASSWORD}).status_code == 302
    load_before = " ".join(f"{x:.2f}" for x in os.getloadavg())
    results = {url: measure(client, url) for url, _ in PAGES}

    print(f"load average before/after: {load_before} / {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    print(
        "\n| page | median ms | p95 ms | Python CPU ms (median) | queries | slowest SELECT ms |\n"
        "| --- | ---: | ---: | ---: | ---: | ---: |"
    )
    for url, held in PAGES:
        r = results[url]
        miss = " **(misses goal)**" if held and r["median"] > GOAL_MS else ""
        print(
            f"| `{url}` | {r['median']:.1f}{miss} | {r['p95']:.1f} | {r['cpu']:.1f} | {r['queries']} "
            f"| {r['slowest_ms']:.1f} |"
        )
    for url, held in PAGES:
        r = results[url]
        if show_plans or (held and r["median"] > GOAL_MS):
            print(f"\n--- {url}: slowest query ({r['slowest_ms']:.1f} ms)\n{r['slowest_sql']}")
            print(explain(r["slowest_sql"]))


if __name__ == "__main__":
    main()
