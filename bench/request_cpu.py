"""CPU and queries of one request of each kind a classroom sends (issue 16), in-process: where the web server's
share of a class's load goes, one request kind at a time.

    .venv/bin/python bench/request_cpu.py [--runs 40]

``bench/classroom_load.py`` measures the whole stack under a class's load; its CPU split says *how much* the web
server costs per request, not *which* requests. This script answers that, quickly enough to try a change: a fresh
database (``iam_bench_request_cpu``), a class of three, the first student signed in as ``classroom_load`` signs
them in (root, the first lab open in the side panel, users ``alice`` and ``cli``), then each request of the load
benchmark's lesson through Django's test ``Client`` (the whole server side: middleware, session, authorization,
audit write, queries, template; no HTTP, no network): 3 warm-up requests, then ``--runs`` timed ones. It prints
the minimum and median CPU time of this process (``time.process_time``: what the web server's Python costs, which
is what a class of 200 runs out of; the minimum moves least when other work shares the machine), the median wall
time, and the queries of one request. Writes (attach, then detach the same policy) are measured in pairs so the
account's state stays the same; the audit events they write are left undelivered (no worker runs), which does not
change what a request costs.

The ``share`` column weighs each kind by how often the load benchmark sends it (per student per minute, from its
lesson mix at think 1–3 s: the lab panel's poll every 5 s, Event history's poll while there, the rest by the
scenario weights), so the kinds that dominate the class's web CPU stand out.
"""

from __future__ import annotations

import argparse
import html
import os
import re
import statistics
import sys
import time
from pathlib import Path
from urllib.parse import urlencode

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench._setup import console_session, django_setup, fresh_database, student_class  # noqa: E402

