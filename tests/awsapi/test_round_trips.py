"""Round trips to PostgreSQL of the Query API's hot calls (issue 6), counted on the wire with a libpq trace, and what
the shortcuts that save them must keep: a write's statements and audit row travel together, a failure inside that
batch is Django's IntegrityError and commits nothing, a read's event is committed at once without changing the
connection's durability for the next write, and policies read with the access key serve one decision only.

Transactional tests: a test transaction would hide the calls' own BEGIN and COMMIT."""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path

import psycopg
import pytest
from django.conf import settings
from django.db import IntegrityError, connection, transaction
from psycopg import pq

from audit.models import AuditEvent
from core.context import CallContext
from core.db import fetch_all_prepared, fetch_prepared
from identities import services as identities
from identities.models import IamUser
from policies import authz
from policies import services as policies
from tests.awsapi.conftest import issue_key
from tests.awsapi.test_query_counts import IAM_ALL, in_process


def round_trips(call: Callable[[], object]) -> list[str]:
    """The frontend messages of each round trip ``call`` made on Django's connection (one list item per wait for
    ReadyForQuery), from libpq's own trace."""
    connection.ensure_connection()
    pgconn = connection.connection.pgconn
    with tempfile.TemporaryFile(mode="w+") as trace:
        pgconn.trace(trace.fileno())
        pgconn.set_trace_flags(pq.Trace.SUPPRESS_TIMESTAMPS | pq.Trace.REGRESS_MODE)
        try:
            call()
        finally:
            pgconn.untrace()
        trace.seek(0)
        trips, sent = [], []
        for line in trace:
            if line.count("\t") < 2:
                continue  # the rest of a multi-line statement text
            direction, _, message, *rest = line.rstrip("\n").split("\t")
            if direction == "F" and message == "Query":
                sent.append(rest[0].strip().strip('"'))
            elif direction == "F" and message == "Parse":  # a statement sent for the first time, or unnamed
                sent.append(rest[0].split('" "', 1)[1].split('"', 1)[0])
            elif direction == "F" and message == "Bind" and not rest[0].strip().startswith('"" ""'):
                sent.append("prepared")  # a named prepared statement: its text was sent before
            if direction == "B" and message == "ReadyForQuery":
                trips.append(" | ".join(sent))
                sent = []
    return trips


def committed(sql: str, *params: object) -> list[tuple]:
    """What another session sees: only committed rows."""
    db = settings.DATABASES["default"]
    with psycopg.connect(
        host=db["HOST"], port=db["PORT"], user=db["USER"], dbname=db["NAME"], password=db.get("PASSWORD") or None
    ) as other:
        return other.execute(sql, params).fetchall()


# Each hot statement runs past psycopg's prepare_threshold while warming, so the measured calls use prepared ones.
WARM_CALLS = settings.DATABASES["default"]["OPTIONS"]["prepare_threshold"] + 1


@pytest.fixture
def dev(transactional_db, account, root_ctx, managed_policies):
    identities.create_user(root_ctx, user_name="dev")
    policy = policies.create_policy(root_ctx, policy_name="IamAll", policy_document=IAM_ALL)
    policies.attach_user_policy(root_ctx, user_name="dev", policy_arn=policy.arn)
    client = in_process("iam", *issue_key(account.id, IamUser.objects.get(name="dev")))
    # Warm: statements prepared on this connection, documents parsed.
    for _ in range(WARM_CALLS):
        client.get_user(UserName="dev")
        client.create_user(UserName="warm")
        client.delete_user(UserName="warm")
    return client


