"""Completing delivery of audit events: mark delivered (exactly once), update last-accessed data, and append the
record to the account's daily trail file (gzipped JSON lines, like CloudTrail's log files).

Exactly once, in the database and in the files. The events are locked and marked delivered in one transaction; the
trail lines are written inside it, before its commit, so a delivered event is always in its file. A commit that
fails (the database restarted, the worker was killed) leaves the events undelivered and their lines written: the
next delivery appends only the events whose ``eventID`` is not in the file yet (``_append_once``, under an
exclusive lock of the file), so redelivery never repeats a line.

No deadlocks. Every delivery takes its locks in one global order: the events (``SKIP LOCKED``: it never waits for
them), then the accounts' locks (``core.locks``, shared, by id), then the roles whose "Last activity" moves (by id),
then the access-advisor rows (one ``INSERT … ON CONFLICT`` upsert, sorted by key). A reset takes the accounts' locks
exclusively before touching their rows, so a reset and a delivery of the same account wait for each other whole
instead of each holding half of the other's rows; two deliveries lock shared rows in the same order.
"""

from __future__ import annotations

import fcntl
import gzip
import json
import logging
import os
import zlib
from collections import OrderedDict
from collections.abc import Iterable
from datetime import datetime
from pathlib import Path

from django.conf import settings
from django.db import connection, transaction

from audit.models import AuditEvent, ServiceLastAccessed
from audit.signals import events_delivered
from core import clock, locks
from identities.models import Role

BATCH = 500
logger = logging.getLogger(__name__)


def trail_dir(account_id: str) -> Path:
    return Path(settings.TRAIL_DIR or Path(settings.DATA_DIR) / "trails") / account_id


def trail_file(account_id: str, day: str) -> Path:
    return trail_dir(account_id) / f"{account_id}_CloudTrail_us-east-1_{day}.json.gz"


def deliver(event_pks: Iterable[int]) -> int:
    """Deliver the given events; events already delivered (or being delivered by another worker) are skipped."""
    with transaction.atomic():
        events = list(
            AuditEvent.objects.select_for_update(skip_locked=True)
            .filter(pk__in=list(event_pks), delivered_at__isnull=True)
            .order_by("event_time", "pk")
        )
        if not events:
            return 0
        now = clock.now()
        _update_last_accessed(events)
        AuditEvent.objects.filter(pk__in=[e.pk for e in events]).update(delivered_at=now)
        # Written last, inside the locked transaction: a crash before commit leaves the events undelivered, and
        # their redelivery skips the lines this attempt wrote (idempotent by eventID).
        _append_to_trails(events)
    # After commit; robust: a failing listener (lab progress) never undoes or repeats a delivery. Only accounts with
    # a write (failed or not: a denied AssumeRole is a lab's evidence) are announced: a read (List*, Get*,
    # Simulate*: most of a class's events), failed or not, changes nothing a listener looks at (no lab's check
    # reads the account's failed reads), and refreshing lab progress after each one was most of the worker's CPU
    # under a classroom's load (docs/benchmarks.md, issue 16).
    changed = {e.account_id for e in events if not e.read_only}
    for _receiver, error in events_delivered.send_robust(sender=deliver, account_ids=changed) if changed else ():
        if isinstance(error, Exception):
            logger.error("events_delivered listener failed", exc_info=error)
    return len(events)


def deliver_pending(limit: int = 10_000, *, including: Iterable[int] = ()) -> int:
    """Deliver the undelivered events, oldest first, a batch at a time. ``including``: events to deliver in the first
    batch whatever their age (a delivery task's own event): one transaction, one trail write per file."""
    delivered = 0
    extra = list(including)
    while delivered < limit:
        pks = list(
            AuditEvent.objects.filter(delivered_at__isnull=True)
            .order_by("event_time")
            .values_list("pk", flat=True)[:BATCH]
        )
        if not pks and not extra:
            break
        count = deliver([*extra, *pks])
        extra = []
        delivered += count
        if count == 0 or len(pks) < BATCH:
            break  # the rest are locked by a worker delivering them right now, or there is no rest
    return delivered