DATABASE = os.environ.get("BENCH_DATABASE", "iam_bench_request_cpu")
HTMX = {"HTTP_HX_REQUEST": "true"}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=40)
    parser.add_argument("--profile", default="", help="cProfile the requests whose name contains this")
    parser.add_argument("--queries", default="", help="print the SQL of the requests whose name contains this")
    args = parser.parse_args()
    django_setup(
        fresh_database(DATABASE),
        SECRET_KEY="bench-secret-key-not-for-production-0123456789",
        AUDIT_ENQUEUE_DELIVERY="0",
        REDIS_URL=os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/7"),
    )
    from botocore.auth import SigV4Auth
    from botocore.awsrequest import AWSRequest
    from botocore.credentials import Credentials
    from django.conf import settings
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    from classroom.labs import all_labs

    instructor, klass, issued, root, key = student_class("Load", 3, "cpu")
    account_id = root.account_id
    lab = all_labs()[0].slug

    def signed_in(account: str) -> Client:
        client = Client()
        client.cookies[settings.SESSION_COOKIE_NAME] = console_session(account)
        return client

    student = signed_in(account_id)
    student.post(f"/labs/{lab}/open")
    board = signed_in(instructor.id)
    signer = SigV4Auth(Credentials(key.key.access_key_id, key.secret_access_key), "iam", "us-east-1")

    def api(action: str, **params: str):  # noqa: ANN202
        body = urlencode({"Action": action, "Version": "2010-05-08", **params})
        request = AWSRequest(
            method="POST",
            url="http://testserver/aws",
            data=body,
            headers={"Content-Type": "application/x-www-form-urlencoded; charset=utf-8"},
        )
        signer.add_auth(request)
        extra = {f"HTTP_{k.upper().replace('-', '_')}": v for k, v in request.headers.items() if k != "Content-Type"}
        return student.post("/aws", data=body, content_type="application/x-www-form-urlencoded; charset=utf-8", **extra)

    def poll_url(page: str, prefix: str) -> str:
        found = re.search(r'hx-get="(' + re.escape(prefix) + r'[^"]*)"[^>]*hx-trigger="every', page)
        return html.unescape(found.group(1)) if found else prefix.rstrip("?")  # (a version without the stamp)

    panel_poll = poll_url(student.get("/labs/panel", HTTP_HX_TARGET="lab-panel-checks", **HTMX).text, "/labs/panel?")
    history_poll = poll_url(student.get("/iam/event_history").text, "/iam/event_history?")
    board_poll = poll_url(board.get(f"/classroom/{klass.pk}/board").text, f"/classroom/{klass.pk}/board?")
    policy = "arn:aws:iam::aws:policy/IAMReadOnlyAccess"
    simulate = {
        "mode": "principal",
        "principal": "user:alice",
        "service": "iam",
        "actions": ["iam:CreateUser", "iam:ListUsers", "iam:GetUser"],
        "resources": "*",
    }

    def attach_detach():  # noqa: ANN202
        student.post(
            "/iam/users/alice/add_permissions",
            {"action": "add", "permissions_option": "attach", "policies": policy},
        )
        return student.post("/iam/users/alice/detach_policy", {"policy_arn": policy})

    # (name, per student-minute in the load mix, request)
    kinds = [
        ("panel poll, unchanged", 11.0, lambda: student.get(panel_poll, HTTP_HX_TARGET="lab-panel-checks", **HTMX)),
        ("panel poll, redrawn", 1.0, lambda: student.get("/labs/panel", HTTP_HX_TARGET="lab-panel-checks", **HTMX)),
        ("Event history poll", 2.0, lambda: student.get(history_poll, HTTP_HX_TARGET="event-table", **HTMX)),
        ("board poll (instructor)", 0.0, lambda: board.get(board_poll, HTTP_HX_TARGET="board-matrix", **HTMX)),
        ("users list", 3.0, lambda: student.get("/iam/users")),
        ("policies list", 3.0, lambda: student.get("/iam/policies")),
        ("user page", 2.5, lambda: student.get("/iam/users/alice")),
        ("attach + detach (2 writes)", 1.0, attach_detach),
        ("Create user wizard page", 0.7, lambda: student.get("/iam/users/create")),
        ("policy simulator POST", 0.7, lambda: student.post("/iam/policy_simulator", simulate)),
        ("Event history page", 1.3, lambda: student.get("/iam/event_history")),
        ("lab page", 0.7, lambda: student.get(f"/labs/{lab}")),
        ("API ListUsers", 3.0, lambda: api("ListUsers")),
        ("API GetUser", 2.0, lambda: api("GetUser", UserName="alice")),
    ]  # fmt: skip
    print(f"load average: {os.getloadavg()[0]:.2f}; {args.runs} runs each\n")
    print("| request | status | CPU ms (min / median) | wall ms (median) | queries | per student-minute | share |")
    print("| --- | ---: | ---: | ---: | ---: | ---: | ---: |")
    rows = []
    for name, weight, call in kinds:
        for _ in range(3):
            response = call()
        cpu, wall = [], []
        for _ in range(args.runs):
            c0, w0 = time.process_time(), time.perf_counter()
            response = call()
            cpu.append((time.process_time() - c0) * 1000)
            wall.append((time.perf_counter() - w0) * 1000)
        if args.profile and args.profile in name:
            import cProfile
            import pstats

            profiler = cProfile.Profile()
            profiler.runcall(lambda call=call: [call() for _ in range(args.runs)])
            pstats.Stats(profiler).sort_stats(os.environ.get("BENCH_SORT", "cumulative")).print_stats(45)
        with CaptureQueriesContext(connection) as queries:
            call()
        if args.queries and args.queries in name:
            for query in queries.captured_queries:
                print(query["sql"][:300], "\n")
        cpu_median, wall_median = statistics.median(cpu), statistics.median(wall)
        rows.append((name, response.status_code, min(cpu), cpu_median, wall_median, len(queries), weight))
    total = sum(r[2] * r[6] for r in rows)
    for name, status, cpu_min, cpu_ms, wall_ms, count, weight in rows:
        share = f"{cpu_min * weight * 100 / total:.0f} %" if weight else "—"
        print(f"| {name} | {status} | {cpu_min:.1f} / {cpu_ms:.1f} | {wall_ms:.1f} | {count} | {weight:g} | {share} |")
    print(f"\nweighted CPU (minimum) per student-minute: {total:.0f} ms")
    return 0


if __name__ == "__main__":
    sys.exit(main())
