"""One Query API call end to end, in-process: its SQL statements, where the time goes, and a cProfile.

    .venv/bin/python bench/api_profile.py [--operation GetUser] [--calls 200] [--top 40] [--sort tottime]

A boto3 client signs each request as usual; a ``before-send`` hook hands it to Django's test client instead of the
network, so the whole server side runs (middleware, SigV4 verification, authorization, the service, the audit
write) with nothing mocked. Database ``iam_bench_api_profile`` is created fresh, with the account, the ``bench``
user and the 20 seeded users of ``bench/api_throughput.py``.
"""

from __future__ import annotations

import argparse
import cProfile
import pstats
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench._setup import ROOT, django_setup, fresh_database  # noqa: E402

OPERATIONS = ("GetUser", "ListUsers", "CreateUser", "CreateUser+DeleteUser")


class _Raw:
    def __init__(self, body: bytes) -> None:
        self.body = body

    def stream(self, *args, **kwargs):
        yield self.body


def _text(value: str | bytes) -> str:
    return value.decode() if isinstance(value, bytes) else value


def in_process_client(key_id: str, secret: str, server_time: list[float]):
    """A boto3 IAM client whose requests Django's test client answers; ``server_time[0]`` sums Django's time."""
    import boto3
    from botocore.awsrequest import AWSResponse
    from django.test import Client

    django_client = Client()
    iam = boto3.client(
        "iam",
        endpoint_url="http://testserver/aws",
        region_name="us-east-1",
        aws_access_key_id=key_id,
        aws_secret_access_key=secret,
    )

    def send(request, **kwargs):
        headers = {
            f"HTTP_{k.upper().replace('-', '_')}": _text(v)
            for k, v in request.headers.items()
            if k.lower() not in ("content-type", "content-length")
        }
        body = request.body if isinstance(request.body, bytes) else (request.body or "").encode()
        started = time.perf_counter()
        response = django_client.generic(
            request.method, "/aws", body, content_type=_text(request.headers.get("Content-Type", "")), **headers
        )
        server_time[0] += time.perf_counter() - started
        return AWSResponse(request.url, response.status_code, dict(response.headers.items()), _Raw(response.content))

    iam.meta.events.register("before-send.iam", send)
    return iam


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--operation", default="GetUser", choices=OPERATIONS)
    parser.add_argument("--calls", type=int, default=200)
    parser.add_argument("--sql", action="store_true", help="also list what Django's CaptureQueriesContext saw")
    parser.add_argument("--rounds", type=int, default=3, help="timed rounds of --calls calls")
    parser.add_argument("--top", type=int, default=40, help="rows of the cProfile listings (0: none)")
    parser.add_argument("--sort", default="cumulative", help="pstats sort key (cumulative, tottime, …)")
    args = parser.parse_args()

    url = fresh_database("iam_bench_api_profile")
    django_setup(url, SECRET_KEY="bench-secret-key-not-for-production-0123456789", AUDIT_ENQUEUE_DELIVERY="true")
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from bench._against_moto import bench_user
    from bench.api_throughput import seed

    server_time = [0.0]
    iam = in_process_client(*bench_user("iam:*"), server_time)
    seed(iam, 20)
    counter = iter(range(10**9))
    call = {
        "GetUser": lambda: iam.get_user(UserName="seed000"),
        "ListUsers": lambda: iam.list_users(),
        "CreateUser": lambda: iam.create_user(UserName=f"tmp{next(counter)}"),
        "CreateUser+DeleteUser": lambda: iam.delete_user(
            UserName=iam.create_user(UserName=f"tmp{next(counter)}")["User"]["UserName"]
        ),
    }[args.operation]
    for _ in range(5):
        call()  # warm-up: connections, parsed documents, prepared statements

    statements: list[tuple[float, str]] = []
    sql_time = [0.0]

    def timed(execute, sql, params, many, context):
        started = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            sql_time[0] += time.perf_counter() - started
            statements.append((time.perf_counter() - started, sql))

    with CaptureQueriesContext(connection) as queries, connection.execute_wrapper(timed):
        call()
    if "--sql" in sys.argv:
        for query in queries.captured_queries:
            print("   ", " ".join(query["sql"].split())[:140])
    print(
        f"{args.operation}: {len(statements)} SQL statements, execute times (psycopg's own BEGIN and COMMIT are "
        "not listed; the captured list also counts Django's savepoint and commit markers: "
        f"{len(queries.captured_queries)}):"
    )
    for seconds, sql in statements:
        print(f"   {seconds * 1000:6.3f} ms  " + " ".join(sql.split())[:120])

    # Three rounds; the machine is shared, so the best round and the CPU time (this process only: no waiting for
    # PostgreSQL or for a core) are the steadier numbers.
    for _ in range(args.rounds):
        server_time[0] = sql_time[0] = 0.0
        started, cpu_started = time.perf_counter(), time.process_time()
        with connection.execute_wrapper(timed):
            for _ in range(args.calls):
                call()
        elapsed, cpu = time.perf_counter() - started, time.process_time() - cpu_started
        print(
            f"per call: {1000 * elapsed / args.calls:.2f} ms total (boto3 client included), "
            f"{1000 * server_time[0] / args.calls:.2f} ms in Django, "
            f"{1000 * sql_time[0] / args.calls:.2f} ms executing SQL (cursor.execute, round trips included); "
            f"{1000 * cpu / args.calls:.2f} ms CPU of this process"
        )
    if args.top <= 0:
        return

    profile = cProfile.Profile()
    profile.enable()
    for _ in range(args.calls):
        call()
    profile.disable()
    stats = pstats.Stats(profile).sort_stats(args.sort)
    by_package: dict[str, float] = {}
    root = str(ROOT) + "/"
    for (filename, _, _), (_, _, own, _, _) in stats.stats.items():
        if "site-packages/" in filename:
            package = filename.split("site-packages/", 1)[1].split("/", 1)[0]
        elif filename.startswith(root):
            package = "ours: " + filename[len(root) :].split("/", 1)[0]
        else:
            package = "stdlib and builtins"
        by_package[package] = by_package.get(package, 0.0) + own
    print("Own time by package (ms a call, under cProfile):")
    for package, seconds in sorted(by_package.items(), key=lambda kv: -kv[1])[:16]:
        print(f"   {1000 * seconds / args.calls:6.2f}  {package}")
    stats.print_stats(args.top)
    print("Our code only:")
    stats.print_stats(rf"^{root}(?!\.venv)", args.top)


if __name__ == "__main__":
    main()