# ------------------------------------------------------------------------------------------------ last accessed


def _update_last_accessed(events: list[AuditEvent]) -> None:
    """Access advisor and the Roles list's "Last activity" for a batch of events (in event time order), in the
    module's lock order: accounts, then roles by id, then access-advisor rows by key. Times only move forward: an
    older event delivered late (by the sweep) never hides a newer use."""
    roles: dict[tuple[str, str], tuple[datetime, str]] = {}
    access: dict[tuple[str, str, str], tuple[datetime, str]] = {}
    for event in events:
        if event.error_code or event.event_source == "signin.amazonaws.com":
            continue
        identity = event.record.get("userIdentity", {})
        arn = identity.get("arn")
        if not arn:
            continue
        # A role session counts as use of its role (the issuer), as access advisor reports it.
        issuer = identity.get("sessionContext", {}).get("sessionIssuer", {}).get("arn")
        if issuer:
            # The batch is in time order: the last is newest (with the region it was used in, as GetRole shows).
            roles[(event.account_id, issuer)] = (event.event_time, event.record.get("awsRegion", ""))
        key = (event.account_id, issuer or arn, event.event_source.split(".", 1)[0])
        access[key] = (event.event_time, arn)
    if not access:
        return

    # The accounts' locks first, as calls and resets take them (core.locks): a reset of one of these accounts waits
    # for this batch, or this batch for it, instead of each holding rows the other needs next.
    locks.lock_accounts({account_id for account_id, _, _ in access}, exclusive=False)
    with connection.cursor() as cursor:
        if roles:
            role_table = Role._meta.db_table
            pairs = sorted(roles)
            cursor.execute(
                f"SELECT id, account_id, arn FROM {role_table} WHERE (account_id, arn) IN "
                f"({', '.join(['(%s, %s)'] * len(pairs))}) ORDER BY id FOR NO KEY UPDATE",
                [value for pair in pairs for value in pair],
            )
            for role_pk, account_id, arn in cursor.fetchall():
                when, region = roles[(account_id, arn)]
                cursor.execute(
                    f"UPDATE {role_table} SET last_used_at = %s, last_used_region = %s WHERE id = %s "
                    "AND (last_used_at IS NULL OR last_used_at < %s)",
                    [when, region, role_pk, when],
                )
        table = ServiceLastAccessed._meta.db_table
        rows = sorted(access.items())
        cursor.execute(
            f"INSERT INTO {table} AS t (account_id, principal_arn, service_namespace, last_accessed_at, "
            f"last_authenticated_entity) VALUES {', '.join(['(%s, %s, %s, %s, %s)'] * len(rows))} "
            "ON CONFLICT (account_id, principal_arn, service_namespace) DO UPDATE SET "
            "last_accessed_at = EXCLUDED.last_accessed_at, "
            "last_authenticated_entity = EXCLUDED.last_authenticated_entity "
            "WHERE t.last_accessed_at <= EXCLUDED.last_accessed_at",
            [
                value
                for (account_id, principal, service), (when, entity) in rows
                for value in (account_id, principal, service, when, entity)
            ],
        )


# ------------------------------------------------------------------------------------------------ trail files


