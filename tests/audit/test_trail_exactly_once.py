"""The trail files hold each delivered event exactly once, also when the delivery's commit fails (issue 12 §6).

The commit really fails in PostgreSQL: a deferred constraint trigger, created by the test on the audit table, runs
at COMMIT and either raises or terminates the delivering backend (what a database restart does to the worker)."""

from __future__ import annotations

import gzip
from collections import Counter

import pytest
from django.db import DatabaseError, connection

from audit import delivery
from audit.models import AuditEvent
from identities import services

_FUNCTION = "test_fail_delivery_commit"


@pytest.fixture
def failing_commit(transactional_db):
    """Install a trigger that makes the next delivery transaction fail at COMMIT: ``failing_commit(action)`` with
    ``action`` a PL/pgSQL statement. Removed at the end of the test whatever happens."""

    def install(action: str) -> None:
        with connection.cursor() as cursor:
            cursor.execute(
                f"CREATE OR REPLACE FUNCTION {_FUNCTION}() RETURNS trigger LANGUAGE plpgsql AS $$ "
                f"BEGIN {action}; RETURN NULL; END $$"
            )
            cursor.execute(
                f"CREATE CONSTRAINT TRIGGER {_FUNCTION} AFTER UPDATE OF delivered_at ON audit_auditevent "
                f"DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION {_FUNCTION}()"
            )

    yield install
    remove()


def remove() -> None:
    connection.close()  # the failed delivery may have left the connection dead
    with connection.cursor() as cursor:
        cursor.execute(f"DROP TRIGGER IF EXISTS {_FUNCTION} ON audit_auditevent")
        cursor.execute(f"DROP FUNCTION IF EXISTS {_FUNCTION}()")


def trail_event_ids(account_id: str) -> Counter:
    lines = Counter()
    for path in delivery.trail_dir(account_id).glob("*.json.gz"):
        lines.update(record["eventID"] for record in delivery.read_trail(account_id, path.name.rsplit("_", 1)[1][:8]))
    return lines


def make_events(root_ctx, names: list[str]) -> set[str]:
    for name in names:
        services.create_user(root_ctx, user_name=name)  # enqueue is off in tests: nothing is delivered yet
    return {str(e) for e in AuditEvent.objects.filter(delivered_at__isnull=True).values_list("event_id", flat=True)}


def test_an_error_at_commit_leaves_the_trail_exact(account, root_ctx, failing_commit, settings, tmp_path):
    settings.DATA_DIR = tmp_path
    events = make_events(root_ctx, ["alice", "bob", "carol"])
    failing_commit("RAISE EXCEPTION 'commit refused'")
    with pytest.raises(DatabaseError):
        delivery.deliver_pending()
    assert AuditEvent.objects.filter(delivered_at__isnull=True).count() == 3  # the database is exact
    assert set(trail_event_ids(account.id)) == events  # the lines were written before the commit
    remove()
    events |= make_events(root_ctx, ["dave"])
    assert delivery.deliver_pending() == 4
    assert trail_event_ids(account.id) == Counter(dict.fromkeys(events, 1))


def test_the_connection_dying_at_commit_leaves_the_trail_exact(account, root_ctx, failing_commit, settings, tmp_path):
    """The backend is terminated at COMMIT, as when PostgreSQL restarts under the worker; the events are then
    delivered again by another worker process (an empty index: it reads what the first one wrote)."""
    settings.DATA_DIR = tmp_path
    events = make_events(root_ctx, ["alice", "bob"])
    failing_commit("PERFORM pg_terminate_backend(pg_backend_pid())")
    with pytest.raises(DatabaseError):
        delivery.deliver_pending()
    remove()
    assert AuditEvent.objects.filter(delivered_at__isnull=True).count() == 2
    delivery._trail_index.clear()
    assert delivery.deliver_pending() == 2
    assert trail_event_ids(account.id) == Counter(dict.fromkeys(events, 1))


def test_a_write_torn_by_a_killed_worker_is_cut_off(account, root_ctx, settings, tmp_path, transactional_db):
    """A worker killed in the middle of its write (so before its commit) leaves half a gzip member: the next
    delivery cuts it off, and the file stays a valid gzip file holding each event once."""
    settings.DATA_DIR = tmp_path
    make_events(root_ctx, ["alice"])
    assert delivery.deliver_pending() == 1
    events = make_events(root_ctx, ["bob"])
    event = AuditEvent.objects.get(delivered_at__isnull=True)
    path = delivery.trail_file(account.id, event.event_time.strftime("%Y%m%d"))
    member = gzip.compress(b'{"eventID":"%s"}\n' % str(event.event_id).encode())
    with open(path, "ab") as fh:
        fh.write(member[: len(member) // 2])
    delivery._trail_index.clear()
    assert delivery.deliver_pending() == 1
    with gzip.open(path, "rb") as fh:  # any gzip reader, not only ours
        lines = fh.read().splitlines()
    assert len(lines) == 2 and str(event.event_id) in lines[1].decode()
    assert trail_event_ids(account.id)[next(iter(events))] == 1
