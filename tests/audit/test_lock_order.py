"""No deadlocks between audit delivery, account resets and calls (issue 12 §7): each pair that used to deadlock,
forced into the interleaving that deadlocked, on real PostgreSQL connections (one thread each).

A *gate* holds each transaction at the worst moment: a trigger created by the test makes the statement that fires
it wait for an advisory lock the test holds, after the transaction has taken its first row locks. The test opens
the gate once every transaction is waiting (on the gate or on a lock), then checks that all of them finished:
with a lock cycle PostgreSQL would have killed one with DeadlockDetected after ``deadlock_timeout``.
``bench/deadlocks.py`` measures the same under load."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime

import pytest
from django.db import connection

from audit import delivery
from audit.models import AuditEvent, ServiceLastAccessed
from audit.services import build_record, save_record
from core.context import CallContext, Principal
from identities import roles, services
from identities.models import Role
from identities.reset import reset_account_iam

GATE = 4242  # the advisory lock key


@pytest.fixture
def gate(transactional_db):
    """``gate(table, "AFTER UPDATE")``: statements of that kind on ``table`` wait until ``gate.open()``."""
    tables: list[str] = []

    def install(table: str, when: str) -> None:
        with connection.cursor() as cursor:
            cursor.execute(
                "CREATE OR REPLACE FUNCTION test_gate() RETURNS trigger LANGUAGE plpgsql AS $$ "
                f"BEGIN PERFORM pg_advisory_xact_lock_shared({GATE}); RETURN NEW; END $$"
            )
            cursor.execute(f"CREATE TRIGGER test_gate {when} ON {table} FOR EACH ROW EXECUTE FUNCTION test_gate()")
        tables.append(table)

    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_lock(%s)", [GATE])  # closed
    install.open = lambda: _open()  # type: ignore[attr-defined]
    yield install
    _open()
    with connection.cursor() as cursor:
        for table in tables:
            cursor.execute(f"DROP TRIGGER IF EXISTS test_gate ON {table}")
        cursor.execute("DROP FUNCTION IF EXISTS test_gate()")


def _open() -> None:
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_unlock_all()")


def run_together(*steps: Callable[[], object], gate) -> list[BaseException]:  # noqa: ANN001
    """Run each step in its own thread and connection; open the gate once all of them are waiting for a lock
    (the gate's or a row's). The errors raised, if any."""
    errors: list[BaseException] = []

    def run(step: Callable[[], object]) -> None:
        try:
            step()
        except BaseException as error:  # noqa: BLE001 - reported by the test
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(step,)) for step in steps]
    for started, thread in enumerate(threads, 1):
        thread.start()
        # Started in order: each one waits (or, with the old lock order, may have run to its end) before the next.
        wait_for_waiters(lambda n=started: n - sum(not t.is_alive() for t in threads[:n]))
    gate.open()
    for thread in threads:
        thread.join(timeout=30)
    assert not any(thread.is_alive() for thread in threads)
    return errors


def wait_for_waiters(count: Callable[[], int], timeout: float = 20) -> None:
    """Poll PostgreSQL until ``count()`` other sessions of this database wait for a lock (a real concurrent
    system)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                "AND pid <> pg_backend_pid() AND wait_event_type = 'Lock'"
            )
            if cursor.fetchone()[0] >= count():
                return
        time.sleep(0.01)
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT state, wait_event_type, wait_event, left(query, 200) FROM pg_stat_activity "
            "WHERE datname = current_database() AND pid <> pg_backend_pid()"
        )
        sessions = cursor.fetchall()
    raise AssertionError(f"{count()} sessions never waited together: {sessions}")


def event(ctx: CallContext, service: str) -> int:
    return save_record(ctx, build_record(ctx, event_source=f"{service}.amazonaws.com", event_name="Call"))


def role_session(root_ctx: CallContext) -> CallContext:
    trust = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"AWS": f"arn:aws:iam::{root_ctx.account_id}:root"},
                "Action": "sts:AssumeRole",
            }
        ],
    }
    role = roles.create_role(root_ctx, role_name="Worker", assume_role_policy_document=json.dumps(trust))
    principal = Principal(
        "AssumedRole",
        root_ctx.account_id,
        f"arn:aws:sts::{root_ctx.account_id}:assumed-role/Worker/s",
        "s",
        f"{role.role_id}:s",
        role_pk=role.pk,
    )
    return CallContext(principal)


