"""Event history: lookups, live updates, event detail with the engine's explanation, CSV/JSON download."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator

from django.http import Http404, HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from audit import queries
from audit.models import AuditEvent
from console.decorators import console_page
from console.htmx import pick_partial
from core import clock
from core.errors import InvalidInput, NoSuchEntity

CSV_COLUMNS = [
    "Event ID",
    "Event time",
    "User name",
    "Event name",
    "Resource type",
    "Resource name",
    "AWS access key",
    "Event source",
    "AWS region",
    "Error code",
    "Source IP address",
    "Read-only",
]


@console_page
@require_GET
def event_history(request: HttpRequest) -> HttpResponse:
    lookup, state = queries.lookup_from(request.GET)
    cursor = request.GET.get("cursor", "")
    try:
        events, next_cursor = queries.lookup_events(request.iam_ctx, lookup, cursor=cursor)
    except InvalidInput as exc:
        events, next_cursor, state["error"] = [], "", exc.message
    top = queries.top_cursor(events)
    if not cursor and request.GET.get("newer") == top:  # the live poll: redraw only when something newer arrived
        return HttpResponse(status=204)
    context = {
        "events": events,
        "next_cursor": next_cursor,
        "nav": "event_history",
        "top_cursor": top,
        "cursor": cursor,
        "attributes": queries.ATTRIBUTE_LABELS,
        "ranges": ["30m", "1h", "3h", "12h", "1d", "7d"],
        **state,
        "query": request.GET.urlencode(),
    }
    return render(request, pick_partial(request, "audit/event_history.html", {"event-table"}), context)


@console_page
@require_GET
def event_detail(request: HttpRequest, event_id: str) -> HttpResponse:
    try:
        event = queries.get_event(request.iam_ctx, event_id)
    except NoSuchEntity as exc:
        raise Http404(exc.message) from None
    return render(
        request,
        "audit/event_detail.html",
        {
            "event": event,
            "record_json": json.dumps(event.record, indent=2),
            "explanation": event.explanation,
            "nav": "event_history",
        },
    )


@console_page
@require_GET
def event_download(request: HttpRequest) -> StreamingHttpResponse:
    """The lookup's events as CSV or JSON, streamed a page of events at a time (constant memory, any length)."""
    lookup, _ = queries.lookup_from(request.GET)
    pages = queries.export_events(request.iam_ctx, lookup)
    stamp = clock.now().strftime("%Y%m%dT%H%M%SZ")
    if request.GET.get("format") == "json":
        response = StreamingHttpResponse(_json_chunks(pages), content_type="application/json")
        response["Content-Disposition"] = f'attachment; filename="event_history_{stamp}.json"'
        return response
    response = StreamingHttpResponse(_csv_chunks(pages), content_type="text/csv")
    response["Content-Disposition"] = f'attachment; filename="event_history_{stamp}.csv"'
    return response


def _json_chunks(pages: Iterator[list[AuditEvent]]) -> Iterator[str]:
    """``{"Records": [...]}`` laid out as ``json.dumps(..., indent=2)`` lays it out, one chunk per page."""
    separator = "\n"
    yield '{\n  "Records": ['
    for events in pages:
        chunk = []
        for event in events:
            chunk.append(separator + "    " + json.dumps(event.record, indent=2).replace("\n", "\n    "))
            separator = ",\n"
        yield "".join(chunk)
    yield "\n  ]\n}" if separator == ",\n" else "]\n}"


def _csv_chunks(pages: Iterator[list[AuditEvent]]) -> Iterator[str]:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(CSV_COLUMNS)
    for events in pages:
        for e in events:
            r = e.record
            writer.writerow(
                [
                    str(e.event_id),
                    r.get("eventTime", ""),
                    e.username,
                    e.event_name,
                    e.resource_type,
                    e.resource_name,
                    e.access_key_id,
                    e.event_source,
                    r.get("awsRegion", ""),
                    e.error_code,
                    r.get("sourceIPAddress", ""),
                    "true" if e.read_only else "false",
                ]
            )
        yield out.getvalue()
        out.seek(0)
        out.truncate()
    if out.tell():  # the header of an empty download
        yield out.getvalue()
