"""Classroom benchmarks (issue 7): create a class of 40 student accounts, and reset 40 populated accounts.

Production Argon2 settings (ARGON2_TIME_COST=3, 64 MiB) for every password a person chooses; generated initial
passwords use classroom.services.INITIAL_PASSWORD_ARGON2 (see the module docstring there).

1. ``create_class`` with 40 students, through the service and through the console's Create class form (POST to
   /classroom/create, Django test client, synchronous request): wall time per run, 3 runs each.
2. Populate all 40 accounts of a class through the public services (per account: 5 users, one with a console
   password and access key, 2 groups with memberships, 2 customer managed policies attached, 2 roles with a
   policy attached, an inline policy), then ``reset_student_accounts`` of all 40: wall time, 3 rounds.

Run:  .venv/bin/python bench/classroom.py   (uses a fresh database iam_bench_classroom on 127.0.0.1:5432)
"""

from __future__ import annotations

import json
import os
import statistics
import sys
import time

sys.path.insert(0, os.path.dirname(__file__))
from _setup import django_setup, fresh_database  # noqa: E402

STUDENTS = int(os.environ.get("BENCH_STUDENTS", "40"))
ROUNDS = 3


def populate(ctx) -> None:  # noqa: ANN001
    from identities import roles
    from identities import services as identities
    from identities.credentials import create_access_key
    from policies import services as policies

    doc = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"}]}
    trust = json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Effect": "Allow",
                    "Principal": {"AWS": f"arn:aws:iam::{ctx.account_id}:root"},
                    "Action": "sts:AssumeRole",
                }
            ],
        }
    )
    for i in range(5):
        identities.create_user(ctx, user_name=f"user{i}")
    identities.create_login_profile(ctx, user_name="user0", password="Lab-Passw0rd!")
    create_access_key(ctx, user_name="user0")
    arns = [policies.create_policy(ctx, policy_name=f"P{i}", policy_document=json.dumps(doc)).arn for i in range(2)]
    for g in range(2):
        identities.create_group(ctx, group_name=f"group{g}")
        identities.add_user_to_group(ctx, group_name=f"group{g}", user_name=f"user{g}")
        policies.attach_group_policy(ctx, group_name=f"group{g}", policy_arn=arns[g])
    for r in range(2):
        roles.create_role(ctx, role_name=f"Role{r}", assume_role_policy_document=trust)
        policies.attach_role_policy(ctx, role_name=f"Role{r}", policy_arn=arns[r])
    policies.put_user_policy(ctx, user_name="user1", policy_name="inline", policy_document=json.dumps(doc))


def main() -> None:
    django_setup(fresh_database("iam_bench_classroom"), AUDIT_ENQUEUE_DELIVERY="0")
    from django.conf import settings
    from django.test import Client

    from classroom import services
    from core.context import CallContext, Principal
    from identities.models import GroupMembership, IamUser, Role
    from policies.loading import load_aws_managed_policies

    load_aws_managed_policies()
    print(
        f"Argon2 (chosen passwords): time_cost={settings.ARGON2_TIME_COST}, "
        f"memory={settings.ARGON2_MEMORY_COST_KIB} KiB; initial passwords: {services.INITIAL_PASSWORD_ARGON2}"
    )
    instructor = services.sign_up_instructor(email="bench@school.example", password="Bench-Passw0rd!")
    ctx = CallContext(Principal.root(instructor.id), user_agent="bench", origin="console")

    service_times = []
    for run in range(ROUNDS):
        start = time.perf_counter()
        services.create_class(ctx, title=f"Service {run}", students=STUDENTS, alias_prefix=f"svc{run}")
        service_times.append(time.perf_counter() - start)

    client = Client()
    assert client.post("/signin", {"email": "bench@school.example", "password": "Bench-Passw0rd!"}).status_code == 302
    page_times = []
    for run in range(ROUNDS):
        start = time.perf_counter()
        response = client.post(
            "/classroom/create", {"title": f"Page {run}", "students": str(STUDENTS), "alias_prefix": f"page{run}"}
        )
        page_times.append(time.perf_counter() - start)
        assert response.status_code == 302, response.content[:300]

    classroom, issued = services.create_class(ctx, title="Reset", students=STUDENTS, alias_prefix="rst")
    account_ids = [i.seat.account_id for i in issued]
    reset_times = []
    for _ in range(ROUNDS):
        start = time.perf_counter()
        for account_id in account_ids:
            populate(CallContext(Principal.root(account_id), user_agent="bench", origin="console"))
        populate_s = time.perf_counter() - start
        users = IamUser.objects.filter(account_id__in=account_ids).count()
        memberships = GroupMembership.objects.filter(account_id__in=account_ids).count()
        start = time.perf_counter()
        services.reset_student_accounts(ctx, classroom.pk)
        reset_times.append(time.perf_counter() - start)
        assert not IamUser.objects.filter(account_id__in=account_ids).exists()
        assert Role.objects.filter(account_id__in=account_ids).count() == STUDENTS  # the access roles
        print(
            f"populated {users} users / {memberships} memberships in {populate_s:.1f} s; reset {reset_times[-1]:.3f} s"
        )

    def line(label: str, times: list[float]) -> str:
        return f"| {label} | {statistics.median(times):.2f} | {min(times):.2f} | {max(times):.2f} |"

    print()
    print("| operation (40 accounts) | median s | min s | max s |")
    print("| --- | ---: | ---: | ---: |")
    print(line(f"create_class, {STUDENTS} students (service)", service_times))
    print(line(f"Create class form POST, {STUDENTS} students (whole request)", page_times))
    print(line(f"reset all {STUDENTS} populated accounts", reset_times))


if __name__ == "__main__":
    main()
