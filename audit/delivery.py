"""Completing delivery of audit events: mark delivered (exactly once), update last-accessed data, and append the
record to the account's daily trail file (gzipped JSON lines, like CloudTrail's log files)."""

from __future__ import annotations

import gzip
import json
import logging
from collections.abc import Iterable
from pathlib import Path

from django.conf import settings
from django.db import transaction

from audit.models import AuditEvent, ServiceLastAccessed
from audit.signals import events_delivered
from core import clock

BATCH = 500
logger = logging.getLogger(__name__)


def trail_dir(account_id: str) -> Path:
    return Path(settings.DATA_DIR) / "trails" / account_id


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
        for event in events:
            _update_last_accessed(event)
        AuditEvent.objects.filter(pk__in=[e.pk for e in events]).update(delivered_at=now)
        # Written last, inside the locked transaction: a crash before commit leaves the events undelivered.
        _append_to_trails(events)
    # After commit; robust: a failing listener (lab progress) never undoes or repeats a delivery. Only accounts with
    # a write or a failed call are announced: a successful read (List*, Get*, Simulate*: most of a class's events)
    # changes nothing a listener looks at, and refreshing lab progress after each one was most of the worker's CPU
    # under a classroom's load (docs/benchmarks.md, issue 16).
    changed = {e.account_id for e in events if not e.read_only or e.error_code}
    for _receiver, error in events_delivered.send_robust(sender=deliver, account_ids=changed) if changed else ():
        if isinstance(error, Exception):
            logger.error("events_delivered listener failed", exc_info=error)
    return len(events)


def deliver_pending(limit: int = 10_000) -> int:
    delivered = 0
    while delivered < limit:
        pks = list(
            AuditEvent.objects.filter(delivered_at__isnull=True)
            .order_by("event_time")
            .values_list("pk", flat=True)[:BATCH]
        )
        if not pks:
            break
        count = deliver(pks)
        delivered += count
        if count == 0:
            break  # the rest are locked by a worker delivering them right now
    return delivered


def _update_last_accessed(event: AuditEvent) -> None:
    if event.error_code or event.event_source == "signin.amazonaws.com":
        return
    identity = event.record.get("userIdentity", {})
    arn = identity.get("arn")
    if not arn:
        return
    # A role session counts as use of its role (the issuer), as access advisor reports it.
    issuer = identity.get("sessionContext", {}).get("sessionIssuer", {}).get("arn")
    if issuer:  # the Roles list's "Last activity"
        from identities.models import Role

        Role.objects.filter(account_id=event.account_id, arn=issuer).update(last_used_at=event.event_time)
    ServiceLastAccessed.objects.update_or_create(
        account_id=event.account_id,
        principal_arn=issuer or arn,
        service_namespace=event.event_source.split(".", 1)[0],
        defaults={"last_accessed_at": event.event_time, "last_authenticated_entity": arn},
    )


def _append_to_trails(events: list[AuditEvent]) -> None:
    by_file: dict[Path, list[AuditEvent]] = {}
    for event in events:
        by_file.setdefault(trail_file(str(event.account_id), event.event_time.strftime("%Y%m%d")), []).append(event)
    for path, group in by_file.items():
        path.parent.mkdir(parents=True, exist_ok=True)
        # Concatenated gzip members form a valid gzip file: each append adds one member.
        with gzip.open(path, "ab") as fh:
            for event in group:
                fh.write(json.dumps(event.record, separators=(",", ":")).encode() + b"\n")


def read_trail(account_id: str, day: str) -> list[dict]:
    path = trail_file(account_id, day)
    if not path.exists():
        return []
    with gzip.open(path, "rb") as fh:
        return [json.loads(line) for line in fh if line.strip()]
