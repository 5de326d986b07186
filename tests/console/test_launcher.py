"""The standalone launcher end to end: ``manage.py standalone`` with DATABASE_URL/REDIS_URL unset starts a real
embedded PostgreSQL and Redis, the web server, a Celery worker and beat; Ctrl-C stops every one of them.

Slow (a real boot, about 10-15 s the first time) and marked ``e2e`` so it can be filtered out with ``-m "not e2e"``.
"""

from __future__ import annotations

import http.cookiejar
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import psutil
import pytest

from console.embedded import read_env_file

pytestmark = pytest.mark.e2e

BASE_DIR = Path(__file__).resolve().parents[2]
BOOT_TIMEOUT = 180


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _port_is_free(port: int) -> bool:
    with socket.socket() as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


class Launcher:
    def __init__(self, data_dir: Path) -> None:
        self.data_dir = data_dir
        self.port = _free_port()
        self.log_path = data_dir / f"launcher-{self.port}.log"
        env = {
            k: v
            for k, v in os.environ.items()
            if k not in {"DATABASE_URL", "REDIS_URL", "DJANGO_SETTINGS_MODULE", "SECRET_KEY", "PORT"}
        }
        env["IAM_DATA_DIR"] = str(data_dir)
        with open(self.log_path, "wb") as log:
            self.process = subprocess.Popen(
                [sys.executable, "manage.py", "standalone", "--port", str(self.port)],
                cwd=BASE_DIR,
                env=env,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
            )

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def output(self) -> str:
        return self.log_path.read_text(errors="replace")

    def wait_ready(self) -> None:
        deadline = time.monotonic() + BOOT_TIMEOUT
        while "Press Ctrl-C" not in self.output():
            assert self.process.poll() is None, f"the launcher exited early:\n{self.output()[-5000:]}"
            assert time.monotonic() < deadline, f"no banner after {BOOT_TIMEOUT} s:\n{self.output()[-5000:]}"
            time.sleep(0.2)

    def descendants(self) -> list[psutil.Process]:
        return psutil.Process(self.process.pid).children(recursive=True)

    def kill(self) -> None:
        """Last resort for a failed test: leave nothing running."""
        if self.process.poll() is None:
            for child in self.descendants():
                child.kill()
            self.process.kill()
            self.process.wait()


@pytest.fixture(scope="module")
def data_dir() -> Iterator[Path]:
    # Not under pytest's basetemp: as root the launcher lets the server's user traverse the parents, and pytest
    # wants its own directory private.
    path = Path(tempfile.mkdtemp(prefix="iam-launcher-"))
    yield path
    shutil.rmtree(path, ignore_errors=True)


@pytest.fixture
def launcher(data_dir: Path) -> Iterator[Launcher]:
    running = Launcher(data_dir)
    try:
        yield running
    finally:
        running.kill()


def _kind(process: psutil.Process) -> str | None:
    try:
        name, cmdline = process.name(), " ".join(process.cmdline())
    except psutil.NoSuchProcess:
        return None
    if name == "postgres" or "bin/postgres" in cmdline:
        return "postgres"
    if "redis-server" in name or "redis-server" in cmdline:
        return "redis"
    if "granian" in cmdline:
        return "granian"
    if "celery" in cmdline and " worker" in cmdline:
        return "celery worker"
    if "celery" in cmdline and " beat" in cmdline:
        return "celery beat"
    return None


def _sign_in(base: str, email: str, password: str) -> str:
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()))
    page = opener.open(f"{base}/signin", timeout=10).read().decode()
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page)
    assert token, page[:2000]
    form = urllib.parse.urlencode({"csrfmiddlewaretoken": token.group(1), "email": email, "password": password})
    request = urllib.request.Request(f"{base}/signin", data=form.encode(), headers={"Referer": f"{base}/signin"})
    with opener.open(request, timeout=10) as response:  # follows the redirect to the dashboard
        assert response.status == 200
        assert urllib.parse.urlsplit(response.url).path == "/"
        return response.read().decode()


def test_standalone_serves_the_demo_account_and_ctrl_c_stops_everything(launcher: Launcher) -> None:
    launcher.wait_ready()
    creds = read_env_file(launcher.data_dir / "demo-credentials")
    assert (launcher.data_dir / "demo-credentials").stat().st_mode & 0o077 == 0
    assert creds["PASSWORD"] in launcher.output()  # printed at each start
    runtime = read_env_file(launcher.data_dir / "runtime.env")
    assert runtime["DATABASE_URL"].startswith("postgresql://") and runtime["REDIS_URL"].startswith("redis://")

    children = launcher.descendants()
    kinds = {_kind(p) for p in children}
    assert {"postgres", "redis", "granian", "celery worker", "celery beat"} <= kinds, kinds

    dashboard = _sign_in(launcher.url, creds["EMAIL"], creds["PASSWORD"])
    assert "IAM Dashboard" in dashboard
    # The Query API through the real web server: an unsigned call is refused in AWS's format, not Django's.
    api = urllib.request.Request(f"{launcher.url}/aws", data=b"Action=ListUsers&Version=2010-05-08")
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(api, timeout=10)
    assert refused.value.code == 403 and refused.value.headers["x-amzn-RequestId"]
    assert b"<Code>MissingAuthenticationToken</Code>" in refused.value.read()
    assert creds["ACCOUNT_ID"] == "111122223333" and "111122223333" in dashboard

    launcher.process.send_signal(signal.SIGINT)
    assert launcher.process.wait(timeout=60) == 0, launcher.output()[-5000:]
    alive = [p for p in children if p.is_running() and p.status() != psutil.STATUS_ZOMBIE]
    assert not alive, [(p.pid, _kind(p)) for p in alive]
    assert _port_is_free(launcher.port)
    assert set(read_env_file(launcher.data_dir / "runtime.env")) == {"SECRET_KEY"}  # no stale server URLs
    assert "stopped" in launcher.output().splitlines()[-1]


def test_standalone_stops_everything_when_a_child_dies(launcher: Launcher) -> None:
    launcher.wait_ready()
    # A restart on the first test's data: nothing to migrate or collect, so neither step runs.
    assert "migrations: all" in launcher.output() and "Applying" not in launcher.output()
    assert "static files: unchanged" in launcher.output()
    children = launcher.descendants()
    beat = next(p for p in children if _kind(p) == "celery beat" and p.parent().pid == launcher.process.pid)
    beat.kill()
    assert launcher.process.wait(timeout=60) == 1, launcher.output()[-5000:]
    assert "beat exited with code" in launcher.output()
    alive = [p for p in children if p.is_running() and p.status() != psutil.STATUS_ZOMBIE]
    assert not alive, [(p.pid, _kind(p)) for p in alive]
    assert _port_is_free(launcher.port)
