"""Query API throughput: boto3 calls per second against our server and against moto's standalone server, side by
side in one run.

    .venv/bin/python bench/api_throughput.py [--seconds 5] [--users 20] [--profile]

Our server runs the way production does (gunicorn, 2 workers; and ``manage.py runserver --noreload`` for
comparison) on a fresh database, with SigV4 verified, policies enforced (the caller is an IAM user whose only
permission is a customer managed policy allowing iam:*) and the audit trail on (Redis at REDIS_URL receives the
delivery tasks). moto_server (``moto[server]``) answers the same calls. One client thread, sequential calls: the
figure is the inverse of the per-call latency. With ``--profile`` our gunicorn run is sampled by py-spy, if it is
installed, and the top frames are printed.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import socket
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

    return boto3.client("iam", endpoint_url=endpoint, region_name="us-east-1", aws_access_key_id=key_id,
                        aws_secret_access_key=secret, config=Config(retries={"max_attempts": 1}))


def measure(iam, seconds: float, users: int) -> dict[str, float]:
    for i in range(users):
        try:
            iam.create_user(UserName=f"seed{i:03d}")
        except iam.exceptions.EntityAlreadyExistsException:
            pass
    counter = iter(range(10**9))

    def create_delete() -> None:
        name = f"tmp{next(counter)}"
        iam.create_user(UserName=name)
        iam.delete_user(UserName=name)

    cases: dict[str, tuple[Callable[[], object], int]] = {
        "ListUsers": (lambda: iam.list_users(), 1),
        "GetUser": (lambda: iam.get_user(UserName="seed000"), 1),
        "CreateUser+DeleteUser": (create_delete, 2),
    }
    results = {}
    for name, (call, calls_per_iteration) in cases.items():
        for _ in range(5):
            call()  # warm up
        done, start = 0, time.perf_counter()
        while time.perf_counter() - start < seconds:
            call()
            done += calls_per_iteration
        results[name] = done / (time.perf_counter() - start)
    return results


def run_ours(kind: str, env: dict[str, str], key: tuple[str, str], seconds: float, users: int,
             profile: bool) -> dict[str, float]:
    port = free_port()
    if kind == "gunicorn":
        command = [str(VENV_BIN / "gunicorn"), "console.wsgi", "--workers", "2", "--bind", f"127.0.0.1:{port}",
                   "--log-level", "warning"]
    else:
        command = [sys.executable, "manage.py", "runserver", "--noreload", f"127.0.0.1:{port}"]
    server = subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    spy = None
    try:
        wait_up(port)
        if profile and shutil.which("py-spy", path=str(VENV_BIN)):
            spy = subprocess.Popen([str(VENV_BIN / "py-spy"), "record", "--subprocesses", "--pid", str(server.pid),
                                    "--format", "raw", "--output", "/tmp/api_throughput.pyspy.txt", "--rate", "200"],
                                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            time.sleep(1)
        return measure(client(f"http://127.0.0.1:{port}/aws", *key), seconds, users)
    finally:
        if spy is not None:
            spy.terminate()
            spy.wait(timeout=30)
        server.terminate()
        server.wait(timeout=30)


def run_moto(seconds: float, users: int) -> dict[str, float]:
    port = free_port()
    server = subprocess.Popen([str(VENV_BIN / "moto_server"), "-H", "127.0.0.1", "-p", str(port)],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait_up(port)
        return measure(client(f"http://127.0.0.1:{port}", "AKIAIOSFODNN7EXAMPLE", "x" * 40), seconds, users)
    finally:
        server.terminate()
        server.wait(timeout=30)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=float, default=5.0, help="measuring time per operation and server")
    parser.add_argument("--users", type=int, default=20, help="users in the account (ListUsers lists them all)")
    parser.add_argument("--profile", action="store_true", help="sample our gunicorn run with py-spy")
    args = parser.parse_args()

    url = fresh_database("iam_bench_api")
    django_setup(url, SECRET_KEY=SECRET_KEY)
    key = prepare_account()
    env = {**os.environ, "DATABASE_URL": url, "SECRET_KEY": SECRET_KEY, "DJANGO_SETTINGS_MODULE": "console.settings",
           "ALLOWED_HOSTS": "127.0.0.1,localhost"}
    env.pop("DEBUG", None)
    table = {}
    if (VENV_BIN / "gunicorn").exists():
        table["ours (gunicorn, 2 workers)"] = run_ours("gunicorn", env, key, args.seconds, args.users, args.profile)
    table["ours (runserver --noreload)"] = run_ours("runserver", env, key, args.seconds, args.users, False)
    table["moto_server"] = run_moto(args.seconds, args.users)

    operations = list(next(iter(table.values())))
    print("| server | " + " | ".join(f"{op} calls/s" for op in operations) + " |")
    print("| --- | " + " | ".join("---:" for _ in operations) + " |")
    for server, row in table.items():
        print(f"| {server} | " + " | ".join(f"{row[op]:.0f}" for op in operations) + " |")


if __name__ == "__main__":
    main()
