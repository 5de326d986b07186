"""Classroom load (issue 16): a class of N students and their instructor using the product at once, measured.

    .venv/bin/python bench/classroom_load.py --students 200 --think 1-3 --seconds 180 --connections 4

Several machines (docs/deploy.md): ``--nodes 2 --workers 2 --beats 1`` starts two web nodes, two Celery workers and
a beat on one database and Redis; each browser's connections go to the nodes in turn, so its session is used on both.

What it does, end to end, bounded in time (``--seconds`` of load after a ``--ramp``; then at most 60 s to let the
worker drain the audit trail; everything it started is stopped at the end, also on Ctrl-C):

1. A fresh database of its own (``iam_bench_classroom_load``), the AWS managed policies, an instructor and a class of
   N student accounts. Each student is signed in to the root user of their own account: the session is written the
   way ``console.sessions.start`` writes it, because sign-in itself is Argon2-bound by design (64 MiB per hash) and
   200 sign-ins would measure the password hash, not the classroom. Each account also gets an IAM user ``cli``
   (AdministratorAccess) with an access key, for the student's API calls.
2. The product, started as ``manage.py standalone`` starts it: granian (``console.embedded.web_server_command``,
   the settings under test can be overridden: ``--web-workers``, ``--threads``, ``--backpressure``) and a Celery
   worker, on that database and on REDIS_URL.
3. N simulated students and the instructor. Each student is a browser: it holds ``--connections`` keep-alive HTTP/1.1
   connections to the server (opened by the first page load, which fetches the page's three static files in
   parallel, as a browser does), idle between actions, reconnecting and re-sending once when the server closed an
   idle one (what browsers do). Between actions it thinks ``--think`` seconds (uniform). About a third of its actions
   (``--api-share``) are Query API calls signed with SigV4 by botocore's own signer (ListUsers, GetUser,
   ListAttachedUserPolicies, ListPolicies, GetAccountSummary, CreateUser and later DeleteUser). The others follow a
   lesson: the lists (users, groups, roles, policies), the Create user wizard through its three htmx steps to the
   end (the new user gets a policy attached), a user's page, then attach and detach a policy there, the policy
   simulator, Event history (whose 5-second live poll runs while the student stays on that page), the lab's page
   and its "Check progress". The lab is open in the side panel from the start, so its 5-second poll runs all the
   time, on every page, as in the console (each poll sends the stamp of what the panel shows, as htmx does with
   the URL the last answer gave: 204 when nothing changed). The instructor's board polls every 3 s.
4. It prints the requests, errors by status, p50/p95/p99/max per kind (page: a full page or a redirect's target;
   partial: an htmx request for part of a page; poll: the live polls; api: Query API calls; static: the first
   load's static files), the waits for a connection: the client's own wait for one of its keep-alive connections
   (``slot wait``), the first answer on each newly opened connection, and a canary that opens a new connection every
   2 s and asks for the smallest static file (``connection slot wait``: where a server that holds all the
   connections it accepts shows), the CPU split between the web server, the worker, PostgreSQL (the backends of the
   bench database) and this load generator (psutil; the rest is other processes on the machine), and the audit
   check: every write that succeeded (the answer the client saw) must be in the audit trail exactly once, and every
   event must be delivered by the worker. The last line says whether the goal of issue 16 was met: p95 <= 300 ms and
   p99 <= 1 s for pages, partials and API calls, no connection wait over 1 s, no error, nothing lost or doubled.
   ``--profile FILE`` samples the web server and the worker with py-spy (``pip install py-spy``).

Why a lean asyncio client, not Locust: on 2 cores shared with the server, the load generator's own CPU is part of
the result. Locust runs a gevent greenlet per user with the requests library's pool under it; its connection
handling is not a browser's (no fixed set of keep-alive connections per user, no way to see when a connection was
new) and each request costs several times what a hand-written HTTP/1.1 exchange on asyncio streams costs. The
client below is ~150 lines, has no dependency beyond the standard library (botocore signs, psutil measures), and
holds exactly ``--connections`` sockets per student, which is what the connection limit is about.
"""

from __future__ import annotations

import argparse
import asyncio
import html
import itertools
import os
import random
import re
import signal
import socket
import statistics
import string
import subprocess
import sys
import tempfile
import time
from collections import Counter, defaultdict
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import quote, urlencode, urlsplit

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import contextlib

from bench._setup import ROOT, console_session, django_setup, fresh_database  # noqa: E402

DATABASE = os.environ.get("BENCH_DATABASE", "iam_bench_classroom_load")  # another name for runs side by side
SECRET_KEY = "bench-secret-key-not-for-production-0123456789"
PASSWORD = "Bench-Passw0rd!"
KINDS = ("page", "partial", "poll", "api", "static")
GOAL_KINDS = ("page", "partial", "api")  # the goal's "pages and API calls": p95 <= 300 ms, p99 <= 1 s
REQUEST_TIMEOUT = 30.0
STATIC_FILES = ("console/console.css", "classroom/labs.css", "console/console.js")