def test_two_deliveries_update_the_same_last_accessed_rows_in_opposite_orders(
    account, root_ctx, gate, settings, tmp_path
):
    """The worker's two processes deliver batches that use the same services in opposite orders (iam then sts,
    sts then iam): each locks the access-advisor rows in key order, so one waits for the other instead of each
    holding the row the other needs next."""
    settings.DATA_DIR = tmp_path
    first = [event(root_ctx, "sts"), event(root_ctx, "iam")]
    second = [event(root_ctx, "iam"), event(root_ctx, "sts")]
    delivery.deliver_pending()  # both rows exist, older than the events: the batches below update them
    ServiceLastAccessed.objects.update(last_accessed_at=datetime(2026, 1, 1, tzinfo=UTC))
    AuditEvent.objects.filter(pk__in=first + second).update(delivered_at=None)
    gate("audit_servicelastaccessed", "AFTER UPDATE")
    errors = run_together(lambda: delivery.deliver(first), lambda: delivery.deliver(second), gate=gate)
    assert errors == []
    assert not AuditEvent.objects.filter(delivered_at__isnull=True).exists()
    newest = AuditEvent.objects.filter(pk__in=second).order_by("event_time").values_list("event_time", flat=True)
    assert sorted(ServiceLastAccessed.objects.values_list("last_accessed_at", flat=True)) == list(newest)


def test_a_reset_waits_for_a_delivery_holding_its_role(account, root_ctx, gate, settings, tmp_path):
    """The delivery updates a role's "Last activity" and then its access-advisor row; the reset deletes the roles
    and then the access-advisor rows. The delivery takes the account's lock first, as the reset does."""
    settings.DATA_DIR = tmp_path
    session = role_session(root_ctx)
    pks = [event(session, "iam")]
    gate("identities_role", "AFTER UPDATE")
    errors = run_together(lambda: delivery.deliver(pks), lambda: reset_account_iam(account.id), gate=gate)
    assert errors == []
    assert AuditEvent.objects.get(pk=pks[0]).delivered_at is not None
    assert not Role.objects.exists() and not ServiceLastAccessed.objects.exists()  # the reset came second


def test_a_reset_waits_for_a_call_holding_a_user(account, root_ctx, gate, settings, tmp_path):
    """AddUserToGroup locks the user, then inserts the membership, whose foreign key takes the account KEY SHARE;
    the reset holds the account and deletes the users. The call takes the account's lock first (core.calls)."""
    settings.DATA_DIR = tmp_path
    services.create_user(root_ctx, user_name="alice")
    services.create_group(root_ctx, group_name="devs")
    gate("identities_groupmembership", "BEFORE INSERT")
    errors = run_together(
        lambda: services.add_user_to_group(root_ctx, group_name="devs", user_name="alice"),
        lambda: reset_account_iam(account.id),
        gate=gate,
    )
    assert errors == []
    assert AuditEvent.objects.filter(event_name="AddUserToGroup", error_code="").exists()


def test_the_account_lock_comes_first_in_a_changing_call(account, root_ctx, transactional_db):
    """A changing call's transaction takes the account's lock before any other statement (with the call's first
    pipelined batch where there is one, else in a round trip of its own just after psycopg's BEGIN); a read takes no
    lock."""
    from django.test.utils import CaptureQueriesContext

    services.create_group(root_ctx, group_name="warm")  # statements prepared on this connection
    with CaptureQueriesContext(connection) as queries:
        services.create_group(root_ctx, group_name="devs")
    sql = [query["sql"] for query in queries.captured_queries]
    lock = next(i for i, text in enumerate(sql) if "pg_advisory_xact_lock_shared" in text)
    assert not any(text.lstrip().startswith(("INSERT", "UPDATE", "DELETE")) for text in sql[:lock])
    assert sum("pg_advisory_xact_lock_shared" in text for text in sql) == 1
    with CaptureQueriesContext(connection) as queries:
        services.get_group(root_ctx, group_name="devs")
    assert not any("pg_advisory_xact_lock_shared" in query["sql"] for query in queries.captured_queries)


def test_a_reset_cannot_come_between_a_cross_account_assume_role_and_its_session(
    account, other_account, root_ctx, other_root_ctx, gate, settings, tmp_path
):
    """AssumeRole of a role in another account reads the role, then inserts the session. A reset of the role's
    account in between used to delete the role under it (the insert then failed on its foreign key: a 500). The
    call takes the role's account's lock too, so the reset waits for it."""
    from console.services import user_principal
    from policies import services as policies
    from sts import services as sts
    from sts.models import TemporaryCredential

    settings.DATA_DIR = tmp_path
    user = services.create_user(root_ctx, user_name="teacher")
    allow = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "sts:AssumeRole", "Resource": "*"}]}
    policies.put_user_policy(root_ctx, user_name="teacher", policy_name="assume", policy_document=json.dumps(allow))
    trust = {
        "Version": "2012-10-17",
        "Statement": [
            {"Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{account.id}:root"}, "Action": "sts:AssumeRole"}
        ],
    }
    roles.create_role(other_root_ctx, role_name="Lab", assume_role_policy_document=json.dumps(trust))
    teacher = CallContext(user_principal(user))
    gate("sts_temporarycredential", "BEFORE INSERT")
    errors = run_together(
        lambda: sts.assume_role(
            teacher, role_arn=f"arn:aws:iam::{other_account.id}:role/Lab", role_session_name="teacher"
        ),
        lambda: reset_account_iam(other_account.id),
        gate=gate,
    )
    assert errors == []
    assert not Role.objects.filter(account_id=other_account.id).exists()  # the reset came second, and ended
    assert not TemporaryCredential.objects.filter(account_id=other_account.id).exists()  # the session too
