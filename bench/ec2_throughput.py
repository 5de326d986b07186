"""EC2 Query API throughput: boto3 calls per second against our practice EC2 service and against moto's standalone
server, side by side in one run (the method of bench/api_throughput.py, whose server start-up it reuses).

    .venv/bin/python bench/ec2_throughput.py [--seconds 3] [--rounds 3] [--instances 10]

Our server runs as ``manage.py standalone`` runs it (granian, 2 workers × 4 threads) on a fresh database, with SigV4
verified, every call decided by the engine (the caller is an IAM user whose only permission is a customer managed
policy allowing ec2:*) and audited (Redis at REDIS_URL receives the delivery tasks). moto_server answers the same
calls without checking either. Both run for the whole benchmark and are measured alternately, operation by
operation, for ``--rounds`` rounds; the table shows medians (min–max) and the median of the rounds' ratios.
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

EC2_ALL = json.dumps({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "ec2:*", "Resource": "*"}]})
AMI = "ami-0a3c3a20c09d6f377"


def prepare_account() -> tuple[str, str]:
    from console.services import create_account
    from core.context import CallContext, Principal
    from identities import credentials, services
    from policies import services as policies

    account = create_account(account_id="123456789012", email="bench@example.test", password="Bench-Passw0rd!")
    root = CallContext(Principal.root(account.id), user_agent="bench", origin="system")
    services.create_user(root, user_name="bench")
    policy = policies.create_policy(root, policy_name="Ec2All", policy_document=EC2_ALL)
    policies.attach_user_policy(root, user_name="bench", policy_arn=policy.arn)
    new = credentials.create_access_key(root, user_name="bench")
    return new.key.access_key_id, new.secret_access_key


def client(endpoint: str, key_id: str, secret: str):
    import boto3
    from botocore.config import Config

    return boto3.client(
        "ec2",
        endpoint_url=endpoint,
        region_name="us-east-1",
        aws_access_key_id=key_id,
        aws_secret_access_key=secret,
        config=Config(retries={"max_attempts": 1}),
    )


def seed(ec2, instances: int) -> str:
    """``instances`` instances, every other one tagged team=blue; the ID of the first."""
    ids = []
    for i in range(instances):
        team = "blue" if i % 2 == 0 else "red"
        launched = ec2.run_instances(
            ImageId=AMI,
            InstanceType="t3.micro",
            MinCount=1,
            MaxCount=1,
            TagSpecifications=[{"ResourceType": "instance", "Tags": [{"Key": "team", "Value": team}]}],
        )
        ids.append(launched["Instances"][0]["InstanceId"])
    return ids[0]


def cases(ec2, first: str) -> dict[str, tuple[Callable[[], object], int]]:
    def stop_start() -> None:
        ec2.stop_instances(InstanceIds=[first])
        ec2.start_instances(InstanceIds=[first])

    return {
        "DescribeInstances": (lambda: ec2.describe_instances(), 1),
        "DescribeInstances tag:team": (
            lambda: ec2.describe_instances(Filters=[{"Name": "tag:team", "Values": ["blue"]}]),
            1,
        ),
        "StopInstances+StartInstances": (stop_start, 2),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=float, default=3.0, help="measuring time per operation, server and round")
    parser.add_argument("--rounds", type=int, default=3, help="alternating rounds (the table shows medians)")
    parser.add_argument("--instances", type=int, default=10, help="instances in the account")
    parser.add_argument("--database", default="iam_bench_ec2", help="the database to (re)create for the run")
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
        ours_port, started = start_ours(env, profile=False)
        processes += started
        moto_port, started = start_moto()
        processes += started
        clients = {
            "ours (granian, 2 workers)": client(f"http://127.0.0.1:{ours_port}/ec2", *key),
            "moto_server": client(f"http://127.0.0.1:{moto_port}", "AKIAIOSFODNN7EXAMPLE", "x" * 40),
        }
        per_server = {name: cases(ec2, seed(ec2, args.instances)) for name, ec2 in clients.items()}
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
    print("| server | " + " | ".join(f"{op} calls/s" for op in operations) + " |")
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