class RequestFailed(Exception):
    def __init__(self, what: str, *, unknown: bool = False) -> None:
        super().__init__(what)
        self.unknown = unknown  # no answer came: the server may have done it (a write's outcome is unknown)


@dataclass
class Stats:
    started: float = field(default_factory=time.monotonic)
    latencies: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    statuses: Counter = field(default_factory=Counter)  # (kind, status)
    errors: list[str] = field(default_factory=list)  # the first few, for the report
    slot_waits: list[float] = field(default_factory=list)
    new_connection: list[float] = field(default_factory=list)  # connect + first response, on new connections
    canary: list[float] = field(default_factory=list)  # a new connection's first answer for a static file
    reconnects: int = 0
    writes: Counter = field(default_factory=Counter)  # (account, event name): writes that succeeded
    unknown_writes: int = 0  # writes whose outcome the client could not see (timeout, reset)

    def record(self, kind: str, status: int | str, seconds: float, ok: bool, what: str) -> None:
        self.latencies[kind].append(seconds)
        self.statuses[(kind, status)] += 1
        if not ok and len(self.errors) < 15:
            self.errors.append(f"{kind} {what} -> {status}")


@dataclass
class Response:
    status: int
    headers: list[tuple[str, str]]
    body: bytes

    def header(self, name: str) -> str:
        name = name.lower()
        return next((v for k, v in self.headers if k == name), "")

    @property
    def text(self) -> str:
        return self.body.decode("utf-8", "replace")


class Connection:
    """One keep-alive HTTP/1.1 connection: requests are written and their responses read in turn."""

    def __init__(self, host: str, port: int) -> None:
        self.host, self.port = host, port
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None
        self.used = 0

    async def open(self) -> None:
        self.reader, self.writer = await asyncio.open_connection(self.host, self.port)
        self.used = 0

    def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
        self.reader = self.writer = None

    async def exchange(self, raw: bytes) -> Response:
        assert self.reader is not None and self.writer is not None
        self.writer.write(raw)
        await self.writer.drain()
        head = await self.reader.readuntil(b"\r\n\r\n")
        lines = head.decode("latin-1").split("\r\n")
        status = int(lines[0].split(" ", 2)[1])
        headers = []
        for line in lines[1:]:
            if line:
                name, _, value = line.partition(":")
                headers.append((name.strip().lower(), value.strip()))
        response = Response(status, headers, b"")
        if response.header("transfer-encoding").lower() == "chunked":
            chunks = []
            while True:
                size = int((await self.reader.readuntil(b"\r\n")).split(b";")[0], 16)
                chunks.append(await self.reader.readexactly(size + 2))
                if size == 0:
                    break
            response.body = b"".join(c[:-2] for c in chunks)
        elif length := response.header("content-length"):
            response.body = await self.reader.readexactly(int(length))
        elif status not in (204, 304) and not 100 <= status < 200:
            response.body = await self.reader.read()
            self.close()
        self.used += 1
        if response.header("connection").lower() == "close":
            self.close()
        return response


