"""The processes of a deployment on several machines (docs/deploy.md, issue 16 §2), started by tests on this one:
web nodes (``manage.py web``), Celery beat schedulers and PgBouncer, each a subprocess against the test database and
Redis with its output in a file, stopped by the test that started it. The Celery workers are
``tests.workers.Worker``."""

from __future__ import annotations

import http.client
import http.cookiejar
import os
import re
import shutil
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import pytest

from tests.workers import ROOT, database_url


class Process:
    def __init__(self, name: str, args: list[str], env: Mapping[str, str], log_path: Path) -> None:
        self.name, self.log_path = name, log_path
        log_path.parent.mkdir(parents=True, exist_ok=True)
        with log_path.open("ab") as log:  # the child keeps its own descriptor
            self.proc = subprocess.Popen(args, cwd=ROOT, env=dict(env), stdout=log, stderr=subprocess.STDOUT)

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def check_running(self) -> None:
        if self.proc.poll() is not None:
            pytest.fail(f"{self.name} exited with code {self.proc.returncode}:\n{self.log()[-4000:]}")

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


def wait_for(condition: Callable[[], object], what: str, timeout: float = 45) -> None:
    """Poll ``condition`` until it holds; fail naming ``what`` after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.2)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def node_env(data_dir: Path, database: Mapping[str, Any], redis_url: str, **settings: str) -> dict[str, str]:
    """The environment of one node's process: the production settings module, the shared database and Redis, the
    test process's keys (every node must have the same: sessions are signed and secrets encrypted with them), its
    own data directory; ``settings`` adds or overrides variables."""
    from django.conf import settings as django_settings

    return {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "console.settings",
        "IAM_DATA_DIR": str(data_dir),
        "DATABASE_URL": database_url(database),
        "REDIS_URL": redis_url,
        "SECRET_KEY": django_settings.SECRET_KEY,
        "FIELD_ENCRYPTION_KEY": django_settings.FIELD_ENCRYPTION_KEY,
        "ARGON2_TIME_COST": "1",
        "ARGON2_MEMORY_COST_KIB": "1024",
        **settings,
    }


def collect_static(env: Mapping[str, str]) -> subprocess.Popen[bytes]:
    """What each web node's deployment runs before it starts: ``collectstatic`` into its own STATIC_ROOT (under
    ``IAM_DATA_DIR``), which WhiteNoise serves."""
    return subprocess.Popen([sys.executable, "manage.py", "collectstatic", "--noinput", "-v", "0"], cwd=ROOT, env=env)


def start_web(name: str, port: int, env: Mapping[str, str]) -> Process:
    """One web node as docs/deploy.md runs it (``manage.py web``: granian as the launcher starts it), with one worker
    process of ``IAM_WEB_THREADS`` threads."""
    args = [sys.executable, "manage.py", "web", "--host", "127.0.0.1", "--port", str(port), "--workers", "1"]
    return Process(name, args, env, Path(env["IAM_DATA_DIR"]) / f"{name}.log")


def stop_all(*processes: Any) -> None:
    """Stop processes (``Process``, ``tests.workers.Worker``) together: all are signalled, then each is waited for."""
    for process in processes:
        if process.proc is not None and process.proc.poll() is None:
            process.proc.terminate()
    for process in processes:
        process.stop()


def wait_http(process: Process, port: int, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while True:
        process.check_running()
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
        try:
            conn.request("GET", "/signin")
            conn.getresponse().read()
            return
        except OSError:
            if time.monotonic() > deadline:
                pytest.fail(f"{process.name} did not answer on port {port}:\n{process.log()[-4000:]}")
            time.sleep(0.2)
        finally:
            conn.close()


def start_beat(name: str, env: Mapping[str, str]) -> Process:
    data_dir = Path(env["IAM_DATA_DIR"])
    data_dir.mkdir(parents=True, exist_ok=True)
    args = [sys.executable, "-m", "celery", "-A", "console", "beat", "-l", "info"]
    return Process(name, [*args, "--schedule", str(data_dir / "celerybeat-schedule")], env, data_dir / f"{name}.log")


def pgbouncer_binary() -> str:
    """Debian's PgBouncer; ``make test`` installs it (the Makefile's ``pgbouncer`` target). Never a skip: a machine
    without it fails these tests and says how to get it."""
    found = shutil.which("pgbouncer") or next((p for p in ("/usr/sbin/pgbouncer",) if os.path.exists(p)), None)
    if found is None:
        pytest.fail("PgBouncer is not installed: `make pgbouncer` (run by `make test`) or `apt-get install pgbouncer`")
    return found


class PgBouncer(Process):
    """PgBouncer in transaction pooling mode in front of the test PostgreSQL, on a free port, with ``pool_size``
    server connections per database: fewer than its clients, so clients share server connections between their
    transactions, which is what transaction pooling is for."""

    def __init__(self, data_dir: Path, database: Mapping[str, Any], pool_size: int) -> None:
        self.port = free_port()
        data_dir.mkdir(parents=True, exist_ok=True)
        server = f"host={database.get('HOST') or '127.0.0.1'} port={database.get('PORT') or 5432}"
        server += f" user={database.get('USER') or 'postgres'}"
        if database.get("PASSWORD"):
            server += f" password={database['PASSWORD']}"
        config = data_dir / "pgbouncer.ini"
        config.write_text(
            "[databases]\n"
            f"* = {server}\n"
            "[pgbouncer]\n"
            "listen_addr = 127.0.0.1\n"
            f"listen_port = {self.port}\n"
            "unix_socket_dir =\n"
            "auth_type = any\n"  # clients are not authenticated here: PgBouncer logs in as the server's user above
            "pool_mode = transaction\n"
            f"default_pool_size = {pool_size}\n"
            "max_client_conn = 200\n"
        )
        config.chmod(0o600)
        run_as = ["-u", "nobody"] if os.geteuid() == 0 else []  # PgBouncer refuses to run as root
        super().__init__(
            "pgbouncer", [pgbouncer_binary(), *run_as, str(config)], os.environ, data_dir / "pgbouncer.log"
        )
        deadline = time.monotonic() + 20
        while True:
            self.check_running()
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=1).close()
                return
            except OSError:
                if time.monotonic() > deadline:
                    pytest.fail(f"PgBouncer did not listen on {self.port}:\n{self.log()}")
                time.sleep(0.1)

    def database(self, database: Mapping[str, Any]) -> dict[str, Any]:
        """Django's connection settings of ``database``, through this PgBouncer."""
        return {**database, "HOST": "127.0.0.1", "PORT": self.port}


