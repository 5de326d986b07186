"""A school's deployment on one machine (issue 16 §2, docs/deploy.md): two web nodes on two ports, two Celery workers
and two beat schedulers, one PostgreSQL and one Redis, driven round-robin as a load balancer would. Nothing may be
per node: a console session from one node is valid on the other, the sign-in throttle counts failures on both
together, every audit event is delivered once (in the database and in the shared trail directory), the beat's tasks
are not doubled by the second beat (``core.beat``), and both nodes serve the same static files."""

from __future__ import annotations

import json
import re
import subprocess
import urllib.request
from collections import Counter
from datetime import timedelta
from pathlib import Path
from types import SimpleNamespace

import pytest
from django.db import connection
from django.test import override_settings

from audit import delivery
from audit.models import AuditEvent
from console import throttle
from console.services import user_principal
from core import clock
from core.context import CallContext
from identities import roles, services
from policies import services as policy_services
from sts import services as sts
from sts.models import TemporaryCredential
from tests.awsapi.conftest import client, issue_key
from tests.conftest import ROOT_PASSWORD
from tests.e2e.nodes import (
    Browser,
    Process,
    collect_static,
    free_port,
    node_env,
    start_beat,
    start_web,
    stop_all,
    wait_for,
    wait_http,
)
from tests.workers import Worker

pytestmark = pytest.mark.e2e

PERIOD = 2  # seconds between one beat's runs of each scheduled task (10 and 15 s in production)
PASSWORD = "Stud3nt-Passw0rd!"
EXPIRED_SESSIONS = 3
READ = json.dumps({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "iam:Get*", "Resource": "*"}]})
TASKS = (("redeliver-audit-events", "audit.redeliver_pending"), ("expire-role-sessions", "sts.expire_sessions"))
NODE_THROTTLE_PREFIX = "signin:fail"  # console.settings' (the test settings keep theirs apart)


@pytest.fixture
def school(worker, tmp_path: Path):
    """Two workers, two beats and two web nodes on the test database, Redis and the worker fixture's queue;
    everything the test started is stopped at its end."""
    database, redis_url = connection.settings_dict, worker.broker_url
    shared = {
        "CELERY_QUEUE": worker.queue,
        "AUDIT_ENQUEUE_DELIVERY": "true",
        "AUDIT_SWEEP_SECONDS": str(PERIOD),
        "EXPIRE_SESSIONS_SECONDS": str(PERIOD),
        "IAM_TRAIL_DIR": str(tmp_path / "trails"),  # the workers' shared trail directory (NFS between machines)
    }
    second = Worker(worker.queue, tmp_path / "worker-2", database, redis_url)
    (tmp_path / "worker-2").mkdir()
    ports = [free_port(), free_port()]
    web_envs = [node_env(tmp_path / f"web-{n}", database, redis_url, **shared) for n in (0, 1)]
    started: list[Process] = []
    collecting: list[subprocess.Popen[bytes]] = []

    def ready() -> None:
        """The web nodes, started once their static files are collected, answering."""
        assert [c.wait(timeout=120) for c in collecting] == [0, 0]
        webs = [start_web(f"web-{n}", port, env) for n, (port, env) in enumerate(zip(ports, web_envs, strict=True))]
        started.extend(webs)
        for web, port in zip(webs, ports, strict=True):
            wait_http(web, port)

    try:  # everything boots while the test's data is made (the classroom fixture); the test calls ready()
        collecting += [collect_static(env) for env in web_envs]
        for w in (worker, second):  # node_env's SECRET_KEY and cheap password hashing, as the web nodes
            w.start(log_level="info", **{**node_env(tmp_path, database, redis_url), **shared})
        beats = [
            start_beat(f"beat-{n}", node_env(tmp_path / f"beat-{n}", database, redis_url, **shared)) for n in (0, 1)
        ]
        started += beats
        urls = [f"http://127.0.0.1:{p}" for p in ports]
        yield SimpleNamespace(urls=urls, workers=[worker, second], beats=beats, ready=ready)
    finally:
        for c in collecting:
            if c.poll() is None:
                c.kill()
                c.wait()
        stop_all(*started, worker, second)


@pytest.fixture
def classroom(account, root_ctx):
    """A student with a console password, and role sessions that expired an hour ago (for the beat to mark)."""
    user = services.create_user(root_ctx, user_name="student")
    services.create_login_profile(root_ctx, user_name="student", password=PASSWORD, password_reset_required=False)
    policy_services.put_user_policy(
        root_ctx,
        user_name="student",
        policy_name="assume",
        policy_document=json.dumps(
            {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "sts:AssumeRole", "Resource": "*"}]}
        ),
    )
    trust = {"Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{account.id}:root"}, "Action": "sts:AssumeRole"}
    roles.create_role(
        root_ctx,
        role_name="Lab",
        assume_role_policy_document=json.dumps({"Version": "2012-10-17", "Statement": [trust]}),
    )
    student = CallContext(user_principal(user))
    with clock.frozen(clock.now() - timedelta(hours=1)):
        for n in range(EXPIRED_SESSIONS):
            sts.assume_role(
                student, role_arn=f"arn:aws:iam::{account.id}:role/Lab", role_session_name=f"s{n}", duration_seconds=900
            )
    with override_settings(SIGNIN_THROTTLE_PREFIX=NODE_THROTTLE_PREFIX):  # the nodes' counters, not the test's
        throttle.clear(account.id, "student")
        yield account
        throttle.clear(account.id, "student")


