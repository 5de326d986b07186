"""What the HTTP server alone costs per request: a WSGI app that answers at once, behind each server.

    .venv/bin/python bench/http_overhead.py [--requests 3000] [--rounds 2]

Servers: granian exactly as the launcher runs it (``console.embedded.web_server_command``), werkzeug's threaded
server (what ``moto_server`` runs on), and gunicorn with the launcher's former settings (2 workers × 4 threads) if
it is installed (it is no longer a dependency: ``pip install gunicorn`` to compare). One client on one keep-alive
connection sends a small signed-looking POST and reads the answer; the figure is the median round trip.
"""

from __future__ import annotations

import argparse
import http.client
import importlib.util
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench._against_moto import free_port, wait_up  # noqa: E402
from console.embedded import web_server_command  # noqa: E402

APP = """
def application(environ, start_response):
    length = int(environ.get("CONTENT_LENGTH") or 0)
    environ["wsgi.input"].read(length)
    start_response("200 OK", [("Content-Type", "text/xml"), ("Content-Length", "5")])
    return [b"hello"]
"""
BODY = b"Action=GetUser&UserName=alice&Version=2010-05-08"
HEADERS = {
    "Content-Type": "application/x-www-form-urlencoded; charset=utf-8",
    "X-Amz-Date": "20261206T000000Z",
    "Authorization": "AWS4-HMAC-SHA256 Credential=AKIAEXAMPLE/20261206/us-east-1/iam/aws4_request, "
    "SignedHeaders=content-type;host;x-amz-date, Signature=" + "0" * 64,
}


def commands(port: int) -> dict[str, list[str]]:
    granian = [
        "overhead_app:application" if part == "console.wsgi:application" else part
        for part in web_server_command("127.0.0.1", port, workers=2)
    ]
    werkzeug = (
        "from werkzeug.serving import run_simple; from overhead_app import application; "
        f"run_simple('127.0.0.1', {port}, application, threaded=True)"
    )
    servers = {
        "granian (the launcher's command)": granian,
        "werkzeug, threaded (moto_server's)": [sys.executable, "-c", werkzeug],
    }
    if importlib.util.find_spec("gunicorn"):
        servers["gunicorn 2 × 4 threads (before)"] = [
            sys.executable,
            "-m",
            "gunicorn",
            "overhead_app:application",
            "--workers",
            "2",
            "--threads",
            "4",
            "--bind",
            f"127.0.0.1:{port}",
        ]
    return servers


def measure(port: int, requests: int) -> float:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    times = []
    for _ in range(requests):
        started = time.perf_counter()
        connection.request("POST", "/aws", body=BODY, headers=HEADERS)
        connection.getresponse().read()
        times.append(time.perf_counter() - started)
    connection.close()
    return statistics.median(times[100:])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--requests", type=int, default=3000)
    parser.add_argument("--rounds", type=int, default=2)
    args = parser.parse_args()
    results: dict[str, list[float]] = {}
    with tempfile.TemporaryDirectory() as folder:
        Path(folder, "overhead_app.py").write_text(APP)
        env = {**os.environ, "PYTHONPATH": folder}
        for _ in range(args.rounds):
            for name in commands(0):
                port = free_port()
                server = subprocess.Popen(
                    commands(port)[name], cwd=folder, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
                )
                try:
                    wait_up(port)
                    results.setdefault(name, []).append(measure(port, args.requests))
                finally:
                    server.terminate()
                    server.wait(timeout=30)
    print("| server | median round trip per request (each round) |")
    print("| --- | --- |")
    for name, medians in results.items():
        print(f"| {name} | " + ", ".join(f"{1000 * m:.3f} ms" for m in medians) + " |")


if __name__ == "__main__":
    main()