class Browser:
    """A student's (or the instructor's) browser: cookies and a fixed set of keep-alive connections."""

    def __init__(self, run: Run, cookies: dict[str, str]) -> None:
        self.run = run
        self.cookies = dict(cookies)
        self.idle: asyncio.Queue[Connection] = asyncio.Queue()
        for _ in range(run.args.connections):
            self.idle.put_nowait(Connection(run.host, run.next_port()))
        self.page_poll: asyncio.Task | None = None

    def close(self) -> None:
        while not self.idle.empty():
            self.idle.get_nowait().close()

    async def request(
        self,
        kind: str,
        method: str,
        path: str,
        *,
        data: dict[str, object] | None = None,
        body: bytes = b"",
        headers: dict[str, str] | None = None,
        target: str = "",
        expect: tuple[int, ...] = (200, 204, 302),
    ) -> Response:
        head = {"Host": f"{self.run.host}:{self.run.port}", "User-Agent": "classroom-load", "Accept": "*/*"}
        if kind != "api":
            head["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        if data is not None:
            body = urlencode(data, doseq=True).encode()
            head["Content-Type"] = "application/x-www-form-urlencoded"
            head["X-CSRFToken"] = self.cookies["csrftoken"]
        if target:
            head.update({"HX-Request": "true", "HX-Target": target, "HX-Current-URL": f"http://{head['Host']}/"})
        head.update(headers or {})
        if body or method == "POST":
            head["Content-Length"] = str(len(body))
        raw = f"{method} {path} HTTP/1.1\r\n".encode() + "".join(f"{k}: {v}\r\n" for k, v in head.items()).encode()
        raw += b"\r\n" + body

        waited = time.monotonic()
        conn = await self.idle.get()
        start = time.monotonic()
        self.run.stats.slot_waits.append(start - waited)
        try:
            try:
                response, fresh = await asyncio.wait_for(self._send(conn, raw), REQUEST_TIMEOUT)
            except (OSError, asyncio.IncompleteReadError, asyncio.LimitOverrunError, ValueError) as exc:
                conn.close()
                self.run.stats.record(kind, f"{type(exc).__name__}", time.monotonic() - start, False, path)
                raise RequestFailed(path, unknown=True) from exc
            except TimeoutError as exc:
                conn.close()
                self.run.stats.record(kind, "timeout", time.monotonic() - start, False, path)
                raise RequestFailed(path, unknown=True) from exc
            except asyncio.CancelledError:
                # A poll cut short by leaving the page: a browser aborts it and that connection goes with it (its
                # answer must not be read as the next request's).
                conn.close()
                raise
        finally:
            self.idle.put_nowait(conn)
        elapsed = time.monotonic() - start
        if fresh:
            self.run.stats.new_connection.append(elapsed)
        for name, value in response.headers:
            if name == "set-cookie":
                cookie, _, attributes = value.partition(";")
                key, _, val = cookie.partition("=")
                if val and "max-age=0" not in attributes.lower():
                    self.cookies[key.strip()] = val.strip()
        ok = response.status in expect
        self.run.stats.record(kind, response.status, elapsed, ok, f"{method} {path[:80]}")
        if not ok:
            raise RequestFailed(f"{method} {path}: {response.status}")
        return response

    async def _send(self, conn: Connection, raw: bytes) -> tuple[Response, bool]:
        fresh = conn.writer is None
        if fresh:
            await conn.open()
        try:
            return await conn.exchange(raw), fresh
        except (OSError, asyncio.IncompleteReadError):
            if fresh or conn.used == 0:
                raise
            # The server closed this idle keep-alive connection: a browser opens a new one and sends again.
            conn.close()
            self.run.stats.reconnects += 1
            await conn.open()
            return await conn.exchange(raw), True

    async def page(self, path: str) -> Response:
        self.leave_page()
        return await self.request("page", "GET", path)

    async def form(self, path: str, data: dict[str, object], account: str, writes: tuple[str, ...]) -> Response:
        """A form POST answered by a redirect that the browser follows; ``writes`` are the audit events it makes."""
        self.leave_page()
        try:
            response = await self.request("page", "POST", path, data=data, expect=(302,))
        except RequestFailed as exc:
            self.run.stats.unknown_writes += exc.unknown and bool(writes)
            raise
        for name in writes:
            self.run.stats.writes[(account, name)] += 1
        location = urlsplit(response.header("location"))
        return await self.request("page", "GET", location.path + (f"?{location.query}" if location.query else ""))

    def leave_page(self) -> None:
        if self.page_poll is not None:
            self.page_poll.cancel()
            self.page_poll = None

    async def poll(self, every: float, call: Callable[[], Awaitable[None]]) -> None:
        while self.run.running:
            await asyncio.sleep(every)
            if not self.run.running:
                return
            with contextlib.suppress(RequestFailed):
                await call()


@dataclass
class Seat:
    account_id: str
    session_key: str
    key_id: str
    secret: str


class Run:
    """``ports``: the web nodes. Requests carry the first one's address as their Host (the load balancer's, which
    SigV4 signs); each new connection goes to the next node in turn, as a load balancer spreads connections."""

    def __init__(self, args: argparse.Namespace, host: str, ports: list[int], lab: str, policies: list[str]) -> None:
        self.args, self.host, self.port, self.lab, self.policies = args, host, ports[0], lab, policies
        self.ports = itertools.cycle(ports)
        self.stats = Stats()
        self.running = True
        lo, _, hi = args.think.partition("-")
        self.think_range = (float(lo), float(hi or lo))

    def next_port(self) -> int:
        return next(self.ports)

    async def think(self) -> None:
        await asyncio.sleep(random.uniform(*self.think_range))


def csrf_token() -> str:
    return "".join(random.choices(string.ascii_letters + string.digits, k=32))


class Student:
    def __init__(self, run: Run, seat: Seat, number: int) -> None:
        self.run, self.seat, self.number = run, seat, number
        self.browser = Browser(run, {"sessionid": seat.session_key, "csrftoken": csrf_token()})
        self.created = 0
        self.users: list[str] = ["alice"]  # alice is made at set-up
        self.attached: dict[str, set[str]] = defaultdict(set)
        self.api_users: list[str] = []
        self.api_created = 0
        self.scenario: list[Callable[[], Awaitable[None]]] = []
        from botocore.auth import SigV4Auth
        from botocore.credentials import Credentials

        self.signer = SigV4Auth(Credentials(seat.key_id, seat.secret), "iam", "us-east-1")

    async def main(self) -> None:
        run = self.run
        await asyncio.sleep(random.uniform(0, run.args.ramp))
        browser = self.browser
        # The first page load: the page on one connection, its static files on the others (in parallel, as a
        # browser does); from then on the browser holds them all open.
        try:
            await asyncio.gather(
                browser.page("/"),
                *(browser.request("static", "GET", f"/static/{f}") for f in STATIC_FILES[: run.args.connections - 1]),
            )
            await browser.form(f"/labs/{run.lab}/open", {}, self.seat.account_id, ())
        except RequestFailed:
            pass
        shown = {"url": "/labs/panel"}

        async def panel_poll() -> None:  # as htmx does: the next poll asks with the stamp of what the panel shows
            r = await browser.request("poll", "GET", shown["url"], target="lab-panel-checks")
            if r.status == 200:
                shown["url"] = _poll_url(r.text, "/labs/panel?") or shown["url"]

        panel = asyncio.create_task(browser.poll(5, panel_poll))
        try:
            while run.running:
                await run.think()
                if not run.running:
                    break
                try:
                    if random.random() < run.args.api_share:
                        await self.api_call()
                    else:
                        if not self.scenario:
                            self.scenario = self.next_scenario()
                        await self.scenario.pop(0)()
                except RequestFailed:
                    self.scenario = []
        finally:
            panel.cancel()
            browser.leave_page()

    # -- the lesson ----------------------------------------------------------------------------------------------

    def next_scenario(self) -> list[Callable[[], Awaitable[None]]]:
        b = self.browser
        choice = random.choices(
            ["lists", "wizard", "attach_detach", "simulator", "event_history", "lab"], [4, 2, 2, 1, 2, 1]
        )[0]
        if choice == "lists":
            return [lambda p=p: b.page(p) for p in random.sample(["/iam/users", "/iam/groups", "/iam/roles",
                                                                  "/iam/policies"], 2)]  # fmt: skip
        if choice == "wizard":
            return self.wizard()
        if choice == "attach_detach":
            return self.attach_detach()
        if choice == "simulator":
            user = random.choice(self.users)
            data = {
                "mode": "principal",
                "principal": f"user:{user}",
                "service": "iam",
                "actions": ["iam:CreateUser", "iam:ListUsers", "iam:GetUser"],
                "resources": "*",
            }
            return [
                lambda: b.page("/iam/policy_simulator"),
                lambda: b.request("page", "POST", "/iam/policy_simulator", data=data, expect=(200,)),
            ]
        if choice == "event_history":
            return [self.event_history]
        return [
            lambda: b.page(f"/labs/{self.run.lab}"),
            lambda: b.request("partial", "POST", f"/labs/{self.run.lab}/check", data={}, target="lab-panel"),
        ]

    def wizard(self) -> list[Callable[[], Awaitable[None]]]:
        b, account = self.browser, self.seat.account_id
        self.created += 1
        name = f"w{self.number}-{self.created}"
        policy = random.choice(self.run.policies)
        step1 = {"user_name": name, "require_reset": ""}
        step2 = {**step1, "permissions_option": "attach", "policies": policy}

        async def create() -> None:
            try:
                response = await b.request(
                    "partial", "POST", "/iam/users/create", data={**step2, "step": 3, "action": "create"},
                    target="wizard",
                )  # fmt: skip
            except RequestFailed as exc:
                self.run.stats.unknown_writes += exc.unknown
                raise
            self.run.stats.writes[(account, "CreateUser")] += 1
            self.run.stats.writes[(account, "AttachUserPolicy")] += 1
            self.users.append(name)
            self.attached[name].add(policy)
            await b.page(response.header("hx-redirect") or f"/iam/users/{quote(name)}")

        return [
            lambda: b.page("/iam/users/create"),
            lambda: b.request("partial", "POST", "/iam/users/create", data={**step1, "step": 1}, target="wizard"),
            lambda: b.request("partial", "POST", "/iam/users/create", data={**step2, "step": 2}, target="wizard"),
            create,
        ]

    def attach_detach(self) -> list[Callable[[], Awaitable[None]]]:
        b, account = self.browser, self.seat.account_id
        user = random.choice(self.users)
        path = f"/iam/users/{quote(user)}"

        async def attach() -> None:
            free = [p for p in self.run.policies if p not in self.attached[user]]
            if not free:
                return
            policy = random.choice(free)
            data = {"action": "add", "permissions_option": "attach", "policies": policy}
            await b.form(f"{path}/add_permissions", data, account, ("AttachUserPolicy",))
            self.attached[user].add(policy)

        async def detach() -> None:
            if not self.attached[user]:
                return
            policy = random.choice(sorted(self.attached[user]))
            await b.form(f"{path}/detach_policy", {"policy_arn": policy}, account, ("DetachUserPolicy",))
            self.attached[user].discard(policy)

        return [lambda: b.page(path), attach, detach]

    async def event_history(self) -> None:
        b = self.browser
        response = await b.page("/iam/event_history")
        state = {"url": _poll_url(response.text, "/iam/event_history?")}

        async def poll() -> None:
            if not state["url"]:
                return
            r = await b.request("poll", "GET", state["url"], target="event-table")
            if r.status == 200:
                state["url"] = _poll_url(r.text, "/iam/event_history?") or state["url"]

        b.page_poll = asyncio.create_task(b.poll(5, poll))  # until the student goes to another page

    # -- the API -------------------------------------------------------------------------------------------------

    async def api_call(self) -> None:
        kind = random.choices(
            ["ListUsers", "GetUser", "ListAttachedUserPolicies", "ListPolicies", "GetAccountSummary", "write"],
            [3, 2, 2, 1, 1, 2],
        )[0]
        params: dict[str, str] = {}
        if kind in ("GetUser", "ListAttachedUserPolicies"):
            params["UserName"] = random.choice(self.users)
        elif kind == "ListPolicies":
            params["Scope"] = "Local"
        elif kind == "write":
            if self.api_users and (len(self.api_users) > 3 or random.random() < 0.5):
                kind, params["UserName"] = "DeleteUser", self.api_users.pop(0)
            else:
                self.api_created += 1
                kind, params["UserName"] = "CreateUser", f"api{self.number}-{self.api_created}"
        await self.api(kind, params)
        if kind == "CreateUser":
            self.api_users.append(params["UserName"])

    async def api(self, action: str, params: dict[str, str]) -> None:
        from botocore.awsrequest import AWSRequest

        body = urlencode({"Action": action, "Version": "2010-05-08", **params})
        request = AWSRequest(
            method="POST",
            url=f"http://{self.run.host}:{self.run.port}/aws",
            data=body,
            headers={"Content-Type": "application/x-www-form-urlencoded; charset=utf-8"},
        )
        self.signer.add_auth(request)
        headers = {k: v for k, v in request.headers.items() if k.lower() != "content-type"}
        headers["Content-Type"] = "application/x-www-form-urlencoded; charset=utf-8"
        write = not action.startswith(("List", "Get"))
        try:
            await self.browser.request("api", "POST", "/aws", body=body.encode(), headers=headers, expect=(200,))
        except RequestFailed as exc:
            self.run.stats.unknown_writes += exc.unknown and write
            raise
        if write:
            self.run.stats.writes[(self.seat.account_id, action)] += 1


class Instructor:
    def __init__(self, run: Run, session_key: str, class_id: str) -> None:
        self.run, self.class_id = run, class_id
        self.browser = Browser(run, {"sessionid": session_key, "csrftoken": csrf_token()})

    async def main(self) -> None:
        b, board = self.browser, f"/classroom/{self.class_id}/board"
        response = await b.page(board)
        state = {"url": _poll_url(response.text, f"{board}?since=")}

        async def poll() -> None:
            r = await b.request("poll", "GET", state["url"] or board, target="board-matrix")
            if r.status == 200:
                state["url"] = _poll_url(r.text, f"{board}?since=") or state["url"]

        await b.poll(3, poll)


async def canary(run: Run) -> None:
    """Every 2 s, a new browser arriving: a new connection and the smallest request there is (a static file). Its
    time is the wait for a connection slot: when the server holds as many connections as it accepts (granian's
    backpressure counts idle keep-alive connections too), it stays unanswered until one closes."""
    while run.running:
        await asyncio.sleep(2)
        start = time.monotonic()
        conn = Connection(run.host, run.next_port())
        raw = f"GET /static/console/favicon.svg HTTP/1.1\r\nHost: {run.host}:{run.port}\r\n\r\n".encode()
        try:
            await conn.open()
            response = await asyncio.wait_for(conn.exchange(raw), REQUEST_TIMEOUT)
            ok = response.status == 200
        except (OSError, asyncio.IncompleteReadError, TimeoutError):
            ok = False
        finally:
            conn.close()
        run.stats.canary.append(time.monotonic() - start if ok else REQUEST_TIMEOUT)


def _poll_url(text: str, prefix: str) -> str:
    match = re.search(r'hx-get="(' + re.escape(prefix) + r'[^"]*)"', text)
    return html.unescape(match.group(1)) if match else ""


# -- set-up ------------------------------------------------------------------------------------------------------


def prepare(students: int) -> tuple[list[Seat], str, str, str, list[str]]:
    """The class, its signed-in sessions and API keys; returns (seats, instructor session, class id, lab, ARNs)."""
    from django.core.management import call_command

    from classroom import services as classroom
    from classroom.labs import all_labs
    from core.context import CallContext, Principal
    from identities import credentials
    from identities import services as identities
    from policies import services as policies
    from policies.loading import load_aws_managed_policies
    from policies.models import ManagedPolicy

    call_command("collectstatic", "--noinput", verbosity=0)
    load_aws_managed_policies()
    instructor = classroom.sign_up_instructor(email="teacher@school.example", password=PASSWORD)
    ctx = CallContext(Principal.root(instructor.id), user_agent="bench", origin="console")
    # The console caps a class at MAX_STUDENTS (100 today); issue 16 measures classes of 200, so the set-up (this
    # process only, not the server under test) lifts the cap.
    classroom.MAX_STUDENTS = max(classroom.MAX_STUDENTS, students)
    klass, issued = classroom.create_class(ctx, title="Load", students=students, alias_prefix="load")

    admin = "arn:aws:iam::aws:policy/AdministratorAccess"
    seats = []
    for item in issued:
        account_id = item.seat.account_id
        root = CallContext(Principal.root(account_id), user_agent="bench", origin="console")
        identities.create_user(root, user_name="alice")
        identities.create_user(root, user_name="cli")
        policies.attach_user_policy(root, user_name="cli", policy_arn=admin)
        key = credentials.create_access_key(root, user_name="cli")
        seats.append(Seat(account_id, console_session(account_id), key.key.access_key_id, key.secret_access_key))
    wanted = ["IAMReadOnlyAccess", "ReadOnlyAccess", "AmazonS3ReadOnlyAccess", "IAMUserChangePassword"]
    arns = list(
        ManagedPolicy.objects.filter(name__in=wanted, arn__startswith="arn:aws:iam::aws:").values_list("arn", flat=True)
    )
    assert arns, "no AWS managed policies loaded"
    return seats, console_session(instructor.id), str(klass.pk), all_labs()[0].slug, arns


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_http(port: int, timeout: float = 60) -> None:
    import http.client

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
            conn.request("GET", "/signin")
            conn.getresponse().read()
            return
        except OSError:
            time.sleep(0.2)
    raise RuntimeError(f"the web server did not answer on port {port}")


# -- measuring ---------------------------------------------------------------------------------------------------


class CpuMeter:
    """CPU seconds of each part, from psutil: the web server and the worker with their child processes, the
    PostgreSQL backends serving the bench database (found in pg_stat_activity every second: connections come and
    go), this process, and the whole machine."""

    def __init__(self, web: list[int], worker: list[int], database_url: str) -> None:
        import psutil

        self.psutil = psutil
        self.groups = {"web": [psutil.Process(p) for p in web], "worker": [psutil.Process(p) for p in worker]}
        self.database_url = database_url
        self.first: dict[tuple[str, int], float] = {}
        self.last: dict[tuple[str, int], float] = {}
        self.machine_start = psutil.cpu_times()
        self.wall_start = time.monotonic()

    @staticmethod
    def _busy(times) -> float:  # noqa: ANN001
        return times.user + times.system

    def sample(self) -> None:
        psutil = self.psutil
        processes: list[tuple[str, psutil.Process]] = []
        for name, leaders in self.groups.items():
            for leader in leaders:
                with contextlib.suppress(psutil.Error):
                    processes += [(name, p) for p in [leader, *leader.children(recursive=True)]]
        import psycopg

        with psycopg.connect(self.database_url, autocommit=True) as conn:
            pids = [row[0] for row in conn.execute("SELECT pid FROM pg_stat_activity WHERE datname = current_database()"
                                                   " AND pid <> pg_backend_pid()")]  # fmt: skip
        processes += [("postgres", psutil.Process(pid)) for pid in pids if psutil.pid_exists(pid)]
        processes.append(("load generator", psutil.Process()))
        for name, process in processes:
            try:
                busy = self._busy(process.cpu_times())
            except psutil.Error:
                continue
            self.first.setdefault((name, process.pid), busy)
            self.last[(name, process.pid)] = busy

    def report(self) -> tuple[dict[str, float], float, float]:
        parts: dict[str, float] = defaultdict(float)
        for key, busy in self.last.items():
            parts[key[0]] += busy - self.first[key]
        machine = self._busy(self.psutil.cpu_times()) - self._busy(self.machine_start)
        return dict(parts), machine, time.monotonic() - self.wall_start


def pct(values: list[float], q: float) -> float:
    if not values:
        return 0.0
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def load() -> str:
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


async def drive(run: Run, seats: list[Seat], instructor_session: str, class_id: str, meter: CpuMeter) -> None:
    students = [Student(run, seat, n) for n, seat in enumerate(seats)]
    instructor = Instructor(run, instructor_session, class_id)
    tasks = [asyncio.create_task(s.main()) for s in students] + [asyncio.create_task(instructor.main())]
    tasks.append(asyncio.create_task(canary(run)))
    deadline = time.monotonic() + run.args.ramp + run.args.seconds
    loop = asyncio.get_running_loop()
    while time.monotonic() < deadline:
        await asyncio.sleep(1)
        await loop.run_in_executor(None, meter.sample)
    run.running = False
    await asyncio.sleep(0)
    done, pending = await asyncio.wait(tasks, timeout=REQUEST_TIMEOUT + 5)
    for task in pending:
        task.cancel()
    for task in done:
        if task.exception() is not None and not isinstance(task.exception(), asyncio.CancelledError):
            print(f"a simulated browser failed: {task.exception()!r}")
    for browser in [s.browser for s in students] + [instructor.browser]:
        browser.close()


def audit_check(writes: Counter, since_id: int, timeout: float) -> tuple[int, int, int, Counter]:
    """(lost, doubled, undelivered, written): successful writes missing from / recorded twice in the audit trail,
    after waiting up to ``timeout`` for the worker to deliver every event."""
    from audit.models import AuditEvent

    events = AuditEvent.objects.filter(pk__gt=since_id)
    deadline = time.monotonic() + timeout
    while events.filter(delivered_at__isnull=True).exists() and time.monotonic() < deadline:
        time.sleep(0.5)
    undelivered = events.filter(delivered_at__isnull=True).count()
    written: Counter = Counter()
    for account_id, name in events.filter(read_only=False, error_code="").values_list("account_id", "event_name"):
        written[(account_id, name)] += 1
    lost = sum((writes - written).values())
    doubled = sum((written - writes).values())
    return lost, doubled, undelivered, written


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--students", type=int, default=20)
    parser.add_argument("--think", default="1-3", help="seconds between a student's actions, uniform (e.g. 2-5)")
    parser.add_argument("--seconds", type=float, default=120, help="measured load, after the ramp")
    parser.add_argument("--ramp", type=float, default=20, help="students start spread over this many seconds")
    parser.add_argument("--connections", type=int, default=4, help="keep-alive connections per browser")
    parser.add_argument("--api-share", type=float, default=1 / 3, help="share of a student's actions that are API")
    parser.add_argument("--web-workers", type=int, default=2)
    parser.add_argument("--threads", type=int, default=None, help="granian blocking threads per worker")
    parser.add_argument("--backpressure", type=int, default=None, help="granian backpressure per worker")
    parser.add_argument("--worker-concurrency", type=int, default=2, help="Celery worker processes")
    parser.add_argument("--nodes", type=int, default=1, help="web nodes (each --web-workers), driven round-robin")
    parser.add_argument("--workers", type=int, default=1, help="Celery workers (each --worker-concurrency)")
    parser.add_argument(
        "--beats", type=int, default=0, help="Celery beat schedulers (docs/deploy.md: a second is harmless)"
    )
    parser.add_argument("--profile", default="", help="write a py-spy profile of the web server to this file")
    parser.add_argument("--seed", type=int, default=16)
    args = parser.parse_args()
    random.seed(args.seed)

    print(f"load average at start: {load()}")
    url = fresh_database(DATABASE)
    data_dir = tempfile.mkdtemp(prefix="classroom-load-")
    redis_url = os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0")
    django_setup(url, SECRET_KEY=SECRET_KEY, IAM_DATA_DIR=data_dir, REDIS_URL=redis_url, AUDIT_ENQUEUE_DELIVERY="0")
    t0 = time.perf_counter()
    seats, instructor_session, class_id, lab, arns = prepare(args.students)
    from audit.models import AuditEvent

    since_id = AuditEvent.objects.order_by("-pk").values_list("pk", flat=True).first() or 0
    print(f"set-up: a class of {args.students} in {time.perf_counter() - t0:.1f} s")

    from console.celery import app as celery_app
    from console.embedded import web_server_command

    celery_app.conf.broker_url = redis_url
    celery_app.control.purge()  # tasks left in the queue by an earlier run refer to another database
    env = {
        **os.environ,
        "DATABASE_URL": url,
        "REDIS_URL": redis_url,
        "SECRET_KEY": SECRET_KEY,
        "IAM_DATA_DIR": data_dir,
        "DJANGO_SETTINGS_MODULE": "console.settings",
        "ALLOWED_HOSTS": "127.0.0.1,localhost",
        "PYTHONUNBUFFERED": "1",
    }
    for name in ("DEBUG", "AUDIT_ENQUEUE_DELIVERY"):
        env.pop(name, None)
    ports = [free_port() for _ in range(args.nodes)]
    knobs = {k: v for k, v in (("threads", args.threads), ("backpressure", args.backpressure)) if v is not None}
    print("web server: " + " ".join(web_server_command("127.0.0.1", ports[0], args.web_workers, **knobs)[2:]))
    if args.nodes > 1 or args.workers > 1 or args.beats:
        print(f"{args.nodes} web nodes on ports {ports}, {args.workers} Celery workers, {args.beats} beats")
    processes: list[subprocess.Popen] = []
    log = open(Path(data_dir) / "servers.log", "wb")  # noqa: SIM115

    def spawn(command: list[str]) -> subprocess.Popen:
        processes.append(subprocess.Popen(command, cwd=ROOT, env=env, stdout=log, stderr=log))
        return processes[-1]

    try:
        webs = [spawn(web_server_command("127.0.0.1", port, args.web_workers, **knobs)) for port in ports]
        celery = [sys.executable, "-m", "celery", "-A", "console"]
        workers = [
            spawn(
                [
                    *celery,
                    "worker",
                    "--loglevel",
                    "WARNING",
                    "--concurrency",
                    str(args.worker_concurrency),
                    "--without-gossip",
                    "--without-mingle",
                    "--hostname",
                    f"load-{os.getpid()}-{n}@%h",
                ]  # fmt: skip
            )
            for n in range(args.workers)
        ]
        beats = [
            spawn([*celery, "beat", "--loglevel", "WARNING", "--schedule", str(Path(data_dir) / f"beat-{n}")])
            for n in range(args.beats)
        ]
        for port in ports:
            wait_http(port)
        if args.profile:  # py-spy (pip install py-spy), both the web server and the worker
            for pid, suffix in ((webs[0].pid, ""), (workers[0].pid, ".worker")):
                processes.append(
                    subprocess.Popen(
                        [
                            str(Path(sys.executable).parent / "py-spy"),
                            "record",
                            "--subprocesses",
                            "--pid",
                            str(pid),
                            "--format",
                            "raw",
                            "--output",
                            args.profile + suffix,
                            "--rate",
                            "50",
                        ],  # fmt: skip
                        stdout=subprocess.DEVNULL,
                        stderr=subprocess.DEVNULL,
                    )
                )
        # py-spy is not counted; the beats count as worker
        meter = CpuMeter([p.pid for p in webs], [p.pid for p in workers + beats], url)
        meter.sample()
        run = Run(args, "127.0.0.1", ports, lab, arns)
        load_before = load()
        asyncio.run(drive(run, seats, instructor_session, class_id, meter))
        meter.sample()
        cpu, machine, wall = meter.report()
        load_after = load()
        lost, doubled, undelivered, written = audit_check(run.stats.writes, since_id, timeout=60)
    finally:
        for process in reversed(processes):
            process.send_signal(signal.SIGINT if "py-spy" in process.args[0] else signal.SIGTERM)
        for process in reversed(processes):
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
        log.close()

    stats = run.stats
    total = sum(len(v) for v in stats.latencies.values())
    bad = {k: v for k, v in stats.statuses.items() if not (isinstance(k[1], int) and k[1] < 400)}
    print(f"\nload average during the run: {load_before} -> {load_after}")
    print(
        f"{args.students} students + 1 instructor, think {args.think} s, {args.connections} connections each, "
        f"{args.seconds:.0f} s + {args.ramp:.0f} s ramp: {total} requests ({total / wall:.0f}/s)"
    )
    print("\n| kind | requests | p50 ms | p95 ms | p99 ms | max ms |")
    print("| --- | ---: | ---: | ---: | ---: | ---: |")
    for kind in KINDS:
        values = stats.latencies.get(kind, [])
        if values:
            print(
                f"| {kind} | {len(values)} | {1000 * statistics.median(values):.0f} | {1000 * pct(values, 0.95):.0f} "
                f"| {1000 * pct(values, 0.99):.0f} | {1000 * max(values):.0f} |"
            )
    print(f"\nstatus codes: {dict(sorted((f'{k[0]} {k[1]}', v) for k, v in stats.statuses.items()))}")
    print(f"errors: {sum(bad.values())} {stats.errors[:10] if stats.errors else ''}")
    print(
        f"slot wait (a free connection of the browser's own): p99 {1000 * pct(stats.slot_waits, 0.99):.0f} ms, "
        f"max {1000 * max(stats.slot_waits, default=0):.0f} ms; new connections: {len(stats.new_connection)}, first "
        f"response p99 {1000 * pct(stats.new_connection, 0.99):.0f} ms, max "
        f"{1000 * max(stats.new_connection, default=0):.0f} ms; idle connections closed by the server and reopened: "
        f"{stats.reconnects}"
    )
    print(
        f"connection slot wait (a new connection's first answer for a static file, every 2 s): p50 "
        f"{1000 * pct(stats.canary, 0.5):.0f} ms, p99 {1000 * pct(stats.canary, 0.99):.0f} ms, max "
        f"{1000 * max(stats.canary, default=0):.0f} ms"
    )
    print(f"\nCPU over {wall:.0f} s (core-seconds, 2 cores = {2 * wall:.0f}):")
    ours = 0.0
    for name in ("web", "worker", "postgres", "load generator"):
        ours += cpu.get(name, 0.0)
        print(f"  {name:15} {cpu.get(name, 0.0):7.1f}  ({100 * cpu.get(name, 0.0) / wall:.0f} % of a core)")
    print(f"  {'everything else':15} {max(0.0, machine - ours):7.1f}  (other processes on the machine)")
    writes = sum(stats.writes.values())
    print(
        f"\naudit: {writes} successful writes, {sum(written.values())} write events recorded; lost {lost}, doubled "
        f"{doubled}, undelivered {undelivered}, writes with an unknown outcome {stats.unknown_writes}"
    )
    failures = []
    for kind in GOAL_KINDS:
        values = stats.latencies.get(kind, [])
        if values and (pct(values, 0.95) > 0.3 or pct(values, 0.99) > 1.0):
            failures.append(f"{kind} p95/p99 over 300 ms / 1 s")
    if max(stats.canary + stats.slot_waits, default=0) > 1.0:
        failures.append("a request waited more than 1 s for a connection")
    if bad:
        failures.append(f"{sum(bad.values())} errors")
    if lost or doubled or undelivered:
        failures.append("audit trail incomplete")
    print("\nGOAL " + ("MET" if not failures else "NOT MET: " + "; ".join(failures)))
    return 0 if not failures else 1


if __name__ == "__main__":
    sys.exit(main())