def test_create_user_sends_the_user_with_its_audit_row_in_four_round_trips(dev):
    trips = round_trips(lambda: dev.create_user(UserName="alice"))
    # The key with the caller's policies; BEGIN (psycopg's); the account's lock (core.calls), the user and its audit
    # row; COMMIT (Django's).
    assert trips == ["prepared", "BEGIN", "prepared | prepared | prepared", "COMMIT"]
    assert committed("SELECT count(*) FROM identities_iamuser WHERE name = 'alice'") == [(1,)]
    assert committed(
        "SELECT count(*) FROM audit_auditevent WHERE event_name = 'CreateUser' AND resource_name = 'alice'"
        " AND error_code = ''"
    ) == [(1,)]
    assert dev.get_user(UserName="alice")["User"]["UserName"] == "alice"  # the connection goes on as usual


def test_a_taken_name_fails_create_user_in_its_one_round_trip_and_nothing_but_the_failure_is_kept(dev):
    from botocore.exceptions import ClientError

    with pytest.raises(ClientError) as raised:
        dev.create_user(UserName="DEV")
    assert raised.value.response["Error"]["Code"] == "EntityAlreadyExists"
    assert committed("SELECT count(*) FROM identities_iamuser WHERE lower(name) = 'dev'") == [(1,)]
    assert committed(
        "SELECT error_code FROM audit_auditevent WHERE event_name = 'CreateUser' AND resource_name = 'DEV'"
    ) == [("EntityAlreadyExists",)]  # the success row sent with the INSERT was never written
    dev.create_user(UserName="erin")  # the connection goes on
    assert committed("SELECT count(*) FROM identities_iamuser WHERE name = 'erin'") == [(1,)]


def test_delete_user_reads_once_and_commits_with_its_audit_row(dev):
    dev.create_user(UserName="bob")
    trips = round_trips(lambda: dev.delete_user(UserName="bob"))
    # The key with the caller's policies; the user with its conflicts; BEGIN; the account's lock, the delete and the
    # audit row; COMMIT.
    assert trips == ["prepared", "prepared", "BEGIN", "prepared | prepared | prepared", "COMMIT"]
    assert committed("SELECT count(*) FROM identities_iamuser WHERE name = 'bob'") == [(0,)]
    assert committed(
        "SELECT count(*) FROM audit_auditevent WHERE event_name = 'DeleteUser' AND resource_name = 'bob'"
        " AND error_code = ''"
    ) == [(1,)]


def test_a_read_is_audited_at_once_and_the_next_write_is_still_synchronous(dev):
    trips = round_trips(lambda: dev.get_user(UserName="dev"))
    assert trips == ["prepared", "prepared", "prepared"]  # the key with the policies, the user, the audit row
    assert committed("SELECT count(*) FROM audit_auditevent WHERE event_name = 'GetUser'") == [(WARM_CALLS + 1,)]
    # The read's row relaxed its own commit only: the connection's setting is untouched.
    with connection.cursor() as cursor:
        cursor.execute("SHOW synchronous_commit")
        assert cursor.fetchone() == ("on",)


def test_an_error_in_a_batch_is_an_integrity_error_and_commits_nothing(dev, account):
    event_id = AuditEvent.objects.values_list("event_id", flat=True).first()
    with pytest.raises(IntegrityError), transaction.atomic(durable=True):
        fetch_all_prepared(
            [
                (
                    "INSERT INTO identities_iamuser (account_id, user_id, name, path, arn, created_at, tags) "
                    "VALUES (%s, 'AIDAEXAMPLE000000001', 'carol', '/', 'arn', now(), '[]') RETURNING id",
                    [account.id],
                ),
                (
                    "INSERT INTO audit_auditevent (account_id, event_id, event_time, event_source, "
                    "event_name, event_type, read_only, username, access_key_id, resource_type, "
                    "resource_name, error_code, record) VALUES (%s, %s, now(), 'iam.amazonaws.com', 'X', "
                    "'AwsApiCall', false, '', '', '', '', '', '{}') RETURNING id",
                    [account.id, str(event_id)],
                ),  # a duplicate event ID
            ]
        )
    assert committed("SELECT count(*) FROM identities_iamuser WHERE name = 'carol'") == [(0,)]
    assert dev.create_user(UserName="carol")["User"]["UserName"] == "carol"  # the connection is usable


