"""The product behind PgBouncer in transaction pooling mode (issue 16 §2, docs/deploy.md): a real PgBouncer (Debian's
package, installed by ``make test``) started on a free port in front of the test PostgreSQL, the web server as the
launcher starts it, ``DB_PREPARED_STATEMENTS=false``.

Transaction pooling hands a client a server connection for one transaction only, so anything a client leaves on the
server connection between transactions is seen by the next client of that connection, or lost. Named prepared
statements are such state: the second test shows what they do through PgBouncer when the setting is on."""

from __future__ import annotations

import json
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from types import SimpleNamespace

import pytest
from django.conf import settings
from django.db import connection
from django.db.utils import ConnectionHandler, DatabaseError

from audit.models import AuditEvent
from identities.models import IamUser
from tests.awsapi.conftest import client, issue_key
from tests.conftest import ROOT_PASSWORD
from tests.e2e.nodes import Browser, PgBouncer, free_port, node_env, start_web, wait_for, wait_http

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

READ = json.dumps({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "iam:Get*", "Resource": "*"}]})
THREADS = 4  # the web node's Django threads: four PgBouncer clients sharing one server connection


@pytest.fixture
def bouncer(tmp_path: Path):
    bouncer = PgBouncer(tmp_path / "pgbouncer", connection.settings_dict, pool_size=1)
    yield bouncer
    bouncer.stop()


def test_the_product_runs_through_pgbouncer_in_transaction_mode(tmp_path, bouncer, worker, account):
    """The web node and a Celery worker both through PgBouncer: the audit delivery (``SKIP LOCKED``, the account's
    advisory lock, the trail) shares the one server connection with the web node's four threads."""
    port = free_port()
    pooled = {"DB_PREPARED_STATEMENTS": "false", "CELERY_QUEUE": worker.queue, "AUDIT_ENQUEUE_DELIVERY": "true"}
    through = bouncer.database(connection.settings_dict)
    env = node_env(tmp_path / "web", through, settings.REDIS_URL, IAM_WEB_THREADS=str(THREADS), **pooled)
    web = start_web("web", port, env)
    worker.start(**{**node_env(tmp_path, through, settings.REDIS_URL), **pooled})
    try:
        wait_http(web, port)
        node = SimpleNamespace(url=f"http://127.0.0.1:{port}")
        key = issue_key(account.id)

        def student(n: int) -> list[str]:
            iam = client(node, "iam", *key)
            for i in range(4):  # each call a few transactions, interleaved with the other threads' on one server
                iam.create_user(UserName=f"s{n}-u{i}", Tags=[{"Key": "class", "Value": "7b"}])
                iam.put_user_policy(UserName=f"s{n}-u{i}", PolicyName="read", PolicyDocument=READ)
                iam.get_user(UserName=f"s{n}-u{i}")
            return [u["UserName"] for u in iam.list_users(PathPrefix="/")["Users"]]

        with ThreadPoolExecutor(THREADS) as pool:
            listed = list(pool.map(student, range(THREADS)))
        names = {f"s{n}-u{i}" for n in range(THREADS) for i in range(4)}
        assert set(IamUser.objects.filter(account_id=account.id).values_list("name", flat=True)) == names
        assert names <= set(listed[-1])
        assert AuditEvent.objects.filter(account_id=account.id, event_name="PutUserPolicy").count() == len(names)
        wait_for(lambda: not AuditEvent.objects.filter(delivered_at__isnull=True).exists(), "the events delivered")

        browser = Browser()
        status, location = browser.submit(
            f"{node.url}/signin", {"email": "root@alpha.example", "password": ROOT_PASSWORD}
        )
        assert (status, location) == (302, "/")
        status, page = browser.get(f"{node.url}/iam/users")
        assert status == 200 and "s0-u0" in page and "s3-u3" in page
        web.check_running()
    finally:
        web.stop()
    for log in (web.log(), worker.log()):
        assert "prepared statement" not in log and "Traceback" not in log, log[-4000:]


def _through(bouncer: PgBouncer, prepared: bool) -> ConnectionHandler:
    """Two Django connections through ``bouncer``, configured as ``console.settings`` configures them with
    ``DB_PREPARED_STATEMENTS`` on (psycopg prepares a statement on its third run) or off."""
    options = {**settings.DATABASES["default"]["OPTIONS"], "prepare_threshold": 2 if prepared else None}
    database = {**bouncer.database(connection.settings_dict), "OPTIONS": options, "CONN_MAX_AGE": 60}
    return ConnectionHandler({"default": database, "other": database})


def _run_hot_query(handler: ConnectionHandler) -> None:
    """Two clients run the same query three times each, as two requests' threads run the access-key lookup."""
    for alias in ("default", "other"):
        with handler[alias].cursor() as cursor:
            for _ in range(3):
                cursor.execute("SELECT count(*) FROM identities_account WHERE id = %s", ["111122223333"])
                assert cursor.fetchone() == (1,)


def test_prepared_statements_do_not_survive_transaction_pooling(bouncer, account):
    """With them on, psycopg names the statements it prepares ``_pg3_0``, ``_pg3_1``, … per client connection; through
    PgBouncer two clients share one server connection, and the second one's PREPARE finds the first one's name
    taken. (Or, with a larger pool, a client's EXECUTE lands on a server connection that never saw its PREPARE:
    "prepared statement does not exist".) With ``DB_PREPARED_STATEMENTS=false`` nothing is prepared."""
    on = _through(bouncer, prepared=True)
    try:
        with pytest.raises(DatabaseError, match=r'prepared statement "_pg3_0" already exists'):
            _run_hot_query(on)
    finally:
        on.close_all()
    off = _through(bouncer, prepared=False)
    try:
        _run_hot_query(off)
    finally:
        off.close_all()