class _TrailIndex:
    """The eventIDs already in each trail file, per process: read once, then only what other workers appended
    since (``offset``). A file is appended to only under its exclusive lock, always as whole gzip members."""

    SIZE = 256  # files remembered (least recently used go first)

    def __init__(self) -> None:
        self._files: OrderedDict[Path, tuple[tuple[int, int], int, set[str]]] = OrderedDict()

    def clear(self) -> None:
        self._files.clear()

    def event_ids(self, path: Path, fh) -> set[str]:  # noqa: ANN001 - a binary file opened for reading and appending
        """The eventIDs in ``path`` (locked by the caller), reading only its new bytes; a torn last member (a
        writer killed mid-write, so its transaction never committed) is cut off."""
        stat = os.fstat(fh.fileno())
        identity = (stat.st_dev, stat.st_ino)
        known = self._files.pop(path, None)
        if known is None or known[0] != identity or known[1] > stat.st_size:
            known = (identity, 0, set())
        _, offset, ids = known
        fh.seek(offset)
        members, end, torn = _members(fh, offset)
        for lines in members:
            ids.update(json.loads(line).get("eventID", "") for line in lines)
        if torn:  # a writer was killed mid-write: its transaction never committed, so its lines must go
            logger.warning("trail file %s: cutting a torn write of %d bytes", path, stat.st_size - end)
            fh.truncate(end)
        elif end < stat.st_size:  # not ours to repair (damaged by hand?): keep it, append after it
            logger.error("trail file %s: unreadable from byte %d", path, end)
            end = stat.st_size
        self.remember(path, identity, end, ids)
        return ids

    def remember(self, path: Path, identity: tuple[int, int], offset: int, ids: set[str]) -> None:
        self._files[path] = (identity, offset, ids)
        self._files.move_to_end(path)
        while len(self._files) > self.SIZE:
            self._files.popitem(last=False)


_trail_index = _TrailIndex()


def _members(fh, offset: int, chunk: int = 1 << 16) -> tuple[list[list[bytes]], int, bool]:  # noqa: ANN001
    """The lines of each complete gzip member of ``fh`` from ``offset`` (a member boundary, where ``fh`` is), the
    end offset of the last one, and whether the file ends with a torn (incomplete) member after it."""
    members: list[list[bytes]] = []
    pending = b""
    end = offset
    while True:
        decoder = zlib.decompressobj(wbits=31)  # one gzip member
        parts: list[bytes] = []
        consumed = 0
        while not decoder.eof:
            data = pending or fh.read(chunk)
            pending = b""
            if not data:
                return members, end, consumed > 0  # end of file: after a whole member, or inside a torn one
            try:
                parts.append(decoder.decompress(data))
            except zlib.error:
                return members, end, False
            consumed += len(data) - len(decoder.unused_data)
        pending = decoder.unused_data
        end += consumed
        members.append([line for line in b"".join(parts).split(b"\n") if line.strip()])


def _append_to_trails(events: list[AuditEvent]) -> None:
    by_file: dict[Path, list[AuditEvent]] = {}
    for event in events:
        by_file.setdefault(trail_file(str(event.account_id), event.event_time.strftime("%Y%m%d")), []).append(event)
    for path in sorted(by_file):  # one file locked at a time, in order
        _append_once(path, by_file[path])


def _append_once(path: Path, events: list[AuditEvent]) -> None:
    """Append the events not yet in ``path`` as one gzip member (concatenated members form a valid gzip file)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "a+b") as fh:
        fcntl.flock(fh.fileno(), fcntl.LOCK_EX)  # released when the file is closed
        present = _trail_index.event_ids(path, fh)
        new = [event for event in events if _event_id(event) not in present]
        if not new:
            return
        data = b"".join(json.dumps(event.record, separators=(",", ":")).encode() + b"\n" for event in new)
        fh.write(gzip.compress(data))  # one write of a whole member: a crash leaves at most a torn tail
        fh.flush()
        present.update(_event_id(event) for event in new)
        stat = os.fstat(fh.fileno())
        _trail_index.remember(path, (stat.st_dev, stat.st_ino), stat.st_size, present)


def _event_id(event: AuditEvent) -> str:
    return event.record.get("eventID") or str(event.event_id)


def read_trail(account_id: str, day: str) -> list[dict]:
    path = trail_file(account_id, day)
    if not path.exists():
        return []
    with open(path, "rb") as fh:
        members, _, _ = _members(fh, 0)
        return [json.loads(line) for lines in members for line in lines]