def test_a_failing_first_statement_rolls_back_and_the_connection_goes_on(dev, account):
    with pytest.raises(IntegrityError), transaction.atomic(durable=True):
        fetch_prepared(
            "INSERT INTO identities_iamuser (account_id, user_id, name, path, arn, created_at, tags) "
            "VALUES (%s, 'AIDAEXAMPLE000000002', 'DEV', '/', 'arn', now(), '[]') RETURNING id",
            [account.id],
        )  # the name is taken (case-insensitively): the unique index refuses it
    assert connection.get_autocommit() and connection.connection.autocommit
    with transaction.atomic(durable=True):  # the next block begins, writes and commits as usual
        fetch_prepared("UPDATE identities_iamuser SET path = '/ops/' WHERE name = 'dev' RETURNING id", [])
        IamUser.objects.filter(name="dev").update(arn=f"arn:aws:iam::{account.id}:user/ops/dev")
    assert committed("SELECT path, arn FROM identities_iamuser WHERE name = 'dev'") == [
        ("/ops/", f"arn:aws:iam::{account.id}:user/ops/dev")
    ]
    with pytest.raises(RuntimeError), transaction.atomic(durable=True):
        fetch_prepared("UPDATE identities_iamuser SET path = '/gone/' WHERE name = 'dev' RETURNING id", [])
        raise RuntimeError("a failure after the first statement")
    assert committed("SELECT path FROM identities_iamuser WHERE name = 'dev'") == [("/ops/",)]


def test_policies_read_with_the_key_serve_the_first_decision_only(dev, account):
    user = IamUser.objects.get(name="dev")
    ctx = CallContext(
        authz.Principal("IAMUser", account.id, user.arn, user.name, user.user_id, user_pk=user.pk), origin="api"
    )
    with authz.prefetched(ctx.principal, []):  # as if the caller had no policy when its key was read
        assert not authz.decide(ctx, "iam:GetUser", user.arn, {}).allowed
        assert authz.decide(ctx, "iam:GetUser", user.arn, {}).allowed  # read afresh: IamAll allows it
    other = CallContext(authz.Principal("IAMUser", account.id, user.arn, user.name, user.user_id, user_pk=user.pk))
    with authz.prefetched(ctx.principal, []):
        assert authz.decide(other, "iam:GetUser", user.arn, {}).allowed  # another principal's rows never apply
    assert json.loads(json.dumps(authz.explain(authz.decide(ctx, "iam:GetUser", user.arn, {}))))["outcome"]


def test_prepared_statements_switch_off_for_pgbouncer(transactional_db):
    """``DB_PREPARED_STATEMENTS=false`` sets psycopg's prepare_threshold to None: every statement is sent with its text
    (an unnamed statement, which PgBouncer in transaction mode supports), however often it runs."""
    code = (
        "import os; os.environ['DB_PREPARED_STATEMENTS'] = 'false'; import console.settings as s; "
        "o = s.DATABASES['default']['OPTIONS']; print(o['server_side_binding'], o['prepare_threshold'])"
    )
    out = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        check=True,
        cwd=Path(__file__).resolve().parents[2],
    )
    assert out.stdout.split() == ["True", "None"]

    connection.ensure_connection()
    raw = connection.connection
    previous = raw.prepare_threshold
    raw.prepare_threshold = None
    try:
        sql = "SELECT count(*) FROM identities_iamuser WHERE name <> %s"
        trips = round_trips(lambda: [fetch_prepared(sql, ["x"]) for _ in range(4)])
    finally:
        raw.prepare_threshold = previous
    assert trips == ["SELECT count(*) FROM identities_iamuser WHERE name <> $1"] * 4
    assert round_trips(lambda: [fetch_prepared(sql, ["x"]) for _ in range(4)])[-1] == "prepared"
