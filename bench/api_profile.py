"""One Query API call end to end, in-process: SQL round trips and a cProfile of the Django handler.

    .venv/bin/python bench/api_profile.py [--operation GetUser|ListUsers|CreateUser] [--calls 200] [--top 40]

A boto3 client signs each request as usual; a ``before-send`` hook hands it to Django's test client instead of the
network, so the whole server side runs (middleware, SigV4 verification, authorization, the service, the audit
write) with nothing mocked. Database ``iam_bench_api_profile`` is created fresh.
"""

from __future__ import annotations

import argparse
import cProfile
import pstats
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench._setup import django_setup, fresh_database  # noqa: E402


class _Raw:
    def __init__(self, body: bytes) -> None:
        self.body = body

    def stream(self, *args, **kwargs):
        yield self.body


def in_process_client(key_id: str, secret: str):
    import boto3
    from botocore.awsrequest import AWSResponse
    from django.test import Client

    django_client = Client()
    iam = boto3.client("iam", endpoint_url="http://testserver/aws", region_name="us-east-1",
                       aws_access_key_id=key_id, aws_secret_access_key=secret)

    def send(request, **kwargs):
        headers = {f"HTTP_{k.upper().replace('-', '_')}": v.decode() if isinstance(v, bytes) else v
                   for k, v in request.headers.items() if k.lower() not in ("content-type", "content-length")}
        body = request.body if isinstance(request.body, bytes) else (request.body or "").encode()
        content_type = request.headers.get("Content-Type", b"")
        content_type = content_type.decode() if isinstance(content_type, bytes) else content_type
        response = in_process_client.django_send(django_client, request.method, body, content_type, headers)
        return AWSResponse(request.url, response.status_code, dict(response.headers.items()), _Raw(response.content))

    iam.meta.events.register("before-send.iam", send)
    return iam


def _django_send(django_client, method, body, content_type, headers):
    return django_client.generic(method, "/aws", body, content_type=content_type, **headers)


in_process_client.django_send = _django_send


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--operation", default="GetUser", choices=["GetUser", "ListUsers", "CreateUser"])
    parser.add_argument("--calls", type=int, default=200)
    parser.add_argument("--top", type=int, default=40)
    parser.add_argument("--sort", default="cumulative", help="pstats sort key (cumulative, tottime, …)")
    args = parser.parse_args()

    url = fresh_database("iam_bench_api_profile")
    django_setup(url, SECRET_KEY="bench-secret-key-not-for-production-0123456789", AUDIT_ENQUEUE_DELIVERY="true")
    from bench.api_throughput import prepare_account
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    key = prepare_account()
    iam = in_process_client(*key)
    for i in range(20):
        iam.create_user(UserName=f"seed{i:03d}")
    counter = iter(range(10**9))
    calls = {
        "GetUser": lambda: iam.get_user(UserName="seed000"),
        "ListUsers": lambda: iam.list_users(),
        "CreateUser": lambda: iam.create_user(UserName=f"tmp{next(counter)}"),
    }
    call = calls[args.operation]
    for _ in range(5):
        call()
    statements: list[tuple[float, str]] = []

    def each(execute, sql, params, many, context):
        t0 = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            statements.append((time.perf_counter() - t0, sql))

    with CaptureQueriesContext(connection) as queries, connection.execute_wrapper(each):
        call()
    print(f"{args.operation}: {len(queries.captured_queries)} SQL statements (BEGIN included), execute times:")
    for seconds, sql in statements:
        print(f"   {seconds * 1000:6.3f} ms  " + " ".join(sql.split())[:120])
    start = time.perf_counter()
    for _ in range(args.calls):
        call()
    elapsed = time.perf_counter() - start
    print(f"{args.calls} calls in {elapsed:.2f} s: {1000 * elapsed / args.calls:.2f} ms a call in-process, boto3 "
          "client included")
    db_time = [0.0]

    def timed(execute, sql, params, many, context):
        t0 = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            db_time[0] += time.perf_counter() - t0

    server = [0.0]
    original = in_process_client.django_send

    def timed_send(*a, **kw):
        t0 = time.perf_counter()
        try:
            return original(*a, **kw)
        finally:
            server[0] += time.perf_counter() - t0

    in_process_client.django_send = timed_send
    start = time.perf_counter()
    with connection.execute_wrapper(timed):
        for _ in range(args.calls):
            call()
    elapsed = time.perf_counter() - start
    in_process_client.django_send = original
    print(f"per call: {1000 * elapsed / args.calls:.2f} ms total, {1000 * server[0] / args.calls:.2f} ms in Django, "
          f"{1000 * db_time[0] / args.calls:.2f} ms executing SQL (cursor.execute, incl. the round trips)")
    profile = cProfile.Profile()
    start = time.perf_counter()
    profile.enable()
    for _ in range(args.calls):
        call()
    profile.disable()
    elapsed = time.perf_counter() - start
    print(f"{args.calls} calls in {elapsed:.2f} s: {args.calls / elapsed:.0f} calls/s in-process (with cProfile)")
    stats = pstats.Stats(profile).sort_stats(args.sort)
    stats.print_stats(args.top)
    print("Our code only:")
    stats.print_stats(r"work/main/(?!\.venv)", args.top)


if __name__ == "__main__":
    main()
