"""Who needs help now: the signs, on the board, that a student is stuck.

Three signs, each with a sentence the teacher reads on the board:

- **denials**: several denied calls (``CLASSROOM_STUCK_DENIALS``, default 3) on the same action in the last few
  minutes (``CLASSROOM_STUCK_DENIAL_WINDOW`` seconds, default 300): the student keeps trying something that the
  policies refuse;
- **idle**: the student is working (events in the last ``CLASSROOM_STUCK_IDLE`` seconds, default 900) but no check
  of the lab they are on has turned green for that long;
- **regressed**: a check of a lab not yet completed passed before and fails now.

Computed from the rows the board already has (progress) and two aggregate queries over the class's delivered audit
events, so the board's cost does not grow with the class. Time is ``core.clock``: tests freeze it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from django.conf import settings
from django.db.models import Count, Max, Q

from audit.models import AuditEvent
from core.context import BACKGROUND_AGENT_SUFFIX

if TYPE_CHECKING:
    from classroom.progress import BoardRow, Cell

# What AWS services answer when a policy refuses a call (IAM and STS; Organizations; EC2).
DENIAL_CODES = ("AccessDenied", "AccessDeniedException", "UnauthorizedOperation")
# The student's own refused calls: not those the console made by itself while they typed (core.context).
_DENIED = Q(error_code__in=DENIAL_CODES) & ~Q(record__userAgent__endswith=BACKGROUND_AGENT_SUFFIX)


@dataclass(frozen=True)
class Thresholds:
    denials: int
    denial_window: timedelta
    idle: timedelta


def thresholds() -> Thresholds:
    return Thresholds(
        denials=int(getattr(settings, "CLASSROOM_STUCK_DENIALS", 3)),
        denial_window=timedelta(seconds=int(getattr(settings, "CLASSROOM_STUCK_DENIAL_WINDOW", 300))),
        idle=timedelta(seconds=int(getattr(settings, "CLASSROOM_STUCK_IDLE", 900))),
    )


@dataclass(frozen=True)
class Signal:
    kind: str  # denials | idle | regressed
    text: str


def _minutes(delta: timedelta) -> int:
    return max(1, int(delta.total_seconds() // 60))


def current_cell(cells: Sequence[Cell]) -> Cell | None:
    """The lab the student is on: of the labs started and not completed, the one that last moved."""
    started = [c for c in cells if c.state == "started" and c.progress is not None]
    if not started:
        return None
    return max(started, key=lambda c: (c.progress.moved_at, c.lab.number))


def signals(rows: Sequence[BoardRow], now: datetime) -> dict[str, list[Signal]]:
    """The signs of being stuck, by account ID (accounts with none are left out)."""
    limits = thresholds()
    accounts = [row.seat.account_id for row in rows]
    if not accounts:
        return {}
    delivered = AuditEvent.objects.filter(account_id__in=accounts, delivered_at__isnull=False)
    denied = (
        delivered.filter(_DENIED, event_time__gte=now - limits.denial_window)
        .values("account_id", "event_name")
        .annotate(n=Count("id"), last=Max("event_time"))
        .filter(n__gte=limits.denials)
        .order_by("account_id", "-n", "event_name")
    )
    found: dict[str, list[Signal]] = {}
    window = _minutes(limits.denial_window)
    for item in denied:
        found.setdefault(item["account_id"], []).append(
            Signal("denials", f"{item['n']} denied {item['event_name']} calls in {window} min")
        )
    active = set(delivered.filter(event_time__gte=now - limits.idle).values_list("account_id", flat=True).distinct())
    for row in rows:
        account = row.seat.account_id
        cell = current_cell(row.cells)
        if cell is not None and account in active:
            since = cell.progress.moved_at
            if now - since >= limits.idle:
                found.setdefault(account, []).append(
                    Signal("idle", f"No progress on lab {cell.lab.number} for {_minutes(now - since)} min")
                )
        for c in row.cells:
            if c.progress is None or c.state == "complete":
                continue
            for check in c.lab.checks:
                if check.key in c.progress.regressed:
                    found.setdefault(account, []).append(
                        Signal("regressed", f"Lab {c.lab.number}: “{check.title}” passed before and fails now")
                    )
    return found


def stamp_part(accounts_filter: dict, now: datetime) -> str:
    """What the board's poll stamp adds so that signs appear and go live, deterministic while nothing changes:
    the denials in the window (a new one arrives, an old one ages out) and how many accounts were active in the
    idle window. (Labs whose progress went stale are counted with the progress rows: ``stale_filter``.)"""
    limits = thresholds()
    recent = AuditEvent.objects.filter(
        **accounts_filter, delivered_at__isnull=False, event_time__gte=now - max(limits.denial_window, limits.idle)
    ).aggregate(
        denied=Count("id", filter=_DENIED & Q(event_time__gte=now - limits.denial_window)),
        active=Count("account_id", distinct=True, filter=Q(event_time__gte=now - limits.idle)),
    )
    return f"{recent['denied']}|{recent['active']}"


def stale_filter(now: datetime) -> Q:
    """Progress rows of labs started, not completed, with no new check passed for the idle threshold."""
    return Q(completed_at__isnull=True, passed__gt=0, progressed_at__lt=now - thresholds().idle)
