"""Labs for students and the instructor's board.

Students: a lab's progress is the classroom's record about an account, not an AWS resource. Any signed-in principal
of the account — its root user, any IAM user, a role session in it — may read it and run its checks, the way the
console's navigation is everyone's: a student testing a lab as a restricted IAM user (``alice`` with S3 read-only)
keeps the panel and its "Check progress". So these functions are not authorized by policies and not audited (the
trail is what labs check, and the panel polls). The account is always ``ctx.account_id``: nothing here takes an
account ID from the request.

Instructor: console-only verbs, authorized through ``iam_call`` like the classroom's others under names in the
``organizations`` namespace (they are not AWS actions; none is written to the trail, since the pages poll them):

- ``organizations:DescribeClassBoard`` — the class's students × labs matrix.
- ``organizations:DescribeStudentProgress`` — one student's lab results and recent events.
- ``organizations:LookupClassEvents`` — the organization's trail: events of every student account and of the
  management account.

Class lookups are scoped to the caller's account (``services.class_for``): anyone but the class's instructor gets
``ClassNotFound`` before any authorization, so nothing is revealed. Resets go through
``services.reset_student_accounts`` (``organizations:ResetAccount``).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field

from django.db.models import Count, Max

from audit import queries
from audit.models import AuditEvent
from classroom import progress, stuck
from classroom.errors import AccountNotFoundException
from classroom.labs import Lab, all_labs, get_lab
from classroom.models import ACCESS_ROLE_NAME, Class, LabProgress, StudentSeat
from classroom.services import class_for, reset_accounts, reset_student_accounts
from core import clock
from core.calls import iam_call
from core.context import CallContext
from core.db import first_instance
from core.errors import AccessDenied, NoSuchEntity
from identities.models import Group, IamUser, Role
from policies.models import ManagedPolicy

RECENT_EVENTS = 50


class LabNotFound(NoSuchEntity):
    """No lab with that slug (views answer 404)."""


def _lab(slug: str) -> Lab:
    lab = get_lab(slug)
    if lab is None:
        raise LabNotFound(f"The lab {slug} cannot be found.")
    return lab


# ---------------------------------------------------------------------------------------------- students


def get_lab_progress(ctx: CallContext) -> dict[str, LabProgress]:
    """The caller's account's progress rows, by lab slug (labs never checked have none)."""
    return {p.lab: p for p in LabProgress.objects.filter(account_id=ctx.account_id)}


def check_lab_progress(ctx: CallContext, slug: str) -> LabProgress:
    """Run ``slug``'s checks against the caller's own account now, and keep the result."""
    return progress.refresh(ctx.account_id, [_lab(slug)])[slug]


def can_load_start(ctx: CallContext) -> bool:
    """Loading a lab's start empties the account: only its root user may, and only in a class's student account
    (an instructor's own account is never emptied by a lab)."""
    return ctx.principal.is_root and StudentSeat.objects.filter(account_id=ctx.account_id).exists()


def load_lab_start(ctx: CallContext, slug: str) -> Lab:
    """The student loads ``slug``'s starting state in their own account: the same reset as the instructor's
    "Reset to the start of lab N" (everything IAM deleted, then the lab's state built), keeping the labs before it
    that were completed. The lab setup's calls are in the trail (user agent "IAM Classroom lab setup")."""
    lab = _lab(slug)
    if not ctx.principal.is_root:
        raise AccessDenied("Only the account's root user can load a lab's starting state: it deletes every IAM user.")
    if not StudentSeat.objects.filter(account_id=ctx.account_id).exists():
        raise AccessDenied("Only a student account of a class can load a lab's starting state.")
    reset_accounts([ctx.account_id], to_state=progress.starting_state_builder(lab), lab=lab)
    return lab


@dataclass(frozen=True)
class StartPreview:
    """What loading a lab's start would delete in the caller's account, named, for the confirmation page."""

    deleted: list[tuple[str, list[str]]]  # (what, names) for users, groups, roles and policies that exist
    kept_labs: list[Lab]  # completed labs before this one: they stay completed
    restarted_labs: list[Lab]  # this lab and later ones with progress: it starts again


def start_preview(ctx: CallContext, lab: Lab | None) -> StartPreview:
    return account_preview(ctx.account_id, lab)


def account_preview(account: str, lab: Lab | None) -> StartPreview:
    """What a reset of ``account`` to ``lab``'s start (``None``: to empty) deletes and keeps. Callers have
    authorized the account already (its own root user, or the class's instructor)."""
    found = [
        ("IAM users", list(IamUser.objects.in_account(account).order_by("name").values_list("name", flat=True))),
        ("user groups", list(Group.objects.in_account(account).order_by("name").values_list("name", flat=True))),
        (
            "roles",
            list(
                Role.objects.in_account(account)
                .exclude(name=ACCESS_ROLE_NAME)
                .order_by("name")
                .values_list("name", flat=True)
            ),
        ),
        (
            "customer managed policies",
            list(ManagedPolicy.objects.customer_managed(account).order_by("name").values_list("name", flat=True)),
        ),
    ]
    rows = {p.lab: p for p in LabProgress.objects.filter(account_id=account)}
    number = lab.number if lab is not None else 0
    kept = [o for o in all_labs() if o.number < number and getattr(rows.get(o.slug), "completed_at", None)]
    restarted = [o for o in all_labs() if o.number >= number and o.slug in rows]
    return StartPreview([(what, names) for what, names in found if names], kept, restarted)


def panel_progress(account_id: str, slug: str) -> LabProgress | None:
    """The side panel's data on every console page and poll: one prepared query, the signed-in account's own row
    (no check runs)."""
    return first_instance(LabProgress, "account_id = %s AND lab = %s", [account_id, slug])


@dataclass(frozen=True)
class CheckLine:
    key: str
    title: str
    state: str  # passed | failed (built and wrong) | not-yet (not attempted) | unknown (never checked)
    message: str


def check_lines(lab: Lab, row: LabProgress | None) -> list[CheckLine]:
    """Each check of ``lab`` with its last result (from the progress row), in the lab's order. In a lab where
    nothing passes yet, checks that never passed are "not yet" rather than failed: the student has not begun."""
    results = row.results if row is not None else {}
    untouched = row is None or row.passed == 0
    lines = []
    for check in lab.checks:
        result = results.get(check.key)
        if result is None:
            lines.append(CheckLine(check.key, check.title, "unknown", "Not checked yet."))
            continue
        state = result.get("state") or ("passed" if result.get("passed") else "failed")
        if state == "failed" and untouched and not result.get("ever_passed"):
            state = "not-yet"
        lines.append(CheckLine(check.key, check.title, state, str(result.get("message", ""))))
    return lines


def lab_state(lab: Lab, row: LabProgress | None) -> str:
    return progress.state_of(row)


# ---------------------------------------------------------------------------------------------- instructor


@dataclass(frozen=True)
class Board:
    classroom: Class
    labs: tuple[Lab, ...]
    rows: list[progress.BoardRow]
    stamp: str  # changes whenever anything the matrix shows may have changed (see board_stamp)
    stuck: dict[str, list[stuck.Signal]] = field(default_factory=dict)  # by account ID: who needs help now

    @property
    def completed_per_lab(self) -> list[int]:
        return [sum(1 for row in self.rows if row.cells[i].state == "complete") for i in range(len(self.labs))]


def describe_class_board(ctx: CallContext, class_id: str) -> Board:
    classroom = class_for(ctx, class_id)
    with iam_call(ctx, "organizations:DescribeClassBoard", classroom.organization.arn, {}, audited=False):
        stamp = _stamp(classroom)  # before the rows: a change in between only makes the next poll redraw
        rows = progress.board(classroom)
        return Board(classroom, all_labs(), rows, stamp, stuck.signals(rows, clock.now()))


def board_stamp(ctx: CallContext, class_id: str) -> str:
    """What the board's 3-second poll asks first: two aggregate queries instead of the matrix, which is only
    redrawn when this changed."""
    classroom = class_for(ctx, class_id)
    with iam_call(ctx, "organizations:DescribeClassBoard", classroom.organization.arn, {}, audited=False):
        return _stamp(classroom)


def _stamp(classroom: Class) -> str:
    """Progress rows are written (``updated_at``) by every refresh and deleted by every reset; seats are added or
    reset (``last_reset_at``)."""
    now = clock.now()
    rows = LabProgress.objects.filter(account__seat__classroom=classroom).aggregate(
        n=Count("id"), last=Max("updated_at"), stale=Count("id", filter=stuck.stale_filter(now))
    )
    seats = classroom.seats.aggregate(n=Count("pk"), reset=Max("last_reset_at"))
    signs = stuck.stamp_part({"account__seat__classroom": classroom}, now)
    raw = f"{rows['n']}|{rows['last']}|{rows['stale']}|{seats['n']}|{seats['reset']}|{len(all_labs())}|{signs}"
    return hashlib.sha256(raw.encode()).hexdigest()[:16]


@dataclass(frozen=True)
class StudentProgress:
    classroom: Class
    seat: StudentSeat
    labs: list[tuple[Lab, LabProgress | None, list[CheckLine], str]]  # lab, its row, its checks, its state
    events: list[AuditEvent]  # newest first


def describe_student_progress(ctx: CallContext, class_id: str, account_id: str) -> StudentProgress:
    classroom = class_for(ctx, class_id)
    with iam_call(
        ctx,
        "organizations:DescribeStudentProgress",
        classroom.organization.arn,
        {"accountId": account_id},
        audited=False,
    ):
        seat = StudentSeat.objects.select_related("account").filter(classroom=classroom, account_id=account_id).first()
        if seat is None:
            raise AccountNotFoundException(f"The account {account_id} is not a member of this class.")
        rows = {p.lab: p for p in LabProgress.objects.filter(account_id=account_id)}
        events = list(
            AuditEvent.objects.filter(account_id=account_id, delivered_at__isnull=False).order_by("-event_time", "-pk")[
                :RECENT_EVENTS
            ]
        )
        labs = [
            (lab, rows.get(lab.slug), check_lines(lab, rows.get(lab.slug)), lab_state(lab, rows.get(lab.slug)))
            for lab in all_labs()
        ]
        return StudentProgress(classroom, seat, labs, events)


def lookup_class_events(
    ctx: CallContext, class_id: str, lookup: queries.Lookup, *, cursor: str = "", limit: int = 50
) -> tuple[Class, list[AuditEvent], str, dict[str, StudentSeat]]:
    """The organization's trail: a page of events of the class's student accounts and the management account,
    newest first, with the same lookups and cursor paging as an account's Event history. Also returns the seats
    by account ID, for the Account column."""
    classroom = class_for(ctx, class_id)
    params = {
        "lookupAttributes": [{"attributeKey": lookup.attribute, "attributeValue": lookup.value}]
        if lookup.attribute
        else None,
        "maxResults": limit,
    }
    with iam_call(ctx, "organizations:LookupClassEvents", classroom.organization.arn, params, audited=False):
        seats = {s.account_id: s for s in classroom.seats.select_related("account")}
        accounts = [classroom.organization.management_account_id, *seats]
        events, next_cursor = queries.lookup_events_in(accounts, lookup, cursor=cursor, limit=limit)
        return classroom, events, next_cursor, seats


def reset_to(ctx: CallContext, class_id: str, *, account_ids: list[str] | None, slug: str = "") -> list[str]:
    """Reset one, several or all student accounts to empty (``slug`` empty) or to the start of that lab."""
    lab = _lab(slug) if slug else None
    builder = progress.starting_state_builder(lab) if lab else None
    return reset_student_accounts(ctx, class_id, account_ids=account_ids, to_state=builder, lab=lab)
