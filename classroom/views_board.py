"""The instructor's board: students × labs (live), one student's checks and recent events, the class-wide event
history, and resets to empty or to a lab's start.

Every page resolves the class through the services, scoped to the caller's account: a student or another
instructor gets a 404. The board only reads stored progress (``LabProgress``); checks run in the worker and on
the students' "Check progress".
"""

from __future__ import annotations

import time
from typing import Any
from urllib.parse import urlencode

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe
from django.views.decorators.http import require_GET, require_http_methods
from django.views.decorators.vary import vary_on_headers

from audit import queries
from classroom import labs_services
from classroom import services as class_services
from classroom.labs import all_labs, get_lab
from classroom.models import ACCESS_ROLE_NAME, StudentSeat
from classroom.pages import class_page, render_page
from classroom.progress import BoardRow
from console.htmx import pick_partial, redirect_or_hx
from core.errors import IamError, InvalidInput


def _not_found_is_404(call):
    try:
        return call()
    except (labs_services.LabNotFound, IamError) as exc:
        if exc.code in {"NoSuchEntity", "AccountNotFoundException"}:
            raise Http404(exc.message) from None
        raise


def switch_url(classroom_title: str, seat: StudentSeat) -> str:
    """The console's Switch role page prefilled like AWS's shareable link (signin.aws.amazon.com/switchrole)."""
    return "/switchrole?" + urlencode(
        {
            "account": seat.account_id,
            "roleName": ACCESS_ROLE_NAME,
            "displayName": f"student{seat.number:02d} @ {classroom_title}"[:64],
            "color": "orange",
        }
    )


def _student_label(seat: StudentSeat) -> str:
    return seat.account.alias or seat.account.display_id


def _lab_cells(row: BoardRow, lab_parts: list[tuple[str, str]]) -> SafeString:
    """One student's row of lab cells. Written here rather than in the template: 200 students × 12 labs through the
    template's loop were most of a redraw's CPU (docs/benchmarks.md, "Class of 200"). Every text is escaped: the lab
    parts by the caller, once per lab; the rest are numbers and the cell states."""
    student = f"student{row.seat.number:02d}"
    cells = []
    for cell, (slug, lab_title) in zip(row.cells, lab_parts, strict=True):
        p = cell.progress
        checks, shown = (f"{p.passed} of {p.total} checks", f"{p.passed}/{p.total}") if p else ("not started", "·")
        cells.append(
            f'<td class="board-cell board-{cell.state}" data-lab="{slug}" title="{student} · {lab_title} — {checks}">'
            f"{shown}</td>"
        )
    return mark_safe("".join(cells))  # noqa: S308 - built above from escaped parts and numbers


@class_page
@require_GET
@vary_on_headers("HX-Request")
def board(request: HttpRequest, class_id: str) -> HttpResponse:
    ctx = request.iam_ctx  # type: ignore[attr-defined]
    since = request.GET.get("since", "")
    if since and getattr(request, "htmx", False) and labs_services.board_stamp(ctx, class_id) == since:
        return HttpResponse(status=204)  # the poll: nothing changed, htmx leaves the matrix alone
    board = labs_services.describe_class_board(ctx, class_id)
    title = board.classroom.title
    # Who needs help: ?help=only shows just them, ?help=first puts them on top (most signs first).
    view = request.GET.get("help", "")
    view = view if view in ("only", "first") else ""
    chosen = [row for row in board.rows if not (view == "only" and row.seat.account_id not in board.stuck)]
    if view == "first":
        chosen.sort(key=lambda row: -len(board.stuck.get(row.seat.account_id, [])))
    lab_parts = [(escape(lab.slug), escape(f"Lab {lab.number}: {lab.title}")) for lab in board.labs]
    rows = [
        (
            row,
            switch_url(title, row.seat),
            _student_label(row.seat),
            board.stuck.get(row.seat.account_id, []),
            _lab_cells(row, lab_parts),
        )
        for row in chosen
    ]
    poll = urlencode({"since": board.stamp, **({"help": view} if view else {})})
    return render(
        request,
        pick_partial(request, "classroom/board.html", {"board-matrix"}),
        {
            "help_view": view,
            "poll_query": poll,
            "stuck_count": len(board.stuck),
            "nav": "classroom",
            "classroom": board.classroom,
            "board": board,
            "rows": rows,
            "tab": "board",
            "totals": list(zip(board.labs, board.completed_per_lab, strict=True)),
            "students": len(board.rows),
            "reset_choices": [(lab.slug, f"Start of lab {lab.number}: {lab.title}") for lab in board.labs],
        },
    )


