"""Lab progress: run every lab's checks for an account and keep the results (``LabProgress``), and read them
back for a class as the instructor's board (students × labs) in a constant number of queries.

Refreshes happen (1) in the Celery worker a second after the account's audit events are delivered, once per burst
of writes (``classroom.tasks``), so progress follows what the student does wherever they do it (console, CLI,
boto3), and (2) when the student asks ("Check progress" in the lab panel). The board only reads.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

from django.contrib.postgres.fields import ArrayField
from django.db import transaction
from django.db.models import CharField
from django.db.models.expressions import RawSQL

from classroom.labs import Lab, all_labs
from classroom.labs.base import Outcome, failed
from classroom.labs.facts import AccountFacts
from classroom.models import Class, LabProgress, StudentSeat
from core import clock, locks
from core.calls import inside_transaction
from core.context import CallContext, Principal

logger = logging.getLogger(__name__)


def run_checks(lab: Lab, facts: AccountFacts) -> dict[str, Outcome]:
    results: dict[str, Outcome] = {}
    for check in lab.checks:
        try:
            results[check.key] = check.run(facts)
        except Exception:  # a broken check must not hide the others; the instructor sees it in the logs
            logger.exception("lab %s check %s failed to run", lab.slug, check.key)
            results[check.key] = failed("This check could not run; tell your instructor.")
    return results


def refresh(account_id: str, labs: Sequence[Lab] | None = None) -> dict[str, LabProgress]:
    """Run the checks of ``labs`` (all by default) against the account and store the results.

    A completed lab stays completed: its row keeps the results of the moment every check passed and is not
    re-run, since later labs change the same account on purpose (lab 2 moves alice's permissions into a group,
    which lab 1's checks would no longer see). Only a reset to empty or to an earlier lab's start forgets it.

    Only rows whose results changed are written (``updated_at`` moves, and with it the board's poll stamp); the
    others only get their ``checked_at``, in one UPDATE: most refreshes change one lab or none."""
    seat = StudentSeat.objects.filter(account_id=account_id).only("last_reset_at", "classroom_id", "number").first()
    facts = AccountFacts(account_id, since=seat.last_reset_at if seat else None, seat=seat)
    now = clock.now()
    chosen = list(labs) if labs is not None else list(all_labs())
    with transaction.atomic():
        # The account's lock first (core.locks), as resets and audit delivery take it: a reset deleting this
        # account's progress waits for this refresh, instead of each holding progress rows the other needs.
        locks.lock_accounts([account_id], exclusive=False)
        existing = {
            p.lab: p
            for p in LabProgress.objects.select_for_update().filter(
                account_id=account_id, lab__in=[lab.slug for lab in chosen]
            )
        }
        done = {slug: row for slug, row in existing.items() if row.completed_at is not None}
        rows, same = [], []
        for lab in chosen:
            if lab.slug in done:
                continue
            outcomes = run_checks(lab, facts)
            count = sum(1 for o in outcomes.values() if o.passed)
            complete = count == len(outcomes) and count > 0
            previous = existing.get(lab.slug)
            earlier = previous.results if previous is not None else {}
            before = previous.passed if previous is not None else 0
            progressed = now if count > before else previous.progressed_at if previous is not None else None
            results = {key: _result(o, earlier.get(key), now) for key, o in outcomes.items()}
            unchanged = previous is not None and (results, count, len(outcomes)) == (
                previous.results,
                previous.passed,
                previous.total,
            )
            if unchanged and not complete:
                previous.checked_at = now
                same.append(previous)
                continue
            rows.append(
                LabProgress(
                    account_id=account_id,
                    lab=lab.slug,
                    passed=count,
                    total=len(outcomes),
                    completed_at=now if complete else None,
                    progressed_at=progressed,
                    results=results,
                    updated_at=now,
                    checked_at=now,
                )
            )
        if same:
            LabProgress.objects.filter(pk__in=[row.pk for row in same]).update(checked_at=now)
        if rows:
            LabProgress.objects.bulk_create(
                rows,
                update_conflicts=True,
                unique_fields=["account", "lab"],
                update_fields=[
                    "results",
                    "passed",
                    "total",
                    "completed_at",
                    "progressed_at",
                    "updated_at",
                    "checked_at",
                ],
            )
    return {**done, **{row.lab: row for row in same}, **{row.lab: row for row in rows}}


def _result(outcome: Outcome, earlier: dict | None, now) -> dict:  # noqa: ANN001
    """A check's stored result. ``ever_passed``/``regressed_at``: it passed at some point and fails now (since
    ``regressed_at``), which the board shows as a sign that a student is stuck."""
    ever = bool(outcome.passed or (earlier or {}).get("ever_passed"))
    result = {"passed": outcome.passed, "state": outcome.state, "message": outcome.message, "ever_passed": ever}
    if ever and not outcome.passed:
        was = (earlier or {}).get("regressed_at")
        result["regressed_at"] = was if was and not (earlier or {}).get("passed") else now.isoformat()
    return result


def forget(account_ids: Iterable[str]) -> None:
    """A reset empties the account: its progress starts again (called inside the reset's transaction)."""
    LabProgress.objects.filter(account_id__in=list(account_ids)).delete()


def completed_before(account_ids: Iterable[str], lab: Lab) -> list[LabProgress]:
    """The completion records a reset to ``lab``'s start keeps: labs before it, completed. Read before the reset
    (which deletes every progress row with the account's IAM state) and put back by ``restore``."""
    earlier = [other.slug for other in all_labs() if other.number < lab.number]
    return list(
        LabProgress.objects.filter(account_id__in=list(account_ids), lab__in=earlier, completed_at__isnull=False)
    )


def restore(rows: list[LabProgress]) -> None:
    for row in rows:
        row.pk = None
    LabProgress.objects.bulk_create(rows)


# ---------------------------------------------------------------------------------------------- the board


@dataclass(frozen=True, slots=True)
class CellProgress:
    """What the board shows of one ``LabProgress`` row: read as plain values, not model instances (a class of 200
    has 2,400 of them per redraw, and building model instances was most of the board's data time)."""

    passed: int
    total: int
    completed_at: datetime | None
    moved_at: datetime  # when its checks last moved (``progressed_at``), else when they were first written
    regressed: frozenset[str]  # the keys of checks that passed before and fail now


@dataclass(frozen=True, slots=True)
class Cell:
    lab: Lab
    progress: CellProgress | None
    state: str  # state_of(progress)


def state_of(progress: LabProgress | CellProgress | None) -> str:
    """A lab's state for a student: ``complete`` (recorded: stays so) | ``started`` (some checks pass) |
    ``not-started``."""
    if progress is not None and progress.completed_at is not None:
        return "complete"
    if progress is None or progress.passed == 0:
        return "not-started"
    return "started"


def _cell(lab: Lab, progress: CellProgress | None) -> Cell:
    return Cell(lab, progress, state_of(progress))


@dataclass(frozen=True)
class BoardRow:
    seat: StudentSeat
    cells: list[Cell]

    @property
    def completed(self) -> int:
        return sum(1 for c in self.cells if c.state == "complete")


def _regressed_keys() -> RawSQL:
    """The keys of an unfinished lab's checks that passed before and fail now, computed by PostgreSQL: decoding
    2,400 check-result documents in Python was the largest part of a redraw's data time."""
    table = LabProgress._meta.db_table
    return RawSQL(
        f"ARRAY(SELECT r.key FROM jsonb_each(CASE WHEN jsonb_typeof({table}.results) = 'object'"
        f" AND {table}.completed_at IS NULL THEN {table}.results ELSE '{{}}'::jsonb END) AS r"
        " WHERE jsonb_typeof(r.value) = 'object'"
        " AND COALESCE(r.value ->> 'regressed_at', '') <> '' AND COALESCE(r.value ->> 'passed', 'false') <> 'true')",
        [],
        output_field=ArrayField(CharField()),
    )


def board(classroom: Class) -> list[BoardRow]:
    """Students × labs in two queries (seats with their accounts, then every progress row of the class)."""
    labs = all_labs()
    seats = list(classroom.seats.select_related("account").order_by("number"))
    rows = (
        LabProgress.objects.filter(account__seat__classroom=classroom)
        .annotate(regressed=_regressed_keys())
        .values_list("account_id", "lab", "passed", "total", "completed_at", "progressed_at", "updated_at", "regressed")
    )
    progress = {
        (account_id, lab): CellProgress(passed, total, completed_at, progressed_at or updated_at, frozenset(regressed))
        for account_id, lab, passed, total, completed_at, progressed_at, updated_at, regressed in rows
    }
    return [BoardRow(seat, [_cell(lab, progress.get((seat.account_id, lab.slug))) for lab in labs]) for seat in seats]


def starting_state_builder(lab: Lab):  # noqa: ANN201 - a classroom.services.StateBuilder or None
    """The reset hook that builds ``lab``'s starting state in each emptied account, through the services as the
    account's root user (origin "system"), inside the reset's transaction."""
    if lab.starting_state is None:
        return None

    def build(account_ids: list[str]) -> None:
        with inside_transaction():
            for account_id in account_ids:
                lab.starting_state(
                    CallContext(Principal.root(account_id), origin="system", user_agent="IAM Classroom lab setup")
                )

    return build
