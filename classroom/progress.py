"""Lab progress: run every lab's checks for an account and keep the results (``LabProgress``), and read them
back for a class as the instructor's board (students × labs) in a constant number of queries.

Refreshes happen (1) in the Celery worker right after the account's audit events are delivered, so progress
follows what the student does wherever they do it (console, CLI, boto3), and (2) when the student asks
("Check progress" in the lab panel). The board only reads.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from django.db import transaction

from classroom.labs import Lab, all_labs
from classroom.labs.base import Outcome, failed
from classroom.labs.facts import AccountFacts
from classroom.models import Class, LabProgress, StudentSeat
from core import clock, locks

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
    """Run the checks of ``labs`` (all by default) against the account and store the results."""
    seat = StudentSeat.objects.filter(account_id=account_id).only("last_reset_at").first()
    facts = AccountFacts(account_id, since=seat.last_reset_at if seat else None)
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
        rows = []
        for lab in chosen:
            outcomes = run_checks(lab, facts)
            count = sum(1 for o in outcomes.values() if o.passed)
            complete = count == len(outcomes) and count > 0
            previous = existing.get(lab.slug)
            completed_at = (
                previous.completed_at if previous and previous.completed_at and complete else now if complete else None
            )
            rows.append(
                LabProgress(
                    account_id=account_id,
                    lab=lab.slug,
                    passed=count,
                    total=len(outcomes),
                    completed_at=completed_at,
                    results={key: {"passed": o.passed, "message": o.message} for key, o in outcomes.items()},
                    updated_at=now,
                )
            )
        LabProgress.objects.bulk_create(
            rows,
            update_conflicts=True,
            unique_fields=["account", "lab"],
            update_fields=["results", "passed", "total", "completed_at", "updated_at"],
        )
    return {row.lab: row for row in rows}


def forget(account_ids: Iterable[str]) -> None:
    """A reset empties the account: its progress starts again (called inside the reset's transaction)."""
    LabProgress.objects.filter(account_id__in=list(account_ids)).delete()


def on_events_delivered(sender, *, account_ids: set[str], **_kwargs) -> None:  # noqa: ANN001
    """Refresh the labs of student accounts whose events were just delivered (other accounts have no board)."""
    for account_id in StudentSeat.objects.filter(account_id__in=account_ids).values_list("account_id", flat=True):
        refresh(account_id)


# ---------------------------------------------------------------------------------------------- the board


@dataclass(frozen=True)
class Cell:
    lab: Lab
    progress: LabProgress | None

    @property
    def state(self) -> str:
        """``complete`` | ``started`` (some checks pass) | ``not-started``."""
        if self.progress is None or self.progress.passed == 0:
            return "not-started"
        return "complete" if self.progress.complete else "started"


@dataclass(frozen=True)
class BoardRow:
    seat: StudentSeat
    cells: list[Cell]

    @property
    def completed(self) -> int:
        return sum(1 for c in self.cells if c.state == "complete")


def board(classroom: Class) -> list[BoardRow]:
    """Students × labs in two queries (seats with their accounts, then every progress row of the class)."""
    labs = all_labs()
    seats = list(classroom.seats.select_related("account").order_by("number"))
    progress: dict[tuple[str, str], LabProgress] = {
        (p.account_id, p.lab): p for p in LabProgress.objects.filter(account__seat__classroom=classroom)
    }
    return [BoardRow(seat, [Cell(lab, progress.get((seat.account_id, lab.slug))) for lab in labs]) for seat in seats]


def starting_state_builder(lab: Lab):  # noqa: ANN201 - a classroom.services.StateBuilder or None
    """The reset hook that builds ``lab``'s starting state in each emptied account, through the services as the
    account's root user (origin "system"), inside the reset's transaction."""
    if lab.starting_state is None:
        return None
    from core.calls import inside_transaction
    from core.context import CallContext, Principal

    def build(account_ids: list[str]) -> None:
        with inside_transaction():
            for account_id in account_ids:
                lab.starting_state(
                    CallContext(Principal.root(account_id), origin="system", user_agent="IAM Classroom lab setup")
                )

    return build
