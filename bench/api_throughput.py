"""Query API throughput: boto3 calls per second against our server and against moto's standalone server, side by
side in one run.

    .venv/bin/python bench/api_throughput.py [--seconds 3] [--rounds 3] [--users 20] [--profile]

Our server runs the way ``manage.py standalone`` runs it (granian, 2 workers × 4 threads) on a fresh database, with
SigV4 verified, policies enforced (the caller is an IAM user whose only permission is a customer managed policy
allowing iam:*) and the audit trail on (Redis at REDIS_URL receives the delivery tasks). moto_server
(``moto[server]``) answers the same calls. Both servers run for the whole benchmark and are measured alternately,
operation by operation, for ``--rounds`` rounds, so a change in the machine's load affects both alike; the table
shows each figure's median over the rounds (min–max in brackets), and the median of the rounds' own ratios. One
client thread, sequential calls: the figure is the inverse of the per-call latency. With ``--profile`` our server
is sampled by py-spy, if it is installed.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import shutil
import socket
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench._setup import ROOT, django_setup, fresh_database  # noqa: E402

VENV_BIN = Path(sys.executable).parent
SECRET_KEY = "bench-secret-key-not-for-production-0123456789"
IAM_ALL = json.dumps({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "iam:*", "Resource": "*"}]})


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_up(port: int, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            time.sleep(0.2)
    raise RuntimeError(f"server on port {port} did not start")


def prepare_account() -> tuple[str, str]:
    """A fresh database with one account and an IAM user allowed iam:* by a customer managed policy."""
    from console.services import create_account
    from core.context import CallContext, Principal
    from identities import credentials, services
    from policies import services as policies

    account = create_account(account_id="123456789012", email="bench@example.test", password="Bench-Passw0rd!")
    root = CallContext(Principal.root(account.id), user_agent="bench", origin="system")
    services.create_user(root, user_name="bench")
    policy = policies.create_policy(root, policy_name="IamAll", policy_document=IAM_ALL)
    policies.attach_user_policy(root, user_name="bench", policy_arn=policy.arn)
    new = credentials.create_access_key(root, user_name="bench")
    return new.key.access_key_id, new.secret_access_key


def client(endpoint: str, key_id: str, secret: str):
    import boto3
    from botocore.config import Config

    return boto3.client(
        "iam",
        endpoint_url=endpoint,
        region_name="us-east-1",
        aws_access_key_id=key_id,
        aws_secret_access_key=secret,
        config=Config(retries={"max_attempts": 1}),
    )


def seed(iam, users: int) -> None:
    for i in range(users):
        with contextlib.suppress(iam.exceptions.EntityAlreadyExistsException):
            iam.create_user(UserName=f"seed{i:03d}")


def cases(iam) -> dict[str, tuple[Callable[[], object], int]]:
    counter = iter(range(10**9))

    def create_delete() -> None:
        name = f"tmp{next(counter)}"
        iam.create_user(UserName=name)
        iam.delete_user(UserName=name)

    return {
        "ListUsers": (lambda: iam.list_users(), 1),
        "GetUser": (lambda: iam.get_user(UserName="seed000"), 1),
        "CreateUser+DeleteUser": (create_delete, 2),
    }


def measure(call: Callable[[], object], calls_per_iteration: int, seconds: float) -> float:
    for _ in range(5):
        call()  # warm up
    done, start = 0, time.perf_counter()
    while time.perf_counter() - start < seconds:
        call()
        done += calls_per_iteration
    return done / (time.perf_counter() - start)


def start_ours(env: dict[str, str], profile: bool) -> tuple[int, list[subprocess.Popen]]:
    """The web server exactly as the launcher runs it (``console.embedded.web_server_command``)."""
    from console.embedded import web_server_command

    port = free_port()
    server = subprocess.Popen(
        web_server_command("127.0.0.1", port, workers=2),
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    processes = [server]
    wait_up(port)
    if profile and shutil.which("py-spy", path=str(VENV_BIN)):
        processes.append(
            subprocess.Popen(
                [
                    str(VENV_BIN / "py-spy"),
                    "record",
                    "--subprocesses",
                    "--pid",
                    str(server.pid),
                    "--format",
                    "raw",
                    "--output",
                    "/tmp/api_throughput.pyspy.txt",
                    "--rate",
                    "200",
                ],
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
        )
    return port, processes


def start_moto() -> tuple[int, list[subprocess.Popen]]:
    port = free_port()
    server = subprocess.Popen(
        [str(VENV_BIN / "moto_server"), "-H", "127.0.0.1", "-p", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    wait_up(port)
    return port, [server]


def load() -> str:
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=float, default=3.0, help="measuring time per operation, server and round")
    parser.add_argument("--rounds", type=int, default=3, help="alternating rounds (the table shows medians)")
    parser.add_argument("--users", type=int, default=20, help="users in the account (ListUsers lists them all)")
    parser.add_argument("--profile", action="store_true", help="sample our server with py-spy")
    parser.add_argument("--database", default="iam_bench_api", help="the database to (re)create for the run")
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
        ours_port, started = start_ours(env, args.profile)
        processes += started
        moto_port, started = start_moto()
        processes += started
        clients = {
            "ours (granian, 2 workers)": client(f"http://127.0.0.1:{ours_port}/aws", *key),
            "moto_server": client(f"http://127.0.0.1:{moto_port}", "AKIAIOSFODNN7EXAMPLE", "x" * 40),
        }
        table: dict[str, dict[str, list[float]]] = {name: {} for name in clients}
        per_server = {name: cases(iam) for name, iam in clients.items()}
        for iam in clients.values():
            seed(iam, args.users)
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
    # Each round measured both servers back to back, so a round's ratio is the steadier figure on a machine whose
    # speed drifts: the median of those, and the range.
    ours, moto = table.values()
    ratios = {op: [a / b for a, b in zip(ours[op], moto[op], strict=True)] for op in operations}
    cells = [f"{100 * statistics.median(r):.0f} % ({100 * min(r):.0f}–{100 * max(r):.0f} %)" for r in ratios.values()]
    print("| *ours / moto, per round* | " + " | ".join(cells) + " |")


if __name__ == "__main__":
    main()