class Browser:
    """A console visitor: one cookie jar (cookies are per host, not per port, so a session cookie set by one node
    goes with requests to the others, as behind a load balancer), forms posted with their CSRF token."""

    def __init__(self) -> None:
        self.cookies = http.cookiejar.CookieJar()
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(self.cookies), _NoRedirect)

    def get(self, url: str) -> tuple[int, str]:
        return self._open(urllib.request.Request(url))

    def submit(self, url: str, fields: Mapping[str, str], action: str = "") -> tuple[int, str]:
        """Open the page at ``url`` and post ``fields`` with its CSRF token to ``action`` (default: the page); the
        status and body (a redirect is not followed: its status and Location are returned)."""
        status, page = self.get(url)
        token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page)
        assert status == 200 and token, page[:2000]
        data = urllib.parse.urlencode({"csrfmiddlewaretoken": token.group(1), **fields}).encode()
        return self._open(urllib.request.Request(action or url, data=data, headers={"Referer": url}))

    def _open(self, request: urllib.request.Request) -> tuple[int, str]:
        try:
            with self.opener.open(request, timeout=30) as response:
                return response.status, response.read().decode()
        except urllib.error.HTTPError as error:
            body = error.read().decode(errors="replace")
            return error.code, error.headers.get("Location", "") if 300 <= error.code < 400 else body


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None
