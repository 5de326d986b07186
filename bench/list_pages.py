"""Console list and detail pages with 5,000 users and the full AWS managed catalog (issue 2).

Server time through Django's test client (the whole request: middleware, authorization, audit write, template),
30 requests per page after 3 warm-ups; goal ≤ 50 ms median for the users and policies lists.

Run:  .venv/bin/python bench/list_pages.py
"""

from __future__ import annotations

import os
import statistics
import sys
import time

sys.path.insert(0, os.path.dirname(__file__))
from _setup import django_setup, fresh_database  # noqa: E402

USERS = int(os.environ.get("BENCH_USERS", "5000"))


def seed(account_id: str) -> None:
    from core import arns, clock, ids
    from core.passwords import hash_password
    from identities.models import Group, GroupMembership, IamUser, LoginProfile
    from policies.models import ManagedPolicy, UserPolicyAttachment

    now = clock.now()
    users = [IamUser(account_id=account_id, user_id=ids.new_id("AIDA"), name=f"user{i:05d}", path="/",
                     arn=arns.user(account_id, "/", f"user{i:05d}"), created_at=now) for i in range(USERS)]
    IamUser.objects.bulk_create(users, batch_size=1000)
    users = list(IamUser.objects.filter(account_id=account_id).order_by("name"))
    groups = [Group.objects.create(account_id=account_id, group_id=ids.new_id("AGPA"), name=f"team{i}", path="/",
                                   arn=arns.group(account_id, "/", f"team{i}"), created_at=now) for i in range(20)]
    GroupMembership.objects.bulk_create([GroupMembership(account_id=account_id, group=groups[i % 20], user=u,
                                                         created_at=now) for i, u in enumerate(users)], batch_size=2000)
    digest = hash_password("Bench-User-Passw0rd!")
    LoginProfile.objects.bulk_create([LoginProfile(user=u, password_hash=digest, created_at=now, password_changed_at=now)
                                      for u in users[::2]], batch_size=2000)
    policies = list(ManagedPolicy.objects.filter(account__isnull=True).order_by("name")[:10])
    UserPolicyAttachment.objects.bulk_create([UserPolicyAttachment(account_id=account_id, user=u,
                                                                   policy=policies[i % 10], created_at=now)
                                              for i, u in enumerate(users)], batch_size=2000)
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")


def measure(client, url: str, runs: int = 30) -> tuple[float, float, int]:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    for _ in range(3):
        assert client.get(url).status_code == 200, url
    samples = []
    for _ in range(runs):
        start = time.perf_counter()
        client.get(url)
        samples.append((time.perf_counter() - start) * 1000)
    with CaptureQueriesContext(connection) as queries:
        client.get(url)
    samples.sort()
    return statistics.median(samples), samples[int(runs * 0.95) - 1], len(queries.captured_queries)


def main() -> None:
    django_setup(fresh_database("iam_bench_lists"), AUDIT_ENQUEUE_DELIVERY="false")
    from django.test import Client

    from console.services import create_account
    from policies.loading import load_aws_managed_policies

    load_aws_managed_policies()
    account = create_account(account_id="999900002222", email="lists@example.com", password="Bench-Passw0rd!")
    start = time.perf_counter()
    seed(account.id)
    print(f"seeded {USERS} users in {time.perf_counter() - start:.1f}s")
    client = Client()
    assert client.post("/signin", {"email": account.root_email, "password": "Bench-Passw0rd!"}).status_code == 302
    pages = ["/iam/users", "/iam/users?q=user12", "/iam/users?page=100", "/iam/users?sort=-created",
             "/iam/policies", "/iam/policies?q=S3", "/iam/policies?type=aws", "/iam/policies?page=30",
             "/iam/users/user04242", "/iam/users/user04242?tab=groups", "/iam/groups"]
    print(f"\n{'page':36} {'median ms':>10} {'p95 ms':>8} {'queries':>8}")
    for url in pages:
        median, p95, queries = measure(client, url)
        print(f"{url:36} {median:10.1f} {p95:8.1f} {queries:8d}")


if __name__ == "__main__":
    main()