@class_page
@require_http_methods(["GET", "POST"])
def board_reset(request: HttpRequest, class_id: str) -> HttpResponse:
    """Reset one student (``account``) or all (``account=all``, confirmed) to empty or to a lab's start (``to``)."""
    ctx = request.iam_ctx  # type: ignore[attr-defined]
    data = request.POST if request.method == "POST" else request.GET
    account = data.get("account", "")[:12] or "all"
    slug = data.get("to", "")[:64]
    lab = get_lab(slug) if slug else None
    if slug and lab is None:
        raise Http404("No such lab.")
    board_url = f"/classroom/{class_id}/board"
    everyone = account == "all"
    confirmed = data.get("confirm", "").strip().lower() == "reset"
    # Every reset asks first (the board's row button and "Reset all" both land here), naming the student and
    # what goes: only a typed "reset" (or the "Reset all" button's own confirm dialog) carries it out.
    if request.method == "GET" or not confirmed:
        classroom = class_services.get_class(ctx, class_id)  # the class alone, not its board
        seat = None
        if not everyone:
            seat = classroom.seats.select_related("account").filter(account_id=account).first()
            if seat is None:
                raise Http404("No such student account in this class.")
        error = "To confirm, type reset in the field." if request.method == "POST" and data.get("confirm") else ""
        return render_page(
            request,
            "classroom/board_reset.html",
            {
                "classroom": classroom,
                "target_account": account,
                "seat": seat,
                "label": _student_label(seat) if seat else "",
                "doomed": labs_services.account_preview(seat.account_id, lab) if seat else None,
                "lab": lab,
                "error": error,
                "tab": "board",
                "students": classroom.seats.count(),
                "reset_choices": [(lab.slug, f"Start of lab {lab.number}: {lab.title}") for lab in all_labs()],
            },
            status=400 if error else 200,
        )
    started = time.perf_counter()
    try:
        done = labs_services.reset_to(ctx, class_id, account_ids=None if everyone else [account], slug=slug)
    except labs_services.LabNotFound:
        raise Http404("No such lab.") from None
    except IamError as exc:
        if exc.code == "NoSuchEntity":
            raise
        messages.error(request, exc.message)
        return redirect_or_hx(request, board_url)
    seconds = time.perf_counter() - started
    what = f"the start of lab {lab.number} ({lab.title})" if lab else "empty"
    who = f"{len(done)} student account{'s' if len(done) != 1 else ''}"
    messages.success(request, f"Reset {who} to {what} in {seconds:.1f} s. Root sign-in is unchanged.")
    return redirect_or_hx(request, board_url)


@class_page
@require_GET
@vary_on_headers("HX-Request")
def student_detail(request: HttpRequest, class_id: str, account_id: str) -> HttpResponse:
    ctx = request.iam_ctx  # type: ignore[attr-defined]
    student = _not_found_is_404(lambda: labs_services.describe_student_progress(ctx, class_id, account_id[:12]))
    return render(
        request,
        pick_partial(request, "classroom/student_detail.html", {"student-activity"}),
        {
            "nav": "classroom",
            "classroom": student.classroom,
            "student": student,
            "seat": student.seat,
            "tab": "board",
            "switch_url": switch_url(student.classroom.title, student.seat),
            "label": _student_label(student.seat),
            "denied": sum(1 for e in student.events if e.error_code),
            "only_denied": request.GET.get("show") == "denied",
            "events": [e for e in student.events if e.error_code]
            if request.GET.get("show") == "denied"
            else student.events,
        },
    )


@class_page
@require_GET
@vary_on_headers("HX-Request")
def class_events(request: HttpRequest, class_id: str) -> HttpResponse:
    """The organization's trail, with the same lookups and paging as an account's Event history."""
    ctx = request.iam_ctx  # type: ignore[attr-defined]
    lookup, state = queries.lookup_from(request.GET)
    cursor = request.GET.get("cursor", "")
    try:
        classroom, events, next_cursor, seats = labs_services.lookup_class_events(ctx, class_id, lookup, cursor=cursor)
    except InvalidInput as exc:
        classroom = class_services.get_class(ctx, class_id)  # the class alone, not its board
        events, next_cursor, seats, state["error"] = [], "", {}, exc.message
    top = queries.top_cursor(events)
    if not cursor and request.GET.get("newer") == top:  # the live poll, as on an account's Event history
        return HttpResponse(status=204)
    accounts: dict[str, str] = {a: f"student{s.number:02d}" for a, s in seats.items()}
    accounts[classroom.organization.management_account_id] = "Management account"
    context: dict[str, Any] = {
        "nav": "classroom",
        "classroom": classroom,
        "tab": "events",
        "events": events,
        "next_cursor": next_cursor,
        "top_cursor": top,
        "cursor": cursor,
        "accounts": accounts,
        "attributes": queries.ATTRIBUTE_LABELS,
        "ranges": ["30m", "1h", "3h", "12h", "1d", "7d"],
        **state,
    }
    return render(request, pick_partial(request, "classroom/class_events.html", {"class-event-table"}), context)