def test_two_web_nodes_two_workers_and_two_beats_share_everything(school, classroom, tmp_path):
    account = classroom
    school.ready()
    a, b = school.urls

    # boto3, round-robin: what one node writes, the other reads at once.
    key = issue_key(account.id)
    iam = [client(SimpleNamespace(url=url), "iam", *key) for url in school.urls]
    for i in range(6):
        iam[i % 2].create_user(UserName=f"rr{i}")
        iam[(i + 1) % 2].put_user_policy(UserName=f"rr{i}", PolicyName="read", PolicyDocument=READ)
    for node in iam:
        assert {f"rr{i}" for i in range(6)} <= {u["UserName"] for u in node.list_users()["Users"]}

    # A console session started on node A is a session on node B (sessions live in PostgreSQL, signed with the
    # one SECRET_KEY), and signing out on B ends it on A.
    browser = Browser()
    assert browser.submit(f"{a}/signin", {"email": "root@alpha.example", "password": ROOT_PASSWORD}) == (302, "/")
    status, page = browser.get(f"{b}/iam/users")
    assert status == 200 and "rr5" in page
    status, page = browser.get(f"{a}/iam/users")
    assert status == 200 and "rr0" in page
    assert browser.submit(f"{b}/iam/users", {}, action=f"{b}/signout") == (302, "/signin")
    status, location = browser.get(f"{a}/iam/users")
    assert status == 302 and location.startswith("/signin")

    # The sign-in throttle is one, in Redis: failures alternating between the nodes add up to the lock, and the
    # right password is then refused on both.
    form = {"account": account.id, "username": "student"}
    for attempt in range(throttle.MAX_USER_FAILURES):
        node = (a, b)[attempt % 2]
        status, page = Browser().submit(f"{node}/signin/{account.id}", {**form, "password": "wrong"})
        assert status == 400 and "temporarily locked" not in page, attempt
    for node in (a, b):
        status, page = Browser().submit(f"{node}/signin/{account.id}", {**form, "password": PASSWORD})
        assert status == 400 and "temporarily locked" in page

    # The same static files, byte for byte, from each node's own collected directory.
    assets = [urllib.request.urlopen(f"{url}/static/console/console.css", timeout=10).read() for url in school.urls]
    assert assets[0] == assets[1] and len(assets[0]) > 1000

    # Both beats send every task every PERIOD; let each send a few rounds while the workers deliver.
    def sends(beat: Process, task: str) -> int:
        return beat.log().count(f"Sending due task {task}")

    wait_for(
        lambda: all(sends(beat, entry) >= 3 for beat in school.beats for entry, _ in TASKS), "3 rounds of each beat"
    )
    wait_for(lambda: not AuditEvent.objects.filter(delivered_at__isnull=True).exists(), "every audit event delivered")
    wait_for(
        lambda: TemporaryCredential.objects.filter(expired_marked_at__isnull=False).count() == EXPIRED_SESSIONS,
        "the expired sessions marked",
    )
    for beat in school.beats:
        beat.stop()
        assert "ERROR" not in beat.log(), beat.log()[-4000:]

    def handled(task: str) -> int:
        logs = "".join(w.log() for w in school.workers)
        return logs.count(f"{task}: beat lease taken") + logs.count(f"{task}: already run this period")

    for entry, task in TASKS:
        wait_for(lambda: handled(task) == sum(sends(beat, entry) for beat in school.beats), f"the last {task} handled")  # noqa: B023

    # Every audit event, from both nodes and the test, delivered exactly once: in the database and in the trail.
    events = list(AuditEvent.objects.filter(account_id=account.id).values_list("record", flat=True))
    trail = Counter(
        record["eventID"]
        for path in (tmp_path / "trails" / account.id).glob("*.json.gz")
        for record in delivery.read_trail(account.id, re.search(r"_(\d{8})\.json\.gz$", path.name).group(1))
    )
    assert sorted(trail) == sorted(e["eventID"] for e in events) and set(trail.values()) == {1}
    assert Counter(e["eventName"] for e in events)["CreateUser"] == 7  # the 6 round-robin users and "student"
    assert Counter(e["eventName"] for e in events)["SessionExpired"] == EXPIRED_SESSIONS

    # The beats' tasks were not doubled: of the runs both beats sent, one per period went ahead (core.beat).
    # Without the lease every message would run (twice per period); with it, consecutive runs are at least 90 % of a
    # period apart, so about one beat's share runs (the bound leaves room for a worker that was busy).
    logs = "".join(w.log() for w in school.workers)
    for entry, task in TASKS:
        sent = [sends(beat, entry) for beat in school.beats]
        ran = logs.count(f"{task}: beat lease taken")
        skipped = logs.count(f"{task}: already run this period")
        assert ran + skipped == sum(sent) and skipped >= 1, (task, sent, ran, skipped)
        assert ran <= max(sent) * 1.25 + 1, (task, sent, ran, skipped)
