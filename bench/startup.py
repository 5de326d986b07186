"""Start-up of ``make run`` (``manage.py standalone``), cold and warm (issue 16 §3).

Cold: a new, empty data directory (``IAM_DATA_DIR``), DATABASE_URL and REDIS_URL unset, so the launcher creates the
embedded PostgreSQL cluster (initdb), starts it and Redis, collects the static files, migrates from nothing, loads
the AWS managed policy catalog and the demo account, and boots the web server, the Celery worker and beat. Warm:
the same directory again. The time is the launcher's own "ready in" (from its start to the web server answering
``/signin``, everything set up), and the wall time from spawning the process to that banner (Python's start and
the launcher's imports included). Each run is stopped with Ctrl-C (SIGINT) before the next.

Run:  .venv/bin/python bench/startup.py [--runs 3] [--base-dir DIR]
      --base-dir runs another checkout's manage.py (to compare with an earlier commit, e.g. one extracted by
      ``git archive <commit> | tar -x -C DIR``) with this virtualenv.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def boot(base_dir: Path, data_dir: Path) -> tuple[float, float, list[str]]:
    env = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "REDIS_URL", "DJANGO_SETTINGS_MODULE"}}
    env["IAM_DATA_DIR"] = str(data_dir)
    log_path = data_dir.parent / f"{data_dir.name}-{time.time_ns()}.log"
    started = time.perf_counter()
    with open(log_path, "wb") as log:
        process = subprocess.Popen(
            [sys.executable, "manage.py", "standalone", "--port", str(_free_port())],
            cwd=base_dir,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    try:
        while True:
            text = log_path.read_text(errors="replace")
            found = re.search(r"ready in ([0-9.]+) s", text)
            if found:
                wall = time.perf_counter() - started
                break
            if process.poll() is not None or time.perf_counter() - started > 300:
                raise SystemExit(f"no banner:\n{text[-3000:]}")
            time.sleep(0.05)
    finally:
        process.send_signal(signal.SIGINT)
        process.wait(timeout=60)
    steps = [
        line.split("|", 1)[1].strip()
        for line in text.splitlines()
        if re.match(r"\s*(launcher|setup)\s*\|", line)
        and re.search(r" in [0-9.]+ s|all \d+ applied|unchanged|\(\d", line)
    ]
    return float(found.group(1)), wall, steps


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--base-dir", type=Path, default=ROOT)
    args = parser.parse_args()
    cold, warm = [], []
    for run in range(args.runs):
        parent = Path(tempfile.mkdtemp(prefix="iam-startup-"))
        data_dir = parent / "data"
        try:
            for kind, times in (("cold", cold), ("warm", warm)):
                load = " ".join(f"{x:.1f}" for x in os.getloadavg())
                ready, wall, steps = boot(args.base_dir, data_dir)
                times.append((ready, wall))
                print(f"run {run + 1} {kind}: ready in {ready:.1f} s (wall {wall:.1f} s), load {load}")
                for step in steps:
                    print(f"    {step}")
        finally:
            shutil.rmtree(parent, ignore_errors=True)
    for kind, times in (("cold", cold), ("warm", warm)):
        print(
            f"{kind}: median ready {statistics.median(t[0] for t in times):.1f} s, "
            f"wall {statistics.median(t[1] for t in times):.1f} s (runs: {', '.join(f'{t[0]:.1f}' for t in times)})"
        )


if __name__ == "__main__":
    main()
