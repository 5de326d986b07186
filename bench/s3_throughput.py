"""S3 throughput: boto3 GetObject and PutObject of 1 KiB and 1 MiB per second against our ``/s3`` and against
moto's standalone server, side by side in one run.

    .venv/bin/python bench/s3_throughput.py [--seconds 3] [--rounds 3]

Our server runs as ``manage.py standalone`` runs it (granian, 2 workers; ``bench/api_throughput.py`` starts it)
on a fresh database, with SigV4 verified, the caller an IAM user whose only permission is a customer managed
policy allowing s3:* (so every call is decided by the engine) and every call audited (object operations as data
events). moto_server (``moto[server]``) answers the same calls without enforcing anything. Both servers are
measured alternately, operation by operation, for ``--rounds`` rounds; the table shows each figure's median over
the rounds (min–max) and the median of the rounds' own ratios. One client thread, sequential calls, path-style
addressing, and botocore's ``Expect: 100-continue`` turned off for both (neither server answers it, so botocore
would wait a second before each upload). Our server publishes its audit delivery tasks to ``REDIS_URL``: point it
at a scratch Redis database, since the tasks name the bench database's events and a test worker reading the same
queue later would pick them up.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench._setup import django_setup, fresh_database  # noqa: E402
from bench.api_throughput import SECRET_KEY, load, measure, start_moto, start_ours  # noqa: E402

S3_ALL = json.dumps({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:*", "Resource": "*"}]})
SIZES = {"1 KiB": 1024, "1 MiB": 1024 * 1024}


def prepare_account() -> tuple[str, str]:
    from console.services import create_account
    from core.context import CallContext, Principal
    from identities import credentials, services
    from policies import services as policies

    account = create_account(account_id="123456789012", email="bench@example.test", password="Bench-Passw0rd!")
    root = CallContext(Principal.root(account.id), user_agent="bench", origin="system")
    services.create_user(root, user_name="bench")
    policy = policies.create_policy(root, policy_name="S3All", policy_document=S3_ALL)
    policies.attach_user_policy(root, user_name="bench", policy_arn=policy.arn)
    new = credentials.create_access_key(root, user_name="bench")
    return new.key.access_key_id, new.secret_access_key


def client(endpoint: str, key_id: str, secret: str):
    import boto3
    from botocore.config import Config
    from botocore.handlers import add_expect_header

    s3 = boto3.client(
        "s3",
        endpoint_url=endpoint,
        region_name="us-east-1",
        aws_access_key_id=key_id,
        aws_secret_access_key=secret,
        config=Config(retries={"max_attempts": 1}, s3={"addressing_style": "path"}),
    )
    s3.meta.events.unregister("before-call.s3.PutObject", add_expect_header)
    return s3


def cases(s3) -> dict[str, tuple[Callable[[], object], int]]:
    s3.create_bucket(Bucket="bench-bucket")
    out: dict[str, tuple[Callable[[], object], int]] = {}
    for label, size in SIZES.items():
        body = os.urandom(size)
        key = f"object-{size}"
        s3.put_object(Bucket="bench-bucket", Key=key, Body=body)

        def put(key: str = key, body: bytes = body) -> None:
            s3.put_object(Bucket="bench-bucket", Key=key, Body=body)

        def get(key: str = key, size: int = size) -> None:
            assert len(s3.get_object(Bucket="bench-bucket", Key=key)["Body"].read()) == size

        out[f"PutObject {label}"] = (put, 1)
        out[f"GetObject {label}"] = (get, 1)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=float, default=3.0, help="measuring time per operation, server and round")
    parser.add_argument("--rounds", type=int, default=3, help="alternating rounds (the table shows medians)")
    parser.add_argument("--database", default="iam_bench_s3", help="the database to (re)create for the run")
    args = parser.parse_args()

    url = fresh_database(args.database)
    django_setup(url, SECRET_KEY=SECRET_KEY)
    key = prepare_account()
    env = {
        **os.environ,
        "DATABASE_URL": url,
        "SECRET_KEY": SECRET_KEY,
        "DJANGO_SETTINGS_MODULE": "console.settings",
        "ALLOWED_HOSTS": "127.0.0.1,localhost",
    }
    env.pop("DEBUG", None)
    print(f"load average at start: {load()}")
    processes: list[subprocess.Popen] = []
    try:
        ours_port, started = start_ours(env, False)
        processes += started
        moto_port, started = start_moto()
        processes += started
        clients = {
            "ours (granian, 2 workers)": client(f"http://127.0.0.1:{ours_port}/s3", *key),
            "moto_server": client(f"http://127.0.0.1:{moto_port}", "AKIAIOSFODNN7EXAMPLE", "x" * 40),
        }
        per_server = {name: cases(s3) for name, s3 in clients.items()}
        table: dict[str, dict[str, list[float]]] = {name: {} for name in clients}
        for _ in range(args.rounds):
            for operation in next(iter(per_server.values())):
                for name in clients:  # alternately: both see the same machine
                    call, calls_per_iteration = per_server[name][operation]
                    table[name].setdefault(operation, []).append(measure(call, calls_per_iteration, args.seconds))
    finally:
        for process in reversed(processes):
            process.terminate()
            process.wait(timeout=30)
    print(f"load average at end: {load()}")

    operations = list(next(iter(table.values())))
    print("| server | " + " | ".join(f"{op} /s" for op in operations) + " |")
    print("| --- | " + " | ".join("---:" for _ in operations) + " |")
    for server, row in table.items():
        cells = [f"{statistics.median(row[op]):.0f} ({min(row[op]):.0f}–{max(row[op]):.0f})" for op in operations]
        print(f"| {server} | " + " | ".join(cells) + " |")
    ours, moto = table.values()
    ratios = {op: [a / b for a, b in zip(ours[op], moto[op], strict=True)] for op in operations}
    cells = [f"{100 * statistics.median(r):.0f} % ({100 * min(r):.0f}–{100 * max(r):.0f} %)" for r in ratios.values()]
    print("| *ours / moto, per round* | " + " | ".join(cells) + " |")


if __name__ == "__main__":
    main()
