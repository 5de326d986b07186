"""What the "against moto_server" benchmarks share (``api_throughput``, ``s3_throughput``, ``ec2_throughput``).

Our server runs as ``manage.py standalone`` runs it (granian, 2 workers × 4 threads, ``web_server_command``) on a
fresh database, with SigV4 verified, every call decided by the engine (the caller is an IAM user whose only
permission is one customer managed policy) and audited (Redis at REDIS_URL receives the delivery tasks: point it at
a scratch database). moto_server (``moto[server]``) answers the same calls without enforcing or recording anything.
Both run for the whole benchmark and are measured alternately, operation by operation, for ``rounds`` rounds, so a
change in the machine's load affects both alike; the table shows each figure's median over the rounds (min–max in
brackets), and the median of the rounds' own ratios. One client thread, sequential calls: the figure is the inverse
of the per-call latency.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Mapping
from pathlib import Path

from bench._setup import ROOT, django_setup, fresh_database

VENV_BIN = Path(sys.executable).parent
SECRET_KEY = "bench-secret-key-not-for-production-0123456789"
MOTO_KEY = ("AKIAIOSFODNN7EXAMPLE", "x" * 40)

Cases = dict[str, tuple[Callable[[], object], int]]  # operation → (one iteration, calls per iteration)


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


def load() -> str:
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


def bench_user(action: str) -> tuple[str, str]:
    """In the fresh database: one account and an IAM user allowed ``action`` (e.g. ``iam:*``) by a customer managed
    policy; its access key ID and secret."""
    from console.services import create_account
    from core.context import CallContext, Principal
    from identities import credentials, services
    from policies import services as policies

    document = json.dumps(
        {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": action, "Resource": "*"}]}
    )
    account = create_account(account_id="123456789012", email="bench@example.test", password="Bench-Passw0rd!")
    root = CallContext(Principal.root(account.id), user_agent="bench", origin="system")
    services.create_user(root, user_name="bench")
    policy = policies.create_policy(root, policy_name="BenchAll", policy_document=document)
    policies.attach_user_policy(root, user_name="bench", policy_arn=policy.arn)
    new = credentials.create_access_key(root, user_name="bench")
    return new.key.access_key_id, new.secret_access_key


def boto_client(service: str, endpoint: str, key: tuple[str, str], **config: object):  # noqa: ANN201 - a botocore client
    import boto3
    from botocore.config import Config

    return boto3.client(
        service,
        endpoint_url=endpoint,
        region_name="us-east-1",
        aws_access_key_id=key[0],
        aws_secret_access_key=key[1],
        config=Config(retries={"max_attempts": 1}, **config),
    )


def measure(call: Callable[[], object], calls_per_iteration: int, seconds: float) -> float:
    for _ in range(5):
        call()  # warm up
    done, start = 0, time.perf_counter()
    while time.perf_counter() - start < seconds:
        call()
        done += calls_per_iteration
    return done / (time.perf_counter() - start)


def start_ours(env: Mapping[str, str], profile: bool) -> tuple[int, list[subprocess.Popen]]:
    """The web server exactly as the launcher runs it; with ``profile``, sampled by py-spy if it is installed."""
    from console.embedded import web_server_command

    port = free_port()
    server = subprocess.Popen(
        web_server_command("127.0.0.1", port, workers=2),
        cwd=ROOT,
        env=dict(env),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    processes = [server]
    wait_up(port)
    if profile and shutil.which("py-spy", path=str(VENV_BIN)):
        spy = [str(VENV_BIN / "py-spy"), "record", "--subprocesses", "--pid", str(server.pid)]
        spy += ["--format", "raw", "--output", "/tmp/api_throughput.pyspy.txt", "--rate", "200"]
        processes.append(subprocess.Popen(spy, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
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


def run(
    *,
    database: str,
    action: str,
    path: str,
    client: Callable[[str, tuple[str, str]], object],
    cases: Callable[[object], Cases],
    rounds: int,
    seconds: float,
    profile: bool = False,
    unit: str = "calls/s",
) -> None:
    """The whole benchmark: a fresh ``database``, the caller allowed ``action``, both servers started, ``cases``
    built for each server's ``client`` (ours at ``path``), measured alternately, the table printed."""
    url = fresh_database(database)
    django_setup(url, SECRET_KEY=SECRET_KEY)
    key = bench_user(action)
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
        ours_port, started = start_ours(env, profile)
        processes += started
        moto_port, started = start_moto()
        processes += started
        clients = {
            "ours (granian, 2 workers)": client(f"http://127.0.0.1:{ours_port}{path}", key),
            "moto_server": client(f"http://127.0.0.1:{moto_port}", MOTO_KEY),
        }
        per_server = {name: cases(c) for name, c in clients.items()}
        table: dict[str, dict[str, list[float]]] = {name: {} for name in clients}
        for _ in range(rounds):
            for operation in next(iter(per_server.values())):
                for name in clients:  # alternately: both see the same machine
                    call, calls_per_iteration = per_server[name][operation]
                    table[name].setdefault(operation, []).append(measure(call, calls_per_iteration, seconds))
    finally:
        for process in reversed(processes):
            process.terminate()
            process.wait(timeout=30)
    print(f"load average at end: {load()}")

    operations = list(next(iter(table.values())))
    print("| server | " + " | ".join(f"{op} {unit}" for op in operations) + " |")
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
